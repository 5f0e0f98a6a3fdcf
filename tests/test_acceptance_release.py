"""Acceptance: the student release works as its README says, from a fresh copy and a fresh venv.

Builds the release and its zip with the instructor's command, unpacks the zip into an empty
folder, and runs every command the student README names, in order: ``make install`` (a new
.venv, packages from pip's configured indexes and caches), ``make lab`` (started, asked for its
extensions, stopped), ``make check`` and ``make submit STUDENT=...``; then checks the hand-in
and, when the judge's grader is in the tree, grades it as it is (a blank hand-in scores 0).
Several minutes (the venv, then all notebooks twice): ``make acceptance``, not ``make test``.
"""

import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.acceptance]


def _env(tmp: Path) -> dict[str, str]:
    """The environment of a student's shell: nothing of this test's venv, private Jupyter dirs."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "MAKEFLAGS", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != bindir)
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        (tmp / name.lower()).mkdir(exist_ok=True)
        env[name] = str(tmp / name.lower())
    return env


def _readme_commands(readme: str) -> list[str]:
    """The shell commands of the README: its indented code lines."""
    return [ln.strip() for ln in readme.splitlines() if re.match(r"^    \S", ln)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_extensions(course: Path, env: dict[str, str]) -> str:
    """Start ``make lab`` as the README says (plus a port, a token and no browser), wait for the
    server, read its page config; stop it. Returns the extension names the page would load."""
    port, token = _free_port(), "acceptance"
    lab_args = f"--no-browser --port={port} --ServerApp.token={token}"
    proc = subprocess.Popen(
        ["make", "lab", f"LAB_ARGS={lab_args}"],
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/lab?token={token}"
                with urllib.request.urlopen(url, timeout=5) as resp:
                    page = resp.read().decode()
                break
            except OSError:
                time.sleep(1)
        assert page is not None, f"make lab did not serve /lab: {proc.poll()=}"
        cfg = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)[1])
        return json.dumps(cfg.get("federated_extensions", [])) + " " + json.dumps(cfg)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the process group this test started
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_fresh_copy_fresh_venv_every_readme_command_then_hand_in(tmp_path):
    exe = Path(sys.executable).with_name("rnn-course")
    zpath = tmp_path / "release.zip"
    res = subprocess.run(
        [exe, "release", str(ROOT), str(tmp_path / "built"), "--zip", str(zpath)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    course = tmp_path / "course"
    with zipfile.ZipFile(zpath) as z:
        z.extractall(course)
        released = sorted(z.namelist())
    env = _env(tmp_path)

    commands = _readme_commands((course / "README.md").read_text())
    assert commands == [
        "make install",
        "make lab",
        "make check",
        "make submit STUDENT=<your name or id>",
    ]

    took: dict[str, float] = {}
    t0 = time.monotonic()
    inst = subprocess.run(["make", "install"], cwd=course, env=env, capture_output=True, text=True)
    took["make install"] = time.monotonic() - t0
    assert inst.returncode == 0, inst.stdout + inst.stderr
    venv_bin = course / ".venv" / "bin"

    # make lab: JupyterLab comes up; no nbgrader anywhere (no instructor menus or panels)
    t0 = time.monotonic()
    page = _lab_extensions(course, env)
    took["make lab (up and down)"] = time.monotonic() - t0
    assert "jupyter-matplotlib" in page and "@jupyter-widgets/jupyterlab-manager" in page
    assert "nbgrader" not in page.lower()
    for args in (["labextension", "list"], ["server", "extension", "list"]):
        listed = subprocess.run(
            [venv_bin / "jupyter", *args], cwd=course, env=env, capture_output=True, text=True
        )
        assert listed.returncode == 0 and "nbgrader" not in (listed.stdout + listed.stderr).lower()
    pip = subprocess.run([venv_bin / "python", "-m", "pip", "list"], capture_output=True, text=True)
    assert "nbgrader" not in pip.stdout.lower()

    # make check on the blank release: every notebook runs to its end, the stubs are reported
    t0 = time.monotonic()
    check = subprocess.run(["make", "check"], cwd=course, env=env, capture_output=True, text=True)
    took["make check"] = time.monotonic() - t0
    assert check.returncode != 0  # the blank release fails its self-checks
    for nb in (n for n in released if n.endswith(".ipynb")):
        assert re.search(rf"^  {re.escape(nb)}\s+FAILS", check.stdout, re.M), nb
    assert "Exercise rnn_step_forward: implement the body of rnn_step_forward" in check.stdout
    todo = check.stdout.split("Exercises still to do (")[1]
    for name in (
        "rnn_step_forward",
        "clip_grad_norm",
        "lstm_step_backward",
        "q_s19_shared_weights",
    ):
        assert re.search(rf"^  {name}\s", todo, re.M), name

    # make submit: the zip a grader takes, named after the student, in the release layout
    t0 = time.monotonic()
    sub = subprocess.run(
        ["make", "submit", "STUDENT=blank_student"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    took["make submit"] = time.monotonic() - t0
    assert sub.returncode == 0, sub.stdout + sub.stderr
    handin = course / "blank_student.zip"
    with zipfile.ZipFile(handin) as z:
        names = sorted(z.namelist())
        for n in names:
            assert z.read(n) == (course / n).read_bytes(), n
    assert names == released  # the release layout, nothing of .venv, caches or checkpoints
    assert "Wrote blank_student.zip (" in sub.stdout and all(n in sub.stdout for n in names)

    # the grader takes the zip as it is (D2), in the sandbox wherever one works (D3)
    from rnn_core.course.release import list_exercises
    from rnn_core.course.sandbox import probe

    why = probe()
    assert why is None or not os.environ.get("CI"), f"CI must grade in the sandbox: {why}"
    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copy(handin, subs / handin.name)
    results = tmp_path / "results"
    extra = [] if why is None else ["--no-sandbox"]
    t0 = time.monotonic()
    graded = subprocess.run(
        [exe, "grade", subs, "--source", ROOT, "--out", results, "--secret", "acc", *extra],
        capture_output=True,
        text=True,
        timeout=900,
    )
    took["rnn-course grade"] = time.monotonic() - t0
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with (results / "grades.csv").open() as f:
        row = next(r for r in csv.DictReader(f) if r["student"] == "blank_student")
    auto = [e.grade_id for e in list_exercises(ROOT) if not e.manual]
    assert len(auto) == 9 and all(float(row[g]) == 0 for g in auto), row
    assert float(row["total"]) == 0 and float(row["max"]) == 100, row
    assert row["status"] == "ok", row
    print("; ".join(f"{k}: {v:.0f} s" for k, v in took.items()))
