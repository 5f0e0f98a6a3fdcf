"""Browser tests: every notebook run in JupyterLab in headless Chromium (issue 6).

Run with ``bash tests/e2e/run.sh`` (what ``make e2e`` calls). Settings, all optional:

- ``E2E_NOTEBOOKS``: folder of notebooks to run (default ``notebooks/``). While it has no notebook,
  the fixture explorer ``fixtures/explorer.ipynb`` runs instead and the summary says so.
- ``E2E_STUDENT_DIR``: a student release to check: each notebook must run clean up to its first
  unimplemented exercise, stop there with ``NotImplementedError("Exercise <name>: ...")``.
  Unset: the release is built from this repository by the course tooling into a temporary folder,
  in the background from the start of the run (conftest.py; ``E2E_RELEASE=0`` skips that); when the
  tooling refuses to build it, the release test is skipped with the tool's reason (the fixture
  student notebook still runs). ``E2E_RELEASE_AT_ONCE``: release notebooks run at a time (3).
- ``E2E_IPYMPL``: ``1`` also runs ``fixtures/ipympl/explorers_widget.ipynb`` (the five explorers in
  one kernel under ``%matplotlib widget``). Off by default: the explorers draw in the browser
  whatever the backend (D6), so it steps the same path the notebooks step (about 4 minutes).
- ``E2E_ARTIFACTS``: where screenshots, ``latency.txt`` and the server logs go (``e2e-artifacts/``).
- ``E2E_WORKERS`` (read by ``run.sh``): pytest-xdist workers, each with its own server and browser
  (2; 0 runs everything in one process).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import e2e_harness as h
import pytest

NOTEBOOKS_DIR = Path(os.environ.get("E2E_NOTEBOOKS", h.REPO / "notebooks")).resolve()
EXPLORER_FIXTURE = h.FIXTURES / "explorer.ipynb"
STUDENT_FIXTURE = h.FIXTURES / "student" / "exercise_stub.ipynb"
BROKEN_FIXTURE = h.FIXTURES / "broken" / "broken.ipynb"
IPYMPL_FIXTURE = h.FIXTURES / "ipympl" / "explorers_widget.ipynb"

NOTEBOOKS = h.find_notebooks(NOTEBOOKS_DIR)
NO_NOTEBOOK_NOTE = ""
if not NOTEBOOKS:
    NO_NOTEBOOK_NOTE = (
        f"NOTE: {NOTEBOOKS_DIR} holds no notebook: nothing of the course was run; "
        f"the fixture {EXPLORER_FIXTURE.relative_to(h.REPO)} ran in its place."
    )
    NOTEBOOKS = [EXPLORER_FIXTURE]
# The five explorers in one kernel under `%matplotlib widget`: since D6 the same browser-drawn
# path the notebooks show, so only on request.
if os.environ.get("E2E_IPYMPL", "0").strip() == "1":
    NOTEBOOKS.append(IPYMPL_FIXTURE)


def _course_notebooks() -> list[str]:
    """The course's notebooks as the release tool names them in the release."""
    from rnn_core.course.config import load_config
    from rnn_core.course.release import release_name

    return [release_name(p) for p in load_config(h.REPO).notebook_paths(h.REPO)]


# The other tests that run one notebook on the repository's server: name -> (path, mode).
LAB_TESTS = {
    "test_student_mode_on_the_fixture": (STUDENT_FIXTURE, "student"),
    "test_harness_catches_a_broken_notebook": (BROKEN_FIXTURE, "notebook"),
}
RELEASE_AT_ONCE = int(h.env_float("E2E_RELEASE_AT_ONCE", 3))
# 1: a release notebook that finished clean leaves its page (JupyterLab loaded) to the next one.
RELEASE_REUSE = h.env_float("E2E_RELEASE_REUSE", 1) == 1


def _id(path: Path) -> str:
    try:
        return path.resolve().relative_to(h.REPO).as_posix()
    except ValueError:
        return path.as_posix()


def _label(name: str) -> str:
    """File-name form of a test's notebook, for its workspace and screenshots."""
    return name.removesuffix(".ipynb").replace("/", "__")


def pages_for(item: Any, request: Any) -> tuple[h.LabServer, list[tuple[Path, str, str]]] | None:
    """The server and ``(path, mode, label)`` of the pages test ``item`` opens first, or None
    (conftest's ``open_next`` opens them ahead, while the test before it runs)."""
    name = getattr(item, "originalname", "")
    if name == "test_student_release_stops_at_first_exercise":
        server = request.getfixturevalue("student_server")
        if server is None:
            return None
        paths = h.find_notebooks(server.root_dir)[:RELEASE_AT_ONCE]
        return server, [(p, "student", _release_label(server.root_dir, p)) for p in paths]
    if name == "test_notebook_runs_and_explorers_respond":
        path, mode = item.callspec.params["path"], "notebook"
    elif name in LAB_TESTS:
        path, mode = LAB_TESTS[name]
    else:
        return None
    return request.getfixturevalue("lab_server"), [(path, mode, _label(_id(path)))]


def _release_label(root: Path, path: Path) -> str:
    return _label(f"release/{path.relative_to(root).as_posix()}")


def _run(record_run: Any, context: Any, server: h.LabServer, path: Path, mode: str,
         ahead: h.Ahead, open_next: Any) -> h.NotebookRun:  # fmt: skip
    """Run ``path`` (on the page opened ahead for it, if any); once its Run All has started,
    open the next test's pages ahead."""
    before = h.file_digest(path)
    opened = ahead.take(server, path, mode=mode) or h.start_notebook(
        context, server, path, mode=mode, label=_label(_id(path))
    )
    h.begin_run(opened)
    if opened.failure is None:
        open_next()  # its own stage: "run all" then counts only the wait that is left
        opened.run_started = opened.run.phase("open next", opened.run_started)

    def before_explorers() -> None:
        # no latency timed while a page opened ahead loads or the explorer.js tests run
        ahead.wait_open()
        note = h.wait_quiet()
        if note:
            opened.run.notes.append(note)

    run = h.finish_notebook(opened, artifacts=h.artifacts_dir(), before_explorers=before_explorers)
    if path == EXPLORER_FIXTURE and NO_NOTEBOOK_NOTE:
        run.notes.append(NO_NOTEBOOK_NOTE)
    record_run(run)
    assert h.file_digest(path) == before, f"{path} was modified on disk by the run"
    return run


def _report(run: h.NotebookRun) -> str:
    shots = ", ".join(str(s) for s in run.screenshots)
    return f"{run.path}:\n  " + "\n  ".join(run.problems) + f"\n  screenshots: {shots}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_runs_and_explorers_respond(
    path: Path, record_run: Any, lab_server: h.LabServer, browser_context: Any,
    ahead: h.Ahead, open_next: Any,
) -> None:
    run = _run(record_run, browser_context, lab_server, path, "notebook", ahead, open_next)
    assert not run.problems, _report(run)
    for explorer in run.explorers:
        assert len(explorer.latencies_ms) >= 15, f"{explorer.name}: too few latency samples"
    if path == IPYMPL_FIXTURE:
        assert len(run.explorers) == 5, f"the fixture shows 5 explorers, found {len(run.explorers)}"
    if path == EXPLORER_FIXTURE:
        assert len(run.explorers) == 1, f"the fixture has one explorer, found {len(run.explorers)}"
        assert run.screenshots and all(s.stat().st_size > 0 for s in run.screenshots)


def test_student_mode_on_the_fixture(
    record_run: Any, lab_server: h.LabServer, browser_context: Any,
    ahead: h.Ahead, open_next: Any,
) -> None:
    """Student mode itself, on a fixture that stops at its exercise in its 3rd code cell."""
    run = _run(
        record_run, browser_context, lab_server, STUDENT_FIXTURE, "student", ahead, open_next
    )
    assert not run.problems, _report(run)
    assert run.exercise == "affine_forward", f"exercise found: {run.exercise!r}"


def test_student_release_stops_at_first_exercise(
    record_run: Any,
    release: tuple[Path | None, str],
    student_server: h.LabServer | None,
    browser_context: Any,
    ahead: h.Ahead,
    open_next: Any,
) -> None:
    """Each notebook of the student release stops at its first exercise, its own package first
    on the kernel's sys.path.

    ``E2E_RELEASE_AT_ONCE`` (default 3) of them run at a time, each in its own page: they stop
    after a few cells, so most of a run is waiting for JupyterLab and a kernel to start. Nothing
    is timed in student mode. One test for all of them (a batch needs one worker), reporting
    each notebook's problems; the summary lists each notebook.
    """
    root, why = release
    if root is None or student_server is None:
        pytest.skip(f"no student release to open: {why or 'E2E_RELEASE=0'}")
    paths = h.find_notebooks(root)
    assert paths, f"the student release {root} holds no notebook"
    names = [p.relative_to(root).as_posix() for p in paths]
    before = [h.file_digest(p) for p in paths]
    open_next()  # its JupyterLab and kernel start while the release's notebooks run
    runs = h.run_notebooks(
        browser_context, student_server, paths, mode="student", artifacts=h.artifacts_dir(),
        labels=[_release_label(root, p) for p in paths], at_once=RELEASE_AT_ONCE, ahead=ahead,
        reuse_pages=RELEASE_REUSE,
    )  # fmt: skip
    failures = []
    for name, path, digest, run in zip(names, paths, before, runs, strict=True):
        if isinstance(run, Exception):
            failures.append(f"release/{name}: {type(run).__name__}: {run}")
            continue
        if h.file_digest(path) != digest:
            run.problems.append(f"{path} was modified on disk by the run")
        record_run(run)
        if run.problems:
            failures.append(_report(run))
    assert not failures, f"{len(failures)} of {len(paths)} release notebooks:\n" + "\n".join(
        failures
    )


def test_student_release_holds_the_course_notebooks(release: tuple[Path | None, str]) -> None:
    """The release built from this repository holds the course's notebooks, and no other."""
    root, why = release
    if root is None or os.environ.get("E2E_STUDENT_DIR"):
        pytest.skip(why or "a given release (E2E_STUDENT_DIR) is taken as it is")
    found = [p.relative_to(root).as_posix() for p in h.find_notebooks(root)]
    assert found == _course_notebooks(), f"{root} holds {found}"


def test_harness_catches_a_broken_notebook(
    record_run: Any, lab_server: h.LabServer, browser_context: Any,
    ahead: h.Ahead, open_next: Any,
) -> None:
    """The harness itself: each planted fault in the broken fixture must be reported."""
    run = _run(
        record_run, browser_context, lab_server, BROKEN_FIXTURE, "notebook", ahead, open_next
    )
    found = "\n".join(run.problems)
    expected = {
        "an exception": "error output: ValueError: broken on purpose",
        "a widget that failed to render": "widget did not render",
        "a figure that ignores its slider": "figure did not change",
        "a readout that ignores its slider": "readout did not change",
    }
    missed = [what for what, text in expected.items() if text not in found]
    assert not missed, f"harness missed {missed}; it reported:\n{found}"
