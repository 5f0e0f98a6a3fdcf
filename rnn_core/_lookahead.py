"""The gate where the explorers' look-ahead thread waits while the kernel works for the student.

The explorers compute frames before the student asks for them (the look-ahead,
docs/architecture.md D6 and D7), in one background thread (``rnn_core.widgets.lookahead``). Their
compute is Python-bound and holds the GIL, so a thread that ran on while the kernel draws the
frame the student asked for, or runs a cell, would take about half of the interpreter from it.
Instead the library's loops over time steps and SGD steps call :func:`checkpoint` once per step;
in the look-ahead thread it waits there for as long as the kernel's main thread holds the gate
(:func:`foreground`). Anywhere else it returns at once.

Nothing here imports the rest of the package: the loops that call it (``analysis.jacobians``,
``analysis.lyapunov``, ``analysis.training_trace``) sit low in the layers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["checkpoint", "foreground", "hold", "release", "background_thread", "held"]

_lock = threading.Lock()
_open = threading.Event()
_open.set()
_holds = 0
_background: set[int] = set()


def checkpoint() -> None:
    """Wait here while the foreground holds the gate, if this is a look-ahead thread.

    Called once per step by the loops the explorers' compute runs (a time step, an SGD step):
    a look-ahead stops within one step of the student's request. In any other thread (the
    kernel's main thread, a test, a script) it returns at once.
    """
    if not _open.is_set() and threading.get_ident() in _background:
        _open.wait()


def hold(flag: list[bool] | None = None) -> None:
    """The foreground has work: look-ahead threads stop at their next checkpoint. ``flag[0]``
    becomes True together with the count (no call between them, so no signal handler either:
    a KeyboardInterrupt lands before both or after both)."""
    global _holds
    with _lock:
        _holds += 1
        if flag is not None:
            flag[0] = True
        _open.clear()


def release() -> None:
    """Undo one :func:`hold`; the look-ahead goes on when no hold is left."""
    global _holds
    with _lock:
        if _holds <= 0:
            raise RuntimeError("release: the gate is not held (one release per hold)")
        _holds -= 1
        if _holds == 0:
            _open.set()


def held() -> bool:
    """Whether the foreground holds the gate now."""
    return not _open.is_set()


@contextlib.contextmanager
def foreground() -> Iterator[None]:
    """Hold the gate inside (the main thread answering the student, running a cell); released
    on the way out whatever happens, an interrupt included."""
    held = [False]
    try:
        hold(held)
        yield
    finally:
        if held[0]:
            release()


@contextlib.contextmanager
def background_thread() -> Iterator[None]:
    """Inside, the calling thread is a look-ahead thread: it waits at checkpoints while held."""
    ident = threading.get_ident()
    with _lock:
        _background.add(ident)
    try:
        yield
    finally:
        with _lock:
            _background.discard(ident)
