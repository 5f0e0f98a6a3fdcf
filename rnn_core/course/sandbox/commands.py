"""Command lines of a run: bubblewrap's, or the host's own for the ``none`` backend."""

from __future__ import annotations

import os

from rnn_core.course.sandbox import runtime as _runtime


def bwrap_argv(bwrap: str, setpriv: str | None, rt: _runtime.Runtime, tmp_bytes: int,
               argv: list[str], ro: dict[str, str], rw: dict[str, str], cwd: str | None,
               env: dict[str, str], status_fd: int, uid: int | None) -> list[str]:
    """bwrap's command line for one run (see the package docstring for what it builds).

    ``setpriv``: when given (the grader is root), the command drops to ``uid`` through it;
    ``tmp_bytes``: size of the sandbox's ``/tmp``.
    """
    if setpriv:
        # Root: no user namespace (its uid 0 would map to host root); setpriv drops to the
        # run's uid with empty capability sets, after bwrap has built the mounts.
        a = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
             "--unshare-cgroup-try", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
             "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        drop = [setpriv, "--reuid", str(uid), "--regid", str(uid),
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
    else:
        a = [bwrap, "--unshare-all", "--unshare-user", "--cap-drop", "ALL"]
        drop = []
    a += ["--die-with-parent", "--new-session", "--hostname", "sandbox",
          "--json-status-fd", str(status_fd)]
    made = {"/", "/tmp"}
    for host, inside in rt.binds:
        a += _parents(inside, made) + ["--ro-bind", host, inside]
    for target, link in _runtime.symlinks():
        a += ["--symlink", target, link]
    for inside in rt.hidden:
        a += ["--size", "65536", "--tmpfs", inside]
    for host, inside in rt.packages:
        a += ["--ro-bind", host, inside]
    for inside in rt.hidden:
        a += ["--remount-ro", inside]
    a += ["--proc", "/proc", "--dev", "/dev",
          "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    # Parents before children, so a bind inside another bind lands on top of it.
    binds = [(inside, host, "--ro-bind") for host, inside in ro.items()]
    binds += [(inside, host, "--bind") for host, inside in rw.items()]
    for inside, host, flag in sorted(binds, key=lambda b: b[0].count("/")):
        a += _parents(inside, made) + [flag, host, inside]
    a += ["--chdir", cwd or "/tmp", "--clearenv"]
    inner = {"PATH": f"{_runtime.PREFIX}/bin:/usr/bin:/bin", "HOME": "/tmp",
             "TMPDIR": "/tmp", **dict(rt.env), **quiet_env(), **env}
    for key, value in inner.items():
        a += ["--setenv", key, value]
    return [*a, "--", *drop, *argv]


def none_argv(argv: list[str], ro: dict[str, str], rw: dict[str, str], cwd: str | None,
              env: dict[str, str], scratch: str) -> tuple[list[str], dict[str, str], str]:
    """(argv, environment, working folder) on the host, the caller's inside paths translated.
    The sandbox's ``/tmp`` is the run's own ``scratch`` folder: it is the working folder when none
    (or ``/tmp``) is asked for, and HOME and TMPDIR, but an argument such as ``/tmp/x/python`` is
    a host path here and stays one (the host's own /tmp is where a checkout may live)."""
    mapping = {inside: host for host, inside in (*ro.items(), *rw.items())}
    order = sorted(mapping, key=len, reverse=True)

    def host_path(s: str) -> str:
        for inside in order:
            if s == inside or s.startswith(inside.rstrip("/") + "/"):
                return mapping[inside] + s[len(inside):]
        return s

    inner = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": scratch,
             "TMPDIR": scratch, **quiet_env(), **env}
    inner = {k: host_path(v) for k, v in inner.items()}
    where = scratch if cwd in (None, "/tmp") else host_path(cwd)
    return [host_path(s) for s in argv], inner, where


def _parents(inside: str, made: set[str]) -> list[str]:
    """bwrap arguments creating the missing parent folders of ``inside`` with mode 0755.

    Left to itself, bwrap (as root) creates them 0700, which the sandbox user cannot enter.
    """
    out = []
    parts = inside.strip("/").split("/")[:-1]
    for i in range(len(parts)):
        d = "/" + "/".join(parts[: i + 1])
        if d not in made:
            made.add(d)
            out += ["--perms", "0755", "--dir", d]
    return out


def quiet_env() -> dict[str, str]:
    # One BLAS thread per run: threads count against the pids limit, and the grader runs one
    # sandbox per core.
    return {"LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
