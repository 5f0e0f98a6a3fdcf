"""Fixtures for the browser tests in ``e2e_browser.py`` (run by ``tests/e2e/run.sh``).

``make test`` never collects the browser tests: their file name does not match ``test_*.py``.
This conftest is still imported then, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import e2e_harness as h  # noqa: E402

# The fixture notebooks are inputs of the browser tests, not tests: some fail on purpose (broken,
# student stub), so `make test` (pytest --nbval-lax over tests/) must not collect them.
collect_ignore_glob = ["fixtures/*"]


def server_root(extra: list[Path]) -> Path:
    """The folder the server serves: the repository, widened to hold any extra folder."""
    return Path(os.path.commonpath([str(h.REPO), *(str(p.resolve()) for p in extra)]))


@pytest.fixture(scope="session")
def lab_server() -> Iterator[h.LabServer]:
    extra = [Path(p) for p in (os.environ.get("E2E_NOTEBOOKS"),) if p]
    server = h.LabServer(server_root(extra), h.artifacts_dir() / "jupyter-server.log").start()
    try:
        yield server
    finally:
        server.stop()
    assert not h.port_answers(server.port), f"a server still answers on port {server.port}"


@pytest.fixture(scope="session")
def student_server() -> Iterator[h.LabServer | None]:
    """A second server rooted at the student release, the release first on PYTHONPATH.

    Its kernels import the release's stubbed ``rnn_core``, not the repository's (the editable
    install's finder comes after ``sys.path`` entries), as a student's ``pip install -e .`` would.
    """
    if h.STUDENT_DIR is None:
        yield None
        return
    root = h.STUDENT_DIR
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    server = h.LabServer(
        root, h.artifacts_dir() / "jupyter-server-student.log", extra_env={"PYTHONPATH": path}
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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not h.RESULTS and not h.NOTES:
        return
    tr = terminalreporter
    tr.section("e2e: notebooks in JupyterLab, headless Chromium")
    for note in h.NOTES:
        tr.write_line(note)
    for run in h.RESULTS:
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
    explorers = [e for run in h.RESULTS for e in run.explorers if run.path.parent.name != "broken"]
    if explorers:
        table = h.latency_table(explorers)
        tr.write_line("")
        tr.write_line("slider-step latency (key event -> changed canvas pixels, in the page)")
        tr.write_line(table)
        (h.artifacts_dir() / "latency.txt").write_text(table + "\n")
    tr.write_line(f"screenshots and server log: {h.artifacts_dir()}")


def pytest_unconfigure(config: Any) -> None:
    for folder in h.TEMP_DIRS:
        shutil.rmtree(folder, ignore_errors=True)
