"""Run the benchmarks: ``python -m benchmarks [NAME ...]``.

Without arguments, runs ``main()`` of every ``benchmarks/bench_*.py`` module in name order; with
arguments, only the named modules (``bench_cells`` or ``cells``).
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def discover() -> list[str]:
    """Names of the benchmark modules, in name order."""
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("bench_*.py"))


def run(names: list[str]) -> dict:
    available = discover()
    chosen = []
    for name in names or available:
        full = name if name.startswith("bench_") else f"bench_{name}"
        full = full.removesuffix(".py")
        if full not in available:
            raise SystemExit(
                f"benchmarks: no module {full!r}; available: {', '.join(available) or 'none'}"
            )
        chosen.append(full)
    results = {}
    for full in chosen:
        module = importlib.import_module(f"benchmarks.{full}")
        print(f"=== {full} ===")
        t0 = time.perf_counter()
        results[full] = module.main()
        print(f"--- {full}: {time.perf_counter() - t0:.1f} s\n")
    return results


if __name__ == "__main__":
    run(sys.argv[1:])
