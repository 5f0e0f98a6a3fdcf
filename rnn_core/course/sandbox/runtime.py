"""The read-only Python runtime inside the sandbox: the base interpreter and numpy, nothing else.

The grader usually runs from a virtual environment whose site-packages holds an editable install
of the course (a finder that points at the source). So the sandbox never sees that folder: it gets
the *base* interpreter's prefix at :data:`PREFIX`, with every ``site-packages``/``dist-packages``
folder hidden under an empty read-only tmpfs, and only numpy's package folders bound back in.
"""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path

PREFIX = "/opt/python"

# The operating system's own folders, read-only. /etc is not among them: Python and numpy
# need only the loader cache from it.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache",)


@dataclass(frozen=True)
class Runtime:
    """Where the sandbox's interpreter comes from and how to mount it."""

    python: str  # interpreter path inside the sandbox
    binds: tuple[tuple[str, str], ...]  # (host, inside) read-only binds, in order
    hidden: tuple[str, ...]  # inside folders covered by an empty read-only tmpfs
    packages: tuple[tuple[str, str], ...]  # (host, inside) package folders bound over `hidden`
    env: tuple[tuple[str, str], ...]  # environment the interpreter needs inside


def _numpy_folders() -> list[Path]:
    """numpy's package folder and its bundled libraries (``numpy.libs`` in wheels)."""
    import numpy

    pkg = Path(numpy.__file__).resolve().parent
    folders = [pkg]
    libs = pkg.parent / "numpy.libs"
    if libs.is_dir():
        folders.append(libs)
    return folders


def _site_dirs(root: str) -> list[str]:
    """Every site-packages or dist-packages folder under ``root``'s lib folders."""
    found = []
    for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages",
                    "lib/python3/dist-packages", "local/lib/python3*/site-packages",
                    "local/lib/python3*/dist-packages"):
        found.extend(glob.glob(os.path.join(root, pattern)))
    return sorted(set(found))


def discover() -> Runtime:
    """The runtime for the interpreter running the grader (``sys.base_prefix``)."""
    prefix = os.path.realpath(sys.base_prefix)
    base_exe = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    if not base_exe.startswith(prefix + os.sep):
        # e.g. a venv made from a symlinked interpreter: use the conventional name in the prefix
        base_exe = os.path.join(prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")
    python = PREFIX + base_exe[len(prefix):]
    binds = []
    hidden = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d) or not os.path.isdir(d):
            continue
        binds.append((d, d))
    for f in SYSTEM_FILES:
        if os.path.isfile(f):
            binds.append((f, f))
    binds.append((prefix, PREFIX))
    for site in _site_dirs(prefix):
        hidden.append(PREFIX + site[len(prefix):])
    # The system's own Python packages (Debian's dist-packages, pip installs in /usr/local).
    hidden.extend(_site_dirs("/usr"))
    # numpy goes into the runtime's own site-packages (the first hidden one under PREFIX).
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = f"{PREFIX}/lib/{version}/site-packages"
    if site not in hidden:
        hidden.append(site)
    packages = tuple((str(f), f"{site}/{f.name}") for f in _numpy_folders())
    # A shared-library build finds libpython through a RUNPATH naming the host prefix; inside,
    # without this, the loader would pick the system's libpython of the same version instead.
    env = ()
    if glob.glob(os.path.join(prefix, "lib", "libpython*.so*")):
        env = (("LD_LIBRARY_PATH", f"{PREFIX}/lib"),)
    return Runtime(python, tuple(binds), tuple(hidden), packages, env)


def symlinks() -> list[tuple[str, str]]:
    """(target, link) for the top-level system symlinks (``/bin -> usr/bin`` on merged /usr)."""
    out = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            out.append((os.readlink(d), d))
    return out
