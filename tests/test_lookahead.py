"""The explorers' look-ahead thread (rnn_core.widgets.lookahead, rnn_core._lookahead).

What a student relies on: a request of theirs is answered while a look-ahead is computing (the
look-ahead stops at its next checkpoint), a frame computed ahead is the frame drawn on demand,
an error in the student's code still reaches the browser, and nothing computed across an edit of
an exercise is kept or shown.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from rnn_core import _lookahead
from rnn_core.widgets import lookahead


def _in_thread(fn):
    """Run fn in a look-ahead thread; return (thread, progress list fn appends to)."""
    progress: list[int] = []

    def run():
        with _lookahead.background_thread():
            fn(progress)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, progress


def _steps(progress, n=400):
    for i in range(n):
        _lookahead.checkpoint()
        progress.append(i)
        time.sleep(0.0005)


def test_a_lookahead_thread_waits_at_checkpoints_while_the_foreground_holds_the_gate():
    with _lookahead.foreground():
        t, progress = _in_thread(_steps)
        time.sleep(0.1)
        assert progress == []                        # held from the start: not one step
        _lookahead.checkpoint()                      # the main thread itself never waits
    t.join(timeout=10)
    assert progress == list(range(400))              # released: all of it, in order
    assert not _lookahead.held()


def test_a_hold_in_the_middle_stops_the_thread_within_one_step():
    t, progress = _in_thread(_steps)
    while len(progress) < 20:
        time.sleep(0.001)
    with _lookahead.foreground():
        time.sleep(0.01)
        stopped_at = len(progress)
        time.sleep(0.1)
        assert len(progress) == stopped_at < 400     # no step while held
    t.join(timeout=10)
    assert len(progress) == 400


def test_holds_nest_and_a_release_without_a_hold_is_an_error():
    _lookahead.hold()
    _lookahead.hold()
    _lookahead.release()
    assert _lookahead.held()
    _lookahead.release()
    assert not _lookahead.held()
    with pytest.raises(RuntimeError, match="release: the gate is not held"):
        _lookahead.release()


def _vanilla():
    from rnn_core.widgets.vanilla import vanilla_flow_explorer

    return vanilla_flow_explorer(scale=1.0, T=200)


def _sent(view, monkeypatch):
    out = []
    monkeypatch.setattr(view, "send", lambda msg, buffers=None: out.append((msg, buffers)))
    monkeypatch.setattr(type(view), "comm", object(), raising=False)   # "shown"
    return out


def _slow_warm(ex, monkeypatch, steps):
    """Make ``ex``'s look-ahead long (a slow exercise): ``steps`` ms, with a checkpoint per step,
    before its own warm. Returns the event set when one starts."""
    started = threading.Event()
    real = ex.warm

    def slow_warm(**values):
        started.set()
        for _ in range(steps):
            _lookahead.checkpoint()
            time.sleep(0.001)
        return real(**values)

    monkeypatch.setattr(ex, "warm", slow_warm)
    return started


async def _until(cond, timeout=60.0):
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "the look-ahead never answered"
        await asyncio.sleep(0.005)


def test_a_lookahead_frame_is_computed_in_the_thread_and_is_the_frame_drawn_on_demand(
        monkeypatch):
    from rnn_core.analysis import explore

    explore._vanilla_flow.cache_clear()
    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    ahead = ex.index()
    ahead[1] += 7                                        # T seven steps on: not cached
    threads = []
    real = ex.warm

    def warm(**values):
        threads.append(threading.current_thread().name)
        return real(**values)

    monkeypatch.setattr(ex, "warm", warm)

    async def go():
        view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
        assert sent == []                                # handed to the thread: no frame yet
        await _until(lambda: sent)

    asyncio.run(go())
    assert threads == ["rnn_core-lookahead"]
    msg, buffers = sent[-1]
    assert msg["type"] == "frame" and msg["idx"] == ahead and msg["exact"]
    assert ex.index() != ahead                           # a look-ahead moves nothing
    assert view.timings[-1]["kind"] == "prefetch"
    # the same frame as drawing it on the main thread, byte for byte
    explore._vanilla_flow.cache_clear()
    again, again_buffers = view.frame_message(ahead)
    assert again["artists"] == msg["artists"] and again["readout"] == msg["readout"]
    assert again_buffers[: len(buffers)] == buffers[: len(again_buffers)]


def test_the_student_is_answered_while_a_lookahead_computes(monkeypatch):
    """A look-ahead that takes long (a slow exercise) does not hold up the student's request:
    the kernel answers it at once; the look-ahead's frame follows."""
    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    started = _slow_warm(ex, monkeypatch, steps=400)
    here = ex.index()
    ahead, moved = list(here), list(here)
    ahead[1] += 3
    moved[1] -= 1

    async def go():
        view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
        await _until(started.is_set)
        view._on_msg(view, {"type": "want", "idx": moved, "current": True}, [])
        assert [m["idx"] for m, _ in sent] == [moved]        # answered first
        await _until(lambda: len(sent) == 2)

    asyncio.run(go())
    assert [m["idx"] for m, _ in sent] == [moved, ahead]
    assert ex.index() == moved


def test_an_error_in_the_lookahead_reaches_the_browser(monkeypatch):
    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    message = "Exercise rnn_backward: write it in rnn_core/rnn.py"

    def broken(**values):
        raise NotImplementedError(message)

    monkeypatch.setattr(ex, "warm", broken)
    monkeypatch.setattr(ex, "_draw", lambda **values: broken())
    ahead = ex.index()
    ahead[1] += 1

    async def go():
        view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
        await _until(lambda: sent)

    asyncio.run(go())
    assert sent == [({"type": "error", "idx": ahead, "code": 0,
                      "message": f"NotImplementedError: {message}"}, None)]


def test_nothing_computed_across_an_edit_of_an_exercise_is_kept_or_sent(monkeypatch):
    """A cell that edits an exercise while the look-ahead waits: the look-ahead's result is not
    cached (part of it ran on the old code) and its frame is not sent (the browser was told to
    drop everything of the old code and asks again)."""
    import rnn_core.rnn as rnn
    from rnn_core.analysis import explore

    explore._vanilla_flow.cache_clear()
    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    real_backward = rnn.rnn_backward
    ahead = ex.index()
    ahead[1] += 5
    values = ex.values_at(ahead)

    def edited(*args, **kwargs):            # the student's new version
        return real_backward(*args, **kwargs)

    async def go():
        _lookahead.hold()                   # a cell is running
        try:
            view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
            await asyncio.sleep(0.2)        # the thread reaches its first checkpoint, waits
            monkeypatch.setattr(rnn, "rnn_backward", edited)      # the cell edits an exercise
        finally:
            _lookahead.release()
        await _until(lambda: sent)

    asyncio.run(go())
    assert sent == [({"type": "code", "code": 1}, None)]          # and no frame
    key = (values["scale"], int(values["T"]), values["init"], values["activation"],
           values["input_scale"], 64, 0, 8)
    assert not any(k[1:] == key for k in explore._vanilla_flow._table)
    # asked again, it is computed on the new code
    view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
    assert sent[-1][0]["type"] == "frame" and sent[-1][0]["code"] == 1


def test_without_an_event_loop_a_lookahead_request_is_answered_on_the_spot(monkeypatch):
    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    ahead = ex.index()
    ahead[1] += 2
    view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
    assert sent[-1][0]["idx"] == ahead


def test_a_code_keyed_cache_keeps_no_result_of_code_edited_while_it_ran(monkeypatch):
    import rnn_core.rnn as rnn
    from rnn_core.analysis.explore import code_keyed_cache

    real = rnn.rnn_forward

    @code_keyed_cache(maxsize=4)
    def f(x):
        monkeypatch.setattr(rnn, "rnn_forward", lambda *a: real(*a))   # an edit mid-compute
        return np.float64(x)

    f(1.0)
    assert f.cache_info().currsize == 0
    monkeypatch.setattr(rnn, "rnn_forward", real)

    @code_keyed_cache(maxsize=4)
    def g(x):
        return np.float64(x)

    g(1.0)
    assert g.cache_info().currsize == 1


def test_lookahead_jobs_run_in_order_and_report_errors_and_time():
    done = []

    async def go():
        loop = asyncio.get_running_loop()
        lookahead.submit(lambda: time.sleep(0.01), lambda e, ms: done.append((e, ms)), loop)
        lookahead.submit(lambda: 1 / 0, lambda e, ms: done.append((e, ms)), loop)
        await _until(lambda: len(done) == 2)

    asyncio.run(go())
    (e1, ms1), (e2, _) = done
    assert e1 is None and ms1 >= 10.0
    assert isinstance(e2, ZeroDivisionError)


def _misses():
    from rnn_core.analysis import explore, training_trace

    return sum(c.cache_info().misses for m in (explore, training_trace)
               for c in vars(m).values() if isinstance(c, explore.CodeKeyedCache))


@pytest.mark.parametrize("factory", ["vanilla.vanilla_flow_explorer", "clipping.clipping_explorer",
                                     "training.training_explorer", "highway.highway_explorer",
                                     "stacked.stack_gradient_explorer"])
def test_every_explorer_warms_exactly_what_its_draw_computes(factory):
    """The look-ahead thread runs ``warm``; the frame is then drawn on the main thread. If warm
    computed anything else than draw asks for, the main thread would compute it again."""
    import importlib

    module, name = factory.split(".")
    ex = getattr(importlib.import_module(f"rnn_core.widgets.{module}"), name)()
    idx = ex.index()
    idx[0] = (idx[0] + 3) % len(next(iter(ex.controls.values())).grid)   # not computed yet
    values = ex.values_at(idx)
    before = _misses()
    ex.warm(**values)
    warmed = _misses()
    assert warmed > before                         # it computed something
    ex.draw_values(values)
    assert _misses() == warmed                     # and draw found all of it cached


def test_a_lookahead_stuck_in_replaced_code_is_stopped_when_the_code_changes(monkeypatch):
    """A student's exercise that never returns, reached by the look-ahead: once the student
    rewrites an exercise (a cell run), the thread is stopped and runs the next job."""
    import rnn_core.rnn as rnn

    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    looping = threading.Event()

    def endless(**values):                  # no checkpoint, no end
        looping.set()
        n = 0
        while True:
            n += 1

    real_warm = ex.warm
    monkeypatch.setattr(ex, "warm", endless)
    ahead = ex.index()
    ahead[1] += 4
    real = rnn.rnn_backward

    def fixed(*args, **kwargs):
        return real(*args, **kwargs)

    async def go():
        view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
        await _until(looping.is_set)
        await asyncio.sleep(0.05)
        assert not lookahead.cancel()          # the code has not changed: left alone
        monkeypatch.setattr(rnn, "rnn_backward", fixed)        # the student's fix
        monkeypatch.setattr(ex, "warm", real_warm)
        assert view.check_code()               # as after the cell run: stops the thread
        view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
        await _until(lambda: any(m["type"] == "frame" for m, _ in sent))

    asyncio.run(go())
    assert [m["type"] for m, _ in sent] == ["code", "frame"]
    assert sent[-1][0]["idx"] == ahead and sent[-1][0]["code"] == 1


def test_a_job_asked_under_replaced_code_is_not_run(monkeypatch):
    import rnn_core.rnn as rnn

    ran, done = [], []
    real = rnn.rnn_forward

    # the thread is busy with a job of its own while the second waits in the queue
    def blocker():
        for _ in range(200):
            _lookahead.checkpoint()
            time.sleep(0.001)

    async def run():
        loop = asyncio.get_running_loop()
        with _lookahead.foreground():
            lookahead.submit(blocker, lambda e, ms: None, loop)
            lookahead.submit(lambda: ran.append(1), lambda e, ms: done.append(e), loop)
            monkeypatch.setattr(rnn, "rnn_forward", lambda *a: real(*a))
        await _until(lambda: done)

    asyncio.run(run())
    assert ran == [] and isinstance(done[0], lookahead.Stale)


def test_every_job_gets_one_answer_however_cancels_fall(monkeypatch):
    """cancel() at any moment (here: 100 times, as a job of 20 ms runs or one of 0-4 ms ends,
    under code that keeps changing) never loses a job or its done(), nor stops the thread, nor
    stops a job it was not meant for: a lost answer would leave a browser waiting for its
    look-ahead frame for good. Setting the exception is slowed down by 3 ms here, as a thread
    switch at the wrong moment would."""
    import ctypes
    import random

    import rnn_core.rnn as rnn

    set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc

    def slow_set_exc(ident, exc):
        if exc is not None:
            time.sleep(0.003)
        return set_exc(ident, exc)

    monkeypatch.setattr(ctypes.pythonapi, "PyThreadState_SetAsyncExc", slow_set_exc)

    real = rnn.rnn_forward
    versions = [real, lambda *a: real(*a)]
    rng = random.Random(0)
    done: list[int] = []
    stopped: list[int] = []
    n = 100

    def job(started, seconds):
        def compute():
            started.set()
            t = time.perf_counter() + seconds
            while time.perf_counter() < t:
                pass
        return compute

    async def go():
        loop = asyncio.get_running_loop()
        for i in range(n):
            started = threading.Event()

            def answer(e, ms, i=i):
                done.append(i)
                if isinstance(e, lookahead.Stale):
                    stopped.append(i)

            # every other job outlasts the cancel; the rest end around it
            lookahead.submit(job(started, 0.02 if i % 2 else rng.random() * 0.004), answer, loop)
            await _until(started.is_set, timeout=10)   # a Stale leaked into a new job: never
            monkeypatch.setattr(rnn, "rnn_forward", versions[(i + 1) % 2])   # a cell's edit
            lookahead.cancel()                     # while the job runs, or just as it ends
        await _until(lambda: len(done) == n)

    asyncio.run(go())
    assert sorted(done) == list(range(n))          # each job answered once
    assert stopped                                 # and some were stopped on the way
    assert lookahead._thread.is_alive()


def test_a_move_drops_the_owners_jobs_not_started_and_puts_its_next_ones_first():
    """The student moved an explorer: its look-ahead jobs still queued were for the position
    left, and are dropped (each answered with Dropped, not run); the one running goes on, and
    another explorer's jobs keep their order. From then on the moved explorer's jobs run before
    the others' (the explorers of a notebook share the thread)."""
    class Owner:                                   # a view, as far as the queue is concerned
        pass

    ran, done = [], []
    me, other = Owner(), Owner()
    release = threading.Event()

    def running():
        ran.append("running")
        while not release.is_set():
            _lookahead.checkpoint()
            time.sleep(0.001)

    def answer(name):
        return lambda e, ms: done.append((name, type(e).__name__ if e else None))

    async def go():
        loop = asyncio.get_running_loop()
        lookahead.submit(running, answer("running"), loop, owner=me)
        await _until(lambda: ran)                  # started: not droppable
        for name, owner in (("mine 1", me), ("other 1", other), ("mine 2", me),
                            ("other 2", other)):
            lookahead.submit(lambda name=name: ran.append(name), answer(name), loop, owner=owner)
        assert lookahead.moved(me) == 2
        assert lookahead.moved(me) == 0            # nothing of mine is left queued
        lookahead.submit(lambda: ran.append("mine 3"), answer("mine 3"), loop, owner=me)
        release.set()
        await _until(lambda: len(done) == 6)

    asyncio.run(go())
    assert ran == ["running", "mine 3", "other 1", "other 2"]
    assert sorted(done) == sorted([("mine 1", "Dropped"), ("mine 2", "Dropped"),
                                   ("running", None), ("mine 3", None), ("other 1", None),
                                   ("other 2", None)])
    assert [d for d in done if d[1] is None] == [("running", None), ("mine 3", None),
                                                  ("other 1", None), ("other 2", None)]
    with pytest.raises(ValueError, match="moved: owner must be"):
        lookahead.moved(None)


def test_the_students_request_drops_the_lookahead_queued_for_the_position_left(monkeypatch):
    """Two look-ahead requests out (spec "ahead"): the first computing, the second queued. The
    student moves: their frame comes first, the queued request is answered "dropped" (the
    browser may ask for it again), and the one computing still sends its frame."""
    ex = _vanilla()
    view = ex.widget
    assert view.spec["ahead"] == 2
    sent = _sent(view, monkeypatch)
    started = _slow_warm(ex, monkeypatch, steps=300)
    here = ex.index()
    first, second, moved = list(here), list(here), list(here)
    first[1] += 3
    second[1] += 4
    moved[1] -= 1

    async def go():
        view._on_msg(view, {"type": "want", "idx": first, "current": False}, [])
        view._on_msg(view, {"type": "want", "idx": second, "current": False}, [])
        await _until(started.is_set)
        view._on_msg(view, {"type": "want", "idx": moved, "current": True}, [])
        assert [(m["type"], m["idx"]) for m, _ in sent] == [("frame", moved)]
        await _until(lambda: len(sent) == 3)
        await asyncio.sleep(0.4)                   # the dropped one is never computed

    asyncio.run(go())
    assert sorted((m["type"], m["idx"]) for m, _ in sent) == sorted(
        [("frame", moved), ("dropped", second), ("frame", first)])
    assert [m for m, _ in sent if m["type"] == "dropped"][0]["code"] == 0
    assert ex.index() == moved
