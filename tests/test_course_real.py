"""The real course (notebooks/NN_*.ipynb + rnn_core) as graded exercises: points, release, grading.

tests/test_course.py proves the machinery on a small fixture course; this file checks the REAL
course: the exercise table adds up to 100, the student release leaks no solution or hidden-test
line and runs up to the first unimplemented exercise, and grading gives the instructor's code
100%, the blank release 0 on every code exercise, and a planted bug in lstm_step_backward exactly
that exercise's points.

Grading runs whole notebooks (a kernel each, with the training cells), so the grading tests use
the notebooks in ``GRADED`` (00 and the LSTM notebook 08 by default: five of the nine code
exercises, about a minute on two cores). ``COURSE_REAL_NOTEBOOKS='notebooks/[0-9][0-9]_*.ipynb'``
grades the whole course with the same assertions (several minutes; see docs/instructors.md);
``COURSE_REAL_SOURCE=DIR`` checks a course source other than this checkout.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import nbformat
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
}
GRADED = os.environ.get("COURSE_REAL_NOTEBOOKS", "notebooks/0[08]_*.ipynb")
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


def test_every_test_cell_has_a_self_check_and_hidden_tests():
    for gid, (prefix, _, manual) in EXERCISES.items():
        cell = _graded_cells(_nb(prefix))[gid]
        if manual:
            assert cell.cell_type == "markdown" and "BEGIN SOLUTION" in cell.source, gid
            continue
        regions = find_regions(cell.source, gid)
        hidden = [r for r in regions if r.kind == "hidden"]
        assert len(hidden) == 1, f"{gid}: one hidden-test region expected"
        lines = cell.source.split("\n")
        visible = "\n".join(lines[: hidden[0].start])
        secret = "\n".join(hidden[0].body(lines))
        # the visible part explains failures; the hidden part checks more (other shapes,
        # gradients, edge cases) and says what to fix too
        assert re.search(r"assert |check_close|check_gradient", visible), gid
        assert len(secret.split("\n")) > 15, gid
        assert "hint=" in secret or re.search(r"assert .*, \(?f?\"", secret), gid


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
    # the scan covers package solutions, answer cells, hidden tests and written answers
    assert "dprev_c = dc * f" in secret and "J = dphi[:, :, None] * Wh.T[None, :, :]" in secret
    assert "_hidden_lstm_step_backward()" in secret
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
        cell = _graded_cells(out / _nb(prefix).relative_to(ROOT))[gid]
        assert "HIDDEN" not in cell.source and "_hidden_" not in cell.source, gid
        assert (
            ("YOUR ANSWER HERE" in cell.source)
            if manual
            else ("assert" in cell.source or "check_" in cell.source)
        )
    rel06 = (out / _nb("06").relative_to(ROOT)).read_text()
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
    path = out / _nb("00").relative_to(ROOT)
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
# grading: the instructor's code, the blank release, one planted bug


def _answers(src: Path, rel_nb):
    nb = nbformat.from_dict(rel_nb)
    src_cells = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(src, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in src_cells:
            c.source = src_cells[gid]
    return nb


@pytest.fixture(scope="module")
def graded(release_dir, tmp_path_factory):
    from rnn_core.course.grade import grade

    out, _ = release_dir
    cfg = load_config(ROOT, notebooks=[GRADED])
    base = tmp_path_factory.mktemp("real-grading")
    subs = base / "submissions"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("instructor", "bug", "blank"):
        d = subs / name
        pkg = ROOT / "rnn_core" if name != "blank" else out / "rnn_core"
        shutil.copytree(pkg, d / "rnn_core", ignore=ignore)
        for rel in cfg.notebook_paths(ROOT):
            rel_nb = nbformat.read(out / rel, as_version=4)
            nb = rel_nb if name == "blank" else _answers(ROOT / rel, rel_nb)
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, d / rel)
    lstm = subs / "bug" / "rnn_core" / "lstm.py"
    text = lstm.read_text()
    assert text.count(BUG[0]) == 1
    lstm.write_text(text.replace(*BUG))
    results = base / "results"
    res = grade(subs, ROOT, results, config=cfg, jobs=2)
    with open(results / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    expected = {e.grade_id: e for e in list_exercises(ROOT, cfg)}
    return {r.student: r for r in res}, rows, expected


@pytest.mark.slow
def test_instructor_code_scores_every_autograded_point(graded):
    res, rows, expected = graded
    r = res["instructor"]
    assert r.status == "ok", r.message
    assert r.max_total == sum(e.points for e in expected.values() if not e.manual) > 0
    assert r.total == r.max_total
    assert float(rows["instructor"]["total"]) == r.max_total
    assert all(c.outcome == "passed" for c in r.cells if not c.manual)
    assert r.pending_manual == sum(e.points for e in expected.values() if e.manual)


@pytest.mark.slow
def test_blank_release_scores_zero_on_every_code_exercise(graded):
    res, rows, expected = graded
    r = res["blank"]
    assert r.status == "ok", r.message  # failures are results, not crashes
    code = [c for c in r.cells if not c.manual]
    assert {c.grade_id for c in code} == {g for g, e in expected.items() if not e.manual}
    assert all(c.points == 0 for c in code)
    assert all("NotImplementedError" in c.message and "Exercise " in c.message for c in code)
    assert float(rows["blank"]["total"]) == 0


@pytest.mark.slow
def test_planted_bug_in_lstm_step_backward_loses_exactly_that_exercise(graded):
    res, rows, expected = graded
    r = res["bug"]
    assert r.status == "ok", r.message
    lost = {c.grade_id: c.max_points - c.points for c in r.cells if not c.manual}
    assert lost.pop("test_lstm_step_backward") == EXERCISES["test_lstm_step_backward"][1]
    assert all(v == 0 for v in lost.values()), lost
    cell = next(c for c in r.cells if c.grade_id == "test_lstm_step_backward")
    assert "dprev_c is off by" in cell.message
    assert float(rows["bug"]["total"]) == r.max_total - 8
