"""The student release of the real course is a product of its own (docs/architecture.md, D4)."""

import re
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path

import nbformat
import pytest

from rnn_core.course.config import CourseConfig, load_config
from rnn_core.course.release import (
    NEVER_SHIPPED,
    find_leaks,
    insert_setup_cell,
    is_setup_cell,
    release,
    setup_cell_source,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "release"
    zpath = out.parent / "release.zip"
    report = release(ROOT, out, zip_path=zpath)
    return out, zpath, report


def test_layout_is_d4(built):
    out, _, report = built
    top = sorted(p.name for p in out.iterdir())
    assert top == sorted(
        [p.name for p in NOTEBOOKS]
        + ["README.md", "Makefile", "environment.yml", "pyproject.toml", "rnn_core"]
    )
    assert report.notebooks == [p.name for p in NOTEBOOKS]
    pkg = out / "rnn_core"
    for shipped in ("checks.py", "notebook.py", "submit.py", "__init__.py"):
        assert (pkg / shipped).is_file(), shipped
    assert not (pkg / "course").exists() and not (pkg / "_kernels").exists()
    assert all(
        not p.relative_to(out).as_posix().startswith(("rnn_core/course", "rnn_core/_kernels"))
        for p in out.rglob("*")
    )
    assert "rnn_core/course/*" in NEVER_SHIPPED and "rnn_core/_kernels/*" in NEVER_SHIPPED
    assert find_leaks(ROOT, out) == []


def test_release_package_imports_without_the_course_tooling(built):
    out, _, _ = built
    code = (
        # this test's venv holds the source as an editable install: hide it, as a student has none
        "import sys\n"
        "sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        "import rnn_core, rnn_core.submit, rnn_core.notebook, rnn_core.checks\n"
        "assert rnn_core.__file__.startswith(sys.argv[1]), rnn_core.__file__\n"
        "try:\n    import rnn_core.course\nexcept ImportError:\n    print('no course')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "no course"


def test_student_readme_says_what_a_student_needs_and_nothing_about_grading(built):
    out, _, _ = built
    text = (out / "README.md").read_text()
    cfg = load_config(ROOT)
    for nb in NOTEBOOKS:
        row = next(ln for ln in text.splitlines() if ln.startswith(f"| [{nb.name}]"))
        assert re.search(r"\| \d+(-\d+)? minutes \|", row), row
        assert f"({cfg.colab_url}{nb.name})" in row and "Open in Colab" in row
    setup = re.search(r"## Set up\n(.*?)\n## ", text, re.S).group(1)
    assert re.findall(r"^    (make \w+)$", setup, re.M) == ["make install", "make lab"]
    for needed in ("rnn_core/rnn.py", "no need to restart", "make check", "make submit STUDENT="):
        assert needed in text, needed
    assert "simulated Colab" in text
    for word in ("grade", "grading", "points", "nbgrader", "autograd", "instructor", "score"):
        assert not re.search(rf"\b{word}", text, re.I), word


def test_every_make_command_of_the_readme_is_a_target_of_the_release_makefile(built):
    out, _, _ = built
    named = set(re.findall(r"\bmake (\w+)", (out / "README.md").read_text()))
    makefile = (out / "Makefile").read_text()
    targets = set(re.findall(r"^(\w+):", makefile, re.M))
    assert named == {"install", "lab", "check", "submit"}
    assert named <= targets
    dry = subprocess.run(
        ["make", "-n", "check", "submit", "STUDENT=ada"], cwd=out, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert "-m rnn_core.submit --check" in dry.stdout
    assert '-m rnn_core.submit --student "ada"' in dry.stdout
    nobody = subprocess.run(["make", "-n", "submit"], cwd=out, capture_output=True, text=True)
    assert "make submit STUDENT=" in nobody.stdout + nobody.stderr


def test_release_package_metadata_is_the_source_runtime_without_nbgrader(built):
    out, _, _ = built
    source = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    student = tomllib.loads((out / "pyproject.toml").read_text())
    deps = student["project"]["dependencies"]
    assert deps == source["dependencies"]
    assert not any("nbgrader" in d for d in deps) and "optional-dependencies" not in student
    assert "scripts" not in student["project"]  # no rnn-course for students
    env = (out / "environment.yml").read_text()
    assert "nbgrader" not in env
    for d in deps:
        assert re.search(rf"^  - {re.escape(d)}$", env, re.M), d


def test_zip_holds_the_release_at_its_top_level(built):
    out, zpath, report = built
    with zipfile.ZipFile(zpath) as z:
        names = sorted(z.namelist())
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == files and len(names) == report.files
    assert "00_sequence_patterns.ipynb" in names and "rnn_core/rnn.py" in names


# ------------------------------------------------------------------------------- setup cell


def test_every_notebook_has_the_setup_cell_right_after_its_title():
    cfg = load_config(ROOT)
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        assert is_setup_cell(nb.cells[1]), path.name
        assert nb.cells[1].source == setup_cell_source(cfg), f"{path.name}: re-render the cell"
        assert sum(is_setup_cell(c) for c in nb.cells) == 1
        assert cfg.release_url and cfg.release_url in nb.cells[1].source


def test_release_notebooks_carry_the_setup_cell_of_course_toml(tmp_path, built):
    out, _, _ = built
    cfg = load_config(ROOT)
    for path in NOTEBOOKS:
        cell = nbformat.read(out / path.name, as_version=4).cells[1]
        assert cell.source == setup_cell_source(cfg)
    other = CourseConfig(release_url="https://example.org/other.zip")
    assert "https://example.org/other.zip" in setup_cell_source(other)
    with pytest.raises(ValueError, match="release_url must be an https:// URL"):
        CourseConfig(release_url="file:///home/me/source.zip")


def test_insert_setup_cell_is_idempotent():
    cfg = load_config(ROOT)
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")]
    )
    assert insert_setup_cell(nb, cfg) is True
    assert insert_setup_cell(nb, cfg) is False
    assert [c.source for c in nb.cells][::2] == ["# T", "x = 1"] and len(nb.cells) == 3


class _FakeColab:
    def __init__(self):
        self.widget_manager = 0
        self.output = types.SimpleNamespace(enable_custom_widget_manager=self._enable)

    def _enable(self):
        self.widget_manager += 1


def _run_cell(source, monkeypatch, colab):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append((cmd, kwargs))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    if colab is not None:
        google = types.ModuleType("google")
        mod = types.ModuleType("google.colab")
        mod.output = colab.output
        google.colab = mod
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", mod)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    ns: dict = {}
    exec(compile(source, "<setup cell>", "exec"), ns)
    return calls, ns


def test_setup_cell_on_a_faked_colab_installs_the_release_and_enables_widgets(monkeypatch):
    cfg = load_config(ROOT)
    colab = _FakeColab()
    calls, ns = _run_cell(setup_cell_source(cfg), monkeypatch, colab)
    assert len(calls) == 1
    cmd, kwargs = calls[0]
    assert kwargs == {"shell": True, "check": True}
    assert f"curl -sSfL {cfg.release_url} -o /tmp/release.zip" in cmd
    assert "unzip -q /tmp/release.zip -d /content/rnn-gradflow" in cmd
    assert cmd.endswith("pip install -q -e /content/rnn-gradflow")  # editable: edits take effect
    assert cmd.startswith("test -d /content/rnn-gradflow ||")  # a re-run does not download again
    assert sys.path[0] == "/content/rnn-gradflow"
    assert colab.widget_manager == 1
    assert "notebooks/" not in cmd and "github.com/rnn-gradflow/rnn-gradflow/" not in cmd


def test_setup_cell_elsewhere_installs_nothing(monkeypatch):
    calls, ns = _run_cell(setup_cell_source(load_config(ROOT)), monkeypatch, None)
    assert calls == []
    assert ns["rnn_core"].__name__ == "rnn_core"


# ------------------------------------------------------------------------------------- CLI


def test_rnn_course_console_script_has_todays_subcommands_and_flags():
    exe = Path(sys.executable).with_name("rnn-course")
    assert exe.is_file(), "pip install -e . installs the rnn-course console script"
    top = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert top.returncode == 0 and "{release,grade,merge,written,canvas,list,mark}" in top.stdout
    grade = subprocess.run([exe, "grade", "--help"], capture_output=True, text=True, timeout=60)
    for flag in ("--source", "--out", "--notebooks", "--jobs", "--timeout", "--student",
                 "--shard", "--inbound", "--arrivals", "--assignment"):
        assert flag in grade.stdout, flag
    rel = subprocess.run([exe, "release", "--help"], capture_output=True, text=True, timeout=60)
    assert "--zip" in rel.stdout and "--force" in rel.stdout
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/rnn-course release . build/release --force --zip build/release.zip" in makefile
    assert "$(BIN)/rnn-course grade" in makefile


def test_every_relative_link_of_a_release_notebook_resolves_to_a_file_of_the_release(built):
    out, _, _ = built
    links = []
    for path in sorted(out.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                links += [(path.name, t) for t in re.findall(r"\]\(([^)\s#]+)", cell.source)
                          if ":" not in t]
    assert any(t.startswith("rnn_core/") for _, t in links)  # the exercise boxes' file links
    missing = [(nb, t) for nb, t in links if not (out / t).is_file()]
    assert missing == [], missing


def test_a_time_line_the_table_cannot_read_is_an_error_naming_the_notebook():
    """Session 6: '**Time** (estimate): 60-75 minutes' left an empty time in the student README
    and the book; the release now refuses it and says which notebook and what it expects."""
    from rnn_core.course.release import _title_and_time

    def nb(first: str):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(first)])

    assert _title_and_time(nb("# 08 · LSTM\n\n**Time**: 60-75 minutes (an estimate)"), "08.ipynb") \
        == ("08 · LSTM", "60-75 minutes")
    assert _title_and_time(nb("# 09 · Stacks\n\n**Time**: about 25 minutes."))[1] == "25 minutes"
    assert _title_and_time(nb("# No time line here")) == ("No time line here", "")
    with pytest.raises(ValueError, match=r"08_lstm.ipynb: .*'\*\*Time\*\*: N minutes'.*estimate"):
        _title_and_time(nb("# 08\n\n**Time** (estimate): 60-75 minutes"), "08_lstm.ipynb")
