"""When a submission arrived, read from a time the student does not write, and how late it was.

Never trusted: anything inside a submission (nbgrader's ``timestamp.txt`` is written by the
student's own ``nbgrader submit``, a zip's entry dates by the student's machine). Used, first
match wins:

1. an LMS export's submission time, ``--arrivals FILE.csv`` (columns ``student, submitted``, ISO
   8601 with a time zone): the LMS clock;
2. nbgrader's exchange, ``--inbound DIR`` (``<exchange>/<course>/inbound``): the latest change
   time (ctime) of the student's ``<student>+<assignment>+...`` folders and their files. The kernel
   sets ctime on every change and no unprivileged call can set it back, so a student who ``touch``es
   a folder only makes it later. A folder whose owner is not the system user of that name (when
   there is one) is not counted: a student may name a folder after someone else;
3. otherwise the submission's own modification time as it sits in the submissions folder (a zip
   an LMS or ``make submit`` delivered): copy submissions in without preserving times.

``late`` is whole minutes after the assignment's ``deadline`` (course.toml), rounded up, 0 when on
time. A penalty applies only when course.toml sets ``late_penalty`` (percent per started day).
"""

from __future__ import annotations

import csv
import math
import os
import pwd
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Arrival", "arrival", "late_minutes", "penalty_percent", "read_arrivals"]


@dataclass(frozen=True)
class Arrival:
    time: datetime
    source: str

    def __str__(self) -> str:
        return f"{self.time.isoformat(timespec='seconds')} ({self.source})"


def _aware(text: str, where: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise ValueError(f"{where}: {text!r} has no time zone (e.g. +01:00 or Z)")
    return t


def read_arrivals(path: str | Path) -> dict[str, Arrival]:
    """student -> submission time from an LMS export (columns student, submitted)."""
    path = Path(path)
    found: dict[str, Arrival] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not {"student", "submitted"} <= set(reader.fieldnames or []):
            raise ValueError(f"--arrivals {path} line 1: expected columns student, submitted")
        for row in reader:
            where = f"--arrivals {path} line {reader.line_num}"
            if row["student"] in found:
                raise ValueError(f"{where}: a second time for {row['student']}")
            found[row["student"]] = Arrival(_aware(row["submitted"] or "", where), "LMS export")
    return found


def _owner_ok(path: Path, student: str) -> bool:
    try:
        uid = pwd.getpwnam(student).pw_uid
    except KeyError:
        return True  # no system user of that name (a single-user exchange): nothing to compare
    return path.lstat().st_uid == uid


def _latest_change(folder: Path) -> float:
    times = [folder.lstat().st_ctime]
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            times.append((Path(dirpath) / name).lstat().st_ctime)
    return max(times)


def arrival(student: str, submission: Path, *, assignment: str | None = None,
            inbound: Path | None = None,
            lms: dict[str, Arrival] | None = None) -> tuple[Arrival | None, list[str]]:
    """The arrival of one student's submission, and notes for the instructor."""
    notes: list[str] = []
    if lms is not None:
        return lms.get(student), ([] if student in lms else ["no submission time in --arrivals"])
    if inbound is not None and assignment:
        times = []
        for d in sorted(inbound.glob(f"{student}+{assignment}+*")):
            if d.name.split("+")[0] != student:
                continue
            if not _owner_ok(d, student):
                notes.append(f"inbound folder {d.name} is not owned by {student}: not counted")
                continue
            times.append(_latest_change(d))
        if times:
            return Arrival(datetime.fromtimestamp(max(times), UTC), "exchange inbound"), notes
        return None, notes + ["no inbound folder in the exchange"]
    if submission.exists():
        t = submission.lstat().st_mtime
        return Arrival(datetime.fromtimestamp(t, UTC), "arrival in the submissions folder"), notes
    return None, notes


def late_minutes(when: Arrival | None, deadline: datetime | None) -> int | None:
    """Whole minutes after the deadline, rounded up; 0 on time; None when either is unknown."""
    if when is None or deadline is None:
        return None
    return max(0, math.ceil((when.time - deadline).total_seconds() / 60))


def penalty_percent(late: int | None, per_day: float) -> float:
    """``per_day`` percent per started day late, at most 100 (0 when no penalty configured)."""
    if not late or not per_day:
        return 0.0
    return min(100.0, per_day * math.ceil(late / (24 * 60)))
