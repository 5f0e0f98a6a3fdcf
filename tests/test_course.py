"""Course tooling: markers, self-checks, student release and autograder, on the fixture course.

The fixture (tests/course_fixture) has the real course's layout: notebooks/NN_*.ipynb beside a
package (minirnn) whose functions hold exercise regions. 10 autograded points: test_scale 1,
test_step 2, test_step_backward 3 (notebook 01); test_count 2, test_seq 2 (notebook 02); plus a
written answer q_why (2 points, by hand). The grading tests share one run over eight students
(module fixture ``graded``); kernel starts dominate its time.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnn_core import checks
from rnn_core.course.config import CourseConfig, load_config
from rnn_core.course.markers import (
    MarkerError,
    apply_directives,
    find_regions,
    mark_cell,
    nbgrader_metadata,
    secret_lines,
    stub_regions,
)
from rnn_core.course.sandbox import Limits, Sandbox

FIXTURE = Path(__file__).parent / "course_fixture"
NB01, NB02 = "notebooks/01_step.ipynb", "notebooks/02_loop.ipynb"
MAX_AUTO = {
    "test_scale": 1,
    "test_step": 2,
    "test_step_backward": 3,
    "test_count": 2,
    "test_seq": 2,
}
TIMEOUT = 4.0

# ---------------------------------------------------------------------------------------------
# markers


PY = '''\
import numpy as np


def f(x):
    """Doc."""
    if x is None:
        raise ValueError("f: x is None")
    ### BEGIN SOLUTION
    y = np.sin(x) * 2
    ### END SOLUTION
    return y


class Cell:
    def backward(self, d):
        for i in range(3):
            ### BEGIN SOLUTION
            d = d * i + 17
            ### END SOLUTION
        ### BEGIN SOLUTION
        d = -d + 4
        ### END SOLUTION
        return d

### BEGIN HIDDEN TESTS
assert f(0) == 0
### END HIDDEN TESTS
'''


def test_find_regions_names_the_enclosing_function():
    regions = find_regions(PY, "m.py")
    assert [(r.kind, r.name) for r in regions] == [
        ("solution", "f"),
        ("solution", "Cell.backward"),
        ("solution", "Cell.backward"),
        ("hidden", ""),
    ]
    assert regions[1].indent == " " * 12


def test_stub_regions_keeps_everything_outside_the_regions():
    new, _ = stub_regions(PY, "m.py", module="pkg/m.py", see={"f": "see notebook 03_bptt"})
    lines = new.split("\n")
    assert 'raise ValueError("f: x is None")' in new and "return y" in new
    assert "np.sin" not in new and "17" not in new and "-d + 4" not in new
    assert "assert f(0) == 0" not in new and "HIDDEN" not in new
    stub = next(ln for ln in lines if "Exercise f:" in ln)
    assert stub == (
        '    raise NotImplementedError("Exercise f: implement the body of f in pkg/m.py '
        '(see notebook 03_bptt)")'
    )
    # indentation follows the BEGIN line; a second region of one function is "part 2"
    assert any(
        ln.startswith(" " * 12 + 'raise NotImplementedError("Exercise Cell.backward:')
        for ln in lines
    )
    assert "Exercise Cell.backward (part 2)" in new
    ns: dict = {}
    exec(compile(new, "m.py", "exec"), ns)  # the stubbed module still imports
    with pytest.raises(NotImplementedError, match=r"^Exercise f: .*03_bptt"):
        ns["f"](1.0)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "cannot nest"),
        ("x = 1\n### BEGIN SOLUTION\nx = 2\n", "m.py:2: region opened here is never closed"),
        ("### END SOLUTION\n", "m.py:1: 'END SOLUTION' without a matching BEGIN"),
        ("### BEGIN HIDDEN TESTS\n### END SOLUTION\n", "without a matching BEGIN"),
    ],
)
def test_find_regions_rejects_unpaired_markers(text, match):
    with pytest.raises(MarkerError, match=re.escape(match) if ":" in match else match):
        find_regions(text, "m.py")


def test_secret_lines_skip_short_and_public_lines():
    text = (
        "def g(a):\n    ### BEGIN SOLUTION\n    out = a + 1\n    return out\n    ### END SOLUTION\n"
    )
    text += "    return out\n"
    assert secret_lines(text) == {"out = a + 1"}


def test_nbgrader_metadata_is_what_nbgrader_validates():
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("# nbgrader: answer id=a1\nx = 1"),
            nbformat.v4.new_code_cell("# nbgrader: tests id=t1 points=2.5\nassert x == 1"),
            nbformat.v4.new_markdown_cell("<!-- nbgrader: manual id=q1 points=3 -->\nWhy?"),
            nbformat.v4.new_markdown_cell("<!-- nbgrader: locked id=intro -->\n# Title"),
            nbformat.v4.new_code_cell("print('no directive')"),
        ]
    )
    assert apply_directives(nb) == 4
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    assert meta[0] == nbgrader_metadata("answer", "a1")
    assert meta[1]["grade"] and meta[1]["locked"] and not meta[1]["solution"]
    assert meta[1]["points"] == 2.5 and meta[1]["schema_version"] == 3
    assert meta[2]["grade"] and meta[2]["solution"] and meta[2]["points"] == 3
    assert meta[3]["locked"] and not meta[3]["grade"] and meta[4] is None
    MetadataValidator().validate_nb(nb)  # raises if nbgrader would reject it
    mark_cell(nb.cells[4], "tests", "a1", 1)  # duplicate grade id: nbgrader refuses
    with pytest.raises(ValidationError, match="Duplicate grade id"):
        MetadataValidator().validate_nb(nb)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("tests", "t", 0), "needs points > 0"),
        (("answer", "a", 2), "carries no points"),
        (("solution", "a", 0), "kind must be one of"),
        (("tests", "bad id", 1), "grade_id must be"),
    ],
)
def test_nbgrader_metadata_rejects_bad_specs(args, match):
    with pytest.raises(ValueError, match=match):
        nbgrader_metadata(*args)


def test_mark_cell_checks_the_cell_type():
    with pytest.raises(ValueError, match="must be markdown"):
        mark_cell(nbformat.v4.new_code_cell("x"), "manual", "q", 1)
    with pytest.raises(ValueError, match="must be a code cell"):
        mark_cell(nbformat.v4.new_markdown_cell("x"), "tests", "t", 1)


def test_config_defaults_describe_this_repository_and_unknown_keys_fail(tmp_path):
    cfg = CourseConfig()
    assert cfg.packages == ["rnn_core"] and cfg.notebooks == ["notebooks/[0-9][0-9]_*.ipynb"]
    fixture = load_config(FIXTURE)
    assert fixture.packages == ["minirnn"] and fixture.notebook_paths(FIXTURE) == [
        Path(NB01),
        Path(NB02),
    ]
    (tmp_path / "course.toml").write_text('notebook = ["x.ipynb"]\n')
    with pytest.raises(ValueError, match="unknown key"):
        load_config(tmp_path)
    with pytest.raises(TypeError, match="list of strings"):
        CourseConfig(packages="rnn_core")  # type: ignore[arg-type]


def test_course_modules_import_without_jupyter_machinery():
    code = (
        "import sys, rnn_core.course, rnn_core.course.release, rnn_core.course.grade, "
        "rnn_core.checks, rnn_core.course.markers, rnn_core.course.__main__\n"
        "heavy = sorted(m for m in ('nbgrader', 'nbclient', 'nbformat', 'jupyter_client') "
        "if m in sys.modules)\n"
        "print(heavy)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# self-checks


def test_check_close_passes_and_explains_a_miss():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    checks.check_close("dWh", a * (1 + 1e-10), a)
    b = a.copy()
    b[1, 0] += 0.12
    with pytest.raises(AssertionError) as err:
        checks.check_close("dWh", b, a, hint="are you accumulating over all time steps?")
    msg = str(err.value)
    assert msg.startswith("dWh is off by 3.0e-02 (relative; worst entry [1, 0]: got 3.12,")
    assert msg.endswith(": are you accumulating over all time steps?")


@pytest.mark.parametrize(
    ("actual", "match"),
    [
        (None, "dx is None: did you forget to return it"),
        (np.zeros((3, 2)), r"dx has shape \(3, 2\) but should have shape \(2, 3\) \(the transpose"),
        (np.full((2, 3), np.nan), "dx contains NaN"),
        ((np.zeros((2, 3)), 1), "dx is a tuple of 2 items"),
        ("abc", "dx should be a numeric array"),
    ],
)
def test_check_close_names_common_mistakes(actual, match):
    with pytest.raises(AssertionError, match=match):
        checks.check_close("dx", actual, np.zeros((2, 3)), hint="see section 2")


def test_check_gradient_accepts_the_right_gradient_and_flags_a_sign_error():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    w = rng.normal(size=(4,))
    dout = rng.normal(size=(3, 4))
    before = x.copy()

    def f(z):
        return np.tanh(z * w)

    good = dout * (1 - np.tanh(x * w) ** 2) * w
    checks.check_gradient("dx", f, x, good, dout=dout, rtol=1e-7)
    np.testing.assert_array_equal(x, before)  # perturbations undone
    with pytest.raises(AssertionError, match=r"dx is off by 2\.0e\+00 .*numeric gradient.*sign"):
        checks.check_gradient("dx", f, x, -good, hint="check the sign of tanh'", dout=dout)
    checks.check_gradient(
        "dw",
        lambda v: float(np.sum(np.tanh(x * v) * dout)),
        w.copy(),
        np.sum(dout * (1 - np.tanh(x * w) ** 2) * x, axis=0),
    )
    with pytest.raises(TypeError, match="float64"):
        checks.check_gradient("dx", f, x.astype(np.float32), good)


# ---------------------------------------------------------------------------------------------
# release


def _own_secret_scan(source: Path, release: Path) -> tuple[set[str], list[str]]:
    """Independent of release.find_leaks: lines between markers (and whole written answers) in
    the source, minus lines that occur outside them; then every release line compared."""
    marker = re.compile(r"^\s*#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)")
    secret, public = set(), set()

    def scan(text: str, whole: bool) -> None:
        inside = False
        for ln in text.split("\n"):
            s = ln.strip()
            if marker.match(ln):
                inside = s.lstrip("# ").startswith("BEGIN")
                continue
            if whole or inside:
                if len(s) >= 6 and not s.startswith(("# nbgrader:", "<!-- nbgrader:")):
                    secret.add(s)
            else:
                public.add(s)

    for p in source.rglob("*"):
        if p.suffix == ".py":
            scan(p.read_text(), False)
        elif p.suffix == ".ipynb":
            for c in nbformat.read(p, as_version=4).cells:
                meta = c.metadata.get("nbgrader", {})
                scan(c.source, bool(meta.get("solution")) and "SOLUTION" not in c.source)
    secret -= public
    leaks = []
    for p in release.rglob("*"):
        if p.is_file():
            text = p.read_text(errors="replace")
            lines = {ln.strip() for ln in text.splitlines()}
            if p.suffix == ".ipynb":
                for c in nbformat.read(p, as_version=4).cells:
                    lines |= {ln.strip() for ln in c.source.splitlines()}
            leaks += [f"{p.name}: {s}" for s in secret if s in lines]
    return secret, leaks


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    from rnn_core.course.release import release

    out = tmp_path_factory.mktemp("course") / "release"
    report = release(FIXTURE, out)
    return out, report


def test_release_contains_no_solution_or_hidden_test_line(released):
    out, report = released
    secret, leaks = _own_secret_scan(FIXTURE, out)
    # the scan really covers package solutions and written answers
    assert "dw = float(np.sum(da * h))" in secret and "out = 2 * v" in secret
    assert any("geometrically" in s for s in secret)
    assert leaks == []
    assert not list(out.rglob("*.pyc")) and not (out / "minirnn" / "_instructor_only.py").exists()
    assert (out / "README.md").is_file()
    assert report.stubbed == {
        "minirnn/basics.py": ["scale", "count_up"],
        "minirnn/cell.py": ["step", "step_backward"],
        "minirnn/loop.py": ["run_steps"],
    }
    assert not (out / "exercises.py").exists()  # the grader's specs stay with the instructor
    assert report.auto_points == 10 and report.manual_points == 2


def test_release_notebooks_are_nbgrader_student_versions(released):
    out, _ = released
    nb = nbformat.read(out / Path(NB01).name, as_version=4)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    assert by_id["q_why"].source == "YOUR ANSWER HERE"
    assert (
        "HIDDEN" not in by_id["test_scale"].source and "scale(3) == 6" in by_id["test_scale"].source
    )
    assert by_id["test_scale"].metadata["editable"] is False  # LockCells
    assert all("checksum" in c.metadata["nbgrader"] for c in by_id.values())  # ComputeChecksums
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")


def test_release_package_runs_up_to_the_first_exercise(released):
    out, _ = released
    code = (
        "import numpy as np, minirnn\n"
        "print('imported')\n"
        "minirnn.step(np.zeros(2), np.zeros(2), 0.5)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=out, env=env, capture_output=True, text=True, timeout=60
    )
    assert res.stdout == "imported\n"
    last = res.stderr.strip().splitlines()[-1]
    assert last == (
        "NotImplementedError: Exercise step: implement the body of step in minirnn/cell.py "
        "(see notebook 01_step)"
    )


def test_release_explains_marker_words_in_prose(tmp_path):
    import shutil

    from rnn_core.course.release import ReleaseError, release

    src = tmp_path / "src"
    shutil.copytree(FIXTURE, src)
    nb = nbformat.read(src / NB01, as_version=4)
    nb.cells.insert(
        1, nbformat.v4.new_markdown_cell("Code goes between `### BEGIN SOLUTION` lines.")
    )
    nbformat.write(nb, src / NB01)
    with pytest.raises(ReleaseError, match=r"01_step.ipynb: cell 2, line 1 mentions .* reword it"):
        release(src, tmp_path / "out")


def test_release_refuses_a_solution_outside_an_answer_cell(tmp_path):
    import shutil

    from rnn_core.course.release import ReleaseError, release

    src = tmp_path / "src"
    shutil.copytree(FIXTURE, src)
    nb = nbformat.read(src / NB02, as_version=4)
    nb.cells[0].source += "\n### BEGIN SOLUTION\nsecret_value = 42\n### END SOLUTION"
    nbformat.write(nb, src / NB02)
    with pytest.raises(ReleaseError, match="02_loop.ipynb.*non-solution cell"):
        release(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# grading: the harness produces values, the grader judges them (tests/test_grade_hostile.py has
# the hostile submissions)

BUGS = {  # planted bug -> the exercises it must cost (step is also what run_steps calls)
    "scale": ("minirnn/basics.py", "out = 2 * v", "out = 3 * v", {"test_scale"}),
    "step": ("minirnn/cell.py", "np.tanh(x + w * h)", "np.tanh(x - w * h)",
             {"test_step", "test_seq"}),
    "step_backward": ("minirnn/cell.py", "dw = float(np.sum(da * h))",
                      "dw = -float(np.sum(da * h))", {"test_step_backward"}),
    "count_up": ("minirnn/basics.py", "for i in range(n):", "for i in range(n + 1):",
                 {"test_count"}),
    "run_steps": ("minirnn/loop.py", "hs.append(h)", "hs.insert(0, h)", {"test_seq"}),
}


def solved(release_dir: Path, dest: Path) -> Path:
    """The release with the instructor's package: a complete submission in the release layout."""
    shutil.copytree(release_dir, dest)
    shutil.rmtree(dest / "minirnn")
    shutil.copytree(FIXTURE / "minirnn", dest / "minirnn")
    return dest


def grade_fixture(subs: Path, out: Path, **kw):
    from rnn_core.course.grade import grade

    if not kw.get("sandbox"):  # the judging holds under any sandbox; D3's own tests are its
        kw.update(sandbox=Sandbox(Limits(wall_seconds=30), backend="none"), no_sandbox=True)
    kw.setdefault("secret", "fixture-secret")
    results = grade(subs, FIXTURE, out, jobs=2, **kw)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    return {r.student: r for r in results}, rows


@pytest.fixture(scope="module")
def graded(released, tmp_path_factory):
    rel, _ = released
    base = tmp_path_factory.mktemp("grading")
    subs = base / "subs"
    subs.mkdir()
    shutil.copytree(FIXTURE, subs / "instructor")  # the source layout
    shutil.copytree(rel, subs / "blank")
    for name, (path, good, bad, _) in BUGS.items():
        d = solved(rel, subs / f"bug_{name}")
        text = (d / path).read_text()
        assert good in text
        (d / path).write_text(text.replace(good, bad))
    zipped = solved(rel, base / "zipped")
    with zipfile.ZipFile(subs / "zipper.zip", "w") as zf:
        for p in sorted(zipped.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(zipped).as_posix())
    results, rows = grade_fixture(subs, base / "out")
    return base, results, rows


def _points(row) -> dict[str, float]:
    return {g: float(row[g]) for g in MAX_AUTO}


def test_grades_csv_has_a_row_per_student_a_column_per_exercise_and_the_sandbox(graded):
    base, _, rows = graded
    header = next(csv.reader(open(base / "out" / "grades.csv", encoding="utf-8")))
    assert header == ["student", "status", "message", "test_scale", "test_step",
                      "test_step_backward", "q_why", "test_count", "test_seq", "total", "max",
                      "manual_pending", "late", "penalty", "sandbox"]
    assert sorted(rows) == sorted(["instructor", "blank", "zipper", *(f"bug_{b}" for b in BUGS)])
    assert {r["sandbox"] for r in rows.values()} == {"none (--no-sandbox)"}
    assert {r["max"] for r in rows.values()} == {"12"}  # written answers count
    assert {r["late"] for r in rows.values()} == {""}  # no deadline in the fixture's course.toml


def test_instructor_source_and_a_zipped_release_score_every_autograded_point(graded):
    _, results, rows = graded
    for who in ("instructor", "zipper"):
        assert _points(rows[who]) == MAX_AUTO, who
        assert rows[who]["status"] == "ok" and rows[who]["total"] == "10"
        assert rows[who]["message"] == ""
    # the written answer is read as text, left for the instructor to grade
    assert rows["instructor"]["q_why"] == "" and rows["instructor"]["manual_pending"] == "2"
    assert "shrinks geometrically" in results["instructor"].answers["q_why"]


def test_blank_release_scores_zero_and_says_which_exercise_to_write(graded):
    _, results, rows = graded
    assert rows["blank"]["total"] == "0" and rows["blank"]["status"] == "ok"
    assert rows["blank"]["q_why"] == "0"  # unanswered: nothing to grade by hand
    msg = {e.grade_id: e.message for e in results["blank"].exercises}
    assert msg["test_step"] == (
        "public case (D=2): NotImplementedError: Exercise step: implement the body of step in "
        "minirnn/cell.py (see notebook 01_step)"
    )


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_planted_bug_loses_exactly_its_exercise(graded, bug):
    _, results, rows = graded
    lost = BUGS[bug][3]
    expected = {g: 0.0 if g in lost else p for g, p in MAX_AUTO.items()}
    assert _points(rows[f"bug_{bug}"]) == expected
    assert rows[f"bug_{bug}"]["status"] == "ok"
    failed = [e for e in results[f"bug_{bug}"].exercises if e.status == "failed"]
    assert {e.grade_id for e in failed} == lost
    assert all(re.fullmatch(r"(public|hidden) case \(.*\): \w+ off by \d\.\de[+-]\d\d relative",
                            e.message) for e in failed), [e.message for e in failed]


def test_feedback_is_in_the_nbgrader_exchange_layout(graded):
    base, _, _ = graded
    fb = base / "out" / "feedback" / "bug_scale" / "course"
    assert sorted(p.name for p in fb.iterdir()) == ["01_step.html", "02_loop.html", "index.html"]
    page = (fb / "01_step.html").read_text()
    assert "test_scale" in page and "0 / 1" in page and "off by" in page
    assert "9 / 12" in (fb / "index.html").read_text()


def test_under_the_os_sandbox_the_source_scores_full_and_rows_name_the_limits(released, tmp_path):
    from rnn_core.course.sandbox import probe

    reason = probe()
    if reason:
        pytest.skip(f"no OS sandbox here: {reason}")
    rel, _ = released
    subs = tmp_path / "subs"
    shutil.copytree(FIXTURE, subs / "instructor")
    shutil.copytree(rel, subs / "blank")
    _, rows = grade_fixture(subs, tmp_path / "out", sandbox=Sandbox(Limits(wall_seconds=60)))
    assert (rows["instructor"]["total"], rows["blank"]["total"]) == ("10", "0")
    assert rows["instructor"]["status"] == rows["blank"]["status"] == "ok"
    assert rows["instructor"]["sandbox"] == "memory pids wall output"


def test_hidden_cases_follow_the_secret_and_are_reproducible(released, tmp_path):
    from rnn_core.course.cases import draw_cases, load_exercises, read_secret
    from rnn_core.course.release import list_exercises

    ex = {e.grade_id: e for e in load_exercises(FIXTURE / "exercises.py",
                                                list_exercises(FIXTURE))}["test_step"]
    a, b, c = (draw_cases(ex, s) for s in ("one", "one", "two"))
    assert [k.label for k in a] == ["D=2", "N=3, D=4", "D=1"]
    assert np.array_equal(a[1].inputs["x"], b[1].inputs["x"])  # same secret, same cases
    assert np.array_equal(a[0].inputs["x"], c[0].inputs["x"])  # public: no secret involved
    assert not np.array_equal(a[1].inputs["x"], c[1].inputs["x"])
    secret = read_secret(None, tmp_path)
    assert (tmp_path / "secret.txt").stat().st_mode & 0o777 == 0o600
    assert read_secret(None, tmp_path) == secret and len(secret) == 32
    assert read_secret("given", tmp_path) == "given"


def test_collect_takes_the_release_layout_and_only_what_grading_needs(tmp_path):
    from rnn_core.course.collect import collect, written_answers

    nb = nbformat.read(FIXTURE / NB01, as_version=4)
    q = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q_why")
    q.source = "Because every factor is below one."
    with zipfile.ZipFile(tmp_path / "ann.zip", "w") as zf:  # what the D4 release's submit writes
        zf.writestr("01_step.ipynb", nbformat.writes(nb))
        zf.writestr("minirnn/cell.py", (FIXTURE / "minirnn/cell.py").read_text())
        zf.writestr("minirnn/notes.txt", "not needed")
        zf.writestr("Makefile", "not needed")
    sub = collect(tmp_path / "ann.zip", tmp_path / "work", ["minirnn"], [NB01, NB02])
    files = sorted(p.relative_to(sub.root).as_posix() for p in sub.root.rglob("*") if p.is_file())
    assert files == ["minirnn/cell.py", NB01] and sub.refused == []
    assert written_answers(sub.notebooks[NB01], {"q_why"}) == {
        "q_why": "Because every factor is below one."}


def test_a_spec_file_must_cover_every_test_cell(tmp_path):
    from rnn_core.course.cases import load_exercises
    from rnn_core.course.release import list_exercises

    spec = tmp_path / "exercises.py"
    spec.write_text((FIXTURE / "exercises.py").read_text() + "\ndel EXERCISES['test_seq']\n")
    with pytest.raises(ValueError, match="no spec for test_seq; spec without a test cell: -"):
        load_exercises(spec, list_exercises(FIXTURE))

# ---------------------------------------------------------------------------------------------
# command line (in-process) and the nbgrader exchange layout


def test_cli_release_list_and_mark(tmp_path, capsys):
    import shutil

    from rnn_core.course.__main__ import main

    assert main(["list", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "total 12 points: 10 autograded, 2 by hand" in out
    assert "minirnn/cell.py: exercises step, step_backward" in out
    assert main(["release", str(FIXTURE), str(tmp_path / "rel")]) == 0
    assert "stubbed step, step_backward" in capsys.readouterr().out
    assert main(["release", str(FIXTURE), str(tmp_path / "rel")]) == 1  # exists, no --force
    assert "exists; pass force=True" in capsys.readouterr().err
    nb_path = tmp_path / "x.ipynb"
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("# nbgrader: tests id=t points=1")]
    )
    nbformat.write(nb, nb_path)
    assert main(["mark", str(nb_path)]) == 0
    assert nbformat.read(nb_path, as_version=4).cells[0].metadata["nbgrader"]["points"] == 1
    shutil.rmtree(tmp_path / "rel")


def test_grade_nbgrader_layout_reports_a_student_who_submitted_nothing(tmp_path, capsys):
    from rnn_core.course.__main__ import main

    (tmp_path / "submitted" / "ghost").mkdir(parents=True)  # collected, but no rnn1/ inside
    argv = ["grade", str(tmp_path / "submitted"), "--assignment", "rnn1", "--source", str(FIXTURE),
            "--out", str(tmp_path / "results"), "--no-sandbox", "--secret", "s"]
    assert main(argv) == 0
    row = next(csv.DictReader(open(tmp_path / "results" / "grades.csv")))
    assert row["student"] == "ghost" and row["status"] == "missing" and row["total"] == "0"
    assert row["message"] == "nothing submitted" and row["max"] == "12"
    assert row["sandbox"] == "none (--no-sandbox)"
    assert "ghost" in capsys.readouterr().out
