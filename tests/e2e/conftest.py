"""Fixtures for the browser tests in ``e2e_browser.py`` (run by ``tests/e2e/run.sh``).

``make test`` never collects the browser tests: their file name does not match ``test_*.py``.
This conftest is still imported then, so it imports nothing heavy at module level, and it builds
the student release only when ``e2e_browser.py`` is among pytest's arguments.

``run.sh`` runs the tests on pytest-xdist workers (``E2E_WORKERS``, default 2), each with its own
JupyterLab server and browser. The controller builds the student release once, in a thread,
while the workers start on the notebooks; each worker's results travel back to the controller in
the test reports (``user_properties``), where the summary and ``latency.txt`` are written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import e2e_harness as h  # noqa: E402

# The fixture notebooks are inputs of the browser tests, not tests: some fail on purpose (broken,
# student stub), so `make test` (pytest --nbval-lax over tests/) must not collect them.
collect_ignore_glob = ["fixtures/*"]

# Set by the controller for its workers: the folder the release is being built in. The build's
# outcome appears there as result.json once it is done.
BUILD_ENV = "E2E_RELEASE_BUILD"
RUN_KEY = "e2e_run"  # the user_properties entry that carries a NotebookRun to the controller
BUILD_TIMEOUT_S = 300.0
_BUILDER: threading.Thread | None = None
_EARLY_LAB: h.LabServer | None = None  # launched at start-up; lab_server waits for it


def server_root(extra: list[Path]) -> Path:
    """The folder the server serves: the repository, widened to hold any extra folder."""
    return Path(os.path.commonpath([str(h.REPO), *(str(p.resolve()) for p in extra)]))


def _worker() -> str:
    """``gw0``, ``gw1``... on a pytest-xdist worker, else ``""``."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def _log(name: str) -> Path:
    suffix = f"-{_worker()}" if _worker() else ""
    return h.artifacts_dir() / f"{name}{suffix}.log"


# --------------------------------------------------------------------------- the student release
def _build(folder: Path) -> None:
    """Build the release into ``folder/release``; write the outcome to ``folder/result.json``."""
    start = time.monotonic()
    built, why = h.build_release(folder / "release", timeout_s=BUILD_TIMEOUT_S)
    result = {"dir": str(built) if built else None, "why": why,
              "seconds": time.monotonic() - start}  # fmt: skip
    part = folder / "result.json.part"
    part.write_text(json.dumps(result))
    part.replace(folder / "result.json")  # atomic: a reader sees all of it or nothing


def _build_result(folder: Path) -> dict[str, Any]:
    """The outcome of the build in ``folder``, waiting for it to finish."""
    result = folder / "result.json"
    deadline = time.monotonic() + BUILD_TIMEOUT_S + 30
    while not result.exists():
        if time.monotonic() > deadline:
            return {"dir": None, "why": f"the release build in {folder} never finished"}
        time.sleep(0.2)
    return json.loads(result.read_text())


def student_release() -> tuple[Path | None, str]:
    """The release to check: ``E2E_STUDENT_DIR``, else the one the controller built.

    Returns ``(folder, "")``, or ``(None, why)`` when there is none (``E2E_RELEASE=0``, or the
    course tooling refused to build it: its own reason).
    """
    given = os.environ.get("E2E_STUDENT_DIR")
    if given:
        return Path(given).resolve(), ""
    if os.environ.get("E2E_RELEASE", "1").strip() == "0":
        return None, "E2E_RELEASE=0: no student release built"
    folder = os.environ.get(BUILD_ENV)
    if not folder:
        return None, "no release build was started (name tests/e2e/e2e_browser.py to pytest)"
    result = _build_result(Path(folder))
    return (Path(result["dir"]) if result["dir"] else None), result["why"]


def _lab_root() -> Path:
    return server_root([Path(p) for p in (os.environ.get("E2E_NOTEBOOKS"),) if p])


def pytest_configure(config: Any) -> None:
    """Where the notebooks run (each worker, or the one process without xdist): launch the
    repository's JupyterLab server now, so it starts while the tests are collected and the
    browser launched. Controller: start building the release, so it is ready when its notebooks
    are due."""
    global _BUILDER, _EARLY_LAB
    if not any("e2e_browser" in str(a) for a in config.args):
        return  # make test, or the harness's own fast checks
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        _EARLY_LAB = h.LabServer(_lab_root(), _log("jupyter-server")).launch()
    if hasattr(config, "workerinput") or os.environ.get(BUILD_ENV):
        return
    if os.environ.get("E2E_STUDENT_DIR"):
        h.STUDENT_DIR = Path(os.environ["E2E_STUDENT_DIR"]).resolve()
        return
    if os.environ.get("E2E_RELEASE", "1").strip() == "0":
        return
    folder = Path(tempfile.mkdtemp(prefix="rnn-e2e-release-"))
    h.TEMP_DIRS.append(folder)
    h.STUDENT_DIR = folder / "release"
    os.environ[BUILD_ENV] = str(folder)  # the workers, started after this hook, inherit it
    _BUILDER = threading.Thread(target=_build, args=(folder,), daemon=True)
    _BUILDER.start()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Longest first, so the workers finish close together.

    The longest: the ipympl fixture (five explorers), the release (ten notebooks), the later
    chapters (their explorers); then the short notebooks and the fixtures. xdist hands the
    first two tests to one worker and the next two to the other, so the release goes fourth:
    the first worker takes the ipympl fixture and one chapter, the second worker two chapters and
    then the release, built by then.
    """
    browser = [item for item in items if Path(str(item.fspath)).name == "e2e_browser.py"]
    if not browser:
        return  # make test: this hook sees the whole suite, leave its order alone
    position = {id(item): i for i, item in enumerate(browser)}

    def rank(item: Any) -> tuple[int, int]:
        nodeid, i = item.nodeid, position[id(item)]
        if "fixtures/ipympl" in nodeid:
            return (0, i)
        if "test_notebook_runs_and_explorers_respond" in nodeid:
            return (1, -i)  # the later chapters hold the explorers
        return (2, i)  # the fixtures, a few seconds each

    ordered = sorted(browser, key=rank)
    batch = "test_student_release_stops_at_first_exercise"
    for item in [item for item in ordered if item.name == batch]:
        ordered.remove(item)
        ordered.insert(min(3, len(ordered)), item)
    items[:] = [item for item in items if id(item) not in position] + ordered


# --------------------------------------------------------------------------- the next test
_NEXT_ITEM: Any = None  # the test this process runs after the current one (None: the last)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> None:
    """Note which test comes next: its notebook's page may be opened ahead (``h.Ahead``)."""
    global _NEXT_ITEM
    _NEXT_ITEM = nextitem


@pytest.fixture
def open_next(request: Any, browser_context: Any, ahead: h.Ahead) -> Callable[[], None]:
    """``open_next()`` opens, ahead, the pages of the test this process runs next.

    Its module's ``pages_for(item, request)`` names them: ``(server, [(path, mode, label)])``
    or None. A server that fails to start here fails the next test's own set-up, not this test.
    """

    def open_pages() -> None:
        item = _NEXT_ITEM
        pages_for = getattr(getattr(item, "module", None), "pages_for", None)
        if item is None or pages_for is None:
            return
        try:
            plan = pages_for(item, request)
        except Exception:
            return
        if plan is not None:
            server, pages = plan
            for path, mode, label in pages:
                ahead.open(browser_context, server, path, mode=mode, label=label)

    return open_pages


@pytest.fixture(scope="session")
def ahead(browser_context: Any) -> Iterator[h.Ahead]:
    """The page opened ahead for the next test (one per process); closed at the end."""
    pages = h.Ahead()
    try:
        yield pages
    finally:
        pages.discard()


# --------------------------------------------------------------------------- servers and browser
@pytest.fixture(scope="session")
def lab_server() -> Iterator[h.LabServer]:
    server = _EARLY_LAB or h.LabServer(_lab_root(), _log("jupyter-server")).launch()
    server.wait_ready()
    try:
        yield server
    finally:
        server.stop()
    assert not h.port_answers(server.port), f"a server still answers on port {server.port}"


@pytest.fixture(scope="session")
def release() -> tuple[Path | None, str]:
    """``(folder, "")`` of the student release under test, or ``(None, why not)``."""
    folder, why = student_release()
    if folder is not None:
        h.STUDENT_DIR = folder
    return folder, why


@pytest.fixture(scope="session")
def student_server(release: tuple[Path | None, str]) -> Iterator[h.LabServer | None]:
    """A second server rooted at the student release, the release first on PYTHONPATH.

    Its kernels import the release's stubbed ``rnn_core``, not the repository's (the editable
    install's finder comes after ``sys.path`` entries), as a student's ``pip install -e .`` would.
    """
    root = release[0]
    if root is None:
        yield None
        return
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    server = h.LabServer(
        root, _log("jupyter-server-student"), extra_env={"PYTHONPATH": path}
    ).start()
    try:
        yield server
    finally:
        server.stop()
    assert not h.port_answers(server.port), f"a server still answers on port {server.port}"


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="rnn-e2e-chromium-") as profile:
        with sync_playwright() as p:
            context = h.launch_browser(p, Path(profile))
            try:
                yield context
            finally:
                context.close()


# --------------------------------------------------------------------------- results
@pytest.fixture
def record_run(request: Any) -> Callable[[h.NotebookRun], None]:
    """``record_run(run)`` attaches ``run`` to the test's report, where the controller (this
    process, or the xdist controller) collects it for the summary."""

    def record(run: h.NotebookRun) -> None:
        data = dataclasses.asdict(dataclasses.replace(run, cells=[]))  # outputs hold images
        request.node.user_properties.append((RUN_KEY, json.loads(json.dumps(data, default=str))))

    return record


def run_from_data(data: dict[str, Any]) -> h.NotebookRun:
    """The ``NotebookRun`` that ``record_run`` attached, rebuilt from its plain data."""
    explorers = [
        h.ExplorerResult(**{
            **e,
            "screenshot": Path(e["screenshot"]) if e["screenshot"] else None,
            "load": tuple(e["load"]) if e["load"] else None,
        })
        for e in data["explorers"]
    ]  # fmt: skip
    return h.NotebookRun(**{
        **data,
        "path": Path(data["path"]),
        "screenshots": [Path(s) for s in data["screenshots"]],
        "explorers": explorers,
    })  # fmt: skip


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key == RUN_KEY:
            h.RESULTS.append(run_from_data(value))


def _release_note() -> str | None:
    folder = os.environ.get(BUILD_ENV)
    result = Path(folder) / "result.json" if folder else None
    if result is None or not result.exists():
        return None
    data = json.loads(result.read_text())
    if data["dir"] is None:
        return f"SKIPPED the real student release: {data['why']}"
    return (
        f"student release built by `python -m rnn_core.course release` in {data['seconds']:.0f} s"
        f" (while the first notebooks ran) into {data['dir']} (removed at the end)"
    )


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    if hasattr(config, "workerinput"):
        return
    release_note = _release_note()
    notes = [*h.NOTES, *([release_note] if release_note else [])]
    if not h.RESULTS and not notes:
        return
    workers = getattr(config.option, "numprocesses", None) or 0
    if workers:
        notes.append(
            f"{workers} pytest-xdist worker(s), each with its own JupyterLab server and browser, "
            f"one notebook at a time each"
            + (": each latency run shared the machine with another worker's notebook (load1)"
               if workers > 1 else "")
        )  # fmt: skip
    tr = terminalreporter
    tr.section("e2e: notebooks in JupyterLab, headless Chromium")
    for note in notes:
        tr.write_line(note)
    # workers finish out of order: the notebooks, then student mode (fixture, release)
    runs = sorted(h.RESULTS, key=lambda r: (r.mode != "notebook", str(r.path)))
    for run in runs:
        extra = f", first exercise: {run.exercise}" if run.exercise else ""
        verdict = "ok" if not run.problems else f"{len(run.problems)} problem(s)"
        where = "release" if h.STUDENT_DIR and run.path.is_relative_to(h.STUDENT_DIR) else run.mode
        tr.write_line(f"{where:<8} {run.path.name:<40} {run.seconds:5.1f} s  {verdict}{extra}")
        if run.phases:
            tr.write_line("         " + ", ".join(f"{k} {v:.1f}" for k, v in run.phases.items()))
        for note in run.notes:
            tr.write_line(f"         note: {note}")
        for e in run.explorers:
            for note in e.notes:
                tr.write_line(f"         note: explorer {e.name}: {note}")
    explorers = [e for run in runs for e in run.explorers if run.path.parent.name != "broken"]
    if explorers:
        table = h.latency_table(explorers)
        if workers:
            table += f"\nmeasured with {workers} notebook(s) at a time (pytest-xdist workers)"
        tr.write_line("")
        tr.write_line("slider-step latency (key event -> changed canvas pixels, in the page)")
        tr.write_line(table)
        (h.artifacts_dir() / "latency.txt").write_text(table + "\n")
    tr.write_line(f"screenshots and server logs: {h.artifacts_dir()}")


def pytest_unconfigure(config: Any) -> None:
    if _EARLY_LAB is not None:
        _EARLY_LAB.stop()  # already stopped if lab_server used it; else no test needed it
    if _BUILDER is not None:
        _BUILDER.join(timeout=BUILD_TIMEOUT_S + 30)  # its subprocess writes into TEMP_DIRS
    for folder in h.TEMP_DIRS:
        shutil.rmtree(folder, ignore_errors=True)
