"""Stage 6, report: results, written by the grader's process only, into the results folder.

``<student>/result.json`` (for instructors: also the written answers' text) is what a grading run
produces. :func:`publish` builds everything else from those files and the written-answer store
(``written.csv``, see ``written.py``): ``grades.csv`` (one row per student, so regrading one
student updates one row and never loses a score typed by hand) and the student feedback in the
layout nbgrader's exchange delivers: ``feedback/<student>/<assignment>/<notebook>.html`` plus
``index.html``, holding points and messages only (messages never carry expected values or hidden
inputs: see ``score.py``).
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath

__all__ = ["RESULTS_OWN", "STATUSES", "ExerciseResult", "StudentResult", "csv_text", "publish",
           "write_csv", "write_feedback", "write_result", "read_results"]

RESULTS_OWN = ("grades.csv", "canvas.csv", "written.csv", "written", "feedback", "secret.txt",
               "shard.json")
"""What the results folder holds beside one folder per student: a student of one of these names
would be written over them (or they over the student), so such a submission is not graded."""

STATUSES = ("ok", "missing", "error", "timeout", "output", "pids", "memory", "crashed")
"""Student status, least to most severe; a student gets the worst of their exercises' runs."""


@dataclass
class ExerciseResult:
    grade_id: str
    notebook: str
    max_points: float
    points: float | None
    """None for a written answer: graded by hand"""
    status: str
    """passed, failed, or how the run ended (error, timeout, memory, pids, output, crashed)"""
    message: str = ""


@dataclass
class StudentResult:
    student: str
    status: str
    message: str
    sandbox: str
    exercises: list[ExerciseResult] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    assignment: str = "course"
    version: str = ""
    """the grader's version (``rnn_core.__version__``)"""
    arrival: str = ""
    """when the submission arrived (ISO time) and where that time was read, or ''"""
    late: int | None = None
    """minutes after the deadline (0 on time); None without a deadline or an arrival time"""
    penalty: float = 0.0
    """percent of the points taken off for lateness (course.toml's late_penalty)"""
    exchange: dict[str, str] = field(default_factory=dict)
    """nbgrader's ``timestamp.txt`` and ``submission_secret.txt`` of a collected submission:
    copied beside the feedback, where ``nbgrader release_feedback`` needs them to route it (never
    used as the arrival time)"""

    @property
    def total(self) -> float:
        return sum(e.points or 0.0 for e in self.exercises if e.status != "manual")

    @property
    def max_total(self) -> float:
        return sum(e.max_points for e in self.exercises if e.status != "manual")

    @property
    def pending_manual(self) -> float:
        return sum(e.max_points for e in self.exercises
                   if e.status == "manual" and e.points is None)

    @classmethod
    def from_json(cls, d: dict) -> StudentResult:
        ex = [ExerciseResult(**e) for e in d.pop("exercises")]
        return cls(**d, exercises=ex)


def worst(statuses: Sequence[str]) -> str:
    known = [s for s in statuses if s in STATUSES]
    return max(known, key=STATUSES.index) if known else "ok"


def write_result(out: Path, r: StudentResult) -> None:
    folder = out / r.student
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(asdict(r), indent=1), encoding="utf-8")


def read_results(out: Path) -> list[StudentResult]:
    return [StudentResult.from_json(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(out.glob("*/result.json"))]


def _fmt(p: float | None) -> str:
    return "" if p is None else f"{p:g}"


def with_written(r: StudentResult, scores: dict) -> StudentResult:
    """A copy of ``r`` whose written answers carry the scores recorded by hand."""
    exercises = []
    for e in r.exercises:
        s = scores.get((r.student, r.assignment, e.grade_id))
        if e.status == "manual" and s is not None:
            e = replace(e, points=s.points, message=s.comment or "graded by hand")
        exercises.append(e)
    return replace(r, exercises=exercises)


def points(r: StudentResult) -> tuple[float, float]:
    """(total, max) over every exercise, written answers included; lateness penalty applied."""
    got = sum(e.points or 0.0 for e in r.exercises)
    return round(got * (1 - r.penalty / 100), 6), sum(e.max_points for e in r.exercises)


CSV_TAIL = ["total", "max", "manual_pending", "late", "penalty", "sandbox"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell as a spreadsheet shows it, never as a formula: a leading ``=``, ``+``, ``-``,
    ``@``, tab or carriage return gets a ``'`` before it (what a submission's file names, the
    messages quoting them and a student's folder name could otherwise start with, e.g.
    ``=HYPERLINK(...)`` sending the sheet's other cells to a web address when opened)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(path: Path, results: Sequence[StudentResult], grade_ids: Sequence[str]) -> None:
    """student, status, message, one column per grade id, then :data:`CSV_TAIL`.

    A written answer's column is empty until graded by hand (0 if left unanswered); ``total``
    and ``max`` count every exercise, written answers included, ``total`` after the lateness
    penalty; ``late`` is in minutes (empty without a deadline or an arrival time), ``penalty``
    in percent.
    """
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "status", "message", *grade_ids, *CSV_TAIL])
        for r in sorted(results, key=lambda r: r.student):
            by_id = {e.grade_id: e for e in r.exercises}
            cols = [_fmt(by_id[g].points) if g in by_id else "0" for g in grade_ids]
            total, top = points(r)
            late = "" if r.late is None else str(r.late)
            w.writerow([csv_text(r.student), r.status, csv_text(r.message), *cols,
                        _fmt(total), _fmt(top),
                        _fmt(r.pending_manual), late, _fmt(r.penalty), r.sandbox])


def publish(out: Path) -> list[StudentResult]:
    """Rebuild ``grades.csv`` and every student's feedback from result.json and written.csv."""
    from rnn_core.course.written import read_store

    scores = read_store(out)
    results = [with_written(r, scores) for r in read_results(out)]
    # a row the grader could not finish has no exercises: the columns come from a complete one
    full = max(results, key=lambda r: len(r.exercises), default=None)
    grade_ids = [e.grade_id for e in full.exercises] if full else []
    write_csv(out / "grades.csv", results, grade_ids)
    for r in results:
        write_feedback(out / "feedback", r, r.assignment)
    return results


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}
td,th{{border-bottom:1px solid #ccc;padding:.3em .6em;text-align:left}}</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def _page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


def _row(cells: Sequence[str]) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def _points(e: ExerciseResult) -> str:
    if e.status == "manual" and e.points is None:
        return "to be graded by hand"
    return f"{e.points or 0:g} / {e.max_points:g}"


def write_feedback(folder: Path, r: StudentResult, assignment: str) -> list[Path]:
    """One HTML page per notebook and an ``index.html``; returns the files written."""
    dest = folder / r.student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    notebooks: dict[str, list[ExerciseResult]] = {}
    for e in r.exercises:
        notebooks.setdefault(e.notebook, []).append(e)
    head = "<tr><th>exercise</th><th>points</th><th>result</th></tr>"
    links = []
    for nb, exercises in notebooks.items():
        name = PurePosixPath(nb).stem
        rows = [_row([e.grade_id, _points(e), e.message or e.status]) for e in exercises]
        page = _page(f"{name}: feedback for {r.student}",
                     f"<table>{head}{''.join(rows)}</table>")
        (dest / f"{name}.html").write_text(page, encoding="utf-8")
        written.append(dest / f"{name}.html")
        got = sum(e.points or 0 for e in exercises)
        top = sum(e.max_points for e in exercises)
        links.append(f'<tr><td><a href="{html.escape(name)}.html">{html.escape(name)}</a></td>'
                     f"<td>{got:g} / {top:g}</td></tr>")
    total, top = points(r)
    late = (f"<p>Handed in {r.late} minutes after the deadline" +
            (f": {r.penalty:g}% of the points taken off" if r.penalty else "") + ".</p>"
            if r.late else "")
    summary = (f"<p>Status: {html.escape(r.status)}. Points: {total:g} / {top:g}" +
               (f" ({r.pending_manual:g} points of written answers still to be graded by hand)"
                if r.pending_manual else "") + ".</p>" + late +
               (f"<p>{html.escape(r.message)}</p>" if r.message else ""))
    index = _page(f"Feedback for {r.student}: {assignment}",
                  summary + f"<table><tr><th>notebook</th><th>points</th></tr>"
                            f"{''.join(links)}</table>")
    (dest / "index.html").write_text(index, encoding="utf-8")
    written.append(dest / "index.html")
    for name, text in r.exchange.items():
        (dest / name).write_text(text, encoding="utf-8")
    return written
