"""Stage 2, cases: the exercise specs of a course and the input cases drawn for them.

Public cases come from a fixed seed per grade id (students can reproduce them); hidden cases from
the instructor's secret, which never enters the repository: ``--secret``, else the environment
variable ``RNN_COURSE_SECRET``, else ``<results>/secret.txt`` (created on first use, mode 600).
Inputs are written as ``.npz`` (``case<i>.<name>``) for the harness; expected values never are.
A sandbox is only ever given the inputs its student may learn: an exercise's public and hidden
cases are run in two sandboxes, each from a file of its own cases (``write_run_inputs``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn_core.course.harness import CASE_KEY, load_spec

__all__ = ["RUNS", "Case", "Exercise", "load_exercises", "read_secret", "draw_cases",
           "run_cases", "write_inputs", "write_run_inputs"]

SECRET_ENV = "RNN_COURSE_SECRET"
_SPEC_KEYS = {"calls", "driver", "public", "hidden", "tol"}
RUNS = ("public", "hidden")
"""an exercise's sandboxed runs, in the order they run: each sees only its own cases' inputs"""


@dataclass(frozen=True)
class Case:
    """One input case: ``label`` is shown to students, ``inputs`` only to the harness."""

    label: str
    hidden: bool
    inputs: dict[str, np.ndarray]

    @property
    def name(self) -> str:
        return f"{self.run} case ({self.label})"

    @property
    def run(self) -> str:
        """The sandboxed run (``RUNS``) that produces this case's outputs."""
        return "hidden" if self.hidden else "public"


@dataclass(frozen=True)
class Exercise:
    """An autograded grade id: points from its notebook's test cell, the rest from the spec.

    The one type the grader passes around for an exercise (``grade.py``'s stages take it, never
    its fields as a tuple); a notebook's graded cells are :class:`release.GradedCell`."""

    grade_id: str
    notebook: str
    points: float
    calls: tuple[str, ...]
    tol: float
    public: Callable[[Any], list]
    hidden: Callable[[Any], list]


def load_exercises(spec_file: Path, graded: list[Any]) -> list[Exercise]:
    """Pair every autograded cell of the notebooks (``list_exercises``) with its spec.

    A test cell without a spec, or a spec without a test cell, is a course error: a grade id
    that nobody can score would be a silent zero for every student.
    """
    specs = load_spec(str(spec_file))
    auto = [e for e in graded if not e.manual]
    missing = sorted({e.grade_id for e in auto} - set(specs))
    extra = sorted(set(specs) - {e.grade_id for e in auto})
    if missing or extra:
        raise ValueError(
            f"exercise specs {spec_file}: no spec for {', '.join(missing) or '-'}; "
            f"spec without a test cell: {', '.join(extra) or '-'}"
        )
    out = []
    for e in auto:
        s = specs[e.grade_id]
        if set(s) != _SPEC_KEYS or not all(":" in c for c in s["calls"]):
            raise ValueError(
                f"exercise specs {spec_file}: {e.grade_id} needs keys {sorted(_SPEC_KEYS)} and "
                f"calls as 'module:function', got {sorted(s)}"
            )
        out.append(Exercise(e.grade_id, e.notebook, e.points, tuple(s["calls"]),
                            float(s["tol"]), s["public"], s["hidden"]))
    return out


def read_secret(secret: str | None, out: Path) -> str:
    """The hidden cases' secret: the argument, ``$RNN_COURSE_SECRET``, or ``out/secret.txt``."""
    if secret:
        return secret
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = out / "secret.txt"
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16) + "\n")
    return path.read_text(encoding="utf-8").strip()


def _rng(*parts: str) -> np.random.Generator:
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return np.random.default_rng(list(np.frombuffer(digest, dtype=np.uint32)))


def draw_cases(ex: Exercise, secret: str) -> list[Case]:
    """Public cases (seed from the grade id) then hidden cases (seed from secret and grade id)."""
    cases = [Case(lab, False, inp) for lab, inp in ex.public(_rng("public", ex.grade_id))]
    cases += [Case(lab, True, inp) for lab, inp in ex.hidden(_rng("hidden", secret, ex.grade_id))]
    return cases


def write_inputs(path: Path, cases: list[Case]) -> None:
    """All of an exercise's cases in one ``.npz`` (plain arrays: no pickles)."""
    arrays = {}
    for i, case in enumerate(cases):
        for name, value in case.inputs.items():
            a = np.asarray(value)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"write_inputs: case {case.label!r} input {name} is {a.dtype}")
            arrays[CASE_KEY.format(i) + name] = a
    np.savez(path, **arrays)
    path.chmod(0o644)  # read by the sandbox user


def run_cases(cases: list[Case]) -> dict[str, list[int]]:
    """``{run: [index in cases, ...]}`` for the runs that have cases, in ``RUNS`` order: a run's
    harness numbers its cases 0, 1, ... in this order."""
    runs = {run: [i for i, c in enumerate(cases) if c.run == run] for run in RUNS}
    return {run: idx for run, idx in runs.items() if idx}


def write_run_inputs(folder: Path, grade_id: str, cases: list[Case]) -> dict[str, Path]:
    """One inputs file per run, ``<grade_id>.<run>.npz``, holding that run's cases only (the
    hidden cases' inputs never go where a public case's message could print them)."""
    paths = {}
    for run, idx in run_cases(cases).items():
        paths[run] = folder / f"{grade_id}.{run}.npz"
        write_inputs(paths[run], [cases[i] for i in idx])
    return paths
