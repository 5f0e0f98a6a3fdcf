"""A hostile tester against the arrival time and the submissions folder (issue 15 follow-up).

A1: nbgrader's collected layout without ``--inbound``: ``nbgrader collect`` copies the time of the
student's own inbound folder (``touch -h -d 2020-01-01``), so it is no arrival time at all.
A2: ``--inbound`` on a hub without system accounts: a classmate makes a folder named after
another student after the deadline; it must not make that student late silently.
B: a student entry of the submissions folder that is itself a symlink is not followed (it scored
the instructor's own solutions), and is still that student's row, status ``error``.
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import test_course_instructor as _instructor

from rnn_core.course.sandbox import Limits, Sandbox

FIXTURE = Path(__file__).parent / "course_fixture"
# the instructor tests' release of the fixture course, and a copy of it with every exercise solved
release_dir, _solved = _instructor.release_dir, _instructor._solved
SECRET = "hostile-lateness"
GHOST = "zq_no_such_user_bob"  # a student without a system account (a hub without accounts)
CAROL = "zq_no_such_user_carol"


def _course_with(tmp_path: Path, extra: str) -> Path:
    src = tmp_path / "course"
    shutil.copytree(FIXTURE, src)
    with open(src / "course.toml", "a", encoding="utf-8") as f:
        f.write(extra)
    return src


def _grade(subs: Path, src: Path, out: Path, **kw):
    from rnn_core.course.grade import grade

    results = grade(subs, src, out, secret=SECRET, no_sandbox=True, jobs=2,
                    sandbox=Sandbox(Limits(wall_seconds=30), backend="none"), **kw)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    return {r.student: r for r in results}, rows


def _no_user(name: str) -> None:
    with pytest.raises(KeyError):
        pwd.getpwnam(name)


# ---------------------------------------------------------------------------------------------
# A1: nbgrader's collected layout without --inbound


def test_a1_collected_folder_time_set_by_the_student_is_not_an_arrival(release_dir, tmp_path):
    _no_user(CAROL)
    src = _course_with(tmp_path, "late_penalty = 10\n[deadline]\nrnn1 = 2025-01-01T00:00:00Z\n")
    inbound = tmp_path / "exchange" / "c1" / "inbound"
    mine = _solved(release_dir, inbound / f"{CAROL}+rnn1+2024-12-31 23:00:00.000000 UTC+ab12")
    past = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    os.utime(mine, (past, past), follow_symlinks=False)  # touch -h -d 2020-01-01 <inbound folder>
    collected = tmp_path / "submitted" / CAROL / "rnn1"
    shutil.copytree(mine, collected)  # what nbgrader collect does: copy2 keeps that time
    shutil.copystat(mine, collected)
    assert collected.stat().st_mtime == past

    got, rows = _grade(tmp_path / "submitted", src, tmp_path / "out", assignment="rnn1")
    row = rows[CAROL]
    assert (row["status"], row["late"], row["penalty"], row["total"]) == ("ok", "", "0", "10")
    assert "arrival time not established" in row["message"]
    assert "--inbound" in row["message"]
    assert got[CAROL].arrival == ""

    # the honest path: --inbound reads the kernel's change time, which the student cannot set
    got, rows = _grade(tmp_path / "submitted", src, tmp_path / "out2", assignment="rnn1",
                       inbound=inbound)
    row = rows[CAROL]
    assert int(row["late"]) > 0 and row["penalty"] == "100" and row["total"] == "0"
    assert got[CAROL].arrival.endswith("(exchange inbound)")
    assert "arrival" not in row["message"]


def test_a1_a_collected_student_who_submitted_nothing_is_only_missing(tmp_path):
    from rnn_core.course.lateness import arrival

    when, notes = arrival("ghost", tmp_path / "submitted" / "ghost" / "rnn1", assignment="rnn1")
    assert when is None and notes == []  # "nothing submitted" stays the whole message


def test_a1_a_zip_in_the_submissions_folder_still_uses_its_time(tmp_path):
    from rnn_core.course.lateness import arrival

    z = tmp_path / "subs" / "ann.zip"
    z.parent.mkdir()
    z.write_bytes(b"PK")
    when, notes = arrival("ann", z, assignment="course")
    assert when is not None and when.source == "arrival in the submissions folder" and notes == []
    folder = tmp_path / "subs" / "bob"
    folder.mkdir()
    when, notes = arrival("bob", folder, assignment="course")
    assert when is not None and when.source == "arrival in the submissions folder" and notes == []


# ---------------------------------------------------------------------------------------------
# A2: --inbound, a folder anyone could have made


def _ctime(p: Path) -> datetime:
    return datetime.fromtimestamp(p.lstat().st_ctime, UTC)


def _two_folders(inbound: Path, student: str) -> tuple[Path, Path, datetime]:
    """The student's own folder, then (after the returned deadline) a classmate's forgery."""
    own = inbound / f"{student}+rnn1+2026-11-01 10:00:00.000000 UTC+abc"
    own.mkdir(parents=True)
    (own / "01_step.ipynb").write_text("{}")
    deadline = max(_ctime(own), _ctime(own / "01_step.ipynb")) + timedelta(milliseconds=20)
    time.sleep(0.2)
    forged = inbound / f"{student}+rnn1+2099-01-01 00:00:00.000000 UTC+evil"
    forged.mkdir()
    assert _ctime(forged) > deadline
    return own, forged, deadline


def test_a2_a_classmate_cannot_make_a_student_late(tmp_path):
    from rnn_core.course.lateness import arrival, late_minutes, penalty_percent

    _no_user(GHOST)
    inbound = tmp_path / "inbound"
    own, forged, deadline = _two_folders(inbound, GHOST)
    when, notes = arrival(GHOST, tmp_path / "none", assignment="rnn1", inbound=inbound)
    late = late_minutes(when, deadline)
    assert late is None and penalty_percent(late, 10) == 0.0  # never a silent penalty
    text = " ".join(notes)
    assert own.name in text and forged.name in text and "not established" in text
    assert f"no system user {GHOST}" in text


def test_a2_several_unverifiable_folders_all_on_time_or_one_folder(tmp_path):
    from rnn_core.course.lateness import arrival, late_minutes

    _no_user(GHOST)
    inbound = tmp_path / "inbound"
    own, forged, deadline = _two_folders(inbound, GHOST)
    when, _ = arrival(GHOST, tmp_path / "none", assignment="rnn1", inbound=inbound)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert late_minutes(when, later) == 0  # all on time: nobody can be hurt by any of them
    early = deadline - timedelta(days=3)  # all late: which one is the student's? not decided
    assert late_minutes(when, early) is None
    shutil.rmtree(forged)  # one folder: its change time, as before
    when, notes = arrival(GHOST, tmp_path / "none", assignment="rnn1", inbound=inbound)
    assert notes == [] and when is not None and when.source == "exchange inbound"
    assert late_minutes(when, deadline) == 0
    assert late_minutes(when, early) == math_ceil_minutes(when.time - early)


def math_ceil_minutes(d: timedelta) -> int:
    import math

    return math.ceil(d.total_seconds() / 60)


def test_a2_a_verified_owner_keeps_the_latest_change(tmp_path):
    """A student with a system account: every folder they own counts, the latest wins."""
    from rnn_core.course.lateness import arrival, late_minutes

    me = pwd.getpwuid(os.getuid()).pw_name
    inbound = tmp_path / "inbound"
    own, second, deadline = _two_folders(inbound, me)
    when, notes = arrival(me, tmp_path / "none", assignment="rnn1", inbound=inbound)
    assert notes == [] and late_minutes(when, deadline) == 1  # a late resubmission is late


def test_a2_end_to_end_the_row_says_why_no_penalty(release_dir, tmp_path):
    _no_user(GHOST)
    inbound = tmp_path / "exchange" / "c1" / "inbound"
    own, forged, deadline = _two_folders(inbound, GHOST)
    src = _course_with(tmp_path, "late_penalty = 10\n[deadline]\nrnn1 = "
                                 f"{deadline.isoformat(timespec='microseconds')}\n")
    _solved(release_dir, tmp_path / "submitted" / GHOST / "rnn1")
    _, rows = _grade(tmp_path / "submitted", src, tmp_path / "out", assignment="rnn1",
                     inbound=inbound)
    row = rows[GHOST]
    assert (row["status"], row["late"], row["penalty"], row["total"]) == ("ok", "", "0", "10")
    assert forged.name in row["message"] and "not established" in row["message"]


# ---------------------------------------------------------------------------------------------
# B: a symlinked student entry


def test_b_find_submissions_does_not_follow_a_symlinked_student(tmp_path):
    from rnn_core.course.collect import find_submissions

    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    (subs / "mallory").symlink_to(FIXTURE, target_is_directory=True)
    (tmp_path / "x.zip").write_bytes(b"PK")
    (subs / "zed.zip").symlink_to(tmp_path / "x.zip")
    (subs / "dangling").symlink_to(tmp_path / "nowhere")
    found = find_submissions(subs, None)
    assert sorted(found) == ["ann", "mallory", "zed"]   # listed: each gets its row (below)
    assert found["mallory"].is_symlink() and found["zed"].is_symlink()
    assert find_submissions(subs, ["mallory"]).keys() == {"mallory"}


@pytest.mark.parametrize("assignment", [None, "rnn1"])
def test_b_a_symlinked_student_is_an_error_row_not_the_instructors_solutions(
        release_dir, tmp_path, assignment):
    subs = tmp_path / "subs"
    subs.mkdir()
    if assignment:
        target = tmp_path / "elsewhere"
        _solved(release_dir, target / "rnn1")
    else:
        target = FIXTURE  # the course source itself: it solves every exercise
    (subs / "mallory").symlink_to(target, target_is_directory=True)
    shutil.copytree(release_dir, subs / "ann" / "rnn1" if assignment else subs / "ann")
    got, rows = _grade(subs, FIXTURE, tmp_path / "out", assignment=assignment)
    row = rows["mallory"]
    assert (row["status"], row["total"]) == ("error", "0")
    assert "symbolic link" in row["message"] and "not graded" in row["message"]
    assert all(e.points == 0 for e in got["mallory"].exercises)
    assert rows["ann"]["status"] == "ok"


# ---------------------------------------------------------------------------------------------
# a student named after a file of the results folder


def test_a_student_named_after_a_results_file_is_not_graded_and_stops_nothing(
        release_dir, tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("grades.csv", "feedback", "ann"):
        shutil.copytree(release_dir, subs / name)
    shutil.make_archive(str(subs / "secret.txt"), "zip", release_dir)
    out = tmp_path / "out"
    for _ in range(2):                      # and the next run too: nothing left in the way
        got, rows = _grade(subs, FIXTURE, out)
        assert set(got) == {"ann"} and set(rows) == {"ann"}
        assert (out / "grades.csv").is_file() and not (out / "secret.txt").is_dir()
    err = capsys.readouterr().err
    for name in ("grades.csv", "feedback", "secret.txt"):
        assert f"'{name}' is the name of a file of the results folder" in err, err


def test_a_link_in_the_inbound_folder_is_not_graded_whatever_collect_copied(release_dir,
                                                                           tmp_path):
    """nbgrader collect copies a link's target: a student's inbound ``minirnn`` linked to the
    course source arrives collected as the instructor's solutions (88/88 in the review). With
    --inbound the grader sees the link itself and refuses the student."""
    inbound = tmp_path / "exchange" / "c1" / "inbound"
    mine = inbound / f"{CAROL}+rnn1+2024-12-31 23:00:00.000000 UTC+ab12"
    shutil.copytree(release_dir, mine)
    shutil.rmtree(mine / "minirnn")
    (mine / "minirnn").symlink_to(FIXTURE / "minirnn", target_is_directory=True)
    honest = _solved(release_dir, inbound / "ann+rnn1+2024-12-31 23:00:00.000000 UTC+cd34")
    collected = tmp_path / "submitted"
    shutil.copytree(mine, collected / CAROL / "rnn1")        # follows the link, as collect does
    shutil.copytree(honest, collected / "ann" / "rnn1")
    assert not (collected / CAROL / "rnn1" / "minirnn").is_symlink()
    got, rows = _grade(collected, FIXTURE, tmp_path / "out", assignment="rnn1", inbound=inbound)
    row = rows[CAROL]
    assert (row["status"], row["total"]) == ("error", "0"), row
    assert "inbound holds a symbolic link" in row["message"] and "minirnn" in row["message"]
    assert rows["ann"]["status"] == "ok" and rows["ann"]["total"] == "10"
