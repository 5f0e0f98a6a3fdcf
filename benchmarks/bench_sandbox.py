"""Sandbox benchmark: start-up cost of one sandboxed run (goal: under 1 s per student process).

Each row runs a trivial command ``ROUNDS`` times, one after another, and reports the median and
the 90th percentile of the wall time ``Sandbox.run`` measured (set-up of the limits and of the rw
tmpfs, bubblewrap, the command, tear-down), with the load average before and after: the machine is
shared, so a number without its load means little. ``none`` is the same run without isolation,
for comparison.

Run: ``python -m benchmarks bench_sandbox``.
"""

from __future__ import annotations

import statistics
import tempfile
import time

from rnn_core.course.sandbox import Limits, Sandbox, probe

ROUNDS = 20


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def _measure(box: Sandbox, argv: list[str], rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        box.run(argv, rw={out: "/out"})  # warm the page cache
        seconds = []
        for _ in range(rounds):
            res = box.run(argv, rw={out: "/out"})
            if res.status != "ok":
                raise RuntimeError(f"bench_sandbox: {argv} gave {res.status}: {res.message}")
            seconds.append(res.seconds)
    seconds.sort()
    return {"median_s": statistics.median(seconds),
            "p90_s": seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))],
            "min_s": seconds[0]}


def main(rounds: int = ROUNDS) -> dict:
    """Measure and print; return the figures as a dict."""
    reason = probe()
    if reason is not None:
        print(f"bench_sandbox: skipped, no working sandbox: {reason}")
        return {"skipped": reason}
    limits = Limits(wall_seconds=60)
    boxes = {"bwrap": Sandbox(limits), "none": Sandbox(limits, backend="none")}
    print(f"bench_sandbox: wall time of one run, {rounds} runs each; limits through "
          f"{boxes['bwrap'].limit_backend}, enforced {', '.join(boxes['bwrap'].enforced)}")
    print(f"{'backend':>7} {'command':<26} | {'median s':>8} {'p90 s':>7} {'min s':>7} | "
          "load before -> after")
    rows = []
    for name, box in boxes.items():
        commands = {"true": ["/bin/true"], "python -c pass": [box.python, "-c", "pass"],
                    "python -c 'import numpy'": [box.python, "-c", "import numpy"]}
        for label, argv in commands.items():
            before = _loadavg()
            t0 = time.perf_counter()
            row = _measure(box, argv, rounds)
            row.update(backend=name, command=label, load_before=before, load_after=_loadavg(),
                       total_s=time.perf_counter() - t0)
            rows.append(row)
            print(f"{name:>7} {label:<26} | {row['median_s']:8.3f} {row['p90_s']:7.3f} "
                  f"{row['min_s']:7.3f} | {row['load_before']} -> {row['load_after']}")
    goal = next(r for r in rows if r["backend"] == "bwrap" and "numpy" in r["command"])
    print(f"start-up with numpy: median {goal['median_s']:.3f} s (goal < 1 s: "
          f"{'met' if goal['median_s'] < 1 else 'NOT met'})")
    return {"rows": rows}


if __name__ == "__main__":
    main()
