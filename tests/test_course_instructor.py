"""The instructor's workflow after the score (issue 15), on the fixture course.

Written-answer scores in their own store that every regrade merges; one page per written question;
lateness from a time the student does not write; the Canvas gradebook CSV; grading in shards and
merging them; one version string. The fixture course: 10 autograded points and one written
question ``q_why`` (2 points, notebook 01).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from rnn_core import __version__
from rnn_core.course.sandbox import Limits, Sandbox

FIXTURE = Path(__file__).parent / "course_fixture"
NB01 = "notebooks/01_step.ipynb"
SECRET = "instructor-secret"


def _answer(folder: Path, text: str) -> None:
    """Write ``text`` as the written answer q_why of the notebook in a submission folder."""
    path = next(folder.rglob("01_step.ipynb"))
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q_why")
    cell.source = text
    nbformat.write(nb, path)


def _zip(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
    return dest


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    from rnn_core.course.release import release

    out = tmp_path_factory.mktemp("inst") / "release"
    release(FIXTURE, out)
    return out


def _solved(release_dir: Path, dest: Path) -> Path:
    shutil.copytree(release_dir, dest)
    shutil.rmtree(dest / "minirnn")
    shutil.copytree(FIXTURE / "minirnn", dest / "minirnn")
    return dest


@pytest.fixture(scope="module")
def subs(release_dir, tmp_path_factory):
    """Five students: two solved (one answers with HTML and a script), a blank one, two zips."""
    base = tmp_path_factory.mktemp("subs") / "subs"
    base.mkdir()
    _answer(_solved(release_dir, base / "ann"), "Because the factors shrink.")
    _answer(_solved(release_dir, base / "eve"),
            '<script>alert("x")</script><b>bold</b> & every factor < 1')
    shutil.copytree(release_dir, base / "blank")
    for name in ("zoe", "yan"):
        d = _solved(release_dir, base.parent / f"{name}-src")
        _answer(d, f"{name}: the gradient is a product of factors below one.")
        _zip(d, base / f"{name}.zip")
    return base


def _grade(subs: Path, out: Path, **kw):
    from rnn_core.course.grade import grade

    kw.setdefault("sandbox", Sandbox(Limits(wall_seconds=30), backend="none"))
    kw.setdefault("no_sandbox", True)
    kw.setdefault("secret", SECRET)
    results = grade(subs, FIXTURE, out, jobs=2, **kw)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    return {r.student: r for r in results}, rows


# ---------------------------------------------------------------------------------------------
# written answers


def test_written_scores_survive_regrading_one_student_and_all(subs, tmp_path):
    from rnn_core.course.__main__ import main
    from rnn_core.course.written import read_store

    out = tmp_path / "out"
    _, rows = _grade(subs, out)
    assert rows["ann"]["q_why"] == "" and rows["ann"]["total"] == "10"
    assert rows["ann"]["manual_pending"] == "2" and rows["blank"]["q_why"] == "0"
    assert main(["written", "record", str(out), "--student", "ann", "--question", "q_why",
                 "--points", "1.5", "--comment", "right idea, no formula"]) == 0
    filled = tmp_path / "filled.csv"
    filled.write_text("student,question,points,comment\neve,q_why,2,\nzoe,q_why,,\n")
    assert main(["written", "import", str(out), str(filled)]) == 0
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert (rows["ann"]["q_why"], rows["ann"]["total"], rows["ann"]["manual_pending"]) == (
        "1.5", "11.5", "0")
    assert (rows["eve"]["q_why"], rows["eve"]["total"]) == ("2", "12")
    assert rows["zoe"]["q_why"] == "" and rows["zoe"]["manual_pending"] == "2"  # empty: skipped
    page = (out / "feedback" / "ann" / "course" / "01_step.html").read_text()
    assert "1.5 / 2" in page and "right idea, no formula" in page
    before = (out / "written.csv").read_bytes()

    _, rows = _grade(subs, out, students=["ann"])  # regrade one student
    assert (rows["ann"]["q_why"], rows["ann"]["total"]) == ("1.5", "11.5")
    assert (rows["eve"]["q_why"], rows["eve"]["total"]) == ("2", "12")
    _, rows = _grade(subs, out)  # and everybody
    assert (rows["ann"]["q_why"], rows["ann"]["total"]) == ("1.5", "11.5")
    assert (rows["eve"]["q_why"], rows["eve"]["total"]) == ("2", "12")
    assert (out / "written.csv").read_bytes() == before  # the grader never writes the store
    assert {k[0] for k in read_store(out)} == {"ann", "eve"}


@pytest.mark.parametrize(("content", "match"), [
    ("student,question,points\nann,q_why,1\neve,q_why,lots\n", r"filled\.csv line 3: points "
                                                                  r"'lots' is not a number"),
    ("student,question,points\nann,q_why,3\n", r"line 2: points 3 for q_why must be between 0 "
                                               r"and 2"),
    ("student,question,points\nmallory,q_why,1\n", r"line 2: student 'mallory' has no graded"),
    ("student,question,points\nann,q_how,1\n", r"line 2: question 'q_how' is not a written"),
    ("student,question,points\nann,q_why,1,extra\n", r"line 2: expected 3 fields"),
    ("student,points\nann,1\n", r"line 1: missing column\(s\) question"),
    ("student,question,points\nann,q_why,1\nann,q_why,2\n", r"line 3: a second score for ann"),
])
def test_a_malformed_score_file_is_refused_with_its_line_and_nothing_is_stored(
        subs, tmp_path, content, match):
    from rnn_core.course.written import WrittenError, import_scores, read_store

    out = tmp_path / "out"
    _grade(subs, out, students=["ann", "eve"])
    filled = tmp_path / "filled.csv"
    filled.write_text(content)
    with pytest.raises(WrittenError, match=match):
        import_scores(out, filled)
    assert read_store(out) == {}  # the whole file refused: nothing half imported


def test_a_corrupted_store_stops_grading_with_its_line(subs, tmp_path):
    out = tmp_path / "out"
    _grade(subs, out, students=["ann"])
    (out / "written.csv").write_text("student,assignment,question,points,comment\n"
                                     "ann,course,q_why,two,\n")
    with pytest.raises(ValueError, match=r"written\.csv line 2: points 'two' is not a number"):
        _grade(subs, out, students=["ann"])


def test_the_page_of_a_written_question_escapes_every_answer(subs, tmp_path):
    from rnn_core.course.written import record, write_pages

    out = tmp_path / "out"
    _grade(subs, out, students=["ann", "eve", "blank"])
    record(out, "ann", "q_why", 1)
    files = write_pages(out)
    assert sorted(p.name for p in files) == ["q_why.csv", "q_why.html"]
    page = (out / "written" / "q_why.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; every factor &lt; 1" in page
    assert "Because the factors shrink." in page
    rows = list(csv.DictReader(open(out / "written" / "q_why.csv")))
    assert [(r["student"], r["points"]) for r in rows] == [("ann", "1"), ("blank", ""),
                                                          ("eve", "")]


# ---------------------------------------------------------------------------------------------
# shards


@pytest.mark.parametrize(("spec", "match"), [
    ("0/3", r"--shard K/N needs 1 <= K <= N"), ("4/3", r"--shard K/N needs 1 <= K <= N"),
    ("a/b", r"--shard must be K/N"), ("1/0", r"--shard K/N needs"), ("2", r"--shard must be"),
])
def test_a_bad_shard_spec_is_a_clear_error(spec, match, tmp_path, capsys):
    from rnn_core.course.__main__ import main
    from rnn_core.course.shards import parse_shard

    with pytest.raises(ValueError, match=match):
        parse_shard(spec)
    argv = ["grade", str(tmp_path), "--source", str(FIXTURE), "--out", str(tmp_path / "o"),
            "--no-sandbox", "--secret", "s", "--shard", spec]
    assert main(argv) == 1
    assert "--shard" in capsys.readouterr().err


def test_shards_depend_on_the_name_only():
    from rnn_core.course.shards import shard_of

    names = [f"student{i}" for i in range(300)]
    split = [shard_of(n, 3) for n in names]
    assert split == [shard_of(n, 3) for n in reversed(names)][::-1]
    assert set(split) == {1, 2, 3} and min(split.count(k) for k in (1, 2, 3)) > 70


def test_three_shards_merged_equal_one_run_and_keep_written_scores(subs, tmp_path):
    from rnn_core.course.shards import SHARD_FILE, merge, shard_of
    from rnn_core.course.written import record

    whole = tmp_path / "whole"
    _grade(subs, whole)
    record(whole, "eve", "q_why", 2)
    parts = []
    for k in (1, 2, 3):
        parts.append(tmp_path / f"shard{k}")
        results, _ = _grade(subs, parts[-1], shard=f"{k}/3")
        assert all(shard_of(s, 3) == k for s in results)
    info = json.loads((parts[0] / SHARD_FILE).read_text())
    assert info["shard"] == [1, 3] and info["version"] == __version__
    merged = tmp_path / "merged"
    merged.mkdir()
    shutil.copyfile(whole / "written.csv", merged / "written.csv")
    assert merge(parts, merged) == ["ann", "blank", "eve", "yan", "zoe"]
    assert (merged / "grades.csv").read_bytes() == (whole / "grades.csv").read_bytes()
    assert (merged / "written.csv").read_bytes() == (whole / "written.csv").read_bytes()
    row = next(r for r in csv.DictReader(open(merged / "grades.csv")) if r["student"] == "eve")
    assert (row["q_why"], row["total"]) == ("2", "12")
    page = merged / "feedback" / "eve" / "course" / "index.html"
    assert page.read_text() == (whole / "feedback" / "eve" / "course" / "index.html").read_text()

    with pytest.raises(ValueError, match=r"shard\(s\) 2/3 missing"):
        merge([parts[0], parts[2]], tmp_path / "m2")
    with pytest.raises(ValueError, match=r"shard 1/3 given twice"):
        merge([parts[0], parts[0], parts[1], parts[2]], tmp_path / "m3")
    overlap = tmp_path / "overlap"  # shard 2, plus a student another shard graded
    shutil.copytree(parts[1], overlap)
    info = json.loads((overlap / SHARD_FILE).read_text())
    stray = next(s for s in ("ann", "blank", "eve", "yan", "zoe") if shard_of(s, 3) != 2)
    info["students"].append(stray)
    (overlap / SHARD_FILE).write_text(json.dumps(info))
    with pytest.raises(ValueError, match=rf"merge: {stray} is in shard [12]/3 and shard [23]/3"):
        merge([parts[0], overlap, parts[2]], tmp_path / "m5")
    with pytest.raises(ValueError, match=r"has no shard\.json"):
        merge([whole, parts[1], parts[2]], tmp_path / "m6")
    other = tmp_path / "other-secret"
    _grade(subs, other, shard="2/3", secret="another")
    with pytest.raises(ValueError, match=r"different secrets"):
        merge([parts[0], other, parts[2]], tmp_path / "m7")


def test_a_shard_without_an_explicit_secret_is_refused(subs, tmp_path, monkeypatch):
    from rnn_core.course.cases import SECRET_ENV

    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(ValueError, match=r"--shard needs --secret"):
        _grade(subs, tmp_path / "o", shard="1/2", secret=None)


# ---------------------------------------------------------------------------------------------
# lateness


def _course_with(tmp_path: Path, extra: str) -> Path:
    src = tmp_path / "course"
    shutil.copytree(FIXTURE, src)
    with open(src / "course.toml", "a", encoding="utf-8") as f:
        f.write(extra)
    return src


def test_lateness_comes_from_the_arrival_not_from_a_timestamp_the_student_writes(
        release_dir, tmp_path):
    from rnn_core.course.grade import grade

    deadline = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    src = _course_with(tmp_path, "late_penalty = 10\n[deadline]\ncourse = 2026-12-01T13:00:00+01:00"
                                 "\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, minutes in (("early", -30), ("liar", 90), ("slow", 24 * 60 + 1)):
        d = _solved(release_dir, tmp_path / name)
        # nbgrader's timestamp.txt is the student's own: this one claims a time before the deadline
        (d / "timestamp.txt").write_text("2026-11-30 08:00:00.000000 UTC")
        z = _zip(d, subs / f"{name}.zip")
        t = (deadline + timedelta(minutes=minutes)).timestamp()
        os.utime(z, (t, t))
    results = grade(subs, src, tmp_path / "out", secret=SECRET, no_sandbox=True,
                    sandbox=Sandbox(Limits(wall_seconds=30), backend="none"))
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert [(rows[s]["late"], rows[s]["penalty"], rows[s]["total"]) for s in
            ("early", "liar", "slow")] == [("0", "0", "10"), ("90", "10", "9"), ("1441", "20", "8")]
    got = {r.student: r for r in results}
    assert got["liar"].arrival.endswith("(arrival in the submissions folder)")
    index = (tmp_path / "out" / "feedback" / "liar" / "course" / "index.html").read_text()
    assert "90 minutes after the deadline: 10% of the points taken off" in index


def test_an_lms_export_gives_the_submission_times(release_dir, tmp_path):
    src = _course_with(tmp_path, "[deadline]\ncourse = 2026-12-01T12:00:00Z\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    _solved(release_dir, subs / "ann")
    shutil.copytree(release_dir, subs / "bob")
    times = tmp_path / "times.csv"
    times.write_text("student,submitted\nann,2026-12-01T12:00:59+00:00\nbob,2026-12-01T11:00Z\n")
    from rnn_core.course.grade import grade

    grade(subs, src, tmp_path / "out", secret=SECRET, arrivals=times, no_sandbox=True,
          sandbox=Sandbox(Limits(wall_seconds=30), backend="none"))
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert (rows["ann"]["late"], rows["bob"]["late"]) == ("1", "0")
    assert rows["ann"]["penalty"] == "0" and rows["ann"]["total"] == "10"  # no penalty configured
    times.write_text("student,submitted\nann,2026-12-01 12:00\n")
    with pytest.raises(ValueError, match=r"--arrivals .*times\.csv line 2: .* has no time zone"):
        grade(subs, src, tmp_path / "out", secret=SECRET, arrivals=times, no_sandbox=True,
              sandbox=Sandbox(Limits(wall_seconds=30), backend="none"))


def test_a_deadline_without_a_time_zone_is_refused(tmp_path):
    from rnn_core.course.config import load_config

    src = _course_with(tmp_path, "[deadline]\ncourse = 2026-12-01T12:00:00\n")
    with pytest.raises(ValueError, match="deadline must be a table .* with a time zone"):
        load_config(src)


def test_exchange_inbound_times_ignore_a_folder_named_like_another_student(tmp_path):
    from rnn_core.course.lateness import arrival

    inbound = tmp_path / "inbound"
    own = inbound / "ann+rnn1+2026-11-01 10:00:00.000000 UTC+abc"
    own.mkdir(parents=True)
    (own / "01_step.ipynb").write_text("{}")
    past = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    os.utime(own, (past, past))  # the student can move mtime back; ctime stays the kernel's
    when, notes = arrival("ann", tmp_path / "none", assignment="rnn1", inbound=inbound)
    assert when is not None and when.time.year >= 2026 and when.source == "exchange inbound"
    assert notes == []
    lookalike = inbound / "ann2+rnn1+x+y"  # a prefix of another name is not the student's
    lookalike.mkdir()
    assert arrival("ann", tmp_path / "none", assignment="rnn1", inbound=inbound)[0] == when
    when, notes = arrival("bob", tmp_path / "none", assignment="rnn1", inbound=inbound)
    assert when is None and notes == ["no inbound folder in the exchange"]
    # a folder named after a system user it does not belong to (inbound is writable by all)
    import pwd

    other = next((u for u in pwd.getpwall() if u.pw_uid != os.getuid()), None)
    if other is not None:
        fake = inbound / f"{other.pw_name}+rnn1+2026-12-01 09:00:00 UTC+zz"
        fake.mkdir()
        when, notes = arrival(other.pw_name, tmp_path / "none", assignment="rnn1",
                              inbound=inbound)
        assert when is None
        assert notes[0] == (f"inbound folder {fake.name} is not owned by {other.pw_name}: "
                            "not counted")


# ---------------------------------------------------------------------------------------------
# Canvas, version


def test_canvas_csv_has_the_documented_header_and_points_possible(subs, tmp_path):
    from rnn_core.course.__main__ import main
    from rnn_core.course.lms import CANVAS_HEADER

    out = tmp_path / "out"
    _grade(subs, out, students=["ann", "blank"])
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,RNN exercises (77)\n"
                      "    Points Possible,,,,,12\n"
                      '"Lee, Ann",101,S-1,ann,Sec A,\n"Doe, Bo",102,S-2,blank,Sec B,\n')
    assert main(["canvas", str(out), "--column", "RNN exercises (77)", "--roster",
                 str(roster)]) == 0
    rows = list(csv.reader(open(out / "canvas.csv", encoding="utf-8")))
    assert CANVAS_HEADER == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[0] == [*CANVAS_HEADER, "RNN exercises (77)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "12"]
    assert rows[2:] == [["Lee, Ann", "101", "S-1", "ann", "Sec A", "10"],
                        ["Doe, Bo", "102", "S-2", "blank", "Sec B", "0"]]
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\nX,1,S,other,A\n")
    assert main(["canvas", str(out), "--column", "RNN (77)", "--roster", str(roster)]) == 1


def test_one_version_in_the_release_its_readme_and_the_grader(release_dir, subs, tmp_path,
                                                             capsys):
    import tomllib

    from rnn_core.course.__main__ import main

    project = tomllib.loads((FIXTURE.parents[1] / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    changelog = (FIXTURE.parents[1] / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in changelog
    from rnn_core.course.release import release

    rep = release(FIXTURE.parents[1], tmp_path / "rel")
    assert rep.version == __version__
    assert f"Release {__version__}" in (tmp_path / "rel" / "README.md").read_text()
    assert f'version = "{__version__}"' in (tmp_path / "rel" / "pyproject.toml").read_text()
    argv = ["grade", str(subs), "--source", str(FIXTURE), "--out", str(tmp_path / "o"),
            "--no-sandbox", "--secret", "s", "--student", "blank"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"rnn-course {__version__}\n")
    result = json.loads((tmp_path / "o" / "blank" / "result.json").read_text())
    assert result["version"] == __version__
