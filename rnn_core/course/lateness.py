"""When a submission arrived, read from a time the student does not write, and how late it was.

Never trusted: anything inside a submission (nbgrader's ``timestamp.txt`` is written by the
student's own ``nbgrader submit``, a zip's entry dates by the student's machine), nor any time the
student can set (a modification time: ``touch -h -d``). Used, first match wins:

1. an LMS export's submission time, ``--arrivals FILE.csv`` (columns ``student, submitted``, ISO
   8601 with a time zone): the LMS clock;
2. nbgrader's exchange, ``--inbound DIR`` (``<exchange>/<course>/inbound``): the latest change
   time (ctime) of the student's ``<student>+<assignment>+...`` folders and their files. The kernel
   sets ctime on every change and no unprivileged call can set it back, so a student who ``touch``es
   a folder only makes it later. The inbound folder is writable by all, so a folder may have been
   made by someone else under the student's name:

   * when a system user of that name exists, a folder it does not own is not counted (noted);
   * when there is none (a hub without system accounts), nobody can tell the student's folders
     from a classmate's. One folder: its time counts. Several: the lateness is established only
     when every one of them is on time (late 0): a classmate can only add folders, which are made
     now and cannot be dated back, so "all on time" cannot be forged against the student, and a
     student cannot hide a late submission behind an earlier one. Otherwise (any of them late)
     ``late`` is left unknown, no penalty is taken, and the note names every folder with its
     change time for the instructor to decide (``--student NAME --arrivals FILE``). Neither the
     earliest nor the latest could be used: the latest lets a classmate make the student late,
     the earliest lets the student hand in an empty folder on time and the work late;
3. otherwise the submission's own modification time as it sits in the submissions folder (a zip
   an LMS or ``make submit`` delivered): copy submissions in without preserving times. Not for
   nbgrader's collected layout ``<student>/<assignment>/``: ``nbgrader collect`` copies the time of
   the student's own inbound folder, which the student can set, so without ``--inbound`` (or
   ``--arrivals``) the arrival is unknown, no penalty is taken and the note says so.

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
    unverified: tuple[datetime, ...] = ()
    """change times of several inbound folders whose maker cannot be checked (no system user of
    the student's name): the lateness counts only when all are on time (``late_minutes``)"""

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


def _system_uid(student: str) -> int | None:
    """The uid of the system user of that name; None on a hub without system accounts."""
    try:
        return pwd.getpwnam(student).pw_uid
    except KeyError:
        return None


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _latest_change(folder: Path) -> float:
    times = [folder.lstat().st_ctime]
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            times.append((Path(dirpath) / name).lstat().st_ctime)
    return max(times)


def _collected(student: str, submission: Path, assignment: str | None) -> bool:
    """nbgrader's collected layout ``<submitted>/<student>/<assignment>``."""
    return bool(assignment) and submission.name == assignment and submission.parent.name == student


def arrival(student: str, submission: Path, *, assignment: str | None = None,
            inbound: Path | None = None,
            lms: dict[str, Arrival] | None = None) -> tuple[Arrival | None, list[str]]:
    """The arrival of one student's submission, and notes for the instructor."""
    notes: list[str] = []
    if lms is not None:
        return lms.get(student), ([] if student in lms else ["no submission time in --arrivals"])
    if inbound is not None and assignment:
        uid = _system_uid(student)
        folders: list[tuple[str, float]] = []
        for d in sorted(inbound.glob(f"{student}+{assignment}+*")):
            if d.name.split("+")[0] != student:
                continue
            if uid is not None and d.lstat().st_uid != uid:
                notes.append(f"inbound folder {d.name} is not owned by {student}: not counted")
                continue
            folders.append((d.name, _latest_change(d)))
        if not folders:
            return None, notes + ["no inbound folder in the exchange"]
        latest = max(t for _, t in folders)
        unverified: tuple[datetime, ...] = ()
        if uid is None and len(folders) > 1:
            unverified = tuple(sorted(datetime.fromtimestamp(t, UTC) for _, t in folders))
            listed = ", ".join(f"{name} (changed {_stamp(t)})" for name, t in folders)
            notes.append(f"inbound folders {listed}: no system user {student} to check who made "
                         "them (the inbound folder is writable by all), so lateness is counted "
                         "only when all are on time, else not established and no penalty taken: "
                         f"check them, then regrade with --student {student} --arrivals FILE")
        return Arrival(datetime.fromtimestamp(latest, UTC), "exchange inbound", unverified), notes
    try:
        t = submission.lstat().st_mtime
    except OSError:  # nothing submitted, or an entry the grader refuses (a symbolic link)
        return None, notes
    if _collected(student, submission, assignment):
        return None, notes + [
            "arrival time not established: nbgrader collect copies the time of the student's own "
            "inbound folder, which the student can set; pass --inbound <exchange>/<course>/inbound "
            "(or --arrivals) to count lateness"]
    return Arrival(datetime.fromtimestamp(t, UTC), "arrival in the submissions folder"), notes


def late_minutes(when: Arrival | None, deadline: datetime | None) -> int | None:
    """Whole minutes after the deadline, rounded up; 0 on time; None when either is unknown.

    Also None when ``when`` has several unverifiable inbound folders and any is after the
    deadline: which one is the student's own cannot be told, so no lateness is counted.
    """
    if when is None or deadline is None:
        return None
    if when.unverified and max(when.unverified) > deadline:
        return None
    return max(0, math.ceil((when.time - deadline).total_seconds() / 60))


def penalty_percent(late: int | None, per_day: float) -> float:
    """``per_day`` percent per started day late, at most 100 (0 when no penalty configured)."""
    if not late or not per_day:
        return 0.0
    return min(100.0, per_day * math.ceil(late / (24 * 60)))
