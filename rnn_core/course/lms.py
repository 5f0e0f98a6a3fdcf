"""grades.csv in the shape an LMS imports: Canvas's gradebook CSV.

Canvas imports a gradebook CSV whose first columns identify the student (``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``), followed by one column per assignment, named
``<assignment name> (<canvas assignment id>)`` so Canvas matches an existing assignment; its
second row is ``Points Possible`` with each assignment's maximum. The identity columns come from
a roster (the instructor's own export of the Canvas gradebook, which has those columns); a
student is matched on ``SIS Login ID``, else ``ID``. Without a roster the student name fills
``Student`` and ``SIS Login ID`` and the other identity columns are left empty.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["CANVAS_HEADER", "write_canvas"]

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _roster(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in CANVAS_HEADER if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"--roster {path} line 1: missing column(s) {', '.join(missing)} "
                             "(export the Canvas gradebook)")
        found: dict[str, dict[str, str]] = {}
        for row in reader:
            if row["Student"].strip() == "Points Possible":
                continue
            for key in (row["SIS Login ID"], row["ID"]):
                if key:
                    found.setdefault(key, row)
        return found


def write_canvas(out: str | Path, column: str, roster: str | Path | None = None,
                 dest: str | Path | None = None) -> Path:
    """Write ``<out>/canvas.csv`` (or ``dest``) from ``<out>/grades.csv``; returns its path.

    ``column`` is the Canvas assignment column, e.g. ``"RNN exercises (123456)"``.
    """
    out = Path(out)
    grades = out / "grades.csv"
    if not grades.is_file():
        raise FileNotFoundError(f"canvas: {grades} not found (run rnn-course grade first)")
    if not column.strip() or "\n" in column:
        raise ValueError(f"canvas: --column must name the Canvas assignment, got {column!r}")
    people = _roster(Path(roster)) if roster else None
    with open(grades, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    target = Path(dest) if dest else out / "canvas.csv"
    # the course's total: the largest "max" of any row (a row the grader could not finish has
    # no exercises and max 0; it must not set the column's points for the whole class)
    tops = [float(r["max"]) for r in rows if r.get("max")]
    top = f"{max(tops):g}" if tops else ""
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*CANVAS_HEADER, column])
        w.writerow(["Points Possible", "", "", "", "", top])
        for r in rows:
            who = r["student"]
            if people is not None:
                p = people.get(who)
                if p is None:
                    raise ValueError(f"canvas: student {who!r} is not in the roster (matched on "
                                     "SIS Login ID, then ID)")
                ident = [p[c] for c in CANVAS_HEADER]
            else:
                ident = [who, "", "", who, ""]
            w.writerow([*ident, r["total"]])
    return target
