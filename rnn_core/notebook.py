"""One call at the top of every notebook: ``rnn_core.setup()``.

It does three things a student should not have to know about:

- **BLAS threads.** The matrices of this course are small (tens of rows). numpy's BLAS starts one
  thread per core for every product, and on shared cores (JupyterHub, Colab, a laptop running
  other work) those threads spin against each other: a notebook can take several times longer than
  with one thread. ``setup`` limits BLAS to one thread (threadpoolctl), as ``make`` does with
  ``OPENBLAS_NUM_THREADS=1``.
- **The plotting backend.** The explorers draw in the browser whatever the backend (an anywidget,
  docs/architecture.md D6); the backend decides how the other figures show. ``setup`` picks
  ``inline`` (PNG images), which shrink to the width of the output area and keep each figure's
  text alternative (``rnn_core.style.show``) in the output, where the book and exported HTML
  read it. ``RNN_PLOTS=widget`` in the environment, or ``setup(backend="widget")``, asks for
  ipympl (``%matplotlib widget``: zoom and pan), whose canvases keep their size in pixels.
- **Autoreload.** After you change a file in ``rnn_core`` (an exercise), or a module of your own
  in the notebooks' folder, the next cell you run uses the new code, also through names imported
  earlier and through the models built on your function. No kernel restart. Only those modules are
  watched (``%autoreload explicit``, each one marked as it is imported): ``%autoreload 2`` would
  check the file of every loaded module, some 950 with matplotlib, before every cell (about 9 ms
  of every cell's time here). The explorers cache what they computed (a slider moved
  back shows the cached picture at once); after an edit to any ``rnn_core`` file those caches are
  emptied before the next cell runs, so an explorer never shows a result of the old code.

Outside IPython (a script, a test) only the thread limit applies.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnn_core._ipython import shell as _shell
from rnn_core._ipython import stale_code

__all__ = ["setup", "SetupReport", "choose_backend", "clear_caches", "stale_code"]

_BACKENDS = ("widget", "inline")
_LIMITER: list[Any] = []
"""Keeps the threadpoolctl limiter alive for the life of the kernel (it is never undone)."""


@dataclass
class SetupReport:
    """What :func:`setup` did (also its ``repr`` in the notebook)."""

    blas_threads: int | None
    """the limit applied, or None when threadpoolctl is not installed"""
    backend: str | None
    """``"widget"`` or ``"inline"``; None outside IPython"""
    autoreload: bool
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        threads = "not limited" if self.blas_threads is None else self.blas_threads
        parts = [
            f"BLAS threads: {threads}",
            f"plots: {self.backend or 'unchanged (not in IPython)'}",
            f"autoreload: {'on' if self.autoreload else 'off'}",
        ]
        return "rnn_core.setup: " + ", ".join(parts) + "".join(f"\n  {n}" for n in self.notes)


def choose_backend(environ: dict[str, str] | None = None) -> str:
    """``"inline"``, unless ``RNN_PLOTS`` in ``environ`` (default ``os.environ``) says
    ``"widget"`` (ipympl) or ``"inline"``.

    Not ipympl by default, even where it is installed: its canvas keeps the figure's size in
    pixels (this course's two-panel figures are 11-14 inches wide, 1100-1400 pixels at 100 dpi),
    so beside JupyterLab's file browser, in an output area some 850 pixels wide, a figure's right
    side is cut off, and its output has no text alternative. Inline PNGs shrink to fit (a
    1290-pixel figure of notebook 00 is shown 848 pixels wide there) and keep it.
    """
    env = os.environ if environ is None else environ
    wanted = env.get("RNN_PLOTS", "").strip().lower()
    if wanted:
        if wanted not in _BACKENDS:
            raise ValueError(f"setup: RNN_PLOTS must be 'widget' or 'inline', got {wanted!r}")
        return wanted
    return "inline"


def _source_mtimes() -> dict[str, float]:
    """Modification time of the file of every loaded ``rnn_core`` module."""
    out = {}
    for name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None)
        if (name == "rnn_core" or name.startswith("rnn_core.")) and path:
            try:
                out[path] = os.stat(path).st_mtime
            except OSError:
                pass
    return out


def clear_caches() -> int:
    """Empty every ``functools`` cache of a loaded ``rnn_core`` module; returns how many."""
    n = 0
    for name, mod in list(sys.modules.items()):
        if name != "rnn_core" and not name.startswith("rnn_core."):
            continue
        for obj in list(vars(mod).values()):
            if callable(getattr(obj, "cache_clear", None)) and hasattr(obj, "cache_info"):
                obj.cache_clear()
                n += 1
    return n


class _ClearCachesOnEdit:
    """IPython ``pre_run_cell`` hook, run after autoreload's: when a file of ``rnn_core`` changed
    since the last cell, empty the package's caches (autoreload replaces the code, not the results
    cached from it); while a saved file could not be loaded, say so on stderr before the cell's
    output (:func:`rnn_core._ipython.stale_code`)."""

    def __init__(self) -> None:
        self.seen = _source_mtimes()

    def __call__(self, info: Any = None) -> None:
        now = _source_mtimes()
        # a module imported since the last cell is new, not edited: its caches are fresh
        if any(path in self.seen and self.seen[path] != t for path, t in now.items()):
            clear_caches()
        self.seen = now
        stale = stale_code()
        if stale:
            print(f"[rnn_core] {stale}", file=sys.stderr)
            sys.stderr.flush()  # sent now: above the cell's own output, not after it


class _WatchCourseModules:
    """IPython ``post_run_cell`` hook: mark for autoreload every module imported so far whose file
    lies in one of ``roots`` (the ``rnn_core`` package, the kernel's working directory), outside
    installed packages. It runs after each cell, so a module a cell imported is watched before the
    next cell's check."""

    def __init__(self, reloader: Any, roots: list[str]) -> None:
        self.reloader = reloader
        self.roots = tuple(roots)
        self.seen: set[str] = set()
        self()

    def __call__(self, result: Any = None) -> None:
        for name, mod in list(sys.modules.items()):
            if name in self.seen:
                continue
            self.seen.add(name)
            path = getattr(mod, "__file__", None)
            if (isinstance(path, str) and path.startswith(self.roots)
                    and "site-packages" not in path and "dist-packages" not in path):
                self.reloader.mark_module_reloadable(name)


def _watch_course_modules(shell: Any) -> bool:
    """``%autoreload explicit`` with the course's modules marked (``_WatchCourseModules``); False
    when this IPython's autoreload does not offer the reloader it needs (then the caller falls
    back to ``%autoreload 2``)."""
    magics = shell.magics_manager.registry.get("AutoreloadMagics")
    reloader = getattr(magics, "_reloader", None)
    if not callable(getattr(reloader, "mark_module_reloadable", None)):
        return False
    for hook in list(shell.events.callbacks["post_run_cell"]):
        if isinstance(hook, _WatchCourseModules):  # setup() run twice: one hook is enough
            shell.events.unregister("post_run_cell", hook)
    roots = [str(Path(__file__).resolve().parent) + os.sep, os.getcwd() + os.sep]
    shell.events.register("post_run_cell", _WatchCourseModules(reloader, roots))
    shell.run_line_magic("autoreload", "1")  # "explicit": only the marked modules
    return True


_OPENBLAS_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads")


def _limit_openblas_directly(n: int) -> bool:
    """Without threadpoolctl: call the set-threads function of every OpenBLAS this process has
    loaded (numpy's wheels ship OpenBLAS; Linux only, where /proc lists the loaded libraries).
    True when at least one was limited."""
    import ctypes

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    paths = set()
    for line in maps.splitlines():
        fields = line.split()
        name = os.path.basename(fields[-1]).lower() if len(fields) >= 6 else ""
        if "openblas" in name and ".so" in name:
            paths.add(fields[-1])
    done = False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _OPENBLAS_SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                done = True
                break
    return done


def _limit_threads(n: int, notes: list[str]) -> int | None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        if "numpy" in sys.modules and _limit_openblas_directly(n):
            notes.append("threadpoolctl is not installed: OpenBLAS limited directly")
        else:
            notes.append("threadpoolctl is not installed: BLAS threads not limited")
            return None
    else:
        _LIMITER.clear()
        _LIMITER.append(threadpool_limits(limits=n, user_api="blas"))
    # Processes this kernel starts (none in the course, but cheap to get right) inherit the limit.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    return n


def setup(
    *, blas_threads: int = 1, backend: str | None = None, autoreload: bool = True
) -> SetupReport:
    """Prepare a notebook kernel for the course: BLAS threads, plotting backend, autoreload.

    Parameters
    ----------
    blas_threads : BLAS threads for numpy's matrix products (default 1: fastest for this course's
        small matrices, on shared cores by far).
    backend : ``"widget"``, ``"inline"``, or None to choose (:func:`choose_backend`).
    autoreload : turn on autoreload for ``rnn_core`` and your own modules, so that edits take
        effect without a restart.

    Returns
    -------
    A :class:`SetupReport`; the notebook shows its one-line summary.

    Raises
    ------
    ValueError
        ``blas_threads`` not a positive int, or ``backend`` not one of the two names.
    """
    if isinstance(blas_threads, bool) or not isinstance(blas_threads, int) or blas_threads < 1:
        raise ValueError(f"setup: blas_threads must be a positive int, got {blas_threads!r}")
    if backend is not None and backend not in _BACKENDS:
        raise ValueError(f"setup: backend must be 'widget', 'inline' or None, got {backend!r}")
    notes: list[str] = []
    threads = _limit_threads(blas_threads, notes)
    shell = _shell()
    if shell is None:
        return SetupReport(threads, None, False, notes)
    chosen = backend or choose_backend()
    shell.run_line_magic("matplotlib", chosen)
    __import__("rnn_core.style").style.install(shell)  # palette, alt text (rnn_core/style.py)
    if autoreload:
        if "autoreload" not in shell.extension_manager.loaded:
            shell.run_line_magic("load_ext", "autoreload")
        if not _watch_course_modules(shell):
            shell.run_line_magic("autoreload", "2")
        for hook in list(shell.events.callbacks["pre_run_cell"]):
            if isinstance(hook, _ClearCachesOnEdit):  # setup() run twice: one hook is enough
                shell.events.unregister("pre_run_cell", hook)
        shell.events.register("pre_run_cell", _ClearCachesOnEdit())
    return SetupReport(threads, chosen, autoreload, notes)
