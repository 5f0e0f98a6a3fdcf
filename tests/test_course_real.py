"""The real course (notebooks/NN_*.ipynb + rnn_core) as graded exercises: points, release, grading.

tests/test_course.py proves the machinery on a small fixture course; this file checks the REAL
course: the exercise table adds up to 100, every test cell has a grader spec
(rnn_core/course/exercises/), the student release leaks no solution line and runs up to the
first unimplemented exercise, and grading (the harness, D2: seconds per submission) gives the
instructor's code 100%, the blank release 0 on every code exercise, a planted bug in
lstm_step_backward exactly that exercise's points, and an exercise delegated to another public
function 0. The specs of 05 and 06 are also checked against bugs planted in a copy of the real
source (one textual change inside an exercise region).
``COURSE_REAL_SOURCE=DIR`` checks a course source other than this checkout.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnn_core.course.config import load_config
from rnn_core.course.markers import find_regions
from rnn_core.course.release import list_exercises

ROOT = Path(os.environ.get("COURSE_REAL_SOURCE") or Path(__file__).resolve().parents[1]).resolve()

# grade id -> (notebook prefix, points, graded by hand)
EXERCISES = {
    "test_rnn_step": ("00", 12, False),
    "test_rnn_sequence": ("00", 12, False),
    "q_s19_shared_weights": ("00", 4, True),
    "test_word_embedding_backward": ("01", 8, False),
    "test_temporal_softmax_loss": ("01", 10, False),
    "test_truncated_bptt": ("05", 12, False),
    "test_jacobian_product": ("06", 12, False),
    "test_clip_grad_norm": ("07", 8, False),
    "q_s15_rescaling": ("07", 4, True),
    "test_lstm_step_forward": ("08", 6, False),
    "test_lstm_step_backward": ("08", 8, False),
    "q_s17_lstm_highway": ("08", 4, True),
}
# every exercise region of the package, and the notebook-cell exercises
PACKAGE_EXERCISES = {
    "rnn_core/rnn.py": ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"],
    "rnn_core/layers.py": ["word_embedding_backward", "temporal_softmax_loss"],
    "rnn_core/clipping.py": ["clip_grad_norm"],
    "rnn_core/lstm.py": ["lstm_step_forward", "lstm_step_backward"],
    "rnn_core/analysis/jacobians.py": ["jacobians_along"],
    "rnn_core/analysis/lyapunov.py": ["qr_step"],
    "rnn_core/train.py": ["tbptt_pass"],
}
BUG = ("    dprev_c = dc * f\n", "    dprev_c = -dc * f\n")  # one wrong sign in lstm_step_backward


def _nb(prefix: str) -> Path:
    (path,) = ROOT.glob(f"notebooks/{prefix}_*.ipynb")
    return path


def _graded_cells(path: Path) -> dict[str, nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


# ---------------------------------------------------------------------------------------------
# the exercise table


def test_points_add_up_to_100_with_unique_grade_ids():
    found = list_exercises(ROOT)  # raises on a duplicate grade id
    table = {e.grade_id: (Path(e.notebook).name[:2], e.points, e.manual) for e in found}
    assert table == EXERCISES
    assert sum(e.points for e in found) == 100
    assert len({e.grade_id for e in found}) == len(found)


def test_every_test_cell_is_a_self_check_with_a_grader_spec():
    from rnn_core.course.exercises import EXERCISES as SPECS

    for gid, (prefix, _, manual) in EXERCISES.items():
        cell = _graded_cells(_nb(prefix))[gid]
        if manual:
            assert cell.cell_type == "markdown" and "BEGIN SOLUTION" in cell.source, gid
            continue
        # the grader draws its own cases (D2): no hidden tests in a notebook, a spec instead
        assert not [r for r in find_regions(cell.source, gid) if r.kind == "hidden"], gid
        assert re.search(r"assert |check_\w+\(", cell.source), gid
        assert gid in SPECS and len(SPECS[gid]["hidden"](np.random.default_rng(0))) >= 4, gid


def test_the_package_exercises_are_where_the_table_says():
    for rel, names in PACKAGE_EXERCISES.items():
        text = (ROOT / rel).read_text()
        assert [r.name for r in find_regions(text, rel) if r.kind == "solution"] == names


# ---------------------------------------------------------------------------------------------
# the student release


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    from rnn_core.course.release import release

    out = tmp_path_factory.mktemp("real") / "release"
    report = release(ROOT, out)
    return out, report


def _secret_lines() -> set[str]:
    """Independent of release.course_secrets: non-trivial lines between markers (and written
    answers) in the source, minus lines that also occur outside them anywhere."""
    marker = re.compile(r"^\s*#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)")
    secret: set[str] = set()
    public: set[str] = set()

    def scan(text: str) -> None:
        inside = False
        for ln in text.split("\n"):
            s = ln.strip()
            if marker.match(ln):
                inside = s.lstrip("# ").startswith("BEGIN")
            elif inside:
                if len(s) >= 6:
                    secret.add(s)
            else:
                public.add(s)

    cfg = load_config(ROOT)
    for rel in cfg.notebook_paths(ROOT):
        for c in nbformat.read(ROOT / rel, as_version=4).cells:
            scan(c.source)
    for p in (ROOT / "rnn_core").rglob("*.py"):
        scan(p.read_text())
    return secret - public


def test_release_has_no_solution_or_hidden_test_line(release_dir):
    out, report = release_dir
    secret = _secret_lines()
    # the scan covers package solutions, answer cells and written answers
    assert "dprev_c = dc * f" in secret and "J = dphi[:, :, None] * Wh.T[None, :, :]" in secret
    assert any("A vanished gradient is not a correctly pointed gradient" in s for s in secret)
    leaks = []
    for p in out.rglob("*"):
        if not p.is_file() or p.suffix == ".png":
            continue
        lines = {ln.strip() for ln in p.read_text(errors="replace").splitlines()}
        if p.suffix == ".ipynb":
            for c in nbformat.read(p, as_version=4).cells:
                lines |= {ln.strip() for ln in c.source.splitlines()}
        leaks += [f"{p.relative_to(out)}: {s}" for s in sorted(secret & lines)]
    assert leaks == []
    assert report.auto_points == 88 and report.manual_points == 12
    assert report.stubbed == PACKAGE_EXERCISES


def test_release_notebooks_keep_self_checks_and_drop_hidden_tests(release_dir):
    out, _ = release_dir
    for gid, (prefix, _, manual) in EXERCISES.items():
        cell = _graded_cells(out / _nb(prefix).name)[gid]
        assert "HIDDEN" not in cell.source and "_hidden_" not in cell.source, gid
        assert (
            ("YOUR ANSWER HERE" in cell.source)
            if manual
            else ("assert" in cell.source or "check_" in cell.source)
        )
    rel06 = (out / _nb("06").name).read_text()
    assert "Exercise naive_product_sv: write your answer in this cell" in rel06  # the warm-up
    for rel, name in (("jacobians.py", "jacobians_along"), ("lyapunov.py", "qr_step")):
        text = (out / "rnn_core" / "analysis" / rel).read_text()
        assert f"Exercise {name}: implement the body of {name} in rnn_core/analysis/{rel} " \
            "(see notebook 06_" in text
    stub = (out / "rnn_core" / "lstm.py").read_text()
    assert (
        "Exercise lstm_step_backward: implement the body of lstm_step_backward in "
        "rnn_core/lstm.py (see notebook 08_" in stub
    )


def test_student_release_runs_up_to_the_first_unimplemented_exercise(release_dir):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out, _ = release_dir
    path = out / _nb("00").name
    nb = nbformat.read(path, as_version=4)
    # the release's own rnn_core, not the editable install of the source
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(out)!r})\n"
        "import rnn_core\n"
        f"assert rnn_core.__file__.startswith({str(out)!r}), rnn_core.__file__\n"
    )
    nb.cells.insert(0, nbformat.v4.new_code_cell(probe))
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    failed = [
        i
        for i, c in enumerate(nb.cells)
        if any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    assert len(failed) == 1
    first = failed[0]
    error = next(o for o in nb.cells[first].outputs if o.output_type == "error")
    assert error.ename == "NotImplementedError"
    assert re.match(
        r"Exercise rnn_(step_)?(forward|backward): implement the body of ", error.evalue
    )
    assert "rnn_core/rnn.py (see notebook 00_sequence_patterns)" in error.evalue
    assert "Exercise rnn_" in str(err.value)
    # every code cell before it ran
    ran = [c.execution_count is not None for c in nb.cells[:first] if c.cell_type == "code"]
    assert ran and all(ran)


# ---------------------------------------------------------------------------------------------
# grading through the harness: the instructor's code, the blank release, a planted bug, delegation

SECRET = "real-course-test"
# A hostile student who has written the step exercise of notebook 00 (test_rnn_step) hands the
# sequence exercise (test_rnn_sequence) to the library's loops over time: the forward to the
# models' masked step loop, the backward to the analysis engine's walk back. Both loops run on
# rnn_forward / rnn_backward one time step at a time (docs/architecture.md, D1), so the handed-off
# exercise only calls itself again; on a loop over rnn_step_* this scored all 12 points.
CHEAT_FORWARD = (
    "    xa = x @ Wx + b  # (N, T, H): input part of a_t for every step, one matmul\n",
    "    from rnn_core.models.recurrent import steps_forward\n"
    "    out, _, _, _ = steps_forward('rnn', x, h0, None, lambda t: (Wx, Wh, b))\n"
    "    h_all = np.concatenate([h0[:, None], out], axis=1)\n"
    "    return out.copy(), RNNCache(x=x, Wx=Wx, Wh=Wh, h_all=h_all)\n"
    "    xa = x @ Wx + b  # (N, T, H): input part of a_t for every step, one matmul\n",
)
CHEAT_BACKWARD = (
    "    T = T1 - 1\n",
    "    from rnn_core.analysis.jacobians import VanillaTrajectory, walk_back\n"
    "    traj = VanillaTrajectory(a=None, h=cache.h_all, dphi=1.0 - cache.h_all[:, 1:] ** 2,\n"
    "                             activation='tanh', x=cache.x, Wx=cache.Wx, Wh=cache.Wh)\n"
    "    dx, sums = np.zeros(cache.x.shape), [0.0, 0.0, 0.0]\n"
    "    def hook(t, grads):\n"
    "        dx[:, t - 1] = grads[0]\n"
    "        for i in range(3):\n"
    "            sums[i] = sums[i] + grads[2 + i]\n"
    "        return grads[1] + (dh[:, t - 2] if t >= 2 else 0.0)\n"
    "    dh0 = walk_back(traj, dh[:, -1], hook)\n"
    "    return dx, dh0, sums[0], sums[1], sums[2]\n"
    "    T = T1 - 1\n",
)
# The same student's other routes, found by a hostile read of the release (session 12): the
# analysis engine's sigmoid RNN is a tanh RNN through sigmoid(a) = (1 + tanh(a/2)) / 2, and the
# LSTM Jacobian's diag(v) W^T blocks are notebook 06's exercise. Both now run on the exercise.
CHEAT_SIGMOID = (
    CHEAT_FORWARD[0],
    "    from rnn_core.analysis.jacobians import vanilla_trajectory\n"
    "    traj = vanilla_trajectory(x, (h0 + 1.0) / 2.0, 2.0 * Wx, 4.0 * Wh,\n"
    "                              2.0 * b - 2.0 * Wh.sum(axis=0), 'sigmoid')\n"
    "    h_all = 2.0 * traj.h - 1.0\n"
    "    h_all[:, 0] = h0\n"
    "    return h_all[:, 1:].copy(), RNNCache(x=x, Wx=Wx, Wh=Wh, h_all=h_all)\n"
    + CHEAT_FORWARD[0],
)
CHEAT_JACOBIANS = (
    "    J = dphi[:, :, None] * Wh.T[None, :, :]\n",
    "    T_, H_ = dphi.shape\n"
    "    half = np.full((T_, H_), 0.5)\n"
    "    lstm = LSTMTrajectory(i=half, f=half, o=half, g=4.0 * dphi, c=np.zeros((T_ + 1, H_)),\n"
    "                          h=np.zeros((T_ + 1, H_)))\n"
    "    W4 = np.zeros((H_, 4 * H_))\n"
    "    W4[:, :H_] = Wh\n"
    "    return lstm_jacobians(lstm, W4)[:, H_:, :H_]\n"
    "    J = dphi[:, :, None] * Wh.T[None, :, :]\n",
)
DELEGATE = (  # lstm_step_forward handed to the sequence function of the same module
    "    a = x @ Wx + prev_h @ Wh + b\n",
    "    h_seq, c_seq, _ = lstm_forward_with_cells(x[:, None], prev_h, Wx, Wh, b, prev_c)\n"
    "    next_h, next_c = h_seq[:, 0], c_seq[:, 0]\n"
    "    cache = None\n"
    "    return next_h, next_c, cache\n"
    "    a = x @ Wx + prev_h @ Wh + b\n",
)


def _in_source(call: str) -> bool:
    module, _, name = call.partition(":")
    path = ROOT / (module.replace(".", "/") + ".py")
    return path.is_file() and f"def {name}(" in path.read_text()


def _have_reference() -> set[str]:
    """Exercises whose Layer A functions exist in this source (05 and 06 arrive with #9)."""
    from rnn_core.course.exercises import EXERCISES as SPECS

    return {g for g, s in SPECS.items() if all(_in_source(c) for c in s["calls"])}


@pytest.fixture(scope="module")
def graded(release_dir, tmp_path_factory):
    from rnn_core.course.grade import grade
    from rnn_core.course.sandbox import Limits, Sandbox, probe

    out, _ = release_dir
    base = tmp_path_factory.mktemp("real-grading")
    subs = base / "submissions"
    ignore = shutil.ignore_patterns("__pycache__", "_kernels")
    shutil.copytree(ROOT / "rnn_core", subs / "instructor" / "rnn_core", ignore=ignore)
    shutil.copytree(ROOT / "notebooks", subs / "instructor" / "notebooks")  # source layout
    shutil.copytree(out, subs / "blank")
    edits = {"bug": [("lstm.py", BUG)], "delegate": [("lstm.py", DELEGATE)],
             "cheat": [("rnn.py", CHEAT_FORWARD), ("rnn.py", CHEAT_BACKWARD)],
             "cheat_sigmoid": [("rnn.py", CHEAT_SIGMOID)],
             "cheat_jacobians": [("analysis/jacobians.py", CHEAT_JACOBIANS)]}
    for name, changes in edits.items():
        shutil.copytree(out, subs / name)
        shutil.rmtree(subs / name / "rnn_core")
        shutil.copytree(ROOT / "rnn_core", subs / name / "rnn_core", ignore=ignore)
        for file, (old, new) in changes:
            path = subs / name / "rnn_core" / file
            text = path.read_text()
            assert text.count(old) == 1, name
            path.write_text(text.replace(old, new))
    # under the OS sandbox with the default limits when this machine has one
    reason = probe()
    box = Sandbox(Limits(wall_seconds=120), backend="none" if reason else "bwrap")
    results = base / "results"
    res = grade(subs, ROOT, results, sandbox=box, no_sandbox=bool(reason), secret=SECRET, jobs=2)
    with open(results / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return {r.student: r for r in res}, rows, results


AUTO = {g: p for g, (_, p, manual) in EXERCISES.items() if not manual}


def test_instructor_code_scores_every_point_the_source_can_grade(graded):
    res, rows, _ = graded
    r = res["instructor"]
    assert r.status == "ok", r.message
    have = _have_reference()
    got = {e.grade_id: e.points for e in r.exercises if e.status != "manual"}
    assert {g: got[g] for g in have} == {g: AUTO[g] for g in have}
    assert r.pending_manual == 12  # three written answers, read as text for the instructor
    assert rows["instructor"]["message"] == "; ".join(
        f"{g}: not graded (the course source fails it)" for g in AUTO if g not in have)
    assert all(len(t) > 100 for t in r.answers.values())


def test_instructor_code_scores_all_88_autograded_points(graded):
    res, rows, _ = graded
    assert rows["instructor"]["total"] == "88" and rows["instructor"]["message"] == ""


def test_blank_release_scores_zero_and_names_each_missing_exercise(graded):
    res, rows, _ = graded
    r = res["blank"]
    assert r.status == "ok", r.message  # failures are results, not crashes
    assert rows["blank"]["total"] == "0" and r.pending_manual == 0  # answers left blank
    for e in r.exercises:
        if e.grade_id in _have_reference():
            assert re.fullmatch(r"public case \(.*\): NotImplementedError: Exercise \w+: "
                                r"implement the body of \w+ in rnn_core/\S+\.py \(see notebook "
                                r"\d\d_\w+\)", e.message), e.message


def test_planted_bug_in_lstm_step_backward_loses_exactly_that_exercise(graded):
    res, rows, _ = graded
    r = res["bug"]
    have = _have_reference()
    got = {e.grade_id: e.points for e in r.exercises if e.grade_id in have}
    assert got == {g: 0.0 if g == "test_lstm_step_backward" else AUTO[g] for g in have}
    e = next(e for e in r.exercises if e.grade_id == "test_lstm_step_backward")
    assert re.fullmatch(r"public case \(N=3, D=4, H=5\): dprev_c off by \S+ relative", e.message)


def test_delegating_an_exercise_to_another_public_function_scores_zero(graded):
    res, rows, _ = graded
    assert rows["delegate"]["test_lstm_step_forward"] == "0"


def test_handing_the_sequence_exercise_to_the_library_loops_scores_zero(graded):
    res, rows, _ = graded
    assert rows["cheat"]["test_rnn_sequence"] == "0"
    assert rows["cheat"]["test_rnn_step"] == str(AUTO["test_rnn_step"])  # the step is the student's
    e = next(e for e in res["cheat"].exercises if e.grade_id == "test_rnn_sequence")
    assert "RecursionError" in e.message, e.message


@pytest.mark.parametrize("name,grade_id", [("cheat_sigmoid", "test_rnn_sequence"),
                                           ("cheat_jacobians", "test_jacobian_product")])
def test_the_library_routes_around_an_exercise_score_zero(graded, name, grade_id):
    res, rows, _ = graded
    assert rows[name][grade_id] == "0"
    e = next(e for e in res[name].exercises if e.grade_id == grade_id)
    assert "RecursionError" in e.message, e.message


def test_student_feedback_holds_no_hidden_input_or_expected_value(graded, tmp_path):
    from test_grade_hostile import feedback_leaks

    _, _, results = graded
    pages = sorted(p.name for p in (results / "feedback" / "bug" / "course").iterdir())
    assert pages == sorted([*(_nb(n).stem + ".html" for n in ("00", "01", "05", "06", "07", "08")),
                            "index.html"])
    assert feedback_leaks(ROOT, SECRET, results / "feedback", tmp_path) == []


# ---------------------------------------------------------------------------------------------
# the specs of 05 and 06 against bugs planted in the real source (no copy of the solution here)

# name -> (grade id, file, the solution's text, the bug planted in its place, passes anyway)
PLANTED = {
    "one update after the last chunk": (
        "test_truncated_bptt", "rnn_core/train.py",
        "        optimizer.step(model.params, grads)\n    ### END SOLUTION",
        "    optimizer.step(model.params, grads)\n    ### END SOLUTION", False),
    "state not carried": (
        "test_truncated_bptt", "rnn_core/train.py",
        "        loss, grads, state = model.loss_stateful(",
        "        loss, grads, _ = model.loss_stateful(", False),
    "chunks overlap": (
        "test_truncated_bptt", "rnn_core/train.py",
        "slice(start, start + k)", "slice(max(start - 1, 0), start + k)", False),
    "Wh instead of Wh.T": (
        "test_jacobian_product", "rnn_core/analysis/jacobians.py",
        "J = dphi[:, :, None] * Wh.T[None, :, :]", "J = dphi[:, :, None] * Wh[None, :, :]",
        False),
    "columns of Q flipped": (  # a QR factor is unique only up to the signs of its columns
        "test_jacobian_product", "rnn_core/analysis/lyapunov.py",
        "    Q_next, R = np.linalg.qr(J @ Q)\n",
        "    Q_next, R = np.linalg.qr(J @ Q)\n    Q_next = -Q_next\n", True),
    "log of R signed": (
        "test_jacobian_product", "rnn_core/analysis/lyapunov.py",
        "log_abs_diag_R = np.log(np.abs(np.diag(R)))",
        "log_abs_diag_R = np.log(np.abs(np.diag(R))) * np.sign(np.diag(R))", False),
}


def _source_copy(root: Path, plant: tuple[str, str, str] | None = None) -> Path:
    """The course source's rnn_core under root, with one textual change in one file."""
    shutil.copytree(ROOT / "rnn_core", root / "rnn_core",
                    ignore=shutil.ignore_patterns("__pycache__", "_kernels"))
    if plant is not None:
        rel, old, new = plant
        text = (root / rel).read_text()
        (start,) = [m.start() for m in re.finditer(re.escape(old), text)]  # exactly once
        regions = [r for r in find_regions(text, rel) if r.kind == "solution"]
        line = text.count("\n", 0, start)  # 0-based, as Region counts
        assert any(r.start <= line <= r.end for r in regions), (rel, old)  # inside an exercise
        (root / rel).write_text(text.replace(old, new))
    return root


def _judge(tmp: Path, gid: str, student: Path):
    from rnn_core.course.cases import draw_cases, load_exercises, write_inputs
    from rnn_core.course.produce import expected_outputs, make_tools, produce
    from rnn_core.course.sandbox import Limits, Sandbox
    from rnn_core.course.score import score_exercise

    ex = next(e for e in load_exercises(ROOT / "rnn_core/course/exercises",
                                        list_exercises(ROOT)) if e.grade_id == gid)
    tools = make_tools(ROOT / "rnn_core/course/exercises", tmp / "tools")
    cases = draw_cases(ex, SECRET)
    write_inputs(tmp / "in.npz", cases)
    want = expected_outputs(ex, cases, tools, ROOT, tmp / "in.npz", tmp, 60)
    assert not isinstance(want, str), want
    run = produce(Sandbox(Limits(wall_seconds=60), backend="none"), tools, student,
                  tmp / "in.npz", gid, tmp / "out")
    assert run.status == "ok", run.message
    return score_exercise(cases, tmp / "out", want, ex.tol)


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_specs_of_05_and_06_catch_each_planted_bug(tmp_path, bug):
    gid, rel, old, new, passes = PLANTED[bug]
    v = _judge(tmp_path, gid, _source_copy(tmp_path / "student", (rel, old, new)))
    assert v.passed is passes, v.message
    if not passes:
        assert re.fullmatch(r"(public|hidden) case \(.*\): .+", v.message), v.message


def test_specs_of_05_and_06_pass_the_unchanged_source(tmp_path):
    for gid in ("test_truncated_bptt", "test_jacobian_product"):
        v = _judge(tmp_path / gid, gid, _source_copy(tmp_path / gid / "student"))
        assert v.passed and v.message == "6 cases passed", (gid, v.message)
