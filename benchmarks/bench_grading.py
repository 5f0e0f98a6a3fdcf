"""Grading benchmark: time to grade one complete and one blank submission of the real course.

Each is graded in a run of its own (``jobs=1``), under the OS sandbox when this machine has one
(else ``--no-sandbox``, said in the output). Printed per run: CPU seconds of the grader and of
every sandboxed process it waited for (``getrusage``: one core's work, what a shared machine's
load does not change much), wall seconds, the student's own wall seconds (collect + produce +
score, without the one-off cases and reference values) and the load. Goal (issue 17): a
complete submission under 60 s of one core, a blank one less.

Run: ``python -m benchmarks bench_grading``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    """CPU seconds of this process and of every child process it has waited for (the sandboxed
    producers and their own children): the one-core cost of what ran in between."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> dict:
    """Grade the complete submission alone, then the blank one alone: each run's CPU seconds
    (grader + sandboxed producers) is what one submission costs one core, the one-off cases
    and reference values included; wall seconds and the load are printed beside it."""
    from rnn_core.course.grade import grade
    from rnn_core.course.release import release
    from rnn_core.course.sandbox import Limits, Sandbox, probe

    reason = probe()
    box = Sandbox(Limits(wall_seconds=300), backend="none" if reason else "bwrap")
    print(f"bench_grading: sandbox {box.backend} ({reason or 'bwrap available'}), "
          f"enforced {' '.join(box.enforced)}; goal: complete < 60 s of one core, blank less")
    print(f"{'submission':<10} {'CPU s':>7} {'wall s':>7} {'student wall s':>15} {'points':>9} "
          f"{'load':>5}")
    out: dict = {"sandbox": box.backend}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp_name:
        tmp = Path(tmp_name)
        rel = tmp / "release"
        release(ROOT, rel)
        for name in ("complete", "blank"):
            subs = tmp / f"subs-{name}"
            shutil.copytree(rel, subs / name)
            if name == "complete":
                shutil.rmtree(subs / name / "rnn_core")
                shutil.copytree(ROOT / "rnn_core", subs / name / "rnn_core",
                                ignore=shutil.ignore_patterns("__pycache__", "_kernels"))
            c0, t0 = _cpu(), time.perf_counter()
            results = grade(subs, ROOT, tmp / f"out-{name}", sandbox=box,
                            no_sandbox=bool(reason), secret="bench", jobs=1)
            cpu, wall = _cpu() - c0, time.perf_counter() - t0
            (r,) = results
            load = os.getloadavg()[0]
            points = f"{r.total:g}/{r.max_total:g}"
            print(f"{name:<10} {cpu:7.2f} {wall:7.2f} {r.seconds:15.2f} {points:>9} {load:5.2f}",
                  flush=True)
            out[name] = {"cpu": cpu, "wall": wall, "student_wall": r.seconds, "points": points,
                         "load": load}
    return out


if __name__ == "__main__":
    main()
