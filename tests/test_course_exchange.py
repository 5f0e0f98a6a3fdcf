"""nbgrader's exchange end to end on one machine (issue 15), with the fixture course.

release (rnn-course) -> nbgrader release_assignment -> fetch_assignment (the student) -> submit ->
collect -> rnn-course grade --assignment --inbound -> nbgrader release_feedback -> fetch_feedback
(the student). A temporary exchange, cache and HOME, configured through nbgrader_config.py: no
root, no JupyterHub. The student is whoever runs the test (nbgrader takes the OS user name).
"""

from __future__ import annotations

import csv
import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

FIXTURE = Path(__file__).parent / "course_fixture"
BIN = Path(sys.executable).parent


def _run(cwd: Path, home: Path, *argv: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER"))}
    env |= {"HOME": str(home), "OPENBLAS_NUM_THREADS": "1",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # collect runs alembic
    r = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout + r.stderr


def test_feedback_reaches_the_student_through_the_exchange(tmp_path):
    from test_grade_hostile import feedback_leaks

    exchange, cache, home = tmp_path / "exchange", tmp_path / "cache", tmp_path / "home"
    for d in (exchange, cache, home):
        d.mkdir()
    exchange.chmod(0o777)
    course, student = tmp_path / "course", tmp_path / "student"
    config = (f'c = get_config()\nc.CourseDirectory.course_id = "c1"\n'
              f'c.Exchange.root = {str(exchange)!r}\nc.Exchange.cache = {str(cache)!r}\n')
    for d in (course, student):
        d.mkdir()
        (d / "nbgrader_config.py").write_text(config)

    _run(course, home, "rnn-course", "release", str(FIXTURE), "release/rnn1")
    _run(course, home, "nbgrader", "release_assignment", "rnn1")
    _run(student, home, "nbgrader", "fetch_assignment", "rnn1")
    work = student / "rnn1"
    assert (work / "01_step.ipynb").is_file()  # the notebooks at the assignment root
    shutil.rmtree(work / "minirnn")
    shutil.copytree(FIXTURE / "minirnn", work / "minirnn")  # the student solves every exercise
    broken = (work / "minirnn" / "basics.py").read_text()
    assert "for i in range(n):" in broken
    (work / "minirnn" / "basics.py").write_text(  # but one: test_count loses its 2 points
        broken.replace("for i in range(n):", "for i in range(n + 1):"))
    _run(student, home, "nbgrader", "submit", "rnn1")
    _run(course, home, "nbgrader", "collect", "rnn1")

    me = getpass.getuser()
    out = _run(course, home, "rnn-course", "grade", "submitted", "--assignment", "rnn1",
               "--source", str(FIXTURE), "--out", "results", "--no-sandbox", "--secret", "xs",
               "--inbound", str(exchange / "c1" / "inbound"))
    assert f"{me:<20} ok       8/10" in out
    row = next(csv.DictReader(open(course / "results" / "grades.csv")))
    assert (row["student"], row["total"], row["test_count"]) == (me, "8", "0")
    shutil.copytree(course / "results" / "feedback", course / "feedback")
    _run(course, home, "nbgrader", "release_feedback", "rnn1")
    _run(student, home, "nbgrader", "fetch_feedback", "rnn1")

    fetched = sorted(p.relative_to(work / "feedback") for p in (work / "feedback").rglob("*.html"))
    assert [p.name for p in fetched] == ["01_step.html", "02_loop.html"]
    page = (work / "feedback" / fetched[1]).read_text()
    assert "test_count" in page and "0 / 2" in page and "off by" in page
    assert feedback_leaks(FIXTURE, "xs", work / "feedback", tmp_path / "scan") == []
