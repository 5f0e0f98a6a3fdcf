"""Run a command in an OS sandbox with limits: one per student process (design record D3).

Use::

    box = Sandbox(Limits(wall_seconds=30))          # or Sandbox({"wall_seconds": 30})
    out = box.run([box.python, "/h/harness.py"], ro={harness_dir: "/h", work: "/w"},
                  rw={outdir: "/out"}, cwd="/w")
    out.status, out.message                          # "memory", "memory limit 4 GiB exceeded"

Layout: :mod:`.commands` (bwrap's command line), :mod:`.runtime` (the Python inside),
:mod:`.limits` (cgroups, rlimits), :mod:`.outdir` (capped writable folders), :mod:`.uids` (a uid
per run), :mod:`.watch` (output, exit code, the end of a run).

Isolation (``backend="bwrap"``, what ``"auto"`` picks): Debian's bubblewrap puts the command in
new PID, network, IPC, UTS, mount and cgroup namespaces, ``--die-with-parent`` and
``--new-session``. Its file system holds only the operating system's ``/usr``, the read-only
Python runtime at ``/opt/python`` (numpy and nothing else, see :mod:`.runtime`), a fresh ``/proc``,
a minimal ``/dev``, a small ``/tmp`` and the folders the caller binds. When the run ends, or is
stopped, the PID namespace dies and every process in it with it.

The command never runs as root: when the grader is root (the grading machines), ``setpriv``
switches to a uid of its own for this run (from :data:`SANDBOX_UIDS`, no account has them) with
no capability before the command starts. Root in a user namespace would not do: its host uid
stays 0, which the kernel still trusts for global sysctls under ``/proc/sys`` and for root's key
rings. One uid per run, rather than one for all, leaves two students graded at the same time
nothing per-user to share (key rings, process counts). When the grader is not root, bubblewrap
maps the command into a new user namespace as the grader's own uid. Consequence for callers: ``ro``
folders must be readable by others (mode ``o+rX``); ``rw`` folders are staged in a tmpfs owned by
the sandbox user (or, bound directly, lent to it for the run) and hold the grader's files after.

``backend="none"`` (the grader's ``--no-sandbox``) runs the command on the host with the same
arguments: inside paths in ``argv``, ``cwd`` and ``env`` are translated to their host folders
(``/tmp`` to a fresh folder of the run's). It still applies the limits, but isolates nothing.

Limits (:mod:`.limits`): memory and process count through cgroup v1, cgroup v2 or rlimits, the
strongest the machine offers (:attr:`Sandbox.enforced` names what is enforced, for the CSV); wall
time; total bytes of stdout plus stderr; bytes written in each writable folder (a private tmpfs
per run where the grader may mount, see :mod:`.outdir`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rnn_core.course.sandbox import limits as _limits
from rnn_core.course.sandbox import outdir
from rnn_core.course.sandbox import runtime as _runtime
from rnn_core.course.sandbox.commands import bwrap_argv, none_argv
from rnn_core.course.sandbox.limits import human_bytes
from rnn_core.course.sandbox.outdir import Stage
from rnn_core.course.sandbox.uids import POOL, SANDBOX_UIDS, hand_back, hand_over
from rnn_core.course.sandbox.watch import Capture, bwrap_exit, exit_message, killpg

STATUSES = ("ok", "exit", "timeout", "memory", "pids", "output", "error")
BACKENDS = ("auto", "bwrap", "none")




# Inside paths a caller may not bind over: the sandbox's own system and runtime.
RESERVED = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev", _runtime.PREFIX)


@dataclass(frozen=True)
class Limits:
    """Per-run limits (defaults as in ``course.toml``).

    memory_bytes : memory of all processes of the run together (4 GiB).
    pids : processes *and threads* of the run together (256).
    wall_seconds : wall-clock time from start to the last process gone (60 s).
    output_bytes : stdout plus stderr together, and separately the files written in the writable
        folders together (2 MB).
    """

    memory_bytes: int = 4 * 2**30
    pids: int = 256
    wall_seconds: float = 60.0
    output_bytes: int = 2_000_000

    def __post_init__(self):
        for name in ("memory_bytes", "pids", "output_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits: {name} must be a positive int, got {value!r}")
        w = self.wall_seconds
        if isinstance(w, bool) or not isinstance(w, int | float) or not (0 < w < float("inf")):
            raise ValueError(f"Limits: wall_seconds must be a positive finite number, got {w!r}")


class Outcome(NamedTuple):
    """What a run did.

    status : ``ok`` (exit code 0), ``exit`` (non-zero exit code), ``timeout`` (wall time),
        ``memory``, ``pids``, ``output`` (a limit was hit), ``error`` (the sandbox failed).
    returncode : exit code of the command, 128 + N when signal N killed it; None when the run
        was stopped (timeout, output) or never started.
    stdout, stderr : the command's output, decoded as UTF-8, at most ``output_bytes`` together.
    seconds : wall time of the run, sandbox start-up included.
    message : one line for people ("memory limit 4 GiB exceeded"); empty when ``ok``.
    """

    status: str
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    message: str


def probe(limits: Limits | None = None) -> str | None:
    """None when bubblewrap sandboxes work here, else the reason they do not (one line)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        box = Sandbox(limits or Limits(wall_seconds=30), backend="bwrap")
    except (RuntimeError, OSError) as exc:
        return str(exc)
    out = box.run([box.python, "-c", "import numpy; print(numpy.ones(2).sum())"])
    if out.status != "ok" or out.stdout.strip() != "2.0":
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return f"bwrap cannot run numpy in a sandbox: {out.status}: {out.message}; {last}"
    return None


class Sandbox:
    """Runs commands in a sandbox with :class:`Limits`.

    Parameters
    ----------
    limits : the limits of every run: a :class:`Limits`, or a dict of some of its fields
        (the rest keep their defaults); default ``Limits()``.
    backend : ``"bwrap"`` (namespaces), ``"none"`` (no isolation, for ``--no-sandbox``) or
        ``"auto"``: bwrap when installed, else ``RuntimeError`` (never a silent downgrade).
    limit_backend : ``"auto"`` (cgroup v1, else cgroup v2, else rlimits), or one of those by
        name: ``"cgroup1"``, ``"cgroup2"``, ``"rlimit"``.

    Attributes
    ----------
    backend : the isolation backend in use, ``"bwrap"`` or ``"none"``.
    enforced : names of the limits actually enforced, in the order ``memory``, ``pids``,
        ``wall``, ``output``.
    limit_backend : ``"cgroup1"``, ``"cgroup2"`` or ``"rlimit"``.
    python : the interpreter to call inside: numpy only under bwrap; under ``none`` the
        grader's own interpreter.
    """

    def __init__(self, limits: Limits | None = None, backend: str = "auto",
                 *, limit_backend: str = "auto"):
        if limits is None:
            limits = Limits()
        elif isinstance(limits, Mapping):
            unknown = set(limits) - set(Limits.__dataclass_fields__)
            if unknown:
                raise ValueError(f"Sandbox: unknown limits {sorted(unknown)}; known: "
                                 f"{', '.join(Limits.__dataclass_fields__)}")
            limits = Limits(**limits)
        if not isinstance(limits, Limits):
            raise TypeError(f"Sandbox: limits must be a Limits or a dict of its fields, "
                            f"got {type(limits).__name__}")
        if backend not in BACKENDS:
            raise ValueError(f"Sandbox: backend must be one of {', '.join(BACKENDS)}, "
                             f"got {backend!r}")
        self.limits = limits
        if backend in ("auto", "bwrap"):
            self._bwrap = shutil.which("bwrap")
            if self._bwrap is None:
                raise RuntimeError("Sandbox: bubblewrap (bwrap) is not installed; install it "
                                   "(apt-get install bubblewrap) or run without isolation "
                                   "(backend='none', the grader's --no-sandbox)")
            self.backend = "bwrap"
            self._setpriv = shutil.which("setpriv") if os.geteuid() == 0 else None
            if os.geteuid() == 0 and self._setpriv is None:
                raise RuntimeError("Sandbox: setpriv (util-linux) is missing; as root the "
                                   "sandbox needs it to drop to an unprivileged uid")
            self._runtime = _runtime.discover()
            self.python = self._runtime.python
        else:
            self.backend = "none"
            self._bwrap = None
            self._runtime = None
            self.python = sys.executable
        self._limit = _limits.choose(limit_backend)
        self._limit.sweep()
        if os.geteuid() == 0:
            outdir.sweep()
        self.limit_backend = self._limit.name
        own_uid = self.backend == "bwrap" and self._setpriv is not None
        extra = ("pids",) if own_uid and "pids" not in self._limit.enforced else ()
        # RLIMIT_NPROC counts the processes of a uid: a per-run uid makes it a per-run count.
        self.enforced = (*self._limit.enforced, *extra, "wall", "output")

    def __repr__(self) -> str:
        return (f"Sandbox(backend={self.backend!r}, limits={self.limit_backend!r}, "
                f"enforced={self.enforced!r})")

    # ------------------------------------------------------------------ run
    def run(self, argv: Sequence[str], ro: Mapping[str, str] | None = None,
            rw: Mapping[str, str] | None = None, cwd: str | None = None,
            env: Mapping[str, str] | None = None) -> Outcome:
        """Run ``argv`` in a fresh sandbox and wait for it (at most ``wall_seconds``).

        Parameters
        ----------
        argv : command and arguments; paths in it are inside paths.
        ro : ``{host folder or file: inside path}`` bound read-only.
        rw : ``{host folder: inside path}`` writable; holds what the run left there when it
            returns (regular files and folders only); each counts against ``output_bytes``.
        cwd : working directory, an inside path (default ``/tmp``).
        env : extra environment variables (the rest of the environment is not passed in).
        """
        argv = _check_argv(argv)
        ro = _check_binds("ro", ro)
        rw = _check_binds("rw", rw)
        for host in rw:
            if not os.path.isdir(host):
                raise ValueError(f"Sandbox.run: rw maps {host!r}, which is not a folder")
        if self.backend == "bwrap" and self._setpriv:  # the run has a uid of its own
            for host in ro:
                st = os.stat(host)
                need = 0o005 if os.path.isdir(host) else 0o004
                if st.st_mode & need != need:
                    raise ValueError(f"Sandbox.run: ro maps {host!r}, which the sandbox user "
                                     f"cannot read (mode {st.st_mode & 0o777:04o}); chmod o+rX")
        env = _check_env(env)
        if cwd is not None and (not isinstance(cwd, str) or not cwd.startswith("/")):
            raise ValueError(f"Sandbox.run: cwd must be an absolute inside path, got {cwd!r}")

        t0 = time.monotonic()
        uid = POOL.take() if self.backend == "bwrap" and self._setpriv else None
        try:
            group = self._limit.start(self.limits, uid)
        except OSError as exc:
            POOL.give(uid)
            return Outcome("error", None, "", "", time.monotonic() - t0,
                           f"cannot set up the {self.limit_backend} limits: {exc}")
        scratch = None
        status_r = status_w = -1
        owners, stages = {}, []
        try:
            for host in rw:
                stages.append(Stage(host, self.limits.output_bytes, uid))
            seen = {st.path: rw[st.host] for st in stages}
            if self.backend == "bwrap":
                owners = hand_over([st.host for st in stages if st.direct], uid)
                status_r, status_w = os.pipe()
                command = bwrap_argv(self._bwrap, self._setpriv, self._runtime,
                                     self.limits.output_bytes, argv, ro, seen, cwd, env,
                                     status_w, uid)
                popen_env, popen_cwd = {"PATH": "/usr/bin:/bin"}, "/"
            else:
                scratch = tempfile.mkdtemp(prefix="sandbox-none-")
                command, popen_env, popen_cwd = none_argv(argv, ro, seen, cwd, env, scratch)
            wrapper = [sys.executable, "-I", "-S", "-c", _limits.JOIN_WRAPPER,
                       *group.wrapper_args(), "--", *command]
            return self._supervise(wrapper, popen_env, popen_cwd, group, stages, status_r,
                                   status_w, t0)
        except OSError as exc:
            return Outcome("error", None, "", "", time.monotonic() - t0,
                           f"cannot prepare the sandbox: {exc}")
        finally:
            for fd in (status_r, status_w):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            group.close()
            hand_back(owners)
            for st in stages:
                st.close()
            POOL.give(uid)
            if scratch is not None:  # rm, not rmtree: a run may nest folders thousands deep
                subprocess.run(["rm", "-rf", "--", scratch], capture_output=True)

    # ---------------------------------------------------------- supervise
    def _supervise(self, wrapper, popen_env, popen_cwd, group, stages, status_r, status_w, t0):
        lim = self.limits
        try:
            proc = subprocess.Popen(
                wrapper, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True, env=popen_env, cwd=popen_cwd,
                pass_fds=(status_w,) if status_w >= 0 else ())
        except OSError as exc:
            return Outcome("error", None, "", "", time.monotonic() - t0,
                           f"cannot start the sandbox: {exc}")
        done = threading.Event()
        capture = Capture(proc, lim.output_bytes, done)
        threading.Thread(target=lambda: (proc.wait(), done.set()), daemon=True).start()
        finished = done.wait(lim.wall_seconds) and proc.poll() is not None
        timed_out = not done.is_set()
        if not finished:
            killpg(proc.pid)
            group.kill()
            proc.wait()
        hits = group.hits()
        survivors = group.close()
        if capture.join(timeout=2.0):  # else a survivor still holds a pipe (none backend)
            proc.stdout.close()
            proc.stderr.close()
        seconds = time.monotonic() - t0
        stdout, stderr = capture.text()

        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        if status_r >= 0:
            # bwrap's own failures (a bind, chdir) leave no exit code of the command
            code = bwrap_exit(status_r)
        rc = code if finished else None

        def out(status, message):
            return Outcome(status, rc, stdout, stderr, seconds, message)

        if survivors:
            return out("error", f"{len(survivors)} processes survived the sandbox "
                                f"(pids {survivors[:5]})")
        # A limit hit first: it may also have killed bwrap itself, or kept it from forking.
        if "memory" in hits:
            return out("memory", f"memory limit {human_bytes(lim.memory_bytes)} exceeded")
        if "pids" in hits:
            return out("pids", f"process limit {lim.pids} exceeded (threads count)")
        if status_r >= 0 and finished and code is None:
            lines = [s for s in stderr.splitlines() if s.startswith("bwrap:")]
            return out("error", f"the sandbox did not start: {(lines or ['no reason given'])[0]}")
        if capture.over:
            return out("output", f"output limit {human_bytes(lim.output_bytes)} exceeded "
                                 "(stdout and stderr)")
        if any(st.full() for st in stages) or rc == 128 + signal.SIGXFSZ:
            return out("output", f"output limit {human_bytes(lim.output_bytes)} exceeded "
                                 "(files written)")
        if timed_out:
            return out("timeout", f"wall time limit {lim.wall_seconds:g} s exceeded")
        if self._limit.name == "rlimit" and rc != 0:
            # No counter to read: the errors the limits cause are the evidence of a failed run.
            if "MemoryError" in stderr or "Cannot allocate memory" in stderr:
                return out("memory", f"memory limit {human_bytes(lim.memory_bytes)} exceeded")
            if "pids" in self.enforced and ("Resource temporarily unavailable" in stderr
                                            or "can't start new thread" in stderr):
                return out("pids", f"process limit {lim.pids} exceeded (threads count)")
        if rc != 0:
            return out("exit", exit_message(rc))
        return out("ok", "")


def _check_argv(argv) -> list[str]:
    if isinstance(argv, str | bytes) or not isinstance(argv, Sequence) or not argv:
        raise ValueError(f"Sandbox.run: argv must be a non-empty list of str, got {argv!r}")
    if not all(isinstance(s, str) and "\0" not in s for s in argv):
        raise ValueError("Sandbox.run: argv must hold str without NUL bytes")
    return list(argv)


def _check_binds(name: str, binds) -> dict[str, str]:
    if binds is None:
        return {}
    if not isinstance(binds, Mapping):
        raise ValueError(f"Sandbox.run: {name} must be a dict {{host path: inside path}}, "
                         f"got {type(binds).__name__}")
    out = {}
    for host, inside in binds.items():
        host = os.fspath(host)
        if not os.path.exists(host):
            raise ValueError(f"Sandbox.run: {name} maps {host!r}, which does not exist")
        if (not isinstance(inside, str) or not inside.startswith("/") or inside == "/"
                or os.path.normpath(inside) != inside):
            raise ValueError(f"Sandbox.run: {name}[{host!r}] must be a normalised absolute "
                             f"inside path other than '/', got {inside!r}")
        for r in RESERVED:
            if inside == r or inside.startswith(r + "/"):
                raise ValueError(f"Sandbox.run: {name}[{host!r}] = {inside!r} is under {r}, "
                                 "which the sandbox reserves")
        out[os.path.abspath(host)] = inside
    return out


def _check_env(env) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and k and "=" not in k
            for k, v in env.items()):
        raise ValueError("Sandbox.run: env must be a dict of str to str (names without '=')")
    return dict(env)


__all__ = ["SANDBOX_UIDS", "STATUSES", "Limits", "Outcome", "Sandbox", "probe"]
