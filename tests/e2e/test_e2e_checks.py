"""Fast checks of the e2e harness's verdicts on made-up cell outputs (no browser, no server).

These run in ``make test``; the browser tests themselves live in ``e2e_browser.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import e2e_harness as h  # noqa: E402


def code(index: int, count: int | None, *outputs: dict) -> dict:
    return {"index": index, "type": "code", "source": "x = 1", "execution_count": count,
            "outputs": list(outputs)}  # fmt: skip


def error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"]}  # fmt: skip


STUB = error("NotImplementedError", "Exercise rnn_step: compute the next hidden state")


def test_student_mode_accepts_a_stop_at_the_first_exercise() -> None:
    cells = [code(0, 1), code(1, 2, STUB), code(2, None)]
    problems, name = h.check_student(cells)
    assert problems == [] and name == "rnn_step"


def test_student_mode_rejects_an_earlier_error_a_vague_stub_and_running_on() -> None:
    early = [code(0, 1, error("ValueError", "bad shape")), code(1, 2, STUB)]
    assert "not NotImplementedError" in h.check_student(early)[0][0]
    vague = [code(0, 1, error("NotImplementedError", ""))]
    assert "does not name the exercise" in h.check_student(vague)[0][0]
    ran_on = [code(0, 1, STUB), code(1, 2)]
    assert "ran after" in h.check_student(ran_on)[0][0]


def test_notebook_mode_flags_errors_stderr_tracebacks_and_unrun_cells() -> None:
    text = "Traceback (most recent call last)\nKeyError: 1"
    stderr = {"output_type": "stream", "name": "stderr", "text": text}
    flagged = h.check_all_ran([code(0, 1, stderr)])
    assert flagged == ["cell 0: error output: stderr traceback: KeyError: 1"]
    assert h.check_all_ran([code(0, None)]) == ["cell 0: never executed"]
    warning = {"output_type": "stream", "name": "stderr", "text": "UserWarning: slow"}
    assert h.check_all_ran([code(0, 1, warning)]) == []


def test_readout_value_matching_tolerates_the_printed_precision() -> None:
    assert h.shows_value("amplitude = 1.1, wave = sin", "1.10")
    assert h.shows_value("frequency = 4", "4")
    assert not h.shows_value("frequency = 3", "4")
    assert not h.shows_value("gain = 1.2", "1.30")


def test_percentile_and_table() -> None:
    values = [float(v) for v in range(1, 21)]
    assert h.percentile(values, 95) == 19.0 and h.percentile(values, 50) == 10.0
    e = h.ExplorerResult("nb.ipynb", 3, 1, 0, latencies_ms=values)
    assert "met" in h.latency_table([e]) and "MISSED" in h.latency_table([e], goal_ms=5.0)
    assert "goal 100 / p95 200" in h.latency_table([e])
    # the three kinds of step each get a row; a slow tail misses the p95 goal
    e = h.ExplorerResult("nb.ipynb", 3, 1, 0, latencies_ms=[50.0] * 18 + [250.0] * 2,
                         jump_ms=[90.0, 95.0], first_touch_ms=140.0)
    rows = h.latency_table([e]).splitlines()[2:5]
    assert [r.split()[3] for r in rows] == ["next", "jump", "first"]
    assert "MISSED (p95 >= 200 ms)" in rows[0] and rows[1].endswith("met")
    assert "MISSED (median >= 100 ms)" in rows[2]


def test_find_notebooks_sorts_and_skips_checkpoints(tmp_path: Path) -> None:
    for rel in ("b.ipynb", "a.ipynb", ".ipynb_checkpoints/a-checkpoint.ipynb", "notes.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    assert [p.name for p in h.find_notebooks(tmp_path)] == ["a.ipynb", "b.ipynb"]
    assert h.find_notebooks(tmp_path / "missing") == []


def test_student_stop_note_only_when_the_stop_comes_before_the_first_graded_cell() -> None:
    graded = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    early = [code(0, 1, STUB), {**code(1, None), "nbgrader": graded}]
    assert "before its first graded cell 1" in h.student_stop_note(early, "rnn_step")
    late = [{**code(0, 1), "nbgrader": graded}, code(1, 2, STUB)]
    assert h.student_stop_note(late, "rnn_step") is None
    assert h.student_stop_note([code(0, 1)], None) is None


def test_latency_table_reports_the_load(monkeypatch) -> None:
    monkeypatch.setattr(h.os, "getloadavg", lambda: (3.25, 2.0, 1.0))
    e = h.ExplorerResult("nb.ipynb", 3, 1, 0, latencies_ms=[10.0] * 15, load=(1.5, 2.5))
    table = h.latency_table([e])
    assert "1.5->2.5" in table and "now 3.25 2.00 1.00" in table


def test_build_release_reports_why_it_refused(tmp_path: Path, monkeypatch) -> None:
    """The course tooling on a folder that is no course: no release, the tool's own reason."""
    monkeypatch.setattr(h, "REPO", tmp_path)
    built, why = h.build_release(tmp_path / "out", timeout_s=60)
    assert built is None and why.startswith("the course tooling refused to build it (exit")


class FakePage:
    """Stands in for a Playwright page: records what the harness does to it."""

    def __init__(self, session: str | None) -> None:
        self.session, self.closed, self.listeners = session, False, []

    def evaluate(self, js: str, *args: object) -> object:
        return self.session

    def close(self) -> None:
        self.closed = True

    def on(self, event: str, fn: object) -> None:
        self.listeners.append((event, fn))


class FakeServer:
    def __init__(self, port: int, root: Path) -> None:
        self.port, self.root_dir, self.ended = port, root, []

    def end_session_later(self, session_id: str) -> None:
        self.ended.append(session_id)


def test_a_page_opened_ahead_goes_only_to_its_own_notebook(tmp_path: Path, monkeypatch) -> None:
    """Ahead hands a page to the test of the same notebook, mode and server, restarting its clock;
    any other request opens its own; what is never taken is closed and its session ended."""
    opened: list[h.OpenNotebook] = []

    def start(context, server, path, *, mode, label):  # noqa: ANN001, ANN202
        page = FakePage(f"session-{path.stem}")
        run = h.NotebookRun(path=path, mode=mode)
        opened.append(h.OpenNotebook(page, server, run, path.name, label, [], start=0.0))
        return opened[-1]

    monkeypatch.setattr(h, "start_notebook", start)
    a, b = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    lab, other = FakeServer(1, tmp_path), FakeServer(2, tmp_path)
    ahead = h.Ahead()
    ahead.open(None, lab, a, mode="notebook", label="a")
    ahead.open(None, lab, b, mode="student", label="b")
    assert ahead.take(other, a, mode="notebook") is None  # another server
    assert ahead.take(lab, a, mode="student") is None  # another mode
    got = ahead.take(lab, a, mode="notebook")
    assert got is opened[0] and got.start > 0.0 and "page opened ahead" in got.run.notes[0]
    assert ahead.take(lab, a, mode="notebook") is None  # taken once
    ahead.discard()
    assert opened[1].page.closed and lab.ended == ["session-b"] and not opened[0].page.closed


def test_a_kept_page_serves_the_next_notebook_with_its_own_error_list(tmp_path: Path) -> None:
    page = FakePage(None)
    page.remove_listener = lambda event, fn: page.listeners.remove((event, fn))
    server = FakeServer(1, tmp_path)
    done = h.OpenNotebook(page, server, h.NotebookRun(tmp_path / "a.ipynb", "student"), "a.ipynb",
                          "a", [], start=0.0)  # fmt: skip
    with pytest.raises(ValueError, match="keep_page=True"):
        h.reopen_notebook(done, tmp_path / "b.ipynb", mode="student", label="b")
    h._listen(done)
    done.kept = True
    nxt = h.reopen_notebook(done, tmp_path / "b.ipynb", mode="student", label="b")
    assert nxt.page is page and nxt.rel == "b.ipynb" and not done.kept
    assert [fn for _, fn in page.listeners] == [nxt.on_error]
    nxt.on_error("boom")
    assert nxt.console_errors == ["boom"] and done.console_errors == []


def test_wait_ready_needs_a_launched_server(tmp_path: Path) -> None:
    server = h.LabServer(tmp_path, tmp_path / "log.txt")
    try:
        with pytest.raises(RuntimeError, match="not launched"):
            server.wait_ready(timeout_s=1)
    finally:
        server.stop()


def test_latency_waits_until_the_explorer_js_tests_are_done(tmp_path: Path, monkeypatch) -> None:
    import threading

    busy = tmp_path / "busy"
    monkeypatch.delenv("E2E_QUIET_FILE", raising=False)
    assert h.wait_quiet() is None                          # run without run.sh: nothing to wait for
    monkeypatch.setenv("E2E_QUIET_FILE", str(busy))
    assert h.wait_quiet() is None                          # the tests already ended
    busy.write_text("")
    threading.Timer(0.5, busy.unlink).start()
    note = h.wait_quiet(timeout_s=30)
    assert note is not None and note.startswith("waited ") and not busy.exists()
    assert float(note.split()[1]) >= 0.4                   # it waited for the file to go
    busy.write_text("")
    assert h.wait_quiet(timeout_s=0.3) == (
        "latency timed beside run.sh's explorer.js tests: still running after 0.3 s")
