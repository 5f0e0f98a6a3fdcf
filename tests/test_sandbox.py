"""rnn_core.course.sandbox: arguments, statuses, limits backends, the runtime inside.

The tests that need bubblewrap skip with the reason when it does not work here, except under
``CI=true``, where they fail instead (CI installs bubblewrap: a skipped sandbox test there means
the isolation went untested). The attacks are in ``test_sandbox_hostile.py``.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from rnn_core.course.sandbox import SANDBOX_UIDS, Limits, Outcome, Sandbox, probe
from rnn_core.course.sandbox import limits as L
from rnn_core.course.sandbox.limits import human_bytes

REPO = Path(__file__).resolve().parents[1]


def need_bwrap() -> None:
    """Skip (locally) or fail (CI=true) when bubblewrap sandboxes cannot run here."""
    reason = probe()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the sandbox tests, but: {reason}")
    pytest.skip(f"no working sandbox: {reason}")


def shared_folder(path: Path) -> Path:
    """``path`` made readable by the sandbox user (tmp_path is 0700)."""
    path.mkdir(parents=True, exist_ok=True)
    p = path
    while p != p.parent:
        if p.stat().st_mode & 0o005 != 0o005:
            p.chmod(p.stat().st_mode | 0o005)
        if p == Path("/tmp") or p == Path(os.environ.get("TMPDIR", "/tmp")):
            break
        p = p.parent
    return path


@pytest.fixture(scope="module")
def box():
    need_bwrap()
    return Sandbox(Limits(wall_seconds=30))


# ----------------------------------------------------------------- arguments
@pytest.mark.parametrize("kwargs, word", [
    ({"memory_bytes": 0}, "memory_bytes"), ({"pids": -1}, "pids"), ({"pids": 2.5}, "pids"),
    ({"output_bytes": True}, "output_bytes"), ({"wall_seconds": 0}, "wall_seconds"),
    ({"wall_seconds": float("inf")}, "wall_seconds"),
])
def test_limits_reject_bad_values_naming_them(kwargs, word):
    with pytest.raises(ValueError, match=f"Limits: {word} must be") as err:
        Limits(**kwargs)
    assert "\n" not in str(err.value)


def test_limit_defaults_are_those_of_the_course():
    lim = Limits()
    assert (lim.memory_bytes, lim.pids, lim.output_bytes) == (4 * 2**30, 256, 2_000_000)
    assert human_bytes(lim.memory_bytes) == "4 GiB" and human_bytes(lim.output_bytes) == "2 MB"
    assert human_bytes(3 * 2**20) == "3 MiB" and human_bytes(1001) == "1001 bytes"


def test_sandbox_rejects_unknown_backends():
    with pytest.raises(ValueError, match="backend must be one of auto, bwrap, none"):
        Sandbox(backend="docker")
    with pytest.raises(ValueError, match="limits must be 'auto' or one of"):
        Sandbox(backend="none", limit_backend="ulimit")
    with pytest.raises(TypeError, match="limits must be a Limits or a dict"):
        Sandbox([3], backend="none")
    with pytest.raises(ValueError, match=r"unknown limits \['timeout'\]; known: memory_bytes"):
        Sandbox({"timeout": 3}, backend="none")
    assert Sandbox({"pids": 3}, backend="none").limits == Limits(pids=3)


def test_probe_names_why_a_sandbox_cannot_run_numpy(monkeypatch):
    need_bwrap()
    from rnn_core.course.sandbox import runtime

    real = runtime.discover

    monkeypatch.setattr(runtime, "discover", lambda: dataclasses.replace(real(), packages=()))
    reason = probe()
    assert reason == ("bwrap cannot run numpy in a sandbox: exit: exited with code 1; "
                      "ModuleNotFoundError: No module named 'numpy'")


def test_auto_refuses_rather_than_running_unisolated(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="bubblewrap .* not installed.*backend='none'"):
        Sandbox()
    assert probe() == "bubblewrap is not installed (apt-get install bubblewrap)"


@pytest.mark.parametrize("call, message", [
    (lambda b, t: b.run([]), "argv must be a non-empty list"),
    (lambda b, t: b.run("python -c 1"), "argv must be a non-empty list"),
    (lambda b, t: b.run(["x"], ro={str(t / "missing"): "/w"}), "ro maps .* does not exist"),
    (lambda b, t: b.run(["x"], ro={str(t): "w"}), r"ro\[.*\] must be a normalised absolute"),
    (lambda b, t: b.run(["x"], rw={str(t): "/a/../b"}), r"rw\[.*\] must be a normalised"),
    (lambda b, t: b.run(["x"], ro={str(t): "/usr/lib"}), "is under /usr, which the sandbox"),
    (lambda b, t: b.run(["x"], ro={str(t): "/opt/python"}), "under /opt/python"),
    (lambda b, t: b.run(["x"], env={"A=B": "c"}), "env must be a dict of str to str"),
    (lambda b, t: b.run(["x"], cwd="w"), "cwd must be an absolute inside path"),
])
def test_run_rejects_bad_arguments_in_one_line(tmp_path, call, message):
    box = Sandbox(backend="none")
    with pytest.raises(ValueError, match=message) as err:
        call(box, tmp_path)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------- limit backends
def fake_cgroup2(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_choose_picks_what_the_machine_offers(tmp_path):
    # Nothing mounted: rlimits, which cannot count processes per run and say so.
    none = L.choose("auto", tmp_path / "empty")
    assert none.name == "rlimit" and none.enforced == ("memory",)
    v2 = L.choose("auto", fake_cgroup2(tmp_path / "v2"))
    assert v2.name == "cgroup2" and v2.enforced == ("memory", "pids")
    with pytest.raises(RuntimeError, match="limits 'cgroup1' unavailable: no cgroup v1 memory"):
        L.choose("cgroup1", tmp_path / "v2")


def test_cgroup2_writes_the_limits_and_reads_the_hits(tmp_path, monkeypatch):
    root = fake_cgroup2(tmp_path / "cg")
    backend = L.choose("cgroup2", root)
    lim = Limits(memory_bytes=3 * 2**20, pids=7)
    # The real cgroupfs creates these files with the folder; the fake creates them on mkdir.
    orig_mkdir = Path.mkdir

    def mkdir(self, *a, **k):
        orig_mkdir(self, *a, **k)
        for f in ("cgroup.procs", "memory.swap.max", "cgroup.subtree_control"):
            (self / f).write_text("")

    monkeypatch.setattr(Path, "mkdir", mkdir)
    group = backend.start(lim)
    monkeypatch.undo()
    g = group.dirs[0]
    assert g.parent == root / "rnn-sandbox"
    assert (g / "memory.max").read_text() == str(3 * 2**20)
    assert (g / "memory.swap.max").read_text() == "0"
    assert (g / "pids.max").read_text() == "7"
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert group.wrapper_args()[0] == f"join={g / 'cgroup.procs'}"
    assert group.hits() == set()
    (g / "memory.events").write_text("low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n")
    (g / "pids.events").write_text("max 3\n")
    assert group.hits() == {"memory", "pids"}


def test_cgroup1_reads_oom_kills_and_pid_refusals(tmp_path):
    mem, pids = tmp_path / "m", tmp_path / "p"
    mem.mkdir()
    pids.mkdir()
    group = L._CgroupV1Run(mem, pids, {})
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    (pids / "pids.events").write_text("max 0\n")
    assert group.hits() == set()
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert group.hits() == {"memory"}


# ----------------------------------------------------------------- the runtime
def test_runtime_binds_the_base_interpreter_and_numpy_only():
    from rnn_core.course.sandbox import runtime

    rt = runtime.discover()
    assert rt.python.startswith(runtime.PREFIX + "/bin/python3")
    hosts = [host for host, _ in rt.binds]
    # never a folder of packages wholesale (the venv's holds the editable finder)
    assert not [h for h in hosts if h.endswith(("site-packages", "dist-packages"))]
    assert all(not h.startswith(str(REPO) + "/") or "numpy" in h for h in hosts)
    assert sorted(Path(h).name for h, _ in rt.packages) in (["numpy"], ["numpy", "numpy.libs"])
    site = str(Path(rt.packages[0][1]).parent)
    assert site in rt.hidden  # bound over an empty read-only tmpfs


# ----------------------------------------------------------------- the none backend
def test_none_translates_inside_paths_and_applies_limits(tmp_path):
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    out.mkdir()
    (work / "x.txt").write_text("hello")
    box = Sandbox(Limits(wall_seconds=20), backend="none")
    assert box.python == sys.executable and box.backend == "none"
    code = ("import os, sys; print(open(sys.argv[1]).read(), os.getcwd() == os.environ['W']);"
            "open('/out/y.txt'.replace('/out', os.environ['O']), 'w').write('z')")
    res = box.run([box.python, "-c", code, "/w/x.txt"], ro={str(work): "/w"},
                  rw={str(out): "/out"}, cwd="/w", env={"W": "/w", "O": "/out"})
    assert res.status == "ok", res
    assert res.stdout.split() == ["hello", "True"]
    assert (out / "y.txt").read_text() == "z"
    slow = Sandbox(Limits(wall_seconds=0.5), backend="none").run(
        [sys.executable, "-c", "import time; time.sleep(30)"])
    assert (slow.status, slow.message, slow.returncode) == (
        "timeout", "wall time limit 0.5 s exceeded", None)
    assert slow.seconds < 10


# ----------------------------------------------------------------- bwrap
def test_bwrap_reports_what_it_enforces_on_this_machine(box):
    assert box.backend == "bwrap"
    expected = L.choose().enforced
    assert box.enforced == (*expected, "wall", "output")
    assert box.limit_backend == L.choose().name


def test_inside_numpy_runs_but_the_project_is_absent(box):
    code = ("import importlib.util as u, importlib.metadata as m, sys, os\n"
            "import numpy as np\n"
            "a = np.random.default_rng(0).standard_normal((400, 400))\n"
            "print(round(float(np.linalg.norm(a @ a.T)), 6), os.getuid())\n"
            "names = sorted(d.metadata['Name'] for d in m.distributions())\n"
            "print(u.find_spec('rnn_core'), names)\n")
    res = box.run([box.python, "-c", code])
    assert res.status == "ok", res
    first, second = res.stdout.splitlines()
    import numpy as np
    a = np.random.default_rng(0).standard_normal((400, 400))
    assert float(first.split()[0]) == pytest.approx(np.linalg.norm(a @ a.T), rel=1e-9)
    uid = int(first.split()[1])
    assert uid in SANDBOX_UIDS if os.geteuid() == 0 else uid == os.getuid()
    # numpy's dist-info is not bound in, so no distribution at all is visible
    assert second == "None []"


def test_numpy_with_several_blas_threads_fits_the_default_limits(box):
    # OpenBLAS reserves buffers per thread; with 8 threads and a 4 GiB limit it must still run.
    code = ("import numpy as np; a = np.ones((1500, 1500)); print(float((a @ a).sum()))")
    res = box.run([box.python, "-c", code], env={"OPENBLAS_NUM_THREADS": "8",
                                                   "OMP_NUM_THREADS": "8"})
    assert res.status == "ok", res
    assert float(res.stdout) == 1500.0**3


def test_exit_codes_stdout_and_stderr(box):
    res = box.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (res.status, res.returncode, res.stdout, res.stderr) == ("exit", 3, "out\n", "err\n")
    assert res.message == "exited with code 3"
    killed = box.run(["/bin/sh", "-c", "kill -TERM $$"])
    assert (killed.status, killed.returncode) == ("exit", 128 + signal.SIGTERM)
    assert killed.message == "exited with code 143 (killed by SIGTERM)"
    ok = box.run(["/bin/true"])
    assert ok == Outcome("ok", 0, "", "", ok.seconds, "")


def test_binds_ro_rw_cwd_and_env(box, tmp_path):
    work = shared_folder(tmp_path / "work")
    out = tmp_path / "out"
    out.mkdir()
    (work / "in.txt").write_text("data\n")
    (work / "in.txt").chmod(0o644)
    script = ("cat in.txt; echo $GREETING; echo new > /out/o.txt; "
              "echo vandal > in.txt 2>/dev/null || echo ro-refused")
    res = box.run(["/bin/sh", "-c", script], ro={str(work): "/w/sub"}, rw={str(out): "/out"},
                  cwd="/w/sub", env={"GREETING": "hi"})
    assert res.status == "ok", res
    assert res.stdout == "data\nhi\nro-refused\n"
    assert (out / "o.txt").read_text() == "new\n"
    assert (work / "in.txt").read_text() == "data\n"
    # the written file and the folder are the grader's again
    assert (out / "o.txt").stat().st_uid == os.geteuid() == out.stat().st_uid


def test_unreadable_ro_folder_is_refused_with_the_fix(box, tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    if os.geteuid() != 0:
        pytest.skip("only root hands the run to another uid")
    with pytest.raises(ValueError, match=r"cannot read \(mode 0700\); chmod o\+rX"):
        box.run(["/bin/true"], ro={str(private): "/w"})


def test_a_sandbox_that_cannot_start_is_an_error(box):
    res = box.run(["/bin/true"], cwd="/does/not/exist")
    assert res.status == "error"
    assert res.message.startswith("the sandbox did not start: bwrap:"), res
    assert res.returncode is None


def test_stdout_flood_is_cut_at_the_output_limit():
    need_bwrap()
    box = Sandbox(Limits(output_bytes=100_000, wall_seconds=30))
    res = box.run(["/bin/sh", "-c", "yes 'flooding the grader'"])
    assert (res.status, res.returncode) == ("output", None)
    assert res.message == "output limit 100 kB exceeded (stdout and stderr)"
    assert len(res.stdout.encode()) + len(res.stderr.encode()) == 100_000


def test_memory_limit_is_a_status_with_the_limit_in_the_message():
    need_bwrap()
    box = Sandbox(Limits(memory_bytes=128 * 2**20, wall_seconds=60))
    res = box.run([box.python, "-c", "import numpy as np; a = np.ones(2**30 // 8)"])
    if "memory" not in box.enforced:
        pytest.skip(f"memory not enforced by {box.limit_backend}")
    assert (res.status, res.message) == ("memory", "memory limit 128 MiB exceeded"), res


def test_rlimit_backend_keeps_blas_working_and_stops_a_flood():
    need_bwrap()
    box = Sandbox(Limits(memory_bytes=4 * 2**30, wall_seconds=60), limit_backend="rlimit")
    # as root each run has a uid of its own, so RLIMIT_NPROC counts that run only
    pids = ("pids",) if os.geteuid() == 0 else ()
    assert box.enforced == ("memory", *pids, "wall", "output")
    res = box.run([box.python, "-c", "import numpy as np; a = np.ones((1000, 1000)); "
                   "print(float((a @ a).sum()))"], env={"OPENBLAS_NUM_THREADS": "4"})
    assert res.status == "ok", res
    small = Sandbox(Limits(memory_bytes=256 * 2**20, wall_seconds=60), limit_backend="rlimit")
    res = small.run([small.python, "-c", "import numpy as np; a = np.ones(2**30 // 8)"])
    assert (res.status, res.message) == ("memory", "memory limit 256 MiB exceeded"), res


def test_rw_folder_comes_back_with_regular_files_only(box, tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "previous.txt").write_text("from the grader\n")
    (out / "sub" / "gone.txt").write_text("x")
    script = ("cat /out/previous.txt; rm /out/previous.txt /out/sub/gone.txt; "
              "echo new > /out/sub/new.txt; mkfifo /out/fifo; ln -s / /out/root; "
              "ln -s /out/sub /out/sublink")
    res = box.run(["/bin/sh", "-c", script], rw={str(out): "/out"})
    assert (res.status, res.stdout) == ("ok", "from the grader\n"), res
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["sub", "sub/new.txt"]
    assert (out / "sub" / "new.txt").read_text() == "new\n"


def test_rlimit_backend_counts_threads_of_the_run_only():
    need_bwrap()
    if os.geteuid() != 0:
        pytest.skip("only root gives each run a uid of its own")
    box = Sandbox(Limits(pids=40, wall_seconds=60), limit_backend="rlimit")
    flood = ("import threading, time\nwhile True:\n"
             "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n")
    res = box.run([box.python, "-c", flood])
    assert (res.status, res.message) == ("pids", "process limit 40 exceeded (threads count)")
    calm = box.run([box.python, "-c", "import threading; t = [threading.Thread(target=len, "
                    "args=((),)) for _ in range(20)]; [x.start() for x in t]; print('fine')"])
    assert (calm.status, calm.stdout) == ("ok", "fine\n"), calm


def test_runs_at_the_same_time_have_different_uids(box):
    import threading
    if os.geteuid() != 0:
        pytest.skip("only root gives each run a uid of its own")
    uids = []
    code = "import os, time; time.sleep(1); print(os.getuid())"

    def run():
        uids.append(int(box.run([box.python, "-c", code]).stdout))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(uids)) == 3 and all(u in SANDBOX_UIDS for u in uids)


def test_without_mount_rights_rw_is_bound_directly_and_checked_after(box, tmp_path, monkeypatch):
    from rnn_core.course.sandbox import outdir

    monkeypatch.setattr(outdir.shutil, "which", lambda name: None)  # no `mount` here
    out = tmp_path / "out"
    out.mkdir()
    deep = "import os\nfor i in range(1500):\n    os.mkdir('d')\n    os.chdir('d')\n"
    try:
        res = box.run([box.python, "-c", deep + "open('f', 'w').write('x')"],
                      rw={str(out): "/out"}, cwd="/out")
        assert (res.status, res.message) == ("output",
                                             "output limit 2 MB exceeded (files written)")
        # every entry, however deep, is the grader's again
        if os.geteuid() == 0:
            bad = subprocess.run(["find", str(out), "!", "-uid", "0"], capture_output=True,
                                 text=True).stdout
            assert bad == ""
    finally:  # rm, not shutil.rmtree: the tree is deeper than Python's recursion
        subprocess.run(["rm", "-rf", str(out)], check=True)


def test_groups_a_dead_grader_left_are_swept_live_ones_kept():
    backend = L.choose()
    if backend.name != "cgroup1":
        pytest.skip(f"needs cgroup v1 as root, have {backend.name}")
    parent = backend.root / "memory" / L.PARENT
    parent.mkdir(exist_ok=True)
    stale, fresh = parent / "stale-test", parent / "fresh-test"
    stale.mkdir()
    fresh.mkdir()
    try:
        old = time.time() - 3600
        os.utime(stale, (old, old))
        Sandbox(backend="none")
        assert not stale.exists()
        assert fresh.exists()
    finally:
        for d in (stale, fresh):
            if d.exists():
                d.rmdir()


def test_staging_a_dead_grader_left_is_unmounted():
    if os.geteuid() != 0:
        pytest.skip("staging needs root")
    from rnn_core.course.sandbox import outdir

    child = subprocess.Popen(["true"])  # its pid is one of a process that has exited
    child.wait()
    dead = child.pid
    stale = Path(tempfile.mkdtemp(prefix=f"{outdir.PREFIX}{dead}-"))
    live = Path(tempfile.mkdtemp(prefix=f"{outdir.PREFIX}{os.getpid()}-"))
    for d in (stale, live):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4096", "tmpfs", str(d)], check=True)
    try:
        assert str(stale) in outdir.sweep()
        mounts = Path("/proc/self/mountinfo").read_text()
        assert f" {stale} " not in mounts and f" {live} " in mounts
        assert not stale.exists()
    finally:
        subprocess.run(["umount", str(live)], check=True)
        live.rmdir()


def test_none_leaves_host_paths_under_the_hosts_tmp_alone(tmp_path):
    """Only the caller's inside paths are translated: a checkout (or a file) that lives in the
    host's /tmp stays where it is (CI clones under /tmp; the run's own /tmp is its cwd)."""
    host_file = tmp_path / "host.txt"  # pytest's tmp_path lives under the host's /tmp
    host_file.write_text("from the host")
    assert str(host_file).startswith("/tmp/")
    box = Sandbox(Limits(wall_seconds=20), backend="none")
    res = box.run([box.python, "-c", "import os, sys; print(open(sys.argv[1]).read(), os.getcwd())",
                   str(host_file)])
    assert res.status == "ok", res
    text, cwd = res.stdout.split()[-4:-1], res.stdout.split()[-1]
    assert " ".join(text) == "from the host" and not cwd.startswith(str(tmp_path)), res.stdout
