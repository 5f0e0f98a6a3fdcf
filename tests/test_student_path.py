"""The student's path in the release: edit a file, re-run the self-check in the same kernel; check
and hand in (rnn_core.submit); rnn_core.setup()."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from rnn_core.course.markers import find_regions
from rnn_core.course.release import release
from rnn_core.notebook import choose_backend, clear_caches, setup
from rnn_core.submit import (
    find_stubs,
    handin_files,
    main,
    run_notebook,
    unsaved_warnings,
)

ROOT = Path(__file__).resolve().parents[1]
RNN_EXERCISES = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("student") / "release"
    release(ROOT, out)
    return out


def _solved(source_text: str) -> str:
    """A release file as a student who wrote every exercise of it would leave it: the source
    with the marker lines dropped (the bodies are what the student types)."""
    lines = source_text.split("\n")
    drop = set()
    for r in find_regions(source_text):
        drop |= {r.start, r.end}
    return "\n".join(ln for i, ln in enumerate(lines) if i not in drop)


# ------------------------------------------------------------------ edit and re-run in a kernel


class _Kernel:
    def __init__(self, cwd: Path):
        from jupyter_client.manager import start_new_kernel

        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(RNN_PLOTS="inline", OPENBLAS_NUM_THREADS="1")
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)

    def run(self, code: str, timeout: float = 120) -> tuple[str, str | None]:
        """(text output, ``"Ename: evalue"`` of the error or None)."""
        out: list[str] = []
        err: list[str] = []

        def hook(msg):
            c = msg["content"]
            if msg["msg_type"] == "stream":
                out.append(c["text"])
            elif msg["msg_type"] in ("execute_result", "display_data"):
                out.append(c["data"].get("text/plain", ""))
            elif msg["msg_type"] == "error":
                err.append(f"{c['ename']}: {c['evalue']}")

        self.kc.execute_interactive(code, timeout=timeout, output_hook=hook)
        return "".join(out), (err[0] if err else None)

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def _cell(nb_path: Path, grade_id: str) -> str:
    nb = nbformat.read(nb_path, as_version=4)
    return next(
        c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


@pytest.mark.slow
def test_edit_a_library_file_and_rerun_the_self_check_in_the_same_kernel(built, tmp_path):
    work = tmp_path / "course"
    shutil.copytree(built, work)
    nb00 = work / "00_sequence_patterns.ipynb"
    setup_cell = nbformat.read(nb00, as_version=4).cells[1].source
    check_step, check_seq = _cell(nb00, "test_rnn_step"), _cell(nb00, "test_rnn_sequence")
    k = _Kernel(work)
    try:
        out, err = k.run(setup_cell)
        assert err is None, err
        assert "autoreload: on" in out and "plots: inline" in out and "BLAS threads: 1" in out
        # the notebook's first cells: names imported, a model built, all before the edit
        out, err = k.run(
            "import numpy as np\n"
            "import rnn_core\n"
            "from rnn_core import rnn_step_forward\n"
            "from rnn_core.models import SequenceClassifier\n"
            "print(rnn_core.__file__)\n"
            "model = SequenceClassifier(3, 4, 2, cell='rnn', rng=0)\n"
            "xs, ys = np.random.default_rng(0).standard_normal((2, 5, 3)), np.array([0, 1])\n"
            "from rnn_core.analysis import explore\n"
            "_ = explore._weights('orthogonal', 4, 0)\n"  # an explorer's cache, filled
        )
        assert err is None and out.strip() == str(work / "rnn_core" / "__init__.py")
        _, err = k.run(check_step)
        assert err == (
            "NotImplementedError: Exercise rnn_step_forward: implement the body of "
            "rnn_step_forward in rnn_core/rnn.py (see notebook 00_sequence_patterns)"
        )
        _, err = k.run("model.predict(xs)")  # 00 needs rnn.py only: no loss (01)
        assert err and err.startswith("NotImplementedError: Exercise rnn_")

        out, err = k.run("print(explore._weights.cache_info().currsize)")
        assert err is None and out.strip() == "1"  # running cells alone keeps the caches

        # the student writes the four bodies in rnn_core/rnn.py and saves the file
        rnn_py = work / "rnn_core" / "rnn.py"
        before = rnn_py.read_text()
        assert all(f"Exercise {n}:" in before for n in RNN_EXERCISES)
        # a module of the student's own, next to the notebooks, imported by the last cell before
        # the edit (it must be watched from that cell on, not from the next)
        (work / "my_helpers.py").write_text("VALUE = 1\n")
        out, err = k.run("import my_helpers\nprint(my_helpers.VALUE)")
        assert err is None and out.strip() == "1"
        time.sleep(1.1)  # a new mtime even on file systems with 1 s resolution
        rnn_py.write_text(_solved((ROOT / "rnn_core" / "rnn.py").read_text()))
        (work / "my_helpers.py").write_text("VALUE = 2\n")

        # same kernel, no restart, no re-import: the self-checks and the model run the new code,
        # and the explorers' caches of results of the old code are gone
        out, err = k.run("print(explore._weights.cache_info().currsize)")
        assert err is None and out.strip() == "0"
        out, err = k.run(check_step)
        assert err is None, err
        out, err = k.run(check_seq)
        assert err is None, err
        out, err = k.run(
            "pred = model.predict(xs)\n"
            "h0, W = np.zeros((2, 4)), np.ones((3, 4))\n"
            "h, _ = rnn_step_forward(xs[:, 0], h0, W, np.eye(4), np.zeros(4))\n"
            "print(pred.shape, h.shape)"
        )
        assert err is None, err
        assert out.split() == ["(2,)", "(2,", "4)"]
        out, err = k.run("print(my_helpers.VALUE)")
        assert err is None and out.strip() == "2"
        # autoreload watches the course's modules and the student's, not every installed one
        out, err = k.run("%aimport")
        watched = set(out.split("Modules to reload:")[1].split("Modules to skip:")[0].split())
        assert {"rnn_core", "rnn_core.rnn", "rnn_core.analysis.explore", "my_helpers"} <= watched
        assert not any(m.split(".")[0] in ("numpy", "matplotlib", "IPython") for m in watched)
    finally:
        k.close()


@pytest.mark.slow
def test_a_saved_file_that_cannot_load_is_never_checked_as_if_it_had(built, tmp_path):
    """A student saves a broken rnn.py after the self-check passed: autoreload keeps the old code
    and, from the second run on, says nothing. The self-check must not pass that old code, and
    every cell must say why, until the file is fixed."""
    work = tmp_path / "course"
    shutil.copytree(built, work)
    nb00 = work / "00_sequence_patterns.ipynb"
    setup_cell = nbformat.read(nb00, as_version=4).cells[1].source
    check_step = _cell(nb00, "test_rnn_step")
    rnn_py = work / "rnn_core" / "rnn.py"
    solved = _solved((ROOT / "rnn_core" / "rnn.py").read_text())
    rnn_py.write_text(solved)
    k = _Kernel(work)
    try:
        out, err = k.run(setup_cell)
        assert err is None, err
        out, err = k.run("import numpy as np\n" + check_step)
        assert err is None and "all checks passed" in out, (out, err)

        time.sleep(1.1)
        broken = solved.replace("db = da.sum(axis=0)", "db = da.sum(axis=0", 1)
        assert broken != solved
        rnn_py.write_text(broken)
        line = broken.split("\n").index(next(ln for ln in broken.split("\n")
                                               if "db = da.sum(axis=0" in ln and ln.rstrip()
                                               .endswith("(axis=0"))) + 1
        why = (f"rnn_core/rnn.py (SyntaxError on line {line}: '(' was never closed) "
               "could not be loaded")
        for attempt in (1, 2):  # the second run is the one autoreload stays silent on
            out, err = k.run(check_step)
            assert "all checks passed" not in out, (attempt, out)
            assert err is not None and err.startswith("NotChecked: not checked: your last save of "
                                                      ), (attempt, err)
            assert why in err and f"[rnn_core] your last save of {why}" in out, (attempt, out, err)
        # a cell that checks with plain asserts (notebook 05's) gets the warning before its output
        out, err = k.run("print('cell output')")
        assert err is None and out.index("[rnn_core] your last save") < out.index("cell output")

        # an error raised while the module runs (valid syntax): named, with where to look
        time.sleep(1.1)
        rnn_py.write_text(solved + "\nraise ValueError('oops at import')\n")
        out, err = k.run(check_step)
        assert err is not None and err.startswith("NotChecked:") and (
            "rnn_core/rnn.py (it raised an error while loading: see the traceback" in err), err

        time.sleep(1.1)
        rnn_py.write_text(solved)                          # fixed and saved: checked again
        out, err = k.run(check_step)
        assert err is None and "all checks passed" in out and "[rnn_core]" not in out, (out, err)
    finally:
        k.close()


# ------------------------------------------------------------------------------ submit pieces


def test_find_stubs_lists_the_release_exercises_and_not_the_solved_ones(built, tmp_path):
    nbs = sorted(built.glob("*.ipynb"))
    stubs = find_stubs(built, nbs)
    names = {s.name for s in stubs}
    assert set(RNN_EXERCISES) <= names
    assert {"clip_grad_norm", "lstm_step_forward", "lstm_step_backward"} <= names
    assert {"word_embedding_backward", "temporal_softmax_loss"} <= names
    # a cell is placed as a student finds it: JupyterLab numbers no cells, so the heading above
    written = {s.name: s.where for s in stubs if re.search(r", cell \d+, under \"", s.where)}
    assert {"q_s19_shared_weights", "q_s15_rescaling", "q_s17_lstm_highway"} <= set(written)
    place = written["q_s19_shared_weights"]
    assert re.fullmatch(r'00_sequence_patterns\.ipynb, cell \d+, under "Question \(written, '
                        r'4 points\)"', place), place
    work = tmp_path / "c"
    shutil.copytree(built, work)
    (work / "rnn_core" / "rnn.py").write_text(_solved((ROOT / "rnn_core" / "rnn.py").read_text()))
    left = {s.name for s in find_stubs(work, nbs)}
    assert not set(RNN_EXERCISES) & left and "clip_grad_norm" in left


def test_handin_holds_the_release_layout_and_nothing_else(built, tmp_path):
    work = tmp_path / "c"
    shutil.copytree(built, work)
    for junk in (
        ".venv/lib/x.py",
        ".ipynb_checkpoints/00_sequence_patterns-checkpoint.ipynb",
        "rnn_core/__pycache__/rnn.cpython-311.pyc",
        "notes/mine.txt",
        "old.zip",
    ):
        (work / junk).parent.mkdir(parents=True, exist_ok=True)
        (work / junk).write_text("x")
    files = {p.as_posix() for p in handin_files(work)}
    release_files = {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()}
    assert files == release_files


def test_unsaved_warnings_see_a_replaced_file_and_an_open_editor(built, tmp_path):
    work = tmp_path / "c"
    shutil.copytree(built, work)
    nb = work / "00_sequence_patterns.ipynb"
    assert unsaved_warnings(work, [nb]) == []
    ckpt = work / ".ipynb_checkpoints" / "00_sequence_patterns-checkpoint.ipynb"
    ckpt.parent.mkdir()
    ckpt.write_text(nb.read_text().replace("Sequence patterns", "Sequence patterns (edited)"))
    old = time.time() - 60
    os.utime(nb, (old, old))
    (work / "rnn_core" / ".rnn.py.swp").write_text("")
    w = unsaved_warnings(work, [nb])
    assert any(s.startswith("00_sequence_patterns.ipynb: its checkpoint") for s in w)
    assert any(s.startswith("rnn_core/.rnn.py.swp: an editor") for s in w)
    ckpt.write_text(nb.read_text())  # the usual state after Ctrl+S: same content, newer copy
    assert not any("checkpoint" in s for s in unsaved_warnings(work, [nb]))


def test_unsaved_warnings_see_a_notebook_open_in_a_running_jupyter_server(built, tmp_path):
    """A fake Jupyter server: its connection file in the runtime dir, its sessions API."""
    import http.server
    import threading

    work = tmp_path / "c"
    shutil.copytree(built, work)

    class Sessions(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            ok = self.path == "/api/sessions" and self.headers["Authorization"] == "token t0k"
            body = json.dumps([{"path": "c/01_language_model.ipynb"}] if ok else []).encode()
            self.send_response(200 if ok else 403)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Sessions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    info = {
        "url": f"http://127.0.0.1:{server.server_port}/",
        "token": "t0k",
        "root_dir": str(tmp_path),
    }
    (runtime / "jpserver-1.json").write_text(json.dumps(info))
    (runtime / "jpserver-2.json").write_text('{"url": "http://127.0.0.1:1/", "token": "x"}')  # gone
    old = os.environ.get("JUPYTER_RUNTIME_DIR")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    try:
        w = unsaved_warnings(work, sorted(work.glob("*.ipynb")))
    finally:
        server.shutdown()
        if old is None:
            del os.environ["JUPYTER_RUNTIME_DIR"]
        else:
            os.environ["JUPYTER_RUNTIME_DIR"] = old
    assert w == [
        "01_language_model.ipynb is open in Jupyter: press Ctrl+S in its tab before handing in "
        "(unsaved changes in a tab cannot be seen from here)"
    ]


def _tiny_course(tmp_path: Path, cells: list) -> Path:
    work = tmp_path / "tiny"
    (work / "rnn_core").mkdir(parents=True)
    (work / "rnn_core" / "__init__.py").write_text("")
    nb = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(nb, work / "00_tiny.ipynb")
    return work


def _check_cell(source: str, gid: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": gid, "locked": True}
    return cell


@pytest.mark.slow
def test_run_notebook_reports_failing_self_checks_first_error_and_timeout(tmp_path):
    work = _tiny_course(
        tmp_path,
        [
            nbformat.v4.new_code_cell("x = 1"),
            _check_cell("assert x == 1", "test_ok"),
            _check_cell("assert x == 2, 'x should be 2: did you add one?'", "test_bad"),
            nbformat.v4.new_code_cell("import time\ntime.sleep(30)"),
        ],
    )
    run = run_notebook(work / "00_tiny.ipynb", timeout=3)
    assert run.checks_passed == ["test_ok"]
    assert run.checks_failed == {"test_bad": "AssertionError: x should be 2: did you add one?"}
    assert run.error == "a cell ran longer than the limit of 3 s" and not run.ok
    assert nbformat.read(work / "00_tiny.ipynb", as_version=4).cells[0].outputs == []  # unwritten
    # the first error is placed under the heading above it (JupyterLab numbers no cells)
    work = _tiny_course(tmp_path / "2", [
        nbformat.v4.new_markdown_cell("# 00\n\n## 2. One step\n\ntext"),
        nbformat.v4.new_code_cell("1 / 0"),
    ])
    run = run_notebook(work / "00_tiny.ipynb", timeout=30)
    assert run.error == 'cell 2, under "2. One step": ZeroDivisionError: division by zero'


@pytest.mark.slow
def test_run_notebook_uses_this_python_whatever_kernelspecs_say(tmp_path, monkeypatch):
    """A user-wide ``python3`` kernelspec of another environment must not run the check."""
    data = tmp_path / "jupyter-data"
    spec = data / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = ["/bin/false", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(data))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))
    work = _tiny_course(
        tmp_path, [_check_cell(f"import sys\nassert sys.executable == {sys.executable!r}", "exe")]
    )
    run = run_notebook(work / "00_tiny.ipynb", timeout=60)
    assert run.checks_passed == ["exe"] and run.ok, run


@pytest.mark.slow
def test_submit_writes_the_named_zip_and_lists_it(tmp_path, capsys):
    work = _tiny_course(
        tmp_path,
        [nbformat.v4.new_code_cell("x = 1"), _check_cell("assert x == 1", "test_ok")],
    )
    (work / "rnn_core" / "rnn.py").write_text('raise NotImplementedError("Exercise f: do it")\n')
    assert main(["--folder", str(work), "--student", "ada_l"]) == 0
    out = capsys.readouterr().out
    with zipfile.ZipFile(work / "ada_l.zip") as z:
        names = z.namelist()
    assert sorted(names) == ["00_tiny.ipynb", "rnn_core/__init__.py", "rnn_core/rnn.py"]
    todo = out.split("Exercises still to do (1), in course order:")[1]
    assert "self-checks 1/1 pass" in out and "f" in todo
    for n in names:
        assert n in out
    assert main(["--folder", str(work), "--check"]) == 1  # a stub left: the check is not clean


@pytest.mark.parametrize("name", ["../x", "a b", "", "-rf", "x" * 65, "ä"])
def test_submit_refuses_a_bad_student_name(name, tmp_path, capsys):
    assert main(["--folder", str(tmp_path), f"--student={name}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("submit: --student must be") and err.count("\n") == 1


def test_submit_outside_a_course_folder_says_where_to_run_it(tmp_path, capsys):
    assert main(["--folder", str(tmp_path), "--check"]) == 2
    assert "run this in the course folder" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ setup()


def test_setup_outside_ipython_limits_blas_threads_only(monkeypatch):
    from threadpoolctl import threadpool_info

    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "4")
    rep = setup()
    assert rep.blas_threads == 1 and rep.backend is None and rep.autoreload is False
    assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert repr(rep).startswith("rnn_core.setup: BLAS threads: 1, plots: unchanged")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"blas_threads": 0}, "blas_threads must be a positive int, got 0"),
        ({"blas_threads": 1.5}, "blas_threads must be a positive int"),
        ({"backend": "qt"}, "backend must be 'widget', 'inline' or None, got 'qt'"),
    ],
)
def test_setup_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        setup(**kwargs)


def test_choose_backend(monkeypatch):
    assert choose_backend({"RNN_PLOTS": "inline"}) == "inline"
    assert choose_backend({"RNN_PLOTS": " Widget "}) == "widget"
    with pytest.raises(ValueError, match="RNN_PLOTS must be 'widget' or 'inline', got 'gtk'"):
        choose_backend({"RNN_PLOTS": "gtk"})
    # inline by default, although this venv has ipympl with its lab extension, and on Colab
    assert choose_backend({}) == "inline"
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    assert choose_backend({}) == "inline"
    monkeypatch.setenv("RNN_PLOTS", "widget")
    assert choose_backend() == "widget"


def test_clear_caches_empties_the_explorers_caches():
    from rnn_core.analysis import explore

    explore._weights("orthogonal", 4, 0)
    assert explore._weights.cache_info().currsize >= 1
    assert clear_caches() >= 2  # explore has several cached functions
    assert explore._weights.cache_info().currsize == 0


def test_import_rnn_core_still_needs_numpy_only():
    code = (
        "import sys, rnn_core\n"
        "print(sorted(m for m in ('matplotlib', 'IPython', 'threadpoolctl', 'nbclient') "
        "if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
