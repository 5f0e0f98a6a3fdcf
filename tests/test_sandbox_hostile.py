"""The sandbox against a hostile student (issue 11).

Every attack runs as the student's program in a bubblewrap sandbox set up the way the grader sets
it up: the student's working copy read-only at ``/w``, one writable output folder at ``/out``. The
attacker is told every host path (the course source, the classmates' folders, the results), the
worst case. Each test asserts the run's status and message, that nothing outside changed (hashes
of a fake course source with its git repository and solution files, both students' submissions,
working copies and outputs, and the results folder), and that no process of the run is left on
the host (a scan of ``/proc`` for the run's marker in the environment or command line).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_sandbox import REPO, need_bwrap, shared_folder

from rnn_core.course.sandbox import Limits, Sandbox
from rnn_core.course.sandbox.outdir import SLACK


@dataclass
class World:
    root: Path
    source: Path  # the fake course source: a git repository with solution files
    secret: str  # a line only the solution files hold
    subs: dict[str, Path]  # submissions
    work: dict[str, Path]  # working copies (bound read-only)
    out: dict[str, Path]  # output folders (bound writable)
    results: Path

    def guarded(self) -> list[Path]:
        return [self.source, *self.subs.values(), *self.work.values(), *self.out.values(),
                self.results]


def snapshot(roots: list[Path]) -> dict[str, str]:
    """Path -> hash of content (files), target (symlinks) or 'dir', under every root."""
    out = {}
    for root in roots:
        out[str(root)] = "dir"
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                p = os.path.join(folder, name)
                if os.path.islink(p):
                    out[p] = "-> " + os.readlink(p)
                elif os.path.isdir(p):
                    out[p] = "dir"
                else:
                    with open(p, "rb") as f:
                        out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


def marked_processes(token: str) -> list[int]:
    """Host pids whose environment or command line holds ``token``."""
    found = []
    needle = token.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        for what in ("environ", "cmdline"):
            try:
                with open(f"/proc/{d}/{what}", "rb") as f:
                    if needle in f.read():
                        found.append(int(d))
                        break
            except OSError:
                pass
    return found


@pytest.fixture
def world(tmp_path) -> World:
    need_bwrap()
    root = shared_folder(tmp_path / "world")
    secret = f"SOLUTION-{uuid.uuid4().hex}"
    source = root / "course"
    (source / "rnn_core").mkdir(parents=True)
    for name in ("rnn.py", "lstm.py"):
        (source / "rnn_core" / name).write_text(
            f"def step(x):\n    ### BEGIN SOLUTION\n    return x  # {secret} {name}\n"
            "    ### END SOLUTION\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(source)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "reference"], check=True)
    subs, work, out = {}, {}, {}
    for who in ("alice", "bob"):
        subs[who] = root / "submissions" / who
        subs[who].mkdir(parents=True)
        (subs[who] / "rnn.py").write_text(f"def step(x):\n    return x  # {who}'s answer\n")
        work[who] = shared_folder(root / "grade" / who / "work")
        (work[who] / "rnn.py").write_text(f"def step(x):\n    return x  # {who}'s answer\n")
        out[who] = root / "grade" / who / "out"
        out[who].mkdir()
        (out[who] / "previous.txt").write_text("left by the grader\n")
    results = root / "results"
    (results / "alice").mkdir(parents=True)
    (results / "grades.csv").write_text("student,score\nalice,24\nbob,38\n")
    (results / "alice" / "result.json").write_text('{"score": 24}\n')
    for p in root.rglob("*"):
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o044 | (0o011 if p.is_dir() else 0))
    return World(root, source, secret, subs, work, out, results)


def attack(world: World, code: str, *args: str, who: str = "alice", limits: Limits | None = None,
           box: Sandbox | None = None, settle: float = 0.0, may_add: tuple[str, ...] = (),
           cwd: str = "/w"):
    """Run ``code`` as ``who``'s program; check that nothing outside changed and nothing is left.

    Only new files in ``who``'s output folder (and in the folders of ``may_add``, students
    graded at the same time) are allowed. Returns the outcome and the run's marker.
    """
    box = box or Sandbox(limits or Limits(wall_seconds=60))
    token = f"MARK{uuid.uuid4().hex}"
    script = world.work[who] / f"attack_{token}.py"
    script.write_text(code)
    script.chmod(0o644)
    before = snapshot(world.guarded())
    res = box.run([box.python, f"/w/{script.name}", *args], ro={str(world.work[who]): "/w"},
                  rw={str(world.out[who]): "/out"}, cwd=cwd, env={"RUN_MARK": token})
    assert marked_processes(token) == [], "a process of the run survived it"
    if settle:
        time.sleep(settle)
        assert marked_processes(token) == [], "a process of the run came back"
    after = snapshot(world.guarded())
    after.pop(str(script))
    before.pop(str(script))
    for s in (before, after):  # the classmate's own script, when run at the same time
        for p in [p for p in s if "/attack_MARK" in p]:
            s.pop(p)
    # Only the student's own output folder may change, and only by new files.
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    outs = [str(world.out[w]) + "/" for w in (who, *may_add)]
    own_new = {p for p in changed if p not in before and any(p.startswith(o) for o in outs)}
    assert changed - own_new == set(), f"changed outside the sandbox: {sorted(changed - own_new)}"
    for text in (res.stdout, res.stderr):
        assert world.secret not in text
        assert "LEAK" not in text, text
    return res, token


def solution_paths(world: World) -> list[str]:
    return [str(p) for p in world.source.rglob("*.py")]


# ------------------------------------------------------------------- routes to the reference
GIT_SHOW = """
import subprocess, sys
for src in (sys.argv[1], "/proc/self/root" + sys.argv[1], "/proc/1/root" + sys.argv[1]):
    r = subprocess.run(["git", "-C", src, "show", "HEAD:rnn_core/rnn.py"], capture_output=True,
                       text=True)
    print("LEAK" if r.returncode == 0 else "git-refused", r.stdout, r.stderr.strip()[:80])
"""


def test_git_show_of_the_source_finds_nothing(world):
    res, _ = attack(world, GIT_SHOW, str(world.source))
    assert (res.status, res.message) == ("ok", ""), res
    assert res.stdout.count("git-refused") == 3


OPEN_PATHS = """
import os, sys
tried = 0
for base in sys.argv[1:]:
    for prefix in ("", "/proc/self/root", "/proc/1/root", "/proc/self/cwd/../..", "/proc/1/cwd"):
        p = prefix + base
        tried += 1
        try:
            with open(p) as f:
                print("LEAK", p, f.read()[:40])
        except OSError as e:
            pass
        try:
            print("LEAK listing", p, os.listdir(p)[:3])
        except OSError:
            pass
print("tried", tried)
"""


def test_source_results_and_classmates_are_absent_by_every_path(world):
    targets = [*solution_paths(world), str(world.source), str(world.source / ".git/HEAD"),
               str(world.results / "grades.csv"), str(world.work["bob"] / "rnn.py"),
               str(world.subs["bob"] / "rnn.py"), str(REPO / "rnn_core" / "rnn.py"),
               str(REPO), os.path.expanduser("~")]
    res, _ = attack(world, OPEN_PATHS, *targets)
    assert (res.status, res.message) == ("ok", ""), res
    assert res.stdout.strip() == f"tried {5 * len(targets)}"


INTROSPECT = """
import os
seen = open("/proc/self/mountinfo").read()
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    for what in ("cmdline", "environ"):
        try:
            seen += open(f"/proc/{pid}/{what}", "rb").read().decode(errors="replace")
        except OSError:
            pass
print(len(seen))
open("/out/seen.txt", "w").write(seen)
"""


def test_what_the_sandbox_can_learn_about_itself_names_nothing_outside(world):
    """The mount table and every visible process's command line (bwrap's own, with the
    binds) name only what is bound: not the source, the results or the classmate."""
    res, _ = attack(world, INTROSPECT)
    assert res.status == "ok", res
    seen = (world.out["alice"] / "seen.txt").read_text()
    assert int(res.stdout) == len(seen) > 1000
    assert str(world.work["alice"]) in seen  # what is bound does show: the check can see paths
    for outside in (world.source, world.results, world.work["bob"], world.subs["bob"]):
        assert str(outside) not in seen, outside
    # this checkout shows only as where numpy's folders come from (its venv), if at all
    mentions = re.findall(re.escape(str(REPO)) + r"[^\s\x00]*", seen)
    assert all(m.startswith(f"{REPO}/.venv/lib/") and "numpy" in m for m in mentions), mentions


SYMLINKS = """
import os, sys
src = sys.argv[1]
for p in ("/w/root" + src + "/rnn_core/rnn.py", "/w/src/rnn_core/rnn.py",
          "/w/root/proc/1/root" + src + "/rnn_core/rnn.py"):
    try:
        print("LEAK", open(p).read()[:40])
    except OSError as e:
        print("refused", type(e).__name__)
# and a link planted in the output folder, for whoever reads it next
os.symlink(sys.argv[2], "/out/grades.csv")
os.symlink("/", "/out/root")
"""


def test_symlinks_to_the_host_root_lead_into_the_sandbox(world):
    (world.work["alice"] / "root").symlink_to("/")
    (world.work["alice"] / "src").symlink_to(world.source)
    res, _ = attack(world, SYMLINKS, str(world.source), str(world.results / "grades.csv"))
    assert (res.status, res.message) == ("ok", ""), res
    assert res.stdout.split().count("refused") == 3
    # handing the folder back to the grader did not follow the planted links, nor keep them
    assert (world.results / "grades.csv").stat().st_uid == os.geteuid()
    assert not any(p.is_symlink() for p in world.out["alice"].iterdir())


BASE64_CHILD = """
import base64, subprocess, sys
enc = base64.b64encode(sys.argv[1].encode()).decode()
code = "import base64; print('LEAK', open(base64.b64decode('%s').decode()).read())" % enc
r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
print("child", r.returncode, r.stderr.strip().splitlines()[-1])
"""


def test_a_child_given_an_encoded_path_finds_nothing(world):
    res, _ = attack(world, BASE64_CHILD, solution_paths(world)[0])
    assert (res.status, res.message) == ("ok", ""), res
    assert res.stdout.startswith("child 1 FileNotFoundError")


CTYPES = """
import ctypes, ctypes.util, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_openat, AT_FDCWD = 257, -100
for p in sys.argv[1:]:
    fd = libc.syscall(SYS_openat, AT_FDCWD, p.encode(), os.O_RDONLY)
    print("LEAK" if fd >= 0 else "openat-refused", errno.errorcode[ctypes.get_errno()])
hidden = "/opt/python/lib/python3.11/site-packages"
checks = {
    "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
    "umount": lambda: libc.umount2(hidden.encode(), 2),
    "chroot": lambda: libc.chroot(b"/tmp"),
    "setuid0": lambda: libc.setuid(0),
    "ptrace1": lambda: libc.ptrace(16, 1, None, None),
}
for name, call in checks.items():
    rc = call()
    print(name, "LEAK" if rc == 0 else "refused", errno.errorcode.get(ctypes.get_errno()))
# a new user namespace gives capabilities over itself only: the hiding mounts stay locked
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:
    rc = libc.umount2(hidden.encode(), 2)
    err = errno.errorcode.get(ctypes.get_errno())
    print("userns-umount", "LEAK" if rc == 0 else "refused", err)
else:
    print("userns-umount refused", errno.errorcode.get(ctypes.get_errno()))
print(sorted(os.listdir(hidden)))
"""


def test_raw_syscalls_through_ctypes(world):
    res, _ = attack(world, CTYPES, *solution_paths(world), str(world.results / "grades.csv"))
    assert (res.status, res.message) == ("ok", ""), res
    lines = res.stdout.splitlines()
    assert lines[:3] == ["openat-refused ENOENT"] * 3
    assert all(" refused " in line for line in lines[3:9]), lines
    assert lines[9] == "['numpy', 'numpy.libs']"


METADATA = """
import importlib.metadata as m, importlib.util as u, os, sys
try:
    d = m.distribution("rnn-gradflow")
    print("LEAK", d.files)
except m.PackageNotFoundError:
    print("no-distribution")
print("spec", u.find_spec("rnn_core"))
print("finders", [getattr(f, "__name__", type(f).__name__) for f in sys.meta_path])
for d in sys.path:
    if os.path.isdir(d):
        for name in os.listdir(d):
            low = name.lower()
            if "editable" in low or low.endswith(".pth") or "rnn_core" in low or "gradflow" in low:
                print("LEAK", d, name)
"""


def test_no_editable_install_or_metadata_points_at_the_source(world):
    res, _ = attack(world, METADATA)
    assert (res.status, res.message) == ("ok", ""), res
    lines = res.stdout.splitlines()
    assert lines[:2] == ["no-distribution", "spec None"]
    assert lines[2] == "finders ['BuiltinImporter', 'FrozenImporter', 'PathFinder']"


WALK = """
import hashlib, json, os, sys
sizes = set(json.load(open(sys.argv[1])))
seen, hashes = 0, []
for folder, dirs, files in os.walk("/"):
    if folder == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    for name in files:
        p = os.path.join(folder, name)
        try:
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            seen += 1
            if os.path.getsize(p) in sizes:
                with open(p, "rb") as f:
                    hashes.append(hashlib.sha256(f.read()).hexdigest())
        except OSError:
            pass
print(json.dumps({"seen": seen, "hashes": hashes}))
"""


@pytest.mark.slow
def test_no_readable_file_inside_is_a_solution_file(world):
    """Hash every readable file inside; none may equal a file of the fake or the real source."""
    targets = [p for p in world.source.rglob("*") if p.is_file() and ".git" not in p.parts]
    targets += [p for p in (REPO / "rnn_core").rglob("*.py") if p.stat().st_size >= 64]
    want = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in targets}
    sizes = world.work["alice"] / "sizes.json"
    sizes.write_text(json.dumps(sorted({p.stat().st_size for p in targets})))
    sizes.chmod(0o644)
    res, _ = attack(world, WALK, "/w/sizes.json", limits=Limits(wall_seconds=300))
    assert (res.status, res.message) == ("ok", ""), res
    found = json.loads(res.stdout)
    assert found["seen"] > 1000, "the probe did not walk the sandbox"
    leaked = [str(want[h]) for h in found["hashes"] if h in want]
    assert leaked == []


# ------------------------------------------------------------------- classmates and results
CLASSMATE = """
import glob, os, sys, time
me, other_work, other_out = sys.argv[1:4]
with open("/out/mine.txt", "w") as f:
    f.write(me)
end = time.monotonic() + 1.5
while time.monotonic() < end:
    for p in (other_work + "/rnn.py", other_out + "/mine.txt", *glob.glob("/tmp/*/mine.txt"),
              *glob.glob("/proc/*/root/out/mine.txt"), *glob.glob("/proc/*/cwd/rnn.py")):
        try:
            text = open(p).read()
            if not text.startswith(me) and "# " + me not in text:
                print("LEAK read", p, text[:30])
        except OSError:
            pass
    for p in (other_work + "/rnn.py", other_out + "/mine.txt", other_out + "/forged.txt"):
        try:
            with open(p, "w") as f:
                f.write("forged by " + me)
            print("LEAK wrote", p)
        except OSError:
            pass
    time.sleep(0.05)
print("done", me)
"""


def test_two_students_at_once_cannot_reach_each_other(world):
    box = Sandbox(Limits(wall_seconds=60))
    results = {}

    def run(me, other):
        results[me] = attack(world, CLASSMATE, me, str(world.work[other]), str(world.out[other]),
                             who=me, box=box, may_add=(other,))

    # attack() hashes everything before and after (allowing the classmate's new output), then
    # each output folder must hold only its own student's file.
    threads = [threading.Thread(target=run, args=ab) for ab in (("alice", "bob"),
                                                                 ("bob", "alice"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for me in ("alice", "bob"):
        res, _ = results[me]
        assert (res.status, res.stdout.strip()) == ("ok", f"done {me}"), res
        assert (world.out[me] / "mine.txt").read_text() == me
        assert not (world.out[me] / "forged.txt").exists()


def test_two_students_at_once_see_no_difference_in_hashes(world):
    # The parallel run above cannot use attack()'s before/after hashes for the classmate's
    # output (it legitimately changes); here the classmate is idle and fully hashed.
    res, _ = attack(world, CLASSMATE, "alice", str(world.work["bob"]), str(world.out["bob"]))
    assert (res.status, res.stdout.strip()) == ("ok", "done alice"), res


RESULTS = """
import os, sys
results = sys.argv[1]
attempts = {
    "append": lambda p: open(p + "/grades.csv", "a").write("mallory,100\\n"),
    "remove": lambda p: os.remove(p + "/alice/result.json"),
    "truncate": lambda p: os.truncate(p + "/grades.csv", 0),
    "mkdir": lambda p: os.mkdir(p + "/mallory"),
    "rename": lambda p: os.rename(p + "/grades.csv", p + "/old.csv"),
}
for prefix in ("", "/proc/self/root", "/proc/1/root"):
    for name, call in attempts.items():
        try:
            call(prefix + results)
            print("LEAK", name, prefix)
        except OSError as e:
            print(name, "refused")
# and the student's own submission, bound read-only
for name in ("/w/rnn.py", "/w"):
    try:
        open(name + ("" if name.endswith(".py") else "/x.py"), "w").write("x")
        print("LEAK", name)
    except OSError:
        print("own-refused")
"""


def test_results_and_the_own_submission_cannot_be_written(world):
    res, _ = attack(world, RESULTS, str(world.results))
    assert (res.status, res.message) == ("ok", ""), res
    assert res.stdout.count("refused") == 15 + 2


LINGER = """
import os, subprocess, sys, time
results = sys.argv[1]
late = "import time, sys; time.sleep(2); open(sys.argv[1], 'w').write('late'); " \\
       "open(sys.argv[2] + '/grades.csv', 'a').write('forged,24\\\\n')"
# double fork: the grandchild is reparented and calls setsid
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(2)
        for p in ("/out/late-fork.txt", results + "/grades.csv"):
            try:
                open(p, "a").write("late\\n")
            except OSError:
                pass
    os._exit(0)
subprocess.Popen([sys.executable, "-c", late, "/out/late-session.txt", results],
                 start_new_session=True)
subprocess.Popen(["nohup", sys.executable, "-c", late, "/out/late-nohup.txt", results],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("parent leaves")
"""


def test_processes_that_outlive_the_student_program_die_with_it(world):
    res, _ = attack(world, LINGER, str(world.results), settle=3.0)
    assert (res.status, res.message, res.stdout) == ("ok", "", "parent leaves\n"), res
    assert sorted(p.name for p in world.out["alice"].iterdir()) == ["previous.txt"]


# ------------------------------------------------------------------- floods
def test_memory_flood_is_stopped_and_reported(world):
    res, _ = attack(world, "import numpy as np\nblocks = []\nwhile True:\n"
                    "    blocks.append(np.ones(2**24))\n",
                    limits=Limits(memory_bytes=256 * 2**20, wall_seconds=60))
    assert (res.status, res.message) == ("memory", "memory limit 256 MiB exceeded"), res


FORKS = """
import os, time
end = time.monotonic() + 3
while time.monotonic() < end:
    try:
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
    except OSError:
        pass
"""

THREADS = """
import threading, time
while True:
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
"""


@pytest.mark.parametrize("code", [FORKS, THREADS], ids=["fork", "thread"])
def test_process_and_thread_floods_hit_the_pids_limit(world, code):
    res, _ = attack(world, code, limits=Limits(pids=48, wall_seconds=30))
    assert (res.status, res.message) == ("pids", "process limit 48 exceeded (threads count)"), res


def test_stdout_flood_is_cut(world):
    res, _ = attack(world, "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
                    limits=Limits(output_bytes=200_000, wall_seconds=30))
    assert (res.status, res.message) == ("output", "output limit 200 kB exceeded (stdout and "
                                                   "stderr)"), res
    assert len(res.stdout) == 200_000


@pytest.mark.parametrize("code", [
    "open('/out/big.bin', 'wb').write(b'x' * 5_000_000)\n",
    "for i in range(50):\n    open(f'/out/f{i}.bin', 'wb').write(b'x' * 100_000)\n",
    "import os\nfor i in range(100_000):\n    os.mkdir(f'/out/d{i}')\n",
    "import os\nfor i in range(1000):\n    os.truncate(os.open(f'/out/s{i}', os.O_CREAT | "
    "os.O_WRONLY), 190_000)\n",
    "import os\nfor i in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\n",
], ids=["one-big-file", "many-files", "many-folders", "sparse-files", "deep-folders"])
def test_file_floods_are_stopped_and_reported(world, code):
    res, _ = attack(world, code, limits=Limits(output_bytes=200_000, wall_seconds=30),
                    cwd="/out")
    assert (res.status, res.message) == ("output", "output limit 200 kB exceeded (files "
                                                   "written)"), res
    written = sum(p.stat().st_size for p in world.out["alice"].rglob("*") if p.is_file())
    if os.geteuid() == 0:
        # staged in a tmpfs of 200 kB plus the slack for status files: the host never held more
        assert written <= 200_000 + SLACK
        assert len(list(world.out["alice"].rglob("*"))) <= 4096


# ------------------------------------------------------------------- network
NETWORK = """
import socket, sys
port = int(sys.argv[1])
for addr in (("127.0.0.1", port), ("1.1.1.1", 53), ("10.0.0.1", 80)):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(addr)
        print("LEAK", addr)
    except OSError as e:
        print("refused", type(e).__name__)
u = socket.socket(socket.AF_UNIX)
try:
    u.connect(sys.argv[2].encode().replace(b"@", b"\\0", 1))
    print("LEAK unix")
except OSError as e:
    print("refused", type(e).__name__)
try:
    socket.getaddrinfo("pypi.org", 443)
    print("LEAK dns")
except OSError as e:
    print("refused", type(e).__name__)
"""


def test_no_network_not_even_the_hosts_loopback(world):
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    tcp.setblocking(False)
    name = f"@rnn-sandbox-test-{uuid.uuid4().hex}"
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(name.encode().replace(b"@", b"\0", 1))
    unix.listen()
    unix.setblocking(False)
    try:
        res, _ = attack(world, NETWORK, str(tcp.getsockname()[1]), name)
        assert (res.status, res.message) == ("ok", ""), res
        assert res.stdout.count("refused") == 5, res.stdout
        for listener in (tcp, unix):
            with pytest.raises(BlockingIOError):
                listener.accept()
    finally:
        tcp.close()
        unix.close()


HANG = """
import os, subprocess, sys, time
for _ in range(3):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                     start_new_session=True)
if os.fork() == 0:
    os.setsid()
    time.sleep(600)
print("hanging", flush=True)
time.sleep(600)
"""


def test_wall_time_kills_the_whole_namespace(world):
    res, _ = attack(world, HANG, limits=Limits(wall_seconds=1.5), settle=1.0)
    assert (res.status, res.message, res.returncode) == (
        "timeout", "wall time limit 1.5 s exceeded", None), res
    assert res.stdout == "hanging\n"
    assert 1.5 <= res.seconds < 10


def test_the_process_scan_finds_survivors_when_nothing_isolates(world):
    """The check every attack ends with can fail: without namespaces or cgroups, setsid
    children outlive the run and the scan finds them."""
    box = Sandbox(Limits(wall_seconds=1.0), backend="none", limit_backend="rlimit")
    token = f"MARK{uuid.uuid4().hex}"
    res = box.run([sys.executable, "-c", HANG], env={"RUN_MARK": token})
    survivors = marked_processes(token)
    try:
        assert res.status == "timeout"
        assert len(survivors) >= 3
    finally:
        for pid in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


KEYRING = """
import ctypes, errno, sys, time
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_request_key, SYS_keyctl = 248, 249, 250
KEYCTL_READ = 11
name = sys.argv[2].encode()
rings = {"user": -4, "session": -3}
if sys.argv[1] == "put":
    payload = b"alice's answer"
    for ring, spec in rings.items():
        key = libc.syscall(SYS_add_key, b"user", name + ring.encode(), payload, len(payload), spec)
        print("put", "ok" if key > 0 else errno.errorcode[ctypes.get_errno()], key)
    time.sleep(2)
else:
    time.sleep(0.5)
    for ring in rings:
        key = libc.syscall(SYS_request_key, b"user", name + ring.encode(), None, 0)
        print("get", "LEAK" if key > 0 else errno.errorcode[ctypes.get_errno()])
    buf = ctypes.create_string_buffer(64)
    for guess in range(int(sys.argv[3]) - 50, int(sys.argv[3]) + 50):
        if libc.syscall(SYS_keyctl, KEYCTL_READ, guess, buf, 64) > 0 and b"answer" in buf.raw:
            print("LEAK read", guess)
"""


def test_students_at_the_same_time_share_no_key_ring(world):
    """Key rings are outside every namespace: the user key ring belongs to a uid, the session
    key ring is inherited from the grader. A channel between two runs that shared either; one
    uid per run and a fresh session key ring per run close it."""
    if os.geteuid() != 0:
        pytest.skip("only root gives each run a uid of its own")
    import ctypes
    # As after a login: the grader has a session key ring its children would inherit.
    ring = ctypes.CDLL(None).syscall(250, 1, f"grader-{uuid.uuid4().hex}".encode())
    assert ring > 0
    box = Sandbox(Limits(wall_seconds=30))
    name = f"answer-{uuid.uuid4().hex}"
    put = attack(world, KEYRING, "put", name, who="alice", box=box)[0]
    key = int(put.stdout.split()[2])
    assert put.stdout.split()[:2] == ["put", "ok"], put
    got = {}

    def run(who, *args):
        got[who] = attack(world, KEYRING, *args, who=who, box=box, may_add=("alice", "bob"))[0]

    threads = [threading.Thread(target=run, args=("alice", "put", name)),
               threading.Thread(target=run, args=("bob", "get", name, str(key)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got["alice"].stdout.split()[0::3] == ["put", "put"]
    assert got["alice"].stdout.split()[1::3] == ["ok", "ok"]
    assert (got["bob"].status, got["bob"].stdout) == ("ok", "get ENOKEY\n" * 2), got["bob"]
