"""Grading benchmark: time to grade one complete and one blank submission of the real course.

Both are graded in one run, one student at a time (``jobs=1``), under the OS sandbox when this
machine has one (else ``--no-sandbox``, said in the output). Printed per student: the seconds of
collect + produce + score; and for the run: the one-off cost (cases and reference values, once
per exercise for the whole class) and the total. Goal (issue 10/11): well under 60 s per
complete submission.

Run: ``python -m benchmarks bench_grading``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> dict:
    from rnn_core.course.grade import grade
    from rnn_core.course.release import release
    from rnn_core.course.sandbox import Limits, Sandbox, probe

    reason = probe()
    box = Sandbox(Limits(wall_seconds=300), backend="none" if reason else "bwrap")
    print(f"bench_grading: sandbox {box.backend} ({reason or 'bwrap available'}), "
          f"enforced {' '.join(box.enforced)}; load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp_name:
        tmp = Path(tmp_name)
        rel = tmp / "release"
        release(ROOT, rel)
        subs = tmp / "subs"
        shutil.copytree(rel, subs / "blank")
        shutil.copytree(rel, subs / "complete")
        shutil.rmtree(subs / "complete" / "rnn_core")
        shutil.copytree(ROOT / "rnn_core", subs / "complete" / "rnn_core",
                        ignore=shutil.ignore_patterns("__pycache__", "_kernels"))
        t0 = time.perf_counter()
        results = grade(subs, ROOT, tmp / "out", sandbox=box, no_sandbox=bool(reason),
                        secret="bench", jobs=1)
        total = time.perf_counter() - t0
    per = {r.student: r.seconds for r in results}
    points = {r.student: f"{r.total:g}/{r.max_total:g}" for r in results}
    once = total - sum(per.values())
    for name in ("complete", "blank"):
        print(f"  {name:<9} {per[name]:6.2f} s   ({points[name]} autograded points)")
    print(f"  once per run (cases, reference values): {once:.2f} s; total {total:.2f} s")
    return {"seconds": per, "points": points, "once": once, "total": total,
            "sandbox": box.backend, "load": os.getloadavg()[0]}


if __name__ == "__main__":
    main()
