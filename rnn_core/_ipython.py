"""The IPython kernel this code runs in, if any: its shell, and whether the code it runs is the
code saved.

The notebooks edit ``rnn_core`` while its modules are loaded; autoreload (turned on by
``rnn_core.setup()``) brings each saved file into the running kernel. When a saved file cannot be
loaded, autoreload keeps the old code, says so once and then nothing more: :func:`stale_code` says
it again, for the set-up's per-cell warning (``rnn_core.notebook``) and for the self-checks, which
refuse to judge code older than the file (``rnn_core.checks``).

Nothing here imports the rest of the package (the self-checks sit low in the layers).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["shell", "stale_code"]


def shell() -> Any:
    """The running IPython shell, or None (a script, a test, or no IPython installed)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def _load_error(path: str) -> str:
    """What is wrong with a file autoreload could not load: a syntax error with its line, or a
    pointer to the traceback autoreload printed (an error raised while the module ran)."""
    try:
        compile(Path(path).read_bytes(), path, "exec")
    except SyntaxError as e:
        return f"{type(e).__name__} on line {e.lineno}: {e.msg}"
    except (OSError, ValueError) as e:
        return str(e)
    return "it raised an error while loading: see the traceback printed when it was first run"


def _shown(path: str) -> str:
    """``path`` relative to the folder holding ``rnn_core`` (the course folder), if inside it."""
    here = Path(__file__).resolve().parent.parent
    try:
        return Path(path).resolve().relative_to(here).as_posix()
    except ValueError:
        return path


def stale_code() -> str | None:
    """Why the code running is not what is saved, or None.

    Autoreload keeps the old version of a module whose saved file it could not load (a syntax
    error, an exception at import) and does not try that file again until it is saved again.
    Until then every cell runs the code from before that save. This says which file and why,
    in one sentence; None when every watched file loaded (or outside IPython, or without
    autoreload). The self-checks refuse to judge stale code (:mod:`rnn_core.checks`), and after
    ``rnn_core.setup()`` every cell starts with this warning while it holds.
    """
    ip = shell()
    magics = ip.magics_manager.registry.get("AutoreloadMagics") if ip else None
    failed = getattr(getattr(magics, "_reloader", None), "failed", None)
    if not isinstance(failed, dict):
        return None
    bad = []
    for path, mtime in list(failed.items()):
        try:
            if os.stat(path).st_mtime != mtime:
                continue  # saved again since: the next cell loads it
        except OSError:
            continue
        bad.append(f"{_shown(path)} ({_load_error(path)})")
    if not bad:
        return None
    return (f"your last save of {', '.join(bad)} could not be loaded, so the code that runs is "
            f"still the version from before that save. Fix the error, save the file and run the "
            f"cell again.")
