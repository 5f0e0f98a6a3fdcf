"""Hostile submissions against the grader (issue 10), on the fixture course.

Every student below starts from the release completed with the instructor's package (10/10) and
adds one trick; one grading run covers them all. Each test asserts the exact points, status and
message: a trick may cost its author points, never raise them, and never touch anyone else.
The OS-level attacks (reading the reference, vandalising classmates, floods) are the sandbox's
suite; here the grader runs the harness without isolation, so what is shown is that the verdict
does not depend on anything the student's process does besides producing values.
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnn_core.course.sandbox import Limits, Sandbox

FIXTURE = Path(__file__).parent / "course_fixture"
FULL = {"test_scale": 1, "test_step": 2, "test_step_backward": 3, "test_count": 2, "test_seq": 2}
WALL = 8.0  # per exercise: the endless loop's cost; a normal run takes about a second
SECRET = "hostile-secret"

INIT = "minirnn/__init__.py"
CELL = "minirnn/cell.py"
BASICS = "minirnn/basics.py"
STEP_BODY = "    out = np.tanh(x + w * h)\n"


def _append(path: str, code: str):
    return lambda d: (d / path).write_text((d / path).read_text() + "\n" + code + "\n")


def _replace(path: str, old: str, new: str):
    def edit(d: Path) -> None:
        text = (d / path).read_text()
        assert old in text, (path, old)
        (d / path).write_text(text.replace(old, new))

    return edit


def _stub_all(d: Path, release: Path) -> None:
    shutil.rmtree(d / "minirnn")
    shutil.copytree(release / "minirnn", d / "minirnn")


FORGE = """
import json as _j, os as _o, numpy as _np
for _i in range(5):
    _np.savez(f"case{_i}.npz", out=_np.array(6.0), h_next=_np.zeros(2), dx=_np.zeros((2, 4)))
    with open(f"case{_i}.json", "w") as _f:
        _j.dump({"status": "ok"}, _f)
for _name in ("result.json", "grades.csv"):
    open(_name, "w").write("alice,ok,,1,2,3,,2,2,10,10,0,wall")
_o._exit(0)
"""

PICKLE = """
import os as _o, pickle as _p, zipfile as _z


class _Boom:
    def __reduce__(self):
        return (open, ({marker!r}, "w"))


import numpy as _np
_a = _np.empty(1, dtype=object)
_a[0] = _Boom()
_np.save("boom.npy", _a, allow_pickle=True)
with _z.ZipFile("case0.npz", "w") as _zf:
    _zf.write("boom.npy", "out.npy")
open("case0.json", "w").write('{{"status": "ok"}}')
_o._exit(0)
"""

# the inputs file the harness was given, read from its command line (any backend): its keys
LIST_INPUTS = """    import sys as _s
    import numpy as _np
    _f = _np.load(_s.argv[_s.argv.index("--inputs") + 1])
    raise ValueError("KEYS " + " ".join(sorted(_f.files)))
"""

# the hidden case (N=3, D=4) of test_step, the only 2-D in.x, gets an extra output whose name
# carries its inputs
EXTRA_NAMES = """
import numpy as _np
_savez = _np.savez


def _leaky_savez(file, **kw):
    x = kw.get("in.x")
    if x is not None and x.ndim == 2:
        kw["LEAK_" + "_".join(f"{v:.6f}" for v in x.ravel()[:3]).replace(".", "p")] = _np.zeros(1)
    _savez(file, **kw)


_np.savez = _leaky_savez
"""

# same case: an .npz whose member's name carries the inputs (rejected, and named, by score)
MEMBER_NAME = """
import numpy as _np
import zipfile as _zf
_savez = _np.savez


def _leaky_savez(file, **kw):
    x = kw.get("in.x")
    if x is not None and x.ndim == 2:
        with _zf.ZipFile(file, "w") as z:
            z.writestr("LEAK_" + "_".join(f"{v:.6f}" for v in x.ravel()[:3]) + ".txt", "")
        return
    _savez(file, **kw)


_np.savez = _leaky_savez
"""

# the harness's status file of every case of test_scale: 4000 nested lists (RecursionError)
NESTED_STATUS = """    import json as _j
    _j.dump = lambda obj, f, **k: f.write("[" * 4000)
    out = 2 * v
"""

# name -> how the solved release is changed (blank: the release's stubs stay)
STUDENTS = {
    "hooks_blank": ("blank", _append(INIT, (
        "import builtins, sys\n"
        "sys.excepthook = lambda *a: None\n"
        "builtins.print = lambda *a, **k: None\n"
        "try:\n    get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "except NameError:\n    pass\n"))),
    "patched_numpy_blank": ("blank", _append(INIT, (
        "import numpy as np, builtins\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.max = lambda *a, **k: 0.0\n"
        "np.isfinite = lambda a: np.ones(np.shape(a), bool)\n"
        "builtins.abs = lambda v: 0\n"))),
    "exit_in_backward": ("solved", _replace(
        CELL, "    pre_activation = x + w * h\n",
        "    import os\n    os._exit(3)\n    pre_activation = x + w * h\n")),
    "sys_exit_in_scale": ("solved", _replace(
        BASICS, "    out = 2 * v\n", "    import sys\n    sys.exit(0)\n")),
    "loops_forever": ("solved", _replace(
        BASICS, "    for i in range(n):\n",
        "    while True:\n        pass\n    for i in range(n):\n")),
    "forges_results": ("blank", _append(INIT, FORGE)),
    "pickles": ("blank", None),  # filled in by the fixture (needs a marker path)
    "complex_out": ("solved", _replace(CELL, STEP_BODY, "    out = np.tanh(x + w * h) + 0j\n")),
    "nan_out": ("solved", _replace(CELL, STEP_BODY, "    out = np.tanh(x + w * h) * np.nan\n")),
    "huge_out": ("solved", _replace(CELL, STEP_BODY, "    out = np.zeros(5_000_000)\n")),
    "object_out": ("solved", _replace(
        CELL, STEP_BODY, "    out = np.array([object()] * x.size).reshape(x.shape)\n")),
    "wrong_shape": ("solved", _replace(CELL, STEP_BODY, "    out = np.tanh(x + w * h)[..., :1]\n")),
    "modifies_input": ("solved", _replace(
        CELL, STEP_BODY, "    x *= 1.5\n    out = np.tanh(x / 1.5 + w * h)\n")),
    "leaks_hidden_input": ("solved", _replace(
        CELL, STEP_BODY, "    if x.ndim == 2:\n        raise ValueError(repr(x.tolist()))\n"
        "    out = np.tanh(x + w * h)\n")),
    "lists_inputs": ("solved", _replace(BASICS, "    out = 2 * v\n", LIST_INPUTS)),
    "hidden_extra_names": ("solved", _append(INIT, EXTRA_NAMES)),
    "hidden_member_name": ("solved", _append(INIT, MEMBER_NAME)),
    "hidden_shape_leak": ("solved", _replace(
        CELL, STEP_BODY, "    out = np.tanh(x + w * h)\n    if x.ndim == 2:\n"
        "        out = np.zeros((int(abs(x[0, 0]) * 1e6) + 100, 0))\n")),
    "hidden_error_leak": ("solved", _replace(
        CELL, STEP_BODY, "    out = np.tanh(x + w * h)\n    if x.ndim == 2:\n"
        "        out = out + abs(x[0, 0]) * 1e-3\n")),
    "hidden_exit_code": ("solved", _replace(
        CELL, STEP_BODY, "    if x.ndim == 2:\n        import os\n"
        "        os._exit(100 + int(abs(x[0, 0]) * 100) % 100)\n    out = np.tanh(x + w * h)\n")),
    "nested_status": ("solved", _replace(BASICS, "    out = 2 * v\n", NESTED_STATUS)),
    "shadows": ("solved", None),  # numpy.py, ipykernel_launcher.py beside the notebooks
    "edits_notebooks": ("solved", None),  # deleted, reordered, edited test cells
}


def _shadow(d: Path) -> None:
    bad = "raise SystemExit('shadowed')\n"
    (d / "numpy.py").write_text(bad)
    (d / "ipykernel_launcher.py").write_text(bad)
    (d / "minirnn" / "numpy.py").write_text(bad)


def _edit_notebooks(d: Path) -> None:
    for nb_path in sorted(d.rglob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        if not tests:
            continue
        nb.cells.remove(tests[0])  # deleted
        for c in tests[1:]:
            c.source = "pass"  # edited
            c.metadata["nbgrader"]["points"] = 100
        nb.cells.reverse()  # reordered
        nbformat.write(nb, nb_path)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from rnn_core.course.grade import grade
    from rnn_core.course.release import release

    base = tmp_path_factory.mktemp("hostile")
    rel = base / "release"
    release(FIXTURE, rel)
    subs = base / "subs"
    subs.mkdir()
    marker = base / "unpickled"
    for name, (start, edit) in STUDENTS.items():
        d = subs / name
        shutil.copytree(rel, d)
        if start == "solved":
            shutil.rmtree(d / "minirnn")
            shutil.copytree(FIXTURE / "minirnn", d / "minirnn")
        if edit is not None:
            edit(d)
    _append(INIT, PICKLE.format(marker=str(marker)))(subs / "pickles")
    _shadow(subs / "shadows")
    _edit_notebooks(subs / "edits_notebooks")
    _make_zips(subs, rel, base)
    before = set(sys.modules)
    box = Sandbox(Limits(wall_seconds=WALL), backend="none")
    results = grade(subs, FIXTURE, base / "out", sandbox=box, no_sandbox=True, secret=SECRET,
                    jobs=2)
    new_modules = set(sys.modules) - before
    rows = {r["student"]: r for r in csv.DictReader(open(base / "out" / "grades.csv"))}
    return {"base": base, "subs": subs, "marker": marker, "new_modules": new_modules,
            "results": {r.student: r for r in results}, "rows": rows}


def _make_zips(subs: Path, rel: Path, base: Path) -> None:
    good = base / "good"
    shutil.copytree(rel, good)
    shutil.rmtree(good / "minirnn")
    shutil.copytree(FIXTURE / "minirnn", good / "minirnn")
    files = [(p.relative_to(good).as_posix(), p.read_bytes()) for p in sorted(good.rglob("*"))
             if p.is_file()]
    with zipfile.ZipFile(subs / "zip_escapes.zip", "w") as zf:
        for name, data in files:
            zf.writestr(name, data)
        zf.writestr("../escaped.py", "x = 1\n")
        zf.writestr("/tmp/absolute_escape.py", "x = 1\n")
        link = zipfile.ZipInfo("minirnn/link.py")
        link.external_attr = (0o120777 << 16)  # a symlink entry
        zf.writestr(link, "/etc/passwd")
    with zipfile.ZipFile(subs / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            zf.writestr(name, data)
        zf.writestr("minirnn/bomb.py", b"#" * (64 * 2**20))


def _exercise(h, student, gid):
    return next(e for e in h["results"][student].exercises if e.grade_id == gid)


def _points(h, student):
    return {g: float(h["rows"][student][g]) for g in FULL}


def _all_but(lost):
    return {g: 0.0 if g in lost else float(p) for g, p in FULL.items()}


@pytest.mark.parametrize("student", ["hooks_blank", "patched_numpy_blank"])
def test_hooks_and_patched_helpers_cannot_raise_a_blank_score(hostile, student):
    assert _points(hostile, student) == _all_but(FULL)
    assert hostile["rows"][student]["status"] == "ok"
    assert _exercise(hostile, student, "test_scale").message == (
        "public case (v=3): NotImplementedError: Exercise scale: implement the body of scale "
        "in minirnn/basics.py (see notebook 01_step)"
    )


def test_a_crash_costs_only_its_exercise(hostile):
    assert _points(hostile, "exit_in_backward") == _all_but({"test_step_backward"})
    assert hostile["rows"]["exit_in_backward"]["status"] == "crashed"
    assert hostile["rows"]["exit_in_backward"]["message"] == (
        "test_step_backward: exited with code 3")
    e = _exercise(hostile, "exit_in_backward", "test_step_backward")
    assert (e.status, e.message) == ("crashed", "exited with code 3; public case (N=2, D=4): no "
                                     "result (the process ended before this case)")
    e = _exercise(hostile, "sys_exit_in_scale", "test_scale")
    assert (e.status, e.message) == ("failed", "public case (v=3): SystemExit: 0")
    assert _points(hostile, "sys_exit_in_scale") == _all_but({"test_scale"})


def test_a_timeout_costs_only_its_exercise(hostile):
    assert _points(hostile, "loops_forever") == _all_but({"test_count"})
    assert hostile["rows"]["loops_forever"]["status"] == "timeout"
    assert hostile["rows"]["loops_forever"]["message"] == (
        f"test_count: wall time limit {WALL:g} s exceeded")
    e = _exercise(hostile, "loops_forever", "test_count")
    assert e.message == (f"wall time limit {WALL:g} s exceeded; public case (n=4): no result "
                         "(the process ended before this case)")


def test_forged_outputs_and_result_files_earn_nothing(hostile):
    assert _points(hostile, "forges_results") == _all_but(FULL)
    assert _exercise(hostile, "forges_results", "test_scale").message == (
        "public case (v=3): outputs - missing, dx, h_next unexpected")
    assert _exercise(hostile, "forges_results", "test_step").message == (
        "public case (D=2): outputs in.h, in.x missing, dx, out unexpected")
    out = hostile["base"] / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["grades.csv", "feedback", *STUDENTS, "zip_escapes", "zip_bomb"])
    assert not list(out.rglob("grades.csv"))[1:]  # the only grades.csv is the grader's


def test_a_malicious_pickle_is_never_loaded(hostile):
    assert not hostile["marker"].exists()
    assert _exercise(hostile, "pickles", "test_scale").message == (
        "public case (v=3): output rejected: out has dtype object, not a real number type")
    assert _points(hostile, "pickles") == _all_but(FULL)


@pytest.mark.parametrize("student, message", [
    ("complex_out", "public case (D=2): output rejected: h_next has dtype complex128, not a real "
                    "number type"),
    ("object_out", "public case (D=2): output rejected: h_next has dtype object, not a real "
                   "number type"),
    ("nan_out", "public case (D=2): h_next has non-finite entries"),
    ("huge_out", "output limit 2 MB exceeded (files written); public case (D=2): OSError: [Errno "
                 "27] File too large"),
    ("wrong_shape", "public case (D=2): h_next has shape (1,), expected shape (2,)"),
    ("modifies_input", "public case (D=2): x modified in place (it must be left unchanged)"),
    ("leaks_hidden_input", "hidden case (N=3, D=4): ValueError raised"),
])
def test_bad_outputs_cost_their_exercise_with_a_precise_message(hostile, student, message):
    # run_steps calls step on 1-D rows: the leak only fires on 2-D hidden inputs, and test_seq
    # does not check its inputs for changes
    lost = {"test_step"} if student in ("leaks_hidden_input", "modifies_input") else {
        "test_step", "test_seq"}
    assert _points(hostile, student) == _all_but(lost)
    assert _exercise(hostile, student, "test_step").message == message


def _hidden_numbers(gid: str, digits: int = 6) -> set[str]:
    """Runs of ``digits``+ digits in the hidden inputs of ``gid`` printed to 12 digits, and in
    their values to 6 decimals (as the hostile students below print them)."""
    from rnn_core.course.cases import draw_cases, load_exercises
    from rnn_core.course.release import list_exercises

    (ex,) = [e for e in load_exercises(FIXTURE / "exercises.py", list_exercises(FIXTURE))
             if e.grade_id == gid]
    found: set[str] = set()
    for case in draw_cases(ex, SECRET):
        if case.hidden:
            for a in case.inputs.values():
                flat = np.asarray(a, dtype=float).ravel()
                text = np.array2string(flat, precision=12, separator=",")
                text += " ".join(f"{v:.6f}" for v in flat)
                found |= set(re.findall(rf"\d{{{digits},}}", text))
    assert found
    return found


def _student_text(h, student) -> str:
    out = h["base"] / "out"
    files = [out / student / "result.json", *(out / "feedback" / student).rglob("*.html")]
    return "\n".join(f.read_text() for f in files)


def test_a_public_run_sees_only_the_public_inputs(hostile):
    # the student raises, in the public case, the list of arrays in its inputs file
    e = _exercise(hostile, "lists_inputs", "test_scale")
    assert (e.status, e.message) == ("failed", "public case (v=3): ValueError: KEYS case0.v")
    assert _points(hostile, "lists_inputs") == _all_but({"test_scale"})


@pytest.mark.parametrize("student, message", [
    ("hidden_extra_names", "hidden case (N=3, D=4): outputs - missing, 1 unexpected"),
    ("hidden_member_name", "hidden case (N=3, D=4): output rejected (not plain data within "
                           "the caps)"),
    ("hidden_shape_leak", "hidden case (N=3, D=4): h_next has a wrong shape, expected shape "
                          "(3, 4)"),
    ("hidden_error_leak", "hidden case (N=3, D=4): h_next is off (above the tolerance)"),
    ("hidden_exit_code", "the run of the hidden cases exited early; hidden case (N=3, D=4): no "
                         "result (the process ended before this case)"),
])
def test_a_hidden_case_shows_nothing_the_student_controls(hostile, student, message):
    assert _points(hostile, student) == _all_but({"test_step"})
    assert _exercise(hostile, student, "test_step").message == message
    text = _student_text(hostile, student)
    assert not _hidden_numbers("test_step", 4) & set(re.findall(r"\d{4,}", text))


def test_an_unparsable_status_file_fails_its_exercise_only(hostile):
    assert hostile["rows"]["nested_status"]["status"] == "ok"
    assert _points(hostile, "nested_status") == _all_but({"test_scale"})
    e = _exercise(hostile, "nested_status", "test_scale")
    assert (e.status, e.message) == ("failed", "public case (v=3): unreadable status file")


def test_any_failure_to_read_a_case_fails_that_case_only(tmp_path):
    from rnn_core.course.score import Unreadable, read_case

    (tmp_path / "case0.json").write_text("[" * 4000)
    assert read_case(tmp_path, 0) == ("unreadable status file", None, False)
    (tmp_path / "case0.json").write_text('{"status": "ok"}')
    with zipfile.ZipFile(tmp_path / "case0.npz", "w") as zf:
        zf.writestr("out.npy", b"x")
    data = bytearray((tmp_path / "case0.npz").read_bytes())
    central = data.index(b"PK\x01\x02")
    data[8:10] = data[central + 10:central + 12] = (99).to_bytes(2, "little")  # method 99
    (tmp_path / "case0.npz").write_bytes(data)  # zipfile raises NotImplementedError reading it
    with pytest.raises(Unreadable, match=r"^not a valid .npz \(NotImplementedError\)$"):
        read_case(tmp_path, 0)


LEAK = """    import glob as _g
    _f = np.load(_g.glob("/inputs/*.npz")[0])
    raise ValueError("LEAK " + " ".join(k + "=" + np.array2string(_f[k].ravel(), precision=12,
                     separator=",") for k in _f.files if k.startswith("case1.")).replace(
                     chr(10), ""))
"""


def test_hidden_inputs_never_reach_a_sandbox_that_shows_its_messages(tmp_path):
    """The LEAK submission under the real sandbox: a public case's message is shown in full,
    so the sandbox that runs the public cases must not hold the hidden inputs."""
    from rnn_core.course.grade import grade
    from rnn_core.course.release import release
    from rnn_core.course.sandbox import probe

    limits = Limits(wall_seconds=30)
    if probe(limits):
        pytest.skip(f"no bwrap sandbox: {probe(limits)}")
    release(FIXTURE, tmp_path / "release")
    d = tmp_path / "subs" / "leaks"
    shutil.copytree(tmp_path / "release", d)
    shutil.rmtree(d / "minirnn")
    shutil.copytree(FIXTURE / "minirnn", d / "minirnn")
    check = "    if np.shape(x) != np.shape(h):\n"  # the first line of step's body
    _replace(CELL, check, LEAK + check)(d)
    (r,) = grade(tmp_path / "subs", FIXTURE, tmp_path / "out", sandbox=Sandbox(limits, "bwrap"),
                 secret=SECRET, students=["leaks"], jobs=1)
    e = next(e for e in r.exercises if e.grade_id == "test_step")
    assert e.message == "public case (D=2): ValueError: LEAK"
    text = "\n".join(f.read_text() for f in [tmp_path / "out" / "leaks" / "result.json",
                                             *(tmp_path / "out" / "feedback").rglob("*.html")])
    assert not _hidden_numbers("test_step") & set(re.findall(r"\d{6,}", text))


def test_oversized_and_object_arrays_are_refused_from_their_header(tmp_path):
    from rnn_core.course.score import Unreadable, read_case

    (tmp_path / "case0.json").write_text('{"status": "ok"}')
    np.savez(tmp_path / "case0.npz", big=np.zeros(5_000_000, dtype=np.uint8))
    with pytest.raises(Unreadable, match="^more than 4194304 numbers in all$"):
        read_case(tmp_path, 0)
    np.savez(tmp_path / "case0.npz", ok=np.zeros(3), obj=np.array([{}], dtype=object))
    with pytest.raises(Unreadable, match="^obj has dtype object, not a real number type$"):
        read_case(tmp_path, 0)
    (tmp_path / "case0.npz").unlink()
    (tmp_path / "case0.npz").symlink_to("/etc/passwd")
    with pytest.raises(Unreadable, match="^case0.npz cannot be opened"):
        read_case(tmp_path, 0)


def test_shadowing_modules_and_edited_test_cells_change_nothing(hostile):
    for student in ("shadows", "edits_notebooks"):
        assert _points(hostile, student) == _all_but(set()), student
        assert hostile["rows"][student]["status"] == "ok"


def test_hostile_zips_are_refused_or_cleaned(hostile):
    assert _points(hostile, "zip_escapes") == _all_but(set())
    assert hostile["rows"]["zip_escapes"]["message"] == (
        "../escaped.py: path outside the submission; /tmp/absolute_escape.py: path outside the "
        "submission; minirnn/link.py: not a regular file (symlink or special file)")
    assert not Path("/tmp/absolute_escape.py").exists()
    assert not (hostile["subs"] / "escaped.py").exists()
    assert _points(hostile, "zip_bomb") == _all_but(FULL)
    assert hostile["rows"]["zip_bomb"]["status"] == "error"
    assert hostile["rows"]["zip_bomb"]["message"] == (
        "submission refused: minirnn/bomb.py: larger than 10 MiB")


def test_a_zip_with_too_many_files_is_refused_at_the_cap(tmp_path):
    from rnn_core.course.collect import collect

    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        for i in range(2001):
            zf.writestr(f"minirnn/m{i}.py", "")
    with pytest.raises(ValueError, match="^more than 2000 files$"):
        collect(tmp_path / "many.zip", tmp_path / "work", ["minirnn"], [])


def test_the_grader_imports_nothing_from_a_submission(hostile):
    roots = (str(hostile["subs"]), str(Path(tempfile.gettempdir()) / "grade-"))
    loaded = [(m, getattr(sys.modules.get(m), "__file__", None) or "") for m in
              hostile["new_modules"]]
    assert [m for m, f in loaded if f.startswith(roots)] == []
    assert "minirnn" not in sys.modules


def _numbers(a: np.ndarray) -> set[str]:
    vals = np.asarray(a, dtype=float).ravel()
    return {f"{v:.4f}" for v in vals if abs(v) > 1e-3} | {f"{v:.3g}" for v in vals if abs(v) > 1e-3}


def feedback_leaks(source: Path, secret: str, feedback: Path, tmp: Path) -> list[str]:
    """Every student-facing file under ``feedback`` scanned for the hidden inputs and expected
    values of ``secret`` (as printed to 4 decimals or 3 digits) and for lines of the grader's
    code (the spec file and the harness); an empty list means clean. Asserts there was something
    to find."""
    from rnn_core.course import harness
    from rnn_core.course.cases import draw_cases, load_exercises, write_inputs
    from rnn_core.course.config import load_config
    from rnn_core.course.produce import make_tools, reference
    from rnn_core.course.release import list_exercises
    from rnn_core.course.score import read_case

    spec = source / load_config(source).exercises
    tools = make_tools(spec, tmp / "tools")
    secret_numbers: set[str] = set()
    for ex in load_exercises(spec, list_exercises(source)):
        cases = draw_cases(ex, secret)
        write_inputs(tmp / f"{ex.grade_id}.npz", cases)
        reference(tools, source, tmp / f"{ex.grade_id}.npz", ex.grade_id, tmp / ex.grade_id, 60)
        for i, case in enumerate(cases):
            if case.hidden:
                for a in case.inputs.values():
                    secret_numbers |= _numbers(a)
            for a in (read_case(tmp / ex.grade_id, i)[1] or {}).values():
                secret_numbers |= _numbers(a)
    assert len(secret_numbers) > 50  # the scan has something to find
    code_files = [*(sorted(spec.glob("*.py")) if spec.is_dir() else [spec]),
                  Path(harness.__file__)]  # a spec file, or each module of a spec package
    code_lines = {ln.strip() for f in code_files
                  for ln in f.read_text().splitlines() if len(ln.strip()) >= 20}
    leaks = []
    for f in sorted(feedback.rglob("*")):
        if f.is_file():
            text = f.read_text()
            words = set(re.findall(r"-?\d+\.\d+(?:e[+-]\d+)?", text))
            leaks += [f"{f.name}: number {w}" for w in sorted(words & secret_numbers)]
            leaks += [f"{f.name}: code {ln}" for ln in code_lines if ln in text]
    return leaks


def test_student_feedback_holds_no_hidden_input_expected_value_or_grader_code(hostile, tmp_path):
    files = list((hostile["base"] / "out" / "feedback").rglob("*.html"))
    assert len(files) == 3 * len(hostile["rows"])
    assert feedback_leaks(FIXTURE, SECRET, hostile["base"] / "out" / "feedback", tmp_path) == []
