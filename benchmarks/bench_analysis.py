"""Analysis benchmark: stable log-singular values of a long Jacobian product, and one compute of
the vanilla gradient-flow explorer (``rnn_core.analysis.explore.vanilla_flow``).

Goals (issue 3): log-singular values of a 1000-step product at H=128 under 0.5 s; the explorer's
compute at H=64, T=200 well under 20 ms (the slider budget of 30 ms includes the redraw).

Run: ``python -m benchmarks bench_analysis``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from rnn_core.analysis import explore
from rnn_core.analysis.lyapunov import product_log_singular_values


def _times(run, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        out.append(time.perf_counter() - t0)
    return out


def main(repeat: int = 5) -> dict:
    """Measure and print; return {name: figure} (seconds)."""
    rng = np.random.default_rng(0)
    H, S = 128, 1000
    J = rng.standard_normal((S, H, H)) * (1.0 / math.sqrt(H))
    results: dict = {}
    for every in (1, 4, 8):
        t = _times(lambda e=every: product_log_singular_values(J, reortho_every=e), repeat)
        results[f"log_sv_1000x128_every{every}_median_s"] = float(np.median(t))

    # vanilla_flow at H=64, T=200: cold = every cache emptied; warm = matrices and inputs cached,
    # a new scale (what a slider step does); hit = same arguments again.
    def cold():
        for f in (explore._vanilla_flow, explore._weights, explore._inputs, explore._spectrum):
            f.cache_clear()
        explore.vanilla_flow(scale=1.1, T=200, H=64)

    scales = iter(np.linspace(0.5, 2.0, 10 * repeat + 10))
    explore.vanilla_flow(scale=1.0, T=200, H=64)
    results["vanilla_flow_cold_median_s"] = float(np.median(_times(cold, repeat)))
    warm = _times(lambda: explore.vanilla_flow(scale=float(next(scales)), T=200, H=64), 3 * repeat)
    results["vanilla_flow_warm_median_s"] = float(np.median(warm))
    results["vanilla_flow_hit_median_s"] = float(
        np.median(_times(lambda: explore.vanilla_flow(scale=1.0, T=200, H=64), repeat))
    )
    print("bench_analysis: median wall time over repeats")
    print(f"{'measurement':<40} {'ms':>10}  goal")
    goals = {
        "log_sv_1000x128_every4_median_s": "< 500 ms (default reortho_every=4)",
        "vanilla_flow_warm_median_s": "well under 20 ms",
    }
    for k, v in results.items():
        print(f"{k:<40} {v * 1e3:>10.1f}  {goals.get(k, '')}")
    return results


if __name__ == "__main__":
    main()
