"""Shared by the grading tests: a stand-in for the D3 sandbox with the same interface.

``LocalBox`` runs the harness as a plain child process (what backend "none" does): no isolation,
a wall-time limit only. The judging tests are about what the grader decides from plain data, so
they hold under any sandbox; the sandbox's own tests are the sandbox helper's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import NamedTuple


class Outcome(NamedTuple):
    status: str
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    message: str


class LocalBox:
    python = sys.executable
    enforced = ("wall",)

    def __init__(self, wall: float = 20.0):
        self.wall = wall

    def run(self, argv, ro=None, rw=None, cwd=None, env=None) -> Outcome:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})}
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=self.wall)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            return Outcome("timeout", None, out, err, time.perf_counter() - t0,
                           f"wall time limit {self.wall:g} s exceeded")
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            return Outcome("exit", p.returncode, out, err, dt,
                           f"the process ended with status {p.returncode}")
        return Outcome("ok", 0, out, err, dt, "")
