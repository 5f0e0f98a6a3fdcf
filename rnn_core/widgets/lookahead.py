"""The explorers' look-ahead thread: frames computed before the student asks, never in their way.

The browser asks for frames ahead of the student (``web``, D6). Answering such a request on the
kernel's main thread made a student's own request wait for the one in flight (up to a whole
training run, 150-200 ms here), and a background thread that simply ran alongside took half of
the interpreter from it (the compute is Python-bound and holds the GIL; D7). Here the compute of
a look-ahead request runs in one daemon thread that stops at the library's per-step checkpoints
whenever the main thread holds the gate (``rnn_core._lookahead``): while it answers a request of
the student's and while a cell runs. The frame itself (artists, serialising, sending) is still
made on the main thread, from the cache the thread filled; nothing here touches a figure.

A job is ``submit(compute, done, loop, owner)``: ``compute()`` runs in the thread (it fills the
explorer's caches); ``done(error, ms)`` then runs on the main thread's event loop ``loop``, with
the exception ``compute`` raised (or None) and the milliseconds it ran.

A job may name an ``owner`` (an explorer's view). The browser keeps up to two look-ahead
requests out per explorer, so that the thread computes the next while the frame of the last
travels. When the student moves an explorer, :func:`moved` takes its jobs not started yet off
the queue (they were asked for the position the student has left; each gets ``done`` with
:class:`Dropped`), and from then on its jobs go before those of the other explorers in the
kernel: the explorers of a notebook share this thread, and the one in use comes first.

Jobs belong to the exercise code they were asked under. A job whose code was replaced before it
started is not run (``done`` gets :class:`Stale`), and :func:`cancel` stops the one running: an
exercise the student has since rewritten, perhaps because it never returned (a loop that does not
end), must not keep the thread, and half the interpreter, for itself. It raises :class:`Stale` in
the thread at its next Python instruction (CPython's ``PyThreadState_SetAsyncExc``, the way a
debugger stops a thread); a single long numpy call still finishes first.
"""

from __future__ import annotations

import ctypes
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from rnn_core._ipython import shell
from rnn_core._lookahead import background_thread, hold, release
from rnn_core.analysis.explore import layer_a_code

__all__ = ["submit", "moved", "cancel", "Stale", "Dropped", "hold_during_cells"]


class Stale(BaseException):
    """A look-ahead job's exercise code was replaced: it was not run, or was stopped.

    A ``BaseException``, like ``KeyboardInterrupt``: an ``except Exception`` in an exercise
    does not swallow it."""


class Dropped(Exception):
    """A look-ahead job its owner no longer wanted (:func:`moved`): taken off the queue, not run.
    Passed to its ``done``, never raised."""


class _Job(NamedTuple):
    compute: Callable[[], Any]
    done: Callable[[BaseException | None, float], None]
    loop: Any
    code: tuple[Any, ...]
    owner: Any


_jobs: deque[_Job] = deque()
_queued = threading.Condition()     # guards _jobs and _in_use; notified when a job is put on it
_in_use: Any = None                 # weak reference to the owner moved last: its jobs go first
_thread: threading.Thread | None = None
_lock = threading.Lock()
_running: _Job | None = None


def submit(compute: Callable[[], Any], done: Callable[[BaseException | None, float], None],
           loop: Any, owner: Any = None) -> None:
    """Run ``compute`` in the look-ahead thread, then ``done(error, ms)`` on ``loop``. Jobs run
    in the order submitted, the jobs of the owner moved last first (:func:`moved`); ``owner``:
    an explorer's view, or None."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="rnn_core-lookahead", daemon=True)
            _thread.start()
    with _queued:
        _jobs.append(_Job(compute, done, loop, layer_a_code(), owner))
        _queued.notify()


def moved(owner: Any) -> int:
    """The student moved ``owner``'s explorer: take its jobs that have not started off the queue,
    each answered by its ``done`` with :class:`Dropped` (on its loop, as any other answer), and
    run its jobs before other owners' from now on. The one running, if any, goes on. Returns how
    many were dropped."""
    global _in_use
    if owner is None:
        raise ValueError("moved: owner must be the owner given to submit, got None")
    with _queued:
        _in_use = weakref.ref(owner)
        mine = [j for j in _jobs if j.owner is owner]
        if mine:
            kept = [j for j in _jobs if j.owner is not owner]
            _jobs.clear()
            _jobs.extend(kept)
    for job in mine:
        try:
            job.loop.call_soon_threadsafe(job.done, Dropped("the student moved on"), 0.0)
        except RuntimeError:            # that loop is closed
            pass
    return len(mine)


def cancel() -> bool:
    """Stop the job running in the look-ahead thread if its exercise code has been replaced.
    Returns whether it asked the thread to stop.

    The exception is set while holding the lock the thread takes to end a job, and the thread
    clears any still pending one there (``_finish``): it can only land in the job it was meant
    for, never in the next one or between two."""
    code = layer_a_code()
    with _lock:
        if _running is None or _running.code == code or _thread is None or _thread.ident is None:
            return False
        return ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(_thread.ident), ctypes.py_object(Stale)) == 1


def _finish() -> None:
    """In the thread, at the end of a job: no job is running, and no Stale is left pending."""
    global _running
    with _lock:
        _running = None
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)


def _run() -> None:
    global _running
    with background_thread():
        while True:
            with _queued:
                while not _jobs:
                    _queued.wait()
                first = _in_use() if _in_use is not None else None
                job = next((j for j in _jobs if first is not None and j.owner is first),
                           _jobs[0])
                _jobs.remove(job)
            error: BaseException | None = None
            t0 = time.perf_counter()
            try:                # every job taken from the queue gets exactly one done()
                try:
                    # checked and marked running under the lock cancel() takes: an edit after
                    # the check is seen by the cancel that follows it
                    with _lock:
                        if job.code != layer_a_code():
                            raise Stale("the exercise code changed before this job started")
                        _running = job
                    job.compute()
                finally:
                    _finish()
            except BaseException as err:  # noqa: BLE001 - the main thread reports it
                error = err
                _finish()       # if a Stale landed inside the first _finish, before its end
            ms = 1e3 * (time.perf_counter() - t0)
            try:
                job.loop.call_soon_threadsafe(job.done, error, ms)
            except RuntimeError:        # that loop is closed (its kernel or test has ended)
                pass


_cells_hooked = False




def hold_during_cells() -> None:
    """While a cell runs in this IPython kernel, the look-ahead waits (once per process)."""
    global _cells_hooked
    ip = shell()
    if _cells_hooked or ip is None:
        return
    running = [False]

    # pre_execute comes before pre_run_cell, where autoreload reloads the edited modules, and
    # post_execute always comes (IPython triggers it in a finally), silent runs included
    def pre_execute(*_args: Any) -> None:
        if not running[0]:
            running[0] = True
            hold()

    def post_execute(*_args: Any) -> None:
        if running[0]:
            running[0] = False
            cancel()            # a job on code the cell replaced stops before the gate opens
            release()

    ip.events.register("pre_execute", pre_execute)
    ip.events.register("post_execute", post_execute)
    _cells_hooked = True
