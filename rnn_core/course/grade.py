"""Autograde a folder of submissions: each student's notebooks against that student's package.

Layout: ``SUBMISSIONS/<student>/`` mirrors the release (``notebooks/NN_*.ipynb`` beside the
package folder). For every student, in a process of its own (``jobs`` at a time, default
``os.cpu_count()``):

1. the submission is copied to a private temp folder (symlinks are dropped);
2. each source notebook's locked and test cells are restored by grade_id from the SOURCE, with
   their hidden tests (what nbgrader's OverwriteCells does from its gradebook): an edited test
   is put back, a deleted one re-inserted, changed points reset; the student's answers stay;
3. the notebook runs in a fresh kernel whose first cell seals it off: the student's folder first
   on ``sys.path``, editable installs unhooked, and an audit hook that refuses to open, list or
   copy anything under the instructor's folders (the source packages and notebooks, the
   installed reference package, the other submissions, the results);
4. every cell has a time limit; a cell that runs over is interrupted (the kernel is restarted if
   it does not respond) and a kernel that dies is restarted, the cells before replayed, and the
   notebook graded on from the next cell; such cells score 0 and are reported, never silently;
5. test cells are scored with nbgrader's ``determine_grade`` (an error or stderr output scores 0).

Outputs in RESULTS: ``grades.csv`` (one row per student: status, message, one column per graded
cell, total), ``feedback/<student>.md``, the executed notebooks ``<student>/<notebook>``, and
``<student>/result.json`` (the CSV is rebuilt from these, so regrading one student updates a row).
"""

from __future__ import annotations

import copy
import csv
import json
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import Any

from rnn_core.course.config import CourseConfig, load_config

__all__ = [
    "STATUSES",
    "CellResult",
    "NotebookResult",
    "StudentResult",
    "grade",
    "grade_student",
    "restore_cells",
    "sandbox_code",
    "write_csv",
    "write_feedback",
]

STATUSES = ("ok", "missing", "error", "timeout", "crashed")
"""Student status, from least to most severe; a student gets the worst of their notebooks."""
_SEVERITY = {s: i for i, s in enumerate(STATUSES)}
_TIMEOUT_ENAME = "CellTimeout"
_CRASH_ENAME = "KernelDied"
_MAX_OUTPUT_CHARS = 20_000


@dataclass
class CellResult:
    """The grade of one graded cell (one exercise column)."""

    grade_id: str
    notebook: str
    max_points: float
    points: float | None
    """None: a written answer waiting for manual grading"""
    manual: bool
    outcome: str
    """passed, partial, failed, timeout, crashed, not run, missing, manual, unanswered"""
    message: str = ""


@dataclass
class NotebookResult:
    notebook: str
    status: str
    messages: list[str] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)


@dataclass
class StudentResult:
    """Everything the grader found out about one student."""

    student: str
    status: str
    message: str
    notebooks: list[NotebookResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def cells(self) -> list[CellResult]:
        return [c for nb in self.notebooks for c in nb.cells]

    @property
    def scores(self) -> dict[str, float | None]:
        """grade_id -> points (None: waiting for manual grading)."""
        return {c.grade_id: c.points for c in self.cells}

    @property
    def total(self) -> float:
        """Autograded points."""
        return sum(c.points or 0.0 for c in self.cells if not c.manual)

    @property
    def max_total(self) -> float:
        return sum(c.max_points for c in self.cells if not c.manual)

    @property
    def pending_manual(self) -> float:
        """Points of written answers still to be graded by hand."""
        return sum(c.max_points for c in self.cells if c.manual and c.points is None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudentResult:
        nbs = [
            NotebookResult(
                n["notebook"],
                n["status"],
                list(n["messages"]),
                [CellResult(**c) for c in n["cells"]],
            )
            for n in data["notebooks"]
        ]
        return cls(data["student"], data["status"], data["message"], nbs, data.get("seconds", 0.0))


@dataclass
class _Job:
    student: str
    student_dir: str
    out_dir: str
    notebooks: dict[str, str]
    """notebook path -> autograde version (JSON text)"""
    exercises: list[tuple[str, str, float, bool]]
    """(grade_id, notebook, points, manual)"""
    package_files: list[str]
    python_root: str
    """folder of the submission, relative to it, that goes first on sys.path (".")"""
    packages: list[str]
    forbidden: list[str]
    timeout: float
    max_restarts: int = 3


# ---------------------------------------------------------------------------------------------
# restoring test cells


def _gid(cell: Any) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("grade") or meta.get("solution") or meta.get("locked"):
        return meta.get("grade_id")
    return None


def _without_hidden(cell: Any) -> str:
    """The cell's source as students see it (nbgrader's ClearHiddenTests applied)."""
    from nbgrader.preprocessors import ClearHiddenTests

    shown = copy.deepcopy(cell)
    ClearHiddenTests()._remove_hidden_test_region(shown)
    return shown.source


def restore_cells(student_nb: Any, reference_nb: Any) -> tuple[Any, list[str]]:
    """Return the student's notebook with the reference's locked and test cells put back.

    Parameters
    ----------
    student_nb : the submitted notebook (not modified).
    reference_nb : the autograde version of the source notebook (solutions stubbed, hidden tests
        kept; :func:`rnn_core.course.release.autograde_version`).

    Returns
    -------
    The notebook to run and notes on what was restored. Locked and test cells come from the
    reference whatever the student did to them (edited, deleted, points changed); answer cells
    keep the student's text with the reference's metadata (a deleted answer comes back as the
    stub); cells claiming an unknown or duplicated grade_id lose their nbgrader metadata;
    the student's own extra cells stay where they are.
    """
    nb = copy.deepcopy(student_nb)
    ref_cells = {g: c for c in reference_nb.cells if (g := _gid(c))}
    order = [g for c in reference_nb.cells if (g := _gid(c))]
    notes: list[str] = []
    merged: list[Any] = []
    seen: set[str] = set()
    for cell in nb.cells:
        gid = _gid(cell)
        if gid is None and "nbgrader" in cell.get("metadata", {}):
            del cell.metadata["nbgrader"]  # ungraded nbgrader metadata: nothing to trust
        if gid is None:
            merged.append(cell)
            continue
        if gid not in ref_cells or gid in seen:
            why = "a duplicate of" if gid in seen else "an unknown"
            notes.append(f"ignored {why} graded cell {gid!r} (its nbgrader metadata was dropped)")
            del cell.metadata["nbgrader"]
            merged.append(cell)
            continue
        seen.add(gid)
        ref = ref_cells[gid]
        if ref.metadata["nbgrader"].get("solution"):
            if cell.cell_type != ref.cell_type:
                notes.append(
                    f"answer cell {gid!r} was a {cell.cell_type} cell; made {ref.cell_type}"
                )
                new = copy.deepcopy(ref)
                new.source = cell.source
                cell = new
            cell.metadata["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
            merged.append(cell)
        else:
            if (
                cell.source not in (ref.source, _without_hidden(ref))
                or cell.cell_type != ref.cell_type
            ):
                notes.append(f"restored edited cell {gid!r}")
            elif any(
                cell.metadata.get("nbgrader", {}).get(k) != ref.metadata["nbgrader"].get(k)
                for k in ("grade", "solution", "locked", "points", "task")
            ):
                notes.append(f"restored the metadata of cell {gid!r}")
            merged.append(copy.deepcopy(ref))
    # re-insert deleted cells after the nearest earlier reference cell that is present
    for k, gid in enumerate(order):
        if gid in seen:
            continue
        at = 0
        for prev in reversed(order[:k]):
            idx = next((i for i, c in enumerate(merged) if _gid(c) == prev), None)
            if idx is not None:
                at = idx + 1
                break
        merged.insert(at, copy.deepcopy(ref_cells[gid]))
        seen.add(gid)
        notes.append(f"restored deleted cell {gid!r}")
    nb.cells = merged
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["kernelspec"] = copy.deepcopy(
        reference_nb.metadata.get(
            "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
        )
    )
    return nb, notes


# ---------------------------------------------------------------------------------------------
# the sealed kernel

_SANDBOX = r"""
def __grading_sandbox(root, forbidden, packages):
    import os
    import sys

    def editable(obj):
        return str(getattr(obj, "__module__", "") or "").startswith("__editable__")

    sys.meta_path[:] = [f for f in sys.meta_path if not editable(f)]
    sys.path_hooks[:] = [h for h in sys.path_hooks if not editable(h)]
    sys.path_importer_cache.clear()

    _fspath, _getcwd, _isinstance, _str, _bytes = os.fspath, os.getcwd, isinstance, str, bytes
    _PermissionError, _TypeError = PermissionError, TypeError
    roots = tuple(r.rstrip("/") + "/" for r in forbidden)

    def norm(p):
        try:
            p = _fspath(p)
        except _TypeError:
            return None
        if _isinstance(p, _bytes):
            p = p.decode("utf-8", "surrogateescape")
        if not _isinstance(p, _str):
            return None
        if not p.startswith("/"):
            p = _getcwd() + "/" + p
        parts = []
        for seg in p.split("/"):
            if seg == "" or seg == ".":
                continue
            if seg == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(seg)
        return "/" + "/".join(parts) + "/"

    def blocked(p):
        n = norm(p)
        if n is None:
            return False
        for r in roots:
            if n.startswith(r):
                return True
        return False

    keep = [root]
    for p in sys.path:
        n = norm(p or ".")
        if p == root or blocked(p) or any(r.startswith(n) for r in roots if n):
            continue
        keep.append(p)
    sys.path[:] = keep
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]

    path_events = frozenset({
        "open", "os.listdir", "os.scandir", "os.chdir", "os.symlink", "os.link", "os.rename",
        "shutil.copyfile", "shutil.copytree", "shutil.copymode", "shutil.copystat",
        "shutil.move", "shutil.make_archive",
    })
    spawn_events = frozenset({
        "os.system", "subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "pty.spawn",
    })
    bare_roots = tuple(r.rstrip("/") for r in roots)

    def hook(event, args):
        if event in path_events and args:
            for a in args[:2]:
                if blocked(a):
                    raise _PermissionError(
                        "grading sandbox: " + event + " of " + repr(a)
                        + " refused: the instructor's files are out of reach while grading"
                    )
        elif event in spawn_events:
            text = _str(args)
            for r in bare_roots:
                if r in text:
                    raise _PermissionError(
                        "grading sandbox: " + event + " refused: it names the instructor's files"
                    )

    sys.addaudithook(hook)
    try:  # plain tracebacks: quick to format, and no source lines of other files
        get_ipython().InteractiveTB.set_mode("Plain")  # noqa: F821
    except Exception:
        pass


__grading_sandbox(ROOT, FORBIDDEN, PACKAGES)
del __grading_sandbox
"""


def sandbox_code(root: str, forbidden: Sequence[str], packages: Sequence[str]) -> str:
    """The first cell a grading kernel runs (see the module docstring, step 3)."""
    return _SANDBOX.replace(
        "ROOT, FORBIDDEN, PACKAGES",
        f"{root!r}, {list(forbidden)!r}, {sorted({Path(p).name for p in packages})!r}",
    ).strip()


def _kernel_env(tmp: Path) -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSAFEPATH")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("COV_CORE", "COVERAGE_", "PYTEST_"))
    }
    env.update(
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        MPLBACKEND="Agg",
        IPYTHONDIR=str(tmp / "ipython"),
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        JUPYTER_PLATFORM_DIRS="1",
    )
    return env


def _error_output(ename: str, evalue: str) -> Any:
    from nbformat.v4 import new_output

    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _has_error(cell: Any) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _limit_outputs(cell: Any) -> None:
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and len(o.get("text", "")) > _MAX_OUTPUT_CHARS:
            o["text"] = o["text"][:_MAX_OUTPUT_CHARS] + "\n... [output truncated by the grader]\n"


def _execute(
    nb: Any,
    *,
    cwd: Path,
    setup: str,
    timeout: float,
    env: dict[str, str],
    max_restarts: int,
) -> tuple[list[str], list[str]]:
    """Run the code cells of ``nb`` in place. Returns (outcome per cell, notes).

    Outcomes: ok, error, timeout, crashed, not run, skipped (not code).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError
    from nbformat.v4 import new_code_cell, new_notebook

    cells = list(nb.cells)
    outcome = ["skipped" if c.cell_type != "code" else "not run" for c in cells]
    notes: list[str] = []
    replies: dict[int, dict] = {}

    def on_executed(cell: Any = None, cell_index: int = -1, execute_reply: Any = None, **_: Any):
        replies[cell_index] = execute_reply or {}

    def label(i: int) -> str:
        gid = _gid(cells[i])
        return f"cell {i + 1}" + (f" ({gid})" if gid else "")

    def timed_out(idx: int) -> bool:
        rep = replies.get(idx) or {}
        return rep.get("content", {}).get("ename") == _TIMEOUT_ENAME

    pos, restarts = 0, 0
    while pos < len(cells):
        setup_cell = new_code_cell(setup)
        exec_nb = new_notebook(cells=[setup_cell, *cells], metadata=copy.deepcopy(nb.metadata))
        client = NotebookClient(
            exec_nb,
            kernel_name="python3",
            timeout=max(1, round(timeout)),
            startup_timeout=120,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": _TIMEOUT_ENAME,
                "evalue": f"the cell ran longer than {timeout:g} s",
                "traceback": [],
            },
            record_timing=False,
            iopub_timeout=2,
            shutdown_kernel="immediate",
            on_cell_executed=on_executed,
            resources={"metadata": {"path": str(cwd)}},
        )
        restart = False
        with client.setup_kernel(env=env, cwd=str(cwd)):
            try:
                # setting up and replaying are the grader's work: a generous limit
                client.timeout = max(round(timeout), 60)
                client.execute_cell(setup_cell, 0, store_history=False)
                if _has_error(setup_cell):
                    raise RuntimeError(
                        "the grading sandbox could not be set up: " + _first_error(setup_cell)
                    )
                for j in range(pos):  # replay after a restart: rebuild the state
                    if outcome[j] in ("ok", "error"):
                        client.timeout = max(1, round(timeout))
                        client.execute_cell(copy.deepcopy(cells[j]), j + 1)
                        if timed_out(j + 1):
                            notes.append(f"{label(j)} timed out when replayed after a restart")
                client.timeout = max(1, round(timeout))
                for i in range(pos, len(cells)):
                    pos = i + 1
                    cell = cells[i]
                    if cell.cell_type != "code":
                        continue
                    replies.pop(i + 1, None)
                    try:
                        client.execute_cell(cell, i + 1)
                    except DeadKernelError:
                        outcome[i] = "crashed"
                        cell.outputs.append(
                            _error_output(_CRASH_ENAME, "the kernel died while running this cell")
                        )
                        notes.append(f"kernel died in {label(i)}; restarted, later cells graded")
                        restart = True
                        break
                    _limit_outputs(cell)
                    if timed_out(i + 1):
                        outcome[i] = "timeout"
                        cell.outputs.append(
                            _error_output(
                                _TIMEOUT_ENAME,
                                f"the cell ran longer than {timeout:g} s and was stopped",
                            )
                        )
                        notes.append(f"{label(i)} exceeded the {timeout:g} s limit and was stopped")
                        replies.pop(0, None)
                        if not _responsive(client, timed_out):
                            notes.append(
                                "the kernel did not respond after the interrupt; restarted"
                            )
                            restart = True
                            break
                    else:
                        outcome[i] = "error" if _has_error(cell) else "ok"
            except DeadKernelError:
                # died while replaying earlier cells: give up on the cell being resumed
                notes.append("kernel died while replaying earlier cells after a restart")
                restart = True
        if restart:
            restarts += 1
            if restarts > max_restarts and pos < len(cells):
                notes.append(f"gave up after {max_restarts} kernel restarts; later cells not run")
                break
    return outcome, notes


def _responsive(client: Any, timed_out: Callable[[int], bool]) -> bool:
    """Does the kernel still answer (after an interrupt)? Runs ``pass`` as cell index 0."""
    from nbformat.v4 import new_code_cell

    probe = new_code_cell("pass")
    saved = client.timeout
    client.timeout = min(10, saved)
    try:
        client.execute_cell(probe, 0, store_history=False)
    except Exception:  # noqa: BLE001 - anything here means the kernel is unusable
        return False
    finally:
        client.timeout = saved
    return not timed_out(0) and not _has_error(probe)


def _first_error(cell: Any) -> str:
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            text = f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
            lines = text.splitlines()
            short = "\n".join(lines[:4]) + (" ..." if len(lines) > 4 else "")
            return short[:500]
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            return "wrote to stderr (nbgrader counts that as a failure): " + o["text"].strip()[:300]
    return ""


# ---------------------------------------------------------------------------------------------
# one student


def _score(
    nb: Any, outcome: list[str], exercises: list[tuple[str, str, float, bool]], rel: str
) -> list[CellResult]:
    from nbgrader.utils import determine_grade

    index = {g: i for i, c in enumerate(nb.cells) if (g := _gid(c))}
    results = []
    for gid, _nb, points, manual in exercises:
        i = index.get(gid)
        if i is None:  # cannot happen after restore_cells; kept as a guard
            results.append(CellResult(gid, rel, points, 0.0, manual, "missing", "cell not found"))
            continue
        cell = nb.cells[i]
        if manual:
            got, _ = determine_grade(cell)
            if got is None:
                results.append(CellResult(gid, rel, points, None, True, "manual", "graded by hand"))
            else:
                results.append(CellResult(gid, rel, points, 0.0, True, "unanswered", "no answer"))
            continue
        if outcome[i] in ("timeout", "crashed", "not run"):
            msg = _first_error(cell) if outcome[i] != "not run" else "not run"
            results.append(CellResult(gid, rel, points, 0.0, False, outcome[i], msg))
            continue
        got, maxp = determine_grade(cell)
        got = float(got or 0.0)
        if got >= maxp:
            results.append(CellResult(gid, rel, maxp, got, False, "passed"))
        else:
            kind = "failed" if got == 0 else "partial"
            results.append(CellResult(gid, rel, maxp, got, False, kind, _first_error(cell)))
    return results


def _ignore_links(folder: str, names: list[str]) -> list[str]:
    skip = {"__pycache__", ".ipynb_checkpoints", ".git"}
    return [
        n
        for n in names
        if n in skip or n.endswith((".pyc", ".pyo")) or os.path.islink(os.path.join(folder, n))
    ]


def _find_notebook(work: Path, rel: str) -> Path | None:
    direct = work / rel
    if direct.is_file():
        return direct
    name = Path(rel).name
    found = sorted(p for p in work.rglob(name) if p.is_file())
    return found[0] if found else None


def grade_student(job: _Job) -> StudentResult:
    """Grade one submission folder (runs in its own process when called from :func:`grade`)."""
    import nbformat

    t0 = time.monotonic()
    notes: list[str] = []
    nb_results: list[NotebookResult] = []
    status = "ok"
    if not Path(job.student_dir).is_dir():
        for rel in job.notebooks:
            cells = [
                CellResult(g, rel, p, 0.0, m, "missing", "nothing submitted")
                for g, nb, p, m in job.exercises
                if nb == rel
            ]
            nb_results.append(NotebookResult(rel, "missing", [], cells))
        msg = f"nothing submitted ({Path(job.student_dir).name} not found)"
        return StudentResult(job.student, "missing", msg, nb_results, 0.0)
    tmp = Path(tempfile.mkdtemp(prefix=f"grade-{job.student[:20]}-"))
    try:
        work = tmp / "work"
        shutil.copytree(job.student_dir, work, ignore=_ignore_links)
        root = (work / job.python_root).resolve()
        resolved = str(work.resolve())
        if any((resolved + "/").startswith(f.rstrip("/") + "/") for f in job.forbidden):
            raise RuntimeError(
                f"the temp folder {work} lies inside an instructor folder; set TMPDIR"
            )
        missing = [f for f in job.package_files if not (work / f).is_file()]
        if missing:
            status = "missing"
            notes.append("package file(s) missing: " + ", ".join(missing))
        env = _kernel_env(tmp)
        setup = sandbox_code(str(root), job.forbidden, job.packages)
        graded_dir = Path(job.out_dir) / job.student
        graded_dir.mkdir(parents=True, exist_ok=True)
        for rel, ref_json in job.notebooks.items():
            mine = [e for e in job.exercises if e[1] == rel]
            name = Path(rel).name
            path = _find_notebook(work, rel)
            if path is None:
                cells = [
                    CellResult(g, rel, p, 0.0, m, "missing", "notebook missing")
                    for g, _, p, m in mine
                ]
                nb_results.append(NotebookResult(rel, "missing", [f"{name}: not submitted"], cells))
                continue
            try:
                student_nb = nbformat.read(str(path), as_version=4)
            except Exception as e:  # noqa: BLE001 - any unreadable file: status error
                cells = [
                    CellResult(g, rel, p, 0.0, m, "not run", "unreadable") for g, _, p, m in mine
                ]
                msg = f"{name}: unreadable notebook ({type(e).__name__}: {str(e)[:200]})"
                nb_results.append(NotebookResult(rel, "error", [msg], cells))
                continue
            ref = nbformat.reads(ref_json, as_version=4)
            merged, restored = restore_cells(student_nb, ref)
            try:
                outcome, run_notes = _execute(
                    merged,
                    cwd=path.parent,
                    setup=setup,
                    timeout=job.timeout,
                    env=env,
                    max_restarts=job.max_restarts,
                )
            except Exception as e:  # noqa: BLE001 - kernel would not start, sandbox failed
                cells = [
                    CellResult(g, rel, p, 0.0, m, "not run", str(e)[:300]) for g, _, p, m in mine
                ]
                msg = f"{name}: could not run ({type(e).__name__}: {str(e)[:300]})"
                nb_results.append(NotebookResult(rel, "error", restored + [msg], cells))
                continue
            nbformat.write(merged, str(graded_dir / name))
            nb_status = "ok"
            if "timeout" in outcome:
                nb_status = "timeout"
            if "crashed" in outcome or any(n.startswith("kernel died") for n in run_notes):
                nb_status = "crashed"
            messages = [f"{name}: {n}" for n in restored + run_notes]
            nb_results.append(
                NotebookResult(rel, nb_status, messages, _score(merged, outcome, mine, rel))
            )
        for r in nb_results:
            if _SEVERITY[r.status] > _SEVERITY[status]:
                status = r.status
            notes.extend(r.messages)
    except Exception as e:  # noqa: BLE001 - one student's trouble must not stop the others
        status = "error"
        notes.append(f"grader error: {type(e).__name__}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return StudentResult(job.student, status, "; ".join(notes), nb_results, time.monotonic() - t0)


# ---------------------------------------------------------------------------------------------
# many students


def _child(target: Callable[[Any], Any], job: Any, conn: Any) -> None:
    try:
        result = target(job)
    except BaseException as e:  # noqa: BLE001 - report, never hang the parent
        result = e
    try:
        conn.send(result)
    finally:
        conn.close()


def _run_pool(
    target: Callable[[Any], Any],
    jobs: Sequence[Any],
    processes: int,
    on_lost: Callable[[Any, str], Any],
    on_done: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Run ``target(job)`` for every job, one process per job, ``processes`` at a time.

    A process that dies without answering (killed, segfault, ``os._exit``) gives
    ``on_lost(job, reason)`` instead; the other jobs go on. Results come back in job order.
    """
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        # fork from a clean single-threaded server (forking a threaded parent, e.g. a pytest-xdist
        # worker, can deadlock); the preloads make each child start at once
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(
            ["rnn_core.course.grade", "nbformat", "nbclient", "nbgrader.utils"]
        )
    else:
        ctx = mp.get_context("spawn")
    results: dict[int, Any] = {}
    todo = list(enumerate(jobs))
    running: dict[Any, tuple[int, Any, Any]] = {}  # reader -> (index, process, job)
    try:
        while todo or running:
            while todo and len(running) < max(1, processes):
                k, job = todo.pop(0)
                reader, writer = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(target, job, writer), daemon=False)
                proc.start()
                writer.close()
                running[reader] = (k, proc, job)
            for reader in mp_wait(list(running)):
                k, proc, job = running.pop(reader)
                try:
                    res = reader.recv()
                except (EOFError, OSError):
                    proc.join()
                    res = on_lost(job, f"the grading process died (exit code {proc.exitcode})")
                else:
                    proc.join()
                    if isinstance(res, BaseException):
                        res = on_lost(job, f"grader error: {type(res).__name__}: {res}")
                reader.close()
                results[k] = res
                if on_done is not None:
                    on_done(res)
    finally:
        for _, proc, _ in running.values():
            proc.terminate()
            proc.join()
    return [results[k] for k in range(len(jobs))]


def _forbidden_roots(root: Path, cfg: CourseConfig, subs: Path, out: Path) -> list[str]:
    import importlib.util

    found: set[Path] = {subs, out, Path(__file__).resolve().parents[1]}
    found |= {(root / p).resolve() for p in cfg.packages}
    for rel in cfg.notebook_paths(root):
        parent = (root / rel).parent.resolve()
        found.add(parent if parent != root else (root / rel).resolve())
    for pkg in cfg.packages:
        try:
            spec = importlib.util.find_spec(Path(pkg).name)
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            found.add(Path(loc).resolve())
    return sorted(os.path.realpath(p) for p in found)


def _result_files(out: Path) -> list[Path]:
    return sorted(out.glob("*/result.json"))


def grade(
    submissions: str | Path,
    source: str | Path,
    out: str | Path,
    *,
    config: CourseConfig | None = None,
    timeout: float | None = None,
    jobs: int | None = None,
    students: Sequence[str] | None = None,
    assignment: str | None = None,
    max_restarts: int = 3,
    progress: Callable[[StudentResult], None] | None = None,
) -> list[StudentResult]:
    """Grade every student folder in ``submissions``; write ``out/grades.csv`` and feedback.

    Parameters
    ----------
    submissions : folder with one subfolder per student (laid out like the release).
    source : the course source (notebooks with solutions and hidden tests).
    out : results folder (created); must not be inside ``submissions``.
    config : course layout; default ``load_config(source)``.
    timeout : per-cell limit in seconds; default ``config.timeout``.
    jobs : students graded at once; default ``os.cpu_count()``.
    students : grade only these (the CSV keeps earlier rows of the others).
    assignment : nbgrader layout: each student's files are in ``<student>/<assignment>/``
        (what ``nbgrader collect`` writes to ``submitted/``).
    max_restarts : kernel restarts allowed per notebook before the rest is given up.
    progress : called with each student's result as it completes.

    Returns
    -------
    The results of the students graded in this call, sorted by name.
    """
    import nbformat

    from rnn_core.course.release import (
        _package_files,
        autograde_version,
        list_exercises,
        read_notebook,
    )

    root = Path(source).resolve()
    subs = Path(submissions).resolve()
    dest = Path(out).resolve()
    cfg = config or load_config(root)
    limit = float(timeout if timeout is not None else cfg.timeout)
    if not limit >= 1:
        raise ValueError(f"grade: timeout must be at least 1 second (whole seconds), got {limit!r}")
    if not subs.is_dir():
        raise FileNotFoundError(f"grade: submissions folder {subs} does not exist")
    if dest == subs or subs in dest.parents:
        raise ValueError(f"grade: out {dest} must not be inside the submissions folder {subs}")
    exercises = list_exercises(root, cfg)
    notebooks = {
        rel.as_posix(): nbformat.writes(
            autograde_version(read_notebook(root / rel, str(rel)), str(rel))
        )
        for rel in cfg.notebook_paths(root)
    }
    pkg_py = [rel.as_posix() for rel in _package_files(root, cfg) if rel.suffix == ".py"]
    names = sorted(d.name for d in subs.iterdir() if d.is_dir() and not d.name.startswith("."))
    if students is not None:
        unknown = sorted(set(students) - set(names))
        if unknown:
            raise FileNotFoundError(
                f"grade: no submission folder for {', '.join(unknown)} in {subs}"
            )
        names = [n for n in names if n in set(students)]
    dest.mkdir(parents=True, exist_ok=True)
    if students is None:  # a full run: forget students whose folder is gone
        for stale in _result_files(dest):
            if stale.parent.name not in names:
                stale.unlink()
    forbidden = _forbidden_roots(root, cfg, subs, dest)
    todo = [
        _Job(
            student=name,
            student_dir=str(subs / name / assignment if assignment else subs / name),
            out_dir=str(dest),
            notebooks=notebooks,
            exercises=[(e.grade_id, e.notebook, e.points, e.manual) for e in exercises],
            package_files=pkg_py,
            python_root=".",
            packages=list(cfg.packages),
            forbidden=forbidden,
            timeout=limit,
            max_restarts=max_restarts,
        )
        for name in names
    ]

    def lost(job: _Job, reason: str) -> StudentResult:
        return StudentResult(job.student, "crashed", reason, [])

    def done(res: StudentResult) -> None:
        folder = dest / res.student
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.json").write_text(json.dumps(res.to_json(), indent=1), encoding="utf-8")
        if progress is not None:
            progress(res)

    results = _run_pool(grade_student, todo, jobs or os.cpu_count() or 1, lost, done)
    everyone = [StudentResult.from_json(json.loads(p.read_text())) for p in _result_files(dest)]
    write_csv(dest / "grades.csv", everyone, exercises)
    write_feedback(dest / "feedback", everyone)
    return sorted(results, key=lambda r: r.student)


# ---------------------------------------------------------------------------------------------
# reports


def _fmt(p: float | None) -> str:
    return "" if p is None else f"{p:g}"


def write_csv(path: Path, results: Sequence[StudentResult], exercises: Sequence[Any]) -> None:
    """One row per student: student, status, message, one column per graded cell, totals.

    A written answer's column is empty until graded by hand (0 if left unanswered);
    ``total`` / ``max`` count autograded points only, ``manual_pending`` the points to grade.
    """
    cols = [e.grade_id for e in exercises]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "status", "message", *cols, "total", "max", "manual_pending"])
        for r in sorted(results, key=lambda r: r.student):
            scores = r.scores
            w.writerow(
                [
                    r.student,
                    r.status,
                    r.message,
                    *[_fmt(scores.get(c, 0.0)) if r.notebooks else "0" for c in cols],
                    _fmt(r.total),
                    _fmt(
                        r.max_total
                        if r.notebooks
                        else sum(e.points for e in exercises if not e.manual)
                    ),
                    _fmt(r.pending_manual),
                ]
            )


def _md(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def write_feedback(folder: Path, results: Sequence[StudentResult]) -> None:
    """``folder/<student>.md``: status, score, and per exercise the points and why."""
    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        lines = [f"# Feedback: {r.student}", ""]
        lines.append(f"**Status:** {r.status}" + (f" ({_md(r.message)})" if r.message else ""))
        lines.append("")
        lines.append(f"**Autograded score:** {r.total:g} / {r.max_total:g}")
        if r.pending_manual:
            lines.append(
                f"(plus up to {r.pending_manual:g} points for written answers, graded by hand)"
            )
        for nb in r.notebooks:
            lines += [
                "",
                f"## {nb.notebook} ({nb.status})",
                "",
                "| exercise | points | result |",
                "|---|---|---|",
            ]
            for c in nb.cells:
                pts = "pending" if c.points is None else f"{c.points:g}"
                why = c.outcome + (f": {_md(c.message)}" if c.message else "")
                lines.append(f"| {c.grade_id} | {pts} / {c.max_points:g} | {why} |")
        (folder / f"{r.student}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
