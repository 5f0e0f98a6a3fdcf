"""Course tooling: markers, self-checks, student release and autograder, on the fixture course.

The fixture (tests/course_fixture) has the real course's layout: notebooks/NN_*.ipynb beside a
package (minirnn) whose functions hold exercise regions. 10 autograded points: test_scale 1,
test_step 2, test_step_backward 3 (notebook 01); test_count 2, test_seq 2 (notebook 02); plus a
written answer q_why (2 points, by hand). The grading tests share one run over eight students
(module fixture ``graded``); kernel starts dominate its time.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnn_core.course import checks
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
    # the scan really covers package solutions, notebook answers, hidden tests, written answers
    assert "dw = float(np.sum(da * h))" in secret and "return 2 * v" in secret
    assert any("hidden test" in s for s in secret) and any("geometrically" in s for s in secret)
    assert leaks == []
    assert not list(out.rglob("*.pyc")) and not (out / "minirnn" / "_instructor_only.py").exists()
    assert (out / "README.md").is_file()
    assert report.stubbed == {"minirnn/cell.py": ["step", "step_backward"]}
    assert report.auto_points == 10 and report.manual_points == 2


def test_release_notebooks_are_nbgrader_student_versions(released):
    out, _ = released
    nb = nbformat.read(out / NB01, as_version=4)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    # the stub names the exercise after the function the region is in
    assert (
        'raise NotImplementedError("Exercise scale: write your answer' in by_id["ans_scale"].source
    )
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
# restoring cells (no kernel)


def test_restore_cells_puts_tests_back_and_keeps_answers():
    from rnn_core.course.grade import restore_cells
    from rnn_core.course.release import autograde_version, read_notebook

    ref = autograde_version(read_notebook(FIXTURE / NB01))
    student = nbformat.read(FIXTURE / NB01, as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in student.cells}
    cells["ans_scale"].source = "def scale(v):\n    return 3 * v"
    cells["test_scale"].source = "pass"
    cells["test_step"].metadata["nbgrader"]["points"] = 100
    student.cells.remove(cells["test_step_backward"])
    student.cells.append(nbformat.v4.new_code_cell("print('mine')"))
    forged = nbformat.v4.new_code_cell("pass")
    mark_cell(forged, "tests", "bonus", 50)
    student.cells.append(forged)

    merged, notes = restore_cells(student, ref)
    got = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in merged.cells}
    assert "bonus" not in got and "print('mine')" in [c.source for c in merged.cells]
    assert got["ans_scale"].source.endswith("3 * v")
    assert "### BEGIN HIDDEN TESTS" in got["test_scale"].source
    assert got["test_step"].metadata["nbgrader"]["points"] == 2
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in merged.cells]
    assert order.index("test_step_backward") == order.index("test_step") + 1
    assert set(notes) >= {
        "restored edited cell 'test_scale'",
        "restored the metadata of cell 'test_step'",
        "restored deleted cell 'test_step_backward'",
        "ignored an unknown graded cell 'bonus' (its nbgrader metadata was dropped)",
    }


# ---------------------------------------------------------------------------------------------
# the process pool


def _job_that_may_die(job):
    if job == "die":
        os._exit(3)
    if job == "raise":
        raise ValueError("boom")
    return job * 2


def test_pool_reports_a_dead_worker_and_finishes_the_others():
    from rnn_core.course.grade import _run_pool

    res = _run_pool(
        _job_that_may_die,
        ["a", "die", "b", "raise", "c"],
        2,
        on_lost=lambda job, why: f"lost {job}: {why}",
    )
    assert res[0] == "aa" and res[2] == "bb" and res[4] == "cc"
    assert res[1] == "lost die: the grading process died (exit code 3)"
    assert res[3] == "lost raise: grader error: ValueError: boom"


@pytest.mark.slow
def test_a_loop_that_swallows_the_interrupt_gets_the_kernel_restarted(tmp_path):
    from rnn_core.course.grade import _execute, _kernel_env

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 41"),
            nbformat.v4.new_code_cell(
                "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
            ),
            nbformat.v4.new_code_cell("print(x + 1)"),
        ]
    )
    outcome, notes = _execute(
        nb, cwd=tmp_path, setup="pass", timeout=2, env=_kernel_env(tmp_path), max_restarts=2
    )
    assert outcome == ["ok", "timeout", "ok"]
    assert notes == [
        "cell 2 exceeded the 2 s limit and was stopped",
        "the kernel did not respond after the interrupt; restarted",
    ]
    assert nb.cells[1].outputs[-1]["ename"] == "CellTimeout"
    assert nb.cells[2].outputs[0]["text"] == "42\n"  # x came back: earlier cells replayed


# ---------------------------------------------------------------------------------------------
# grading: eight students, one run


def _solved(src_nb, rel_nb):
    """A release notebook with the source's answers typed in (a real student's file)."""
    nb = nbformat.from_dict(json.loads(json.dumps(rel_nb)))
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in src_nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return nb


def _cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def _make_students(release: Path, subs: Path) -> None:
    import shutil

    def student(name, *, solved=True, package="source"):
        d = subs / name
        shutil.copytree(
            FIXTURE / "minirnn" if package == "source" else release / "minirnn",
            d / "minirnn",
            ignore=shutil.ignore_patterns("_instructor_only.py", "__pycache__"),
        )
        nbs = {}
        for rel in (NB01, NB02):
            rel_nb = nbformat.read(release / rel, as_version=4)
            nbs[rel] = (
                _solved(nbformat.read(FIXTURE / rel, as_version=4), rel_nb) if solved else rel_nb
            )
        return d, nbs

    def save(d, nbs):
        for rel, nb in nbs.items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, d / rel)

    # alice: the instructor's solution, in her own copy of the package, which prints a marker
    d, nbs = student("alice")
    with open(d / "minirnn" / "__init__.py", "a") as f:
        f.write('\nprint("MARKER: alice\'s own minirnn")\n')
    save(d, nbs)
    # blank: the release, untouched
    save(*student("blank", solved=False, package="release"))
    # bug: one wrong sign in step_backward's dw
    d, nbs = student("bug")
    cell_py = d / "minirnn" / "cell.py"
    text = cell_py.read_text()
    assert "dw = float(np.sum(da * h))" in text
    cell_py.write_text(text.replace("dw = float(np.sum(da * h))", "dw = -float(np.sum(da * h))"))
    save(d, nbs)
    # loop: count_up never returns
    d, nbs = student("loop")
    _cell(
        nbs[NB02], "ans_count"
    ).source = "def count_up(n):\n    total = 0\n    while True:\n        total += 1\n"
    save(d, nbs)
    # crash: the answer cell kills the kernel
    d, nbs = student("crash")
    c = _cell(nbs[NB01], "ans_scale")
    c.source = "import os\nos._exit(1)\n" + c.source
    save(d, nbs)
    # tamper: wrong answer with its test edited away; a test deleted; points inflated
    d, nbs = student("tamper")
    _cell(nbs[NB01], "ans_scale").source = "def scale(v):\n    return 3 * v"
    _cell(nbs[NB01], "test_scale").source = "pass  # my test now"
    _cell(nbs[NB01], "test_step").metadata["nbgrader"]["points"] = 100
    nbs[NB01].cells.remove(_cell(nbs[NB01], "test_step_backward"))
    save(d, nbs)
    # cheat: step_backward loads the reference solution; a cell tries the installed rnn_core
    d, nbs = student("cheat")
    ref_file = (FIXTURE / "minirnn" / "cell.py").resolve()
    text = (d / "minirnn" / "cell.py").read_text()
    start, end = text.index("    ### BEGIN SOLUTION\n    pre_"), text.rindex("    ### END SOLUTION")
    stolen = (
        "    import importlib.util\n"
        f"    spec = importlib.util.spec_from_file_location('_ref', {str(ref_file)!r})\n"
        "    ref = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(ref)\n"
        "    dx, dh, dw = ref.step_backward(dout, x, h, w)\n"
    )
    (d / "minirnn" / "cell.py").write_text(text[:start] + stolen + text[end:])
    probe = (
        "import sys\n"
        "try:\n    import rnn_core\n    print('LEAK: rnn_core from', rnn_core.__file__)\n"
        "except ImportError as e:\n    print('no rnn_core:', type(e).__name__)\n"
        f"sys.path.insert(0, {str(FIXTURE.resolve())!r})\n"
        "for m in [m for m in sys.modules if m.startswith('minirnn')]:\n    del sys.modules[m]\n"
        "try:\n    import minirnn.cell\n    print('LEAK: minirnn from', minirnn.cell.__file__)\n"
        "except PermissionError as e:\n    print('import blocked:', e)\n"
        "try:\n"
        f"    print('LEAK:', open({str(ref_file)!r}).read()[:20])\n"
        "except PermissionError as e:\n    print('blocked:', e)\n"
    )
    nbs[NB02].cells.append(nbformat.v4.new_code_cell(probe))
    save(d, nbs)
    # missing: notebook 02 not handed in
    d, nbs = student("missing")
    del nbs[NB02]
    save(d, nbs)


@pytest.fixture(scope="module")
def graded(released, tmp_path_factory):
    from rnn_core.course.grade import grade

    out, _ = released
    base = tmp_path_factory.mktemp("grading")
    subs, results = base / "submissions", base / "results"
    _make_students(out, subs)
    res = grade(subs, FIXTURE, results, timeout=TIMEOUT, jobs=os.cpu_count())
    by_name = {r.student: r for r in res}
    with open(results / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return by_name, rows, results


def _outputs(results: Path, student: str, nb: str) -> str:
    graded_nb = nbformat.read(results / student / Path(nb).name, as_version=4)
    return "\n".join(
        o.get("text", "") + o.get("evalue", "")
        for c in graded_nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


def _points(row) -> dict[str, float]:
    return {k: float(row[k]) for k in MAX_AUTO}


@pytest.mark.slow
def test_grades_csv_has_a_row_per_student_and_a_column_per_exercise(graded):
    _, rows, results = graded
    assert sorted(rows) == ["alice", "blank", "bug", "cheat", "crash", "loop", "missing", "tamper"]
    header = next(csv.reader(open(results / "grades.csv")))
    assert header == [
        "student",
        "status",
        "message",
        "test_scale",
        "test_step",
        "test_step_backward",
        "q_why",
        "test_count",
        "test_seq",
        "total",
        "max",
        "manual_pending",
    ]
    assert all(row["max"] == "10" for row in rows.values())


@pytest.mark.slow
def test_instructor_solution_scores_everything_from_the_students_own_package(graded):
    by_name, rows, results = graded
    alice = rows["alice"]
    assert alice["status"] == "ok" and alice["total"] == "10"
    assert _points(alice) == MAX_AUTO
    assert alice["q_why"] == "" and alice["manual_pending"] == "2"  # waits for a human
    text = _outputs(results, "alice", NB01)
    assert "MARKER: alice's own minirnn" in text
    where = re.search(r"minirnn from (\S+)", text).group(1)
    assert "alice" in where and not where.startswith(str(FIXTURE.resolve()))


@pytest.mark.slow
def test_blank_release_scores_zero_on_every_code_exercise(graded):
    by_name, rows, _ = graded
    blank = rows["blank"]
    assert blank["status"] == "ok" and blank["total"] == "0" and blank["q_why"] == "0"
    assert set(_points(blank).values()) == {0.0}
    msgs = {c.grade_id: c.message for c in by_name["blank"].cells}
    assert msgs["test_step"].startswith("NotImplementedError: Exercise step: implement the body")
    assert msgs["test_scale"].startswith("NotImplementedError: Exercise scale: write your answer")


@pytest.mark.slow
def test_planted_bug_loses_exactly_that_exercise(graded):
    by_name, rows, _ = graded
    assert rows["bug"]["status"] == "ok"
    assert _points(rows["bug"]) == {**MAX_AUTO, "test_step_backward": 0}
    msg = next(c.message for c in by_name["bug"].cells if c.grade_id == "test_step_backward")
    assert msg.startswith("AssertionError: dw is off by") and "check its sign" in msg


@pytest.mark.slow
def test_infinite_loop_scores_zero_on_that_cell_and_the_rest_is_graded(graded):
    by_name, rows, _ = graded
    loop = rows["loop"]
    assert loop["status"] == "timeout"
    assert _points(loop) == {**MAX_AUTO, "test_count": 0}
    assert f"cell 3 (test_count) exceeded the {TIMEOUT:g} s limit" in loop["message"]
    cell = next(c for c in by_name["loop"].cells if c.grade_id == "test_count")
    assert cell.outcome == "timeout"


@pytest.mark.slow
def test_kernel_crash_is_reported_and_later_cells_are_graded(graded):
    by_name, rows, _ = graded
    crash = rows["crash"]
    assert crash["status"] == "crashed"
    assert "kernel died in cell 3 (ans_scale)" in crash["message"]
    # scale was never defined (its cell killed the kernel); everything after still counts
    assert _points(crash) == {**MAX_AUTO, "test_scale": 0}
    assert next(c for c in by_name["crash"].cells if c.grade_id == "test_scale").message.startswith(
        "NameError"
    )


@pytest.mark.slow
def test_edited_and_deleted_test_cells_are_restored(graded):
    by_name, rows, _ = graded
    tamper = rows["tamper"]
    assert tamper["status"] == "ok"
    assert _points(tamper) == {**MAX_AUTO, "test_scale": 0}  # restored test catches 3 * v
    assert "restored edited cell 'test_scale'" in tamper["message"]
    assert "restored deleted cell 'test_step_backward'" in tamper["message"]
    assert tamper["max"] == "10"  # the 100 points it claimed were reset


@pytest.mark.slow
def test_reference_solution_is_out_of_reach(graded):
    by_name, rows, results = graded
    cheat = rows["cheat"]
    assert _points(cheat) == {**MAX_AUTO, "test_step_backward": 0}
    msg = next(c.message for c in by_name["cheat"].cells if c.grade_id == "test_step_backward")
    assert msg.startswith("PermissionError: grading sandbox: open of")
    text = _outputs(results, "cheat", NB02)
    assert "LEAK" not in text
    assert "no rnn_core: ModuleNotFoundError" in text  # the editable install does not leak in
    assert "import blocked: grading sandbox: open of" in text  # sys.path games do not help
    assert "blocked: grading sandbox: open of" in text.replace("import blocked", "")


@pytest.mark.slow
def test_missing_notebook_is_reported_not_zeroed_silently(graded):
    by_name, rows, results = graded
    missing = rows["missing"]
    assert missing["status"] == "missing" and "02_loop.ipynb: not submitted" in missing["message"]
    assert missing["test_count"] == "0" and missing["total"] == "6"
    assert (
        "| test_count | 0 / 2 | missing: notebook missing |"
        in (results / "feedback" / "missing.md").read_text()
    )


@pytest.mark.slow
def test_feedback_gives_points_and_the_failing_message(graded):
    _, _, results = graded
    text = (results / "feedback" / "bug.md").read_text()
    assert "**Autograded score:** 7 / 10" in text
    assert "| test_step_backward | 0 / 3 | failed: AssertionError: dw is off by" in text
    assert "| test_step | 2 / 2 | passed |" in text
    assert "| q_why | pending / 2 | manual: graded by hand |" in text
    assert sorted(p.stem for p in (results / "feedback").glob("*.md")) == sorted(graded[1])


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
    argv = [
        "grade",
        str(tmp_path / "submitted"),
        "--assignment",
        "rnn1",
        "--source",
        str(FIXTURE),
        "--out",
        str(tmp_path / "results"),
    ]
    assert main(argv) == 0
    row = next(csv.DictReader(open(tmp_path / "results" / "grades.csv")))
    assert row["student"] == "ghost" and row["status"] == "missing" and row["total"] == "0"
    assert row["message"] == "nothing submitted (rnn1 not found)" and row["max"] == "10"
    assert "ghost" in capsys.readouterr().out
