"""Stages 3 and 4: run the harness, on a submission in the sandbox and on the source outside.

Both run the same ``harness.py`` with the same spec file, from a private tools folder that holds
only those two files (so nothing else of the grader is visible in a sandbox). The student's side
runs in sandboxed processes of its own, per exercise one for the public cases and one for the
hidden cases (``grade.run_exercise``), each given an inputs file of its own cases only
(``cases.write_run_inputs``) and its own out folder: a crash, timeout or limit costs that
exercise only. The reference runs in a trusted child of the grader on the course source given by
``--source`` (never whatever ``rnn_core`` the grader itself imports).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnn_core.course import harness
from rnn_core.course.score import read_case

__all__ = ["Run", "expected_outputs", "make_tools", "produce", "reference"]

_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class Run:
    """How one exercise's harness run ended (the sandbox's Outcome, or the reference's)."""

    status: str  # ok, exit, timeout, memory, pids, output, error
    message: str
    seconds: float


def make_tools(spec_file: Path, tools: Path) -> Path:
    """Copy the harness and the spec (a file, or a package folder's ``.py`` files) into
    ``tools`` (read-only in every sandbox)."""
    tools.mkdir(mode=0o755, parents=True, exist_ok=True)
    spec_file = Path(spec_file)
    files = [(Path(harness.__file__), tools / "harness.py")]
    if spec_file.is_dir():
        (tools / "exercises").mkdir(mode=0o755)
        files += [(f, tools / "exercises" / f.name) for f in sorted(spec_file.glob("*.py"))]
    else:
        files.append((spec_file, tools / "exercises.py"))
    for src, dest in files:
        shutil.copyfile(src, dest)
        dest.chmod(0o644)  # the sandbox user reads them (the parent stays private)
    return tools


def _spec_name(tools: Path) -> str:
    return "exercises" if (tools / "exercises").is_dir() else "exercises.py"


def _argv(python: str, tools: Path, spec: str, gid: str, root: Path, inputs: Path,
          out: Path) -> list[str]:
    return [python, "-I", "-B", str(tools / "harness.py"), "--spec", str(tools / spec),
            "--exercise", gid, "--root", str(root), "--inputs", str(inputs), "--out", str(out)]


def produce(sandbox: Any, tools: Path, work: Path, inputs: Path, gid: str, out: Path) -> Run:
    """The student's outputs for the cases in ``inputs`` (one run: an exercise's public or its
    hidden cases), written by the sandboxed harness into ``out``.

    Inside, the tools are ``/grader``, the inputs ``/inputs/<file>``, the working copy
    ``/submission`` (all read-only) and ``out`` is ``/out``, the only writable place.
    """
    out.mkdir(parents=True)
    inside = Path("/inputs") / inputs.name
    argv = _argv(sandbox.python, Path("/grader"), _spec_name(tools), gid, Path("/submission"),
                 inside, Path("/out"))
    o = sandbox.run(argv, ro={str(tools): "/grader", str(work): "/submission",
                              str(inputs): str(inside)},
                    rw={str(out): "/out"}, cwd="/out", env=dict(_ENV))
    return Run(o.status, o.message or "", float(o.seconds))


def reference(tools: Path, source: Path, inputs: Path, gid: str, out: Path,
              timeout: float) -> None:
    """The course source's outputs for one exercise (trusted: a failure is a course error)."""
    out.mkdir(parents=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")} | _ENV
    r = subprocess.run(_argv(sys.executable, tools, _spec_name(tools), gid, source, inputs, out),
                       env=env,
                       capture_output=True, text=True, timeout=timeout, cwd=out)
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"grade: the reference run of {gid} failed: {tail}")


def expected_outputs(ex: Any, cases: list, tools: Path, root: Path, inputs: Path, tmp: Path,
                     timeout: float) -> list[dict] | str:
    """Expected outputs per case, kept in memory only; a failing source gives the reason."""
    out = tmp / "reference" / ex.grade_id
    try:
        reference(tools, root, inputs, ex.grade_id, out, timeout)
        want = []
        for i, case in enumerate(cases):
            status, values, _ = read_case(out, i)
            if values is None:
                return f"the course source fails {case.name}: {status}"
            want.append(values)
        return want
    finally:
        shutil.rmtree(out, ignore_errors=True)
