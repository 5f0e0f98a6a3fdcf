"""Check your work and hand it in: ``make check`` and ``make submit STUDENT=<name>``.

Run from the course folder (the one holding the notebooks and ``rnn_core/``)::

    python -m rnn_core.submit --check               # run every notebook, report the self-checks
    python -m rnn_core.submit --student ada_l       # the same, then write ada_l.zip

What it does, in this order:

1. **Saved?** What can be seen from outside the browser: a notebook that is open in a running
   Jupyter server on this machine (its tab may hold unsaved changes: press Ctrl+S there), a
   checkpoint in ``.ipynb_checkpoints`` that is newer than the notebook and differs from it (the
   saved file was replaced by an older one), editor swap and backup files next to your code.
   What cannot be seen: unsaved edits in a browser tab of a server this command cannot reach
   (another machine, a server started with a password), and edits typed into a cell but never
   saved. Save every notebook (Ctrl+S) before you hand in.
2. **Runs?** Each notebook runs top to bottom in a fresh kernel, with a time limit per cell
   (``--timeout``); it reports each notebook's first error and every self-check cell that fails.
3. **Stubbed?** Lists the exercises still raising ``NotImplementedError("Exercise ...")`` in
   ``rnn_core`` and the answer cells still holding their placeholder.
4. **Zip** (``--student`` only): writes ``<student>.zip`` with the notebooks and ``rnn_core/``
   (the release's layout), with the folder's README.md, Makefile, environment.yml and
   pyproject.toml, and lists what it holds. Hand in that file.

Failures do not stop the hand-in: a half-done exercise is still worth handing in.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "NotebookRun",
    "Stub",
    "find_notebooks",
    "open_in_jupyter",
    "unsaved_warnings",
    "find_stubs",
    "run_notebook",
    "handin_files",
    "write_zip",
    "main",
]

PACKAGE = "rnn_core"
EXTRA_FILES = ("README.md", "Makefile", "environment.yml", "pyproject.toml")
"""top-level files of the release that go into the zip with the notebooks and the package"""
_SKIP_PARTS = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache", ".venv")
_STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CODE_STUB = re.compile(
    r"""raise NotImplementedError\(\s*["']Exercise ([^:"']+)(?:[^"']*?notebook (\d\d))?"""
)
_ANSWER_STUB = "YOUR ANSWER HERE"


def find_notebooks(root: Path) -> list[Path]:
    """The course notebooks: every ``*.ipynb`` at the top level of ``root``, sorted."""
    return sorted(p for p in Path(root).glob("*.ipynb") if p.is_file())


# ----------------------------------------------------------------------------- saved?


def open_in_jupyter(root: Path) -> tuple[set[Path], str | None]:
    """Notebooks under ``root`` that a running Jupyter server on this machine has open (a kernel
    session), and a note when the servers could not be asked. Uses the servers' own connection
    files (``jupyter --runtime-dir``) and their REST API on localhost."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return set(), "jupyter_core is not installed: open notebooks not checked"
    import urllib.request

    root = Path(root).resolve()
    found: set[Path] = set()
    for info_file in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(info_file.read_text())
            url = info["url"].rstrip("/") + "/api/sessions"
            req = urllib.request.Request(url, headers={"Authorization": f"token {info['token']}"})
            with urllib.request.urlopen(req, timeout=2) as resp:  # noqa: S310 - localhost server
                sessions = json.load(resp)
            server_root = Path(info.get("root_dir") or info.get("notebook_dir") or "/")
        except (OSError, ValueError, KeyError):
            continue  # a stale file of a server that is gone, or one we may not ask
        for s in sessions:
            path = (server_root / s.get("path", "")).resolve()
            if path.suffix == ".ipynb" and path.parent == root:
                found.add(path)
    return found, None


def unsaved_warnings(root: Path, notebooks: Iterable[Path]) -> list[str]:
    """One line per sign of unsaved or lost work that can be seen from here (see the module
    docstring for what cannot)."""
    root = Path(root)
    out: list[str] = []
    opened, note = open_in_jupyter(root)
    if note:
        out.append(note)
    for nb in notebooks:
        if nb.resolve() in opened:
            out.append(
                f"{nb.name} is open in Jupyter: press Ctrl+S in its tab before handing in "
                "(unsaved changes in a tab cannot be seen from here)"
            )
        ckpt = nb.parent / ".ipynb_checkpoints" / f"{nb.stem}-checkpoint.ipynb"
        if (
            ckpt.is_file()
            and ckpt.stat().st_mtime > nb.stat().st_mtime + 1
            and ckpt.read_bytes() != nb.read_bytes()
        ):
            out.append(
                f"{nb.name}: its checkpoint (.ipynb_checkpoints) is newer than the file and "
                "differs: the saved file was replaced by an older one; open it and check"
            )
    pkg = root / PACKAGE
    for p in sorted(pkg.rglob("*")) if pkg.is_dir() else []:
        if p.name.endswith((".swp", ".swo", "~")) or p.name.startswith(".#"):
            out.append(
                f"{p.relative_to(root)}: an editor still has a file open (save and close it)"
            )
    return out


# ----------------------------------------------------------------------------- stubbed?


@dataclass(frozen=True)
class Stub:
    """An exercise that still holds the release's placeholder."""

    where: str
    """file (``rnn_core/rnn.py``) or ``notebook, cell N``"""
    name: str
    """exercise or grade id"""
    notebook: str = ""
    """number of the notebook a package exercise belongs to, 00 to 09 (from its message); empty
    for a notebook cell"""


def cell_place(cells: Sequence[Any], i: int) -> str:
    """Where cell ``i`` of a notebook is, as a student finds it in JupyterLab (which numbers no
    cells): ``cell 9, under "2. One step"`` (counted from 1, text cells included; the heading is
    the nearest one above it)."""
    for cell in reversed(cells[:i]):
        if cell.get("cell_type") != "markdown":
            continue
        src = cell.get("source", "")
        src = src if isinstance(src, str) else "".join(src)
        heads = [ln.lstrip("#").strip() for ln in src.splitlines() if ln.startswith("#")]
        if heads and heads[-1]:
            head = heads[-1] if len(heads[-1]) <= 60 else heads[-1][:57] + "..."
            return f'cell {i + 1}, under "{head}"'
    return f"cell {i + 1}"


def find_stubs(root: Path, notebooks: Iterable[Path]) -> list[Stub]:
    """Exercises still raising the release's ``NotImplementedError("Exercise ...")`` in the
    package, answer cells still holding it, written answers still saying "YOUR ANSWER HERE"."""
    root = Path(root)
    stubs: list[Stub] = []
    pkg = root / PACKAGE
    for p in sorted(pkg.rglob("*.py")) if pkg.is_dir() else []:
        if any(part in _SKIP_PARTS for part in p.parts):
            continue
        for m in _CODE_STUB.finditer(p.read_text(encoding="utf-8", errors="replace")):
            stubs.append(Stub(p.relative_to(root).as_posix(), m.group(1).strip(),
                              m.group(2) or ""))
    for nb_path in notebooks:
        try:
            cells = json.loads(nb_path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue  # run_notebook reports an unreadable notebook
        for i, cell in enumerate(cells):
            src = cell.get("source", "")
            src = src if isinstance(src, str) else "".join(src)
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id", f"cell {i + 1}")
            if cell.get("cell_type") == "code":
                for m in _CODE_STUB.finditer(src):
                    stubs.append(Stub(f"{nb_path.name}, {cell_place(cells, i)}",
                                      m.group(1).strip()))
            elif meta.get("solution") and _ANSWER_STUB in src:
                stubs.append(Stub(f"{nb_path.name}, {cell_place(cells, i)}", gid))
    return stubs


# ----------------------------------------------------------------------------- runs?


@dataclass
class NotebookRun:
    """The outcome of running one notebook in a fresh kernel."""

    name: str
    seconds: float = 0.0
    error: str | None = None
    """the first error: ``cell N: ExceptionType: first line``, or the reason it could not run"""
    checks_passed: list[str] = field(default_factory=list)
    """self-check cells (grade ids) that ran without error"""
    checks_failed: dict[str, str] = field(default_factory=dict)
    """self-check grade id -> ``ExceptionType: first line``"""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.checks_failed


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]


def _this_python_kernel() -> type:
    """A kernel manager that always starts this interpreter's ipykernel: the notebooks' kernel
    name ``python3`` could otherwise resolve to a user-wide kernelspec of another environment
    (``ipykernel install --user`` elsewhere), without this course's packages."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisPythonSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    class ThisPythonKernel(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return ThisPythonSpecs(data_dir=self.data_dir)

    return ThisPythonKernel


def run_notebook(path: Path, timeout: float = 300.0) -> NotebookRun:
    """Run ``path`` top to bottom in a fresh kernel (working folder: the notebook's folder),
    every cell even after an error, without writing the file. ``timeout`` is per cell, seconds.
    The kernel is this interpreter's (the course's environment), whatever kernelspecs exist.

    The kernel gets one BLAS thread and the inline plotting backend: a headless run shows no
    widgets and should not wait for a frontend.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    run = NotebookRun(path.name)
    start = time.perf_counter()
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # noqa: BLE001 - any unreadable notebook gets the same report
        run.error = f"not a readable notebook ({type(e).__name__}: {_first_line(str(e))})"
        return run
    threads = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env = dict(os.environ, RNN_PLOTS="inline", **threads)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        kernel_manager_class=_this_python_kernel(),
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    try:
        # The kernel process's own stderr holds only its start-up notices (ipykernel warns about
        # unencrypted local TCP); what cells print reaches the notebook, crashes raise below.
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except CellTimeoutError:
        run.error = f"a cell ran longer than the limit of {timeout:g} s"
    except DeadKernelError as e:
        run.error = f"the kernel died ({_first_line(str(e))})"
    except Exception as e:  # noqa: BLE001 - a kernel that cannot start is a result too
        run.error = f"could not run: {type(e).__name__}: {_first_line(str(e))}"
    run.seconds = time.perf_counter() - start
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        is_check = bool(meta.get("grade")) and not meta.get("solution")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        msg = f"{errors[0]['ename']}: {_first_line(errors[0]['evalue'])}" if errors else None
        if msg and run.error is None:
            run.error = f"{cell_place(nb.cells, i)}: {msg}"
        if is_check and cell.get("execution_count") is not None:
            gid = meta.get("grade_id", f"cell {i + 1}")
            if msg:
                run.checks_failed[gid] = msg
            else:
                run.checks_passed.append(gid)
    return run


# ----------------------------------------------------------------------------- zip


def handin_files(root: Path) -> list[Path]:
    """What goes into the hand-in, relative to ``root``: the top-level notebooks, every file of
    ``rnn_core/`` but caches, and the release's top-level files."""
    root = Path(root)
    files = [p.relative_to(root) for p in find_notebooks(root)]
    files += [Path(n) for n in EXTRA_FILES if (root / n).is_file()]
    pkg = root / PACKAGE
    if not pkg.is_dir():
        raise FileNotFoundError(
            f"submit: no {PACKAGE}/ folder in {root}; run this in the course folder"
        )
    for p in sorted(pkg.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not p.is_symlink() and not any(x in _SKIP_PARTS for x in rel.parts):
            if p.suffix not in (".pyc", ".pyo"):
                files.append(rel)
    return files


def write_zip(root: Path, files: Sequence[Path], out: Path) -> Path:
    """Write ``files`` (relative to ``root``) into the zip ``out``, under the same paths, in the
    given order. Used for hand-ins and for the release's own zip."""
    root, out = Path(root), Path(out)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for rel in files:
            z.write(root / rel, Path(rel).as_posix())
    tmp.replace(out)
    return out


# ----------------------------------------------------------------------------- command line


def _report(runs: list[NotebookRun], stubs: list[Stub], warnings: list[str]) -> bool:
    """Print the check; True when every notebook ran and every self-check passed."""
    print("\nNotebooks (each in a fresh kernel):")
    for r in runs:
        n_ok, n_bad = len(r.checks_passed), len(r.checks_failed)
        status = "ok" if r.ok else "FAILS"
        checks = f"self-checks {n_ok}/{n_ok + n_bad} pass" if n_ok + n_bad else "no self-checks"
        print(f"  {r.name:<32} {status:<6} {checks}  ({r.seconds:.0f} s)")
        if r.error:
            print(f"      first error: {r.error}")
        for gid, msg in r.checks_failed.items():
            print(f"      self-check {gid}: {msg}")
    if stubs:
        print(f"\nExercises still to do ({len(stubs)}), in course order:")
        for s in sorted(stubs, key=lambda s: s.notebook or s.where):
            print(f"  {s.name:<28} {s.where}")
    else:
        print("\nNo exercise is still stubbed.")
    if warnings:
        print("\nCheck before you hand in:")
        for w in warnings:
            print(f"  {w}")
    return all(r.ok for r in runs) and not stubs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnn_core.submit",
        description="Run every notebook and its self-checks; with --student, write the zip.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--student", help="your name or id (letters, digits, . _ -): names the zip")
    mode.add_argument("--check", action="store_true", help="only run the checks, write nothing")
    parser.add_argument("--folder", default=".", help="course folder (default: here)")
    parser.add_argument("--out", help="zip to write (default: FOLDER/<student>.zip)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per cell (300)")
    args = parser.parse_args(argv)
    root = Path(args.folder)
    if args.student is not None and not _STUDENT.match(args.student):
        print(
            f"submit: --student must be 1-64 letters, digits, '.', '_' or '-' (starting with a "
            f"letter or digit), got {args.student!r}",
            file=sys.stderr,
        )
        return 2
    if not args.timeout > 0:
        print(f"submit: --timeout must be > 0 seconds, got {args.timeout!r}", file=sys.stderr)
        return 2
    notebooks = find_notebooks(root)
    if not notebooks or not (root / PACKAGE).is_dir():
        print(
            f"submit: {root.resolve()} has no notebooks or no {PACKAGE}/ folder: "
            "run this in the course folder",
            file=sys.stderr,
        )
        return 2
    warnings = unsaved_warnings(root, notebooks)
    runs = []
    for nb in notebooks:
        print(f"running {nb.name} ...", flush=True)
        runs.append(run_notebook(nb, timeout=args.timeout))
    all_ok = _report(runs, find_stubs(root, notebooks), warnings)
    if args.check:
        return 0 if all_ok else 1
    out = Path(args.out) if args.out else root / f"{args.student}.zip"
    files = handin_files(root)
    write_zip(root, files, out)
    with zipfile.ZipFile(out) as z:
        infos = z.infolist()
    size = sum(i.file_size for i in infos)
    print(f"\nWrote {out} ({len(infos)} files, {size / 1e6:.1f} MB unpacked):")
    for i in infos:
        print(f"  {i.filename:<48} {i.file_size:>9,d} bytes")
    print(f"Hand in {out.name}" + ("" if all_ok else " (it holds the failures and unfinished "
                                     "exercises listed before the file list)") + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
