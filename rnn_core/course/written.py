"""Written answers graded by hand: their own store, one page per question, merged into grades.csv.

The store is ``<results>/written.csv`` (columns ``student, assignment, question, points,
comment``), keyed by (student, assignment, question). The grader never writes it: every ``grade``
run reads it and merges it into ``grades.csv``, so a regrade (one student or all) keeps every
score. Scores enter it through ``rnn-course written record`` (one score) or ``rnn-course written
import`` (a filled CSV, e.g. the one ``written pages`` writes next to each question's page).

Why an editable CSV next to a read-only HTML page, not a form in the page: a browser form has
nowhere to save without a server or a download the instructor must remember to move; a CSV the
instructor edits in any spreadsheet is saved where it sits, and ``import`` reads it back with every
line checked. Nothing is dropped silently: a malformed line is an error naming the file and line,
and the whole import is refused.
"""

from __future__ import annotations

import csv
import html
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STORE", "Score", "WrittenError", "read_store", "record", "import_scores", "save_store",
           "write_pages"]

STORE = "written.csv"
FIELDS = ["student", "assignment", "question", "points", "comment"]


class WrittenError(ValueError):
    """A score that cannot be stored: the message names the file, the line and the field."""


@dataclass(frozen=True)
class Score:
    student: str
    assignment: str
    question: str
    points: float
    comment: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.student, self.assignment, self.question


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise WrittenError(f"{where}: points {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise WrittenError(f"{where}: points {text!r} is not a finite number")
    return value


def _rows(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV with at least the columns student, question, points."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in ("student", "question", "points") if c not in header]
        if missing:
            raise WrittenError(f"{path} line 1: missing column(s) {', '.join(missing)}; "
                               f"expected {', '.join(FIELDS)}")
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise WrittenError(f"{path} line {reader.line_num}: expected {len(header)} "
                                   "fields")
            yield reader.line_num, row


def read_store(out: Path) -> dict[tuple[str, str, str], Score]:
    """Every recorded score of a results folder (empty when nothing is recorded yet)."""
    path = Path(out) / STORE
    if not path.exists():
        return {}
    scores: dict[tuple[str, str, str], Score] = {}
    for line, row in _rows(path):
        where = f"{path} line {line}"
        s = Score(row["student"], row.get("assignment", ""), row["question"],
                  _number(row["points"], where), row.get("comment", ""))
        if s.key in scores:
            raise WrittenError(f"{where}: a second score for {s.student}, {s.question}")
        scores[s.key] = s
    return scores


def save_store(out: Path, scores: dict[tuple[str, str, str], Score]) -> None:
    """Write the store atomically: a crash leaves the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(prefix=".written-", dir=out)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        for s in sorted(scores.values(), key=lambda s: s.key):
            w.writerow([s.student, s.assignment, s.question, f"{s.points:g}", s.comment])
    os.replace(tmp, out / STORE)


def _check(s: Score, questions: dict[str, float], students: set[str], where: str) -> None:
    if s.question not in questions:
        raise WrittenError(f"{where}: question {s.question!r} is not a written question "
                           f"(known: {', '.join(sorted(questions)) or 'none'})")
    if s.student not in students:
        raise WrittenError(f"{where}: student {s.student!r} has no graded submission here")
    if not 0 <= s.points <= questions[s.question]:
        raise WrittenError(f"{where}: points {s.points:g} for {s.question} must be between 0 "
                           f"and {questions[s.question]:g}")


def _course(out: Path) -> tuple[dict[str, float], set[str], str]:
    """Written questions (max points), graded students and the assignment of a results folder."""
    from rnn_core.course.report import read_results

    results = read_results(out)
    if not results:
        raise WrittenError(f"{out}: no graded submissions (run rnn-course grade first)")
    questions = {e.grade_id: e.max_points for r in results for e in r.exercises
                 if e.status == "manual"}
    return questions, {r.student for r in results}, results[0].assignment


def record(out: str | Path, student: str, question: str, points: float,
           comment: str = "") -> Score:
    """Store one score (replacing that student's earlier score for the question)."""
    out = Path(out)
    questions, students, assignment = _course(out)
    s = Score(student, assignment, question, float(points), comment)
    _check(s, questions, students, "written record")
    scores = read_store(out)
    scores[s.key] = s
    save_store(out, scores)
    _publish(out)
    return s


def import_scores(out: str | Path, csv_file: str | Path) -> list[Score]:
    """Store every score of a filled CSV (columns student, question, points[, comment]).

    A row with empty points is skipped on purpose (not graded yet); any other bad row refuses
    the whole file with its line number, so nothing is half imported.
    """
    out, path = Path(out), Path(csv_file)
    questions, students, assignment = _course(out)
    new: dict[tuple[str, str, str], Score] = {}
    for line, row in _rows(path):
        where = f"{path} line {line}"
        if not row["points"].strip():
            continue
        s = Score(row["student"], assignment, row["question"], _number(row["points"], where),
                  row.get("comment", "") or "")
        _check(s, questions, students, where)
        if s.key in new:
            raise WrittenError(f"{where}: a second score for {s.student}, {s.question}")
        new[s.key] = s
    scores = read_store(out)
    scores.update(new)
    save_store(out, scores)
    _publish(out)
    return list(new.values())


def _publish(out: Path) -> None:
    """grades.csv and the feedback follow the store at once (report.publish)."""
    from rnn_core.course.report import publish

    publish(out)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{border:1px solid #ccc;padding:.4em;
vertical-align:top;text-align:left}} pre{{white-space:pre-wrap;max-width:60em;margin:0}}</style>
</head><body><h1>{title}</h1>
<p>Score each answer in <code>{csv_name}</code> (next to this page; columns student, question,
points, comment), then run <code>rnn-course written import {out} {csv_path}</code>.
Scores already recorded are filled in. Up to {points:g} points.</p>
<table><tr><th>student</th><th>answer</th><th>points</th><th>comment</th></tr>
{rows}
</table></body></html>
"""


def write_pages(out: str | Path) -> list[Path]:
    """``<results>/written/<question>.html`` (every answer, escaped) and ``<question>.csv``."""
    from rnn_core.course.report import read_results

    out = Path(out)
    results = read_results(out)
    scores = read_store(out)
    folder = out / "written"
    folder.mkdir(exist_ok=True)
    questions: dict[str, float] = {}
    for r in results:
        for e in r.exercises:
            if e.status == "manual":
                questions[e.grade_id] = e.max_points
    written = []
    for q, top in sorted(questions.items()):
        rows, table = [], []
        for r in results:
            s = scores.get((r.student, r.assignment, q))
            answer = r.answers.get(q, "")
            shown = "" if s is None else f"{s.points:g}"
            rows.append(f"<tr><td>{html.escape(r.student)}</td><td><pre>{html.escape(answer)}"
                        f"</pre></td><td>{shown}</td><td>{html.escape(s.comment if s else '')}"
                        "</td></tr>")
            table.append([r.student, q, shown, s.comment if s else ""])
        page = _PAGE.format(title=html.escape(f"Written question {q}"),
                            csv_name=html.escape(f"{q}.csv"), out=html.escape(str(out)),
                            csv_path=html.escape(str(folder / f"{q}.csv")),
                            points=top, rows="\n".join(rows))
        (folder / f"{q}.html").write_text(page, encoding="utf-8")
        with open(folder / f"{q}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["student", "question", "points", "comment"])
            w.writerows(table)
        written += [folder / f"{q}.html", folder / f"{q}.csv"]
    return written
