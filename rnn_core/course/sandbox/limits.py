"""Per-run resource limits: memory and process count through cgroup v1, cgroup v2 or rlimits.

A backend prepares one *run group* per sandboxed run. The group is joined by the first process
of the run (a tiny wrapper, :data:`JOIN_WRAPPER`, writes its own pid into the cgroup and sets the
rlimits, then execs the command), so every descendant, including those that call ``setsid`` or
double-fork, is counted and can be found and killed afterwards. After the run, :meth:`hits` says
which limit was hit.

Which backend is used depends on what the machine offers (:func:`choose`): cgroup v1 with the
``memory`` and ``pids`` controllers (what the course's grading machines have, as root), else
cgroup v2 with both controllers, else rlimits. Rlimits are weaker: ``RLIMIT_DATA`` caps private
writable memory (unlike ``RLIMIT_AS``, it ignores the address space BLAS libraries reserve without
writing to it), and ``RLIMIT_NPROC`` counts every process of a user, so it is a per-run process
count only when the run has a uid of its own (the sandbox gives it one when the grader is root);
otherwise that backend does not enforce ``pids`` and says so. A hit leaves no counter to read.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

# Run by ``python -I -S -c``: join the cgroups, set the rlimits, exec the command. One small
# wrapper instead of ``preexec_fn`` because the grader may start sandboxes from several threads,
# where ``preexec_fn`` is unsafe.
JOIN_WRAPPER = """\
import os, resource, sys
a = sys.argv[1:]
i = a.index("--")
for spec in a[:i]:
    key, value = spec.split("=", 1)
    if key == "join":
        with open(value, "w") as f:
            f.write(str(os.getpid()))
    else:
        n = int(value)
        resource.setrlimit(getattr(resource, key), (n, n))
try:  # a fresh anonymous session key ring: none inherited from the grader's login to share
    import ctypes
    ctypes.CDLL(None).syscall(250, 1, None)  # keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)
except Exception:
    pass
os.execvp(a[i + 1], a[i + 1:])
"""

PARENT = "rnn-sandbox"


def human_bytes(n: int) -> str:
    """``4 GiB``, ``512 MiB``, ``2 MB``: the unit that states ``n`` exactly, if any."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


class RunGroup:
    """Limits of one run. Subclasses add cgroups; this base class is the rlimit part."""

    def __init__(self, rlimits: dict[str, int]):
        self.rlimits = rlimits

    def wrapper_args(self) -> list[str]:
        """Arguments of :data:`JOIN_WRAPPER` before ``--``."""
        return [f"{key}={value}" for key, value in self.rlimits.items()]

    def pids(self) -> list[int]:
        """Host pids still in the group (empty when the backend cannot tell)."""
        return []

    def kill(self) -> None:
        """SIGKILL every process of the group."""

    def hits(self) -> set[str]:
        """Names of the limits that were hit: ``memory``, ``pids``."""
        return set()

    def close(self) -> list[int]:
        """Kill what is left, remove the group; return the pids that could not be killed."""
        return []


class _CgroupRun(RunGroup):
    """Common part of the two cgroup versions: kill and remove by reading ``cgroup.procs``."""

    dirs: list[Path]

    def wrapper_args(self) -> list[str]:
        return [f"join={d / 'cgroup.procs'}" for d in self.dirs] + super().wrapper_args()

    def pids(self) -> list[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(found)

    def kill(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> list[int]:
        # A fork loop may add processes while we kill; the pids limit bounds how many.
        deadline = time.monotonic() + 5.0
        while self.pids() and time.monotonic() < deadline:
            self.kill()
            time.sleep(0.01)
        left = self.pids()
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
        return left


class _CgroupV1Run(_CgroupRun):
    def __init__(self, memory_dir: Path, pids_dir: Path, rlimits: dict[str, int]):
        super().__init__(rlimits)
        self.memory_dir, self.pids_dir = memory_dir, pids_dir
        self.dirs = [memory_dir, pids_dir]

    def hits(self) -> set[str]:
        hit = set()
        oom = _keyed(self.memory_dir / "memory.oom_control")
        if oom.get("oom_kill", 0) > 0:
            hit.add("memory")
        if _keyed(self.pids_dir / "pids.events").get("max", 0) > 0:
            hit.add("pids")
        return hit


class _CgroupV2Run(_CgroupRun):
    def __init__(self, group: Path, rlimits: dict[str, int]):
        super().__init__(rlimits)
        self.dirs = [group]

    def kill(self) -> None:
        kill_file = self.dirs[0] / "cgroup.kill"
        if kill_file.exists():
            try:
                kill_file.write_text("1")
            except OSError:
                pass
        super().kill()

    def hits(self) -> set[str]:
        hit = set()
        events = _keyed(self.dirs[0] / "memory.events")
        if events.get("oom_kill", 0) > 0 or events.get("oom", 0) > 0:
            hit.add("memory")
        if _keyed(self.dirs[0] / "pids.events").get("max", 0) > 0:
            hit.add("pids")
        return hit


def _keyed(path: Path) -> dict[str, int]:
    """``key value`` lines of a cgroup file as a dict (empty when unreadable)."""
    out = {}
    try:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                out[parts[0]] = int(parts[1])
    except OSError:
        pass
    return out


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _sweep(parents: list[Path], older_than: float) -> list[Path]:
    """Remove run groups left by a grader that died (empty, older than ``older_than`` s).

    A live run's group is either younger (it is joined milliseconds after it is made) or holds
    processes, which makes the kernel refuse to remove it.
    """
    removed = []
    now = time.time()
    for parent in parents:
        try:
            children = [c for c in parent.iterdir() if c.is_dir()]
        except OSError:
            continue
        for child in children:
            try:
                if now - child.stat().st_mtime > older_than:
                    child.rmdir()
                    removed.append(child)
            except OSError:
                pass
    return removed


class LimitBackend:
    """rlimits only: memory as ``RLIMIT_DATA``, no per-run process count."""

    name = "rlimit"
    enforced: tuple[str, ...] = ("memory",)

    def rlimits(self, limits) -> dict[str, int]:
        # RLIMIT_FSIZE: no single file written may exceed the output cap (the total is checked
        # after the run). RLIMIT_CORE: no core dumps in the student's folder.
        return {"RLIMIT_FSIZE": limits.output_bytes, "RLIMIT_CORE": 0}

    def sweep(self, older_than: float = 600.0) -> list[Path]:
        """Remove run groups a dead grader left behind; return them."""
        return []

    def start(self, limits, uid: int | None = None) -> RunGroup:
        """The limits of one run; ``uid``: the run's own uid, if it has one."""
        rl = self.rlimits(limits)
        rl["RLIMIT_DATA"] = limits.memory_bytes
        if uid is not None:
            rl["RLIMIT_NPROC"] = limits.pids
        return RunGroup(rl)


class CgroupV1(LimitBackend):
    """cgroup v1: ``memory`` and ``pids`` hierarchies mounted under ``root``."""

    name = "cgroup1"
    enforced = ("memory", "pids")

    def __init__(self, root: str | Path = "/sys/fs/cgroup"):
        self.root = Path(root)

    def unavailable(self) -> str | None:
        for ctl in ("memory", "pids"):
            d = self.root / ctl
            if not (d / "cgroup.procs").exists():
                return f"no cgroup v1 {ctl} controller at {d}"
            if not os.access(d, os.W_OK):
                return f"cgroup v1 {ctl} controller at {d} is not writable (run as root)"
        return None

    def sweep(self, older_than: float = 600.0) -> list[Path]:
        return _sweep([self.root / "memory" / PARENT, self.root / "pids" / PARENT], older_than)

    def start(self, limits, uid: int | None = None) -> RunGroup:
        name = uuid.uuid4().hex[:12]
        mem = self.root / "memory" / PARENT / name
        pids = self.root / "pids" / PARENT / name
        mem.mkdir(parents=True)
        pids.mkdir(parents=True)
        _write(mem / "memory.limit_in_bytes", str(limits.memory_bytes))
        # Swap would let a run exceed its memory without being stopped.
        if (mem / "memory.memsw.limit_in_bytes").exists():
            _write(mem / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        if (mem / "memory.swappiness").exists():
            try:
                _write(mem / "memory.swappiness", "0")
            except OSError:
                pass
        _write(pids / "pids.max", str(limits.pids))
        return _CgroupV1Run(mem, pids, self.rlimits(limits))


class CgroupV2(LimitBackend):
    """cgroup v2: one group under ``root`` with the ``memory`` and ``pids`` controllers."""

    name = "cgroup2"
    enforced = ("memory", "pids")

    def __init__(self, root: str | Path = "/sys/fs/cgroup"):
        self.root = Path(root)

    def unavailable(self) -> str | None:
        controllers = self.root / "cgroup.controllers"
        if not controllers.exists():
            return f"no cgroup v2 hierarchy at {self.root}"
        have = set(controllers.read_text().split())
        missing = {"memory", "pids"} - have
        if missing:
            return f"cgroup v2 at {self.root} lacks the {', '.join(sorted(missing))} controller"
        if not os.access(self.root, os.W_OK):
            return f"cgroup v2 at {self.root} is not writable (run as root)"
        return None

    def sweep(self, older_than: float = 600.0) -> list[Path]:
        return _sweep([self.root / PARENT], older_than)

    def start(self, limits, uid: int | None = None) -> RunGroup:
        parent = self.root / PARENT
        if not parent.exists():
            parent.mkdir()
        for d in (self.root, parent):
            enabled = set((d / "cgroup.subtree_control").read_text().split())
            if not {"memory", "pids"} <= enabled:
                _write(d / "cgroup.subtree_control", "+memory +pids")
        group = parent / uuid.uuid4().hex[:12]
        group.mkdir()
        _write(group / "memory.max", str(limits.memory_bytes))
        if (group / "memory.swap.max").exists():
            _write(group / "memory.swap.max", "0")
        _write(group / "pids.max", str(limits.pids))
        return _CgroupV2Run(group, self.rlimits(limits))


BACKENDS = {"cgroup1": CgroupV1, "cgroup2": CgroupV2, "rlimit": LimitBackend}


def choose(name: str = "auto", root: str | Path = "/sys/fs/cgroup") -> LimitBackend:
    """The limit backend called ``name``, or for ``"auto"`` the strongest this machine offers.

    Raises ``RuntimeError`` naming the reason when a named cgroup backend is not usable.
    """
    if name not in ("auto", *BACKENDS):
        raise ValueError(
            f"choose: limits must be 'auto' or one of {', '.join(BACKENDS)}, got {name!r}"
        )
    if name == "rlimit":
        return LimitBackend()
    for key in (("cgroup1", "cgroup2") if name == "auto" else (name,)):
        backend = BACKENDS[key](root)
        reason = backend.unavailable()
        if reason is None:
            return backend
        if name != "auto":
            raise RuntimeError(f"choose: limits {name!r} unavailable: {reason}")
    return LimitBackend()


__all__ = ["CgroupV1", "CgroupV2", "LimitBackend", "RunGroup", "choose", "human_bytes"]

