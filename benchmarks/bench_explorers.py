"""Explorer benchmark: one slider update, compute plus a real redraw of the figure (Agg).

Goal (issue 3): one slider update of the vanilla gradient-flow explorer at H=64, T=200, compute
plus redraw, median under 30 ms.

Each explorer is measured two ways, ``n`` updates each, timing ``update(...)`` followed by
``fig.canvas.draw()`` (a full Agg render; in image mode ``update`` itself renders nothing until
the explorer is displayed, so exactly one render is counted):

- ``warm``: alternating between two values, as a student dragging a slider back and forth;
  after the first two the compute functions answer from their caches;
- ``cold``: a new value every time, so the compute runs on every update.

The vanilla explorer is also split into its parts: compute alone (cold), artist updates alone
(warm, no render) and the render alone.

Run: ``python -m benchmarks bench_explorers``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

_CPU: dict[str, float] = {}
"""Process-CPU-time medians of the last measurement per key (the machine is shared: wall time
includes waiting for a core; CPU time is what the update itself costs)."""


def _median_ms(step: Callable[[int], None], n: int) -> float:
    ts, cpu = [], []
    for i in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        step(i)
        ts.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    _CPU["last"] = float(np.median(cpu) * 1e3)
    return float(np.median(ts) * 1e3)


def _record(results: dict, key: str, wall_ms: float) -> None:
    results[key] = wall_ms
    results[key.replace("_median_ms", "_cpu_median_ms")] = _CPU["last"]


def _measure(ex, name: str, warm_values: list[dict], cold_values: list[dict], n: int,
             results: dict) -> None:
    fig = ex.fig
    fig.canvas.draw()  # first render: fonts and caches, not counted

    def warm(i: int) -> None:
        ex.update(**warm_values[i % len(warm_values)])
        fig.canvas.draw()

    def cold(i: int) -> None:
        ex.update(**cold_values[i])
        fig.canvas.draw()

    _record(results, f"{name}_warm_update_draw_median_ms", _median_ms(warm, n))
    _record(results, f"{name}_cold_update_draw_median_ms", _median_ms(cold, len(cold_values)))


def main(n: int = 30) -> dict:
    """Measure and print; return {name: figure in ms}."""
    import matplotlib

    matplotlib.use("Agg")
    from rnn_core.analysis import explore
    from rnn_core.widgets import (
        clipping_explorer,
        highway_explorer,
        training_explorer,
        vanilla_flow_explorer,
    )

    results: dict = {}

    # reference: the render of a bare 3-axes figure of the same size (one line per axes, no
    # labels, titles or legends): the floor any 3-panel matplotlib explorer pays on this machine
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bare = Figure(figsize=(13.0, 4.3), dpi=72)
    FigureCanvasAgg(bare)
    for ax in bare.subplots(1, 3):
        ax.plot([0.0, 1.0], [0.0, 1.0])
    bare.canvas.draw()
    _record(results, "reference_bare_3axes_render_median_ms",
            _median_ms(lambda i: bare.canvas.draw(), n))

    # (1) vanilla gradient flow, H=64, T=200: the goal
    ex = vanilla_flow_explorer(scale=1.0, T=200, H=64)
    cold_scales = np.geomspace(0.5, 2.5, n)   # on no cache: each value new
    _measure(ex, "vanilla_H64_T200", [{"scale": 1.0}, {"scale": 1.2}],
             [{"scale": float(s)} for s in cold_scales], n, results)
    _record(results, "vanilla_H64_T200_compute_cold_median_ms", _median_ms(
        lambda i: explore.vanilla_flow(scale=float(cold_scales[i]) * 1.001, T=200, H=64), n))
    _record(results, "vanilla_H64_T200_artists_warm_median_ms", _median_ms(
        lambda i: ex.update(scale=[1.0, 1.2][i % 2]), n))
    _record(results, "vanilla_H64_T200_render_median_ms",
            _median_ms(lambda i: ex.fig.canvas.draw(), n))
    _record(results, "vanilla_T1000_scale3_cold_update_draw_median_ms", _median_ms(
        lambda i: (ex.update(scale=3.0 - 0.01 * i, T=1000), ex.fig.canvas.draw()), 3))

    # (2) clipping on the cliff
    ex = clipping_explorer()
    _measure(ex, "clipping", [{"threshold": 0.1}, {"threshold": 0.2}],
             [{"threshold": float(t)} for t in np.geomspace(0.02, 5.0, n)], n, results)

    # (3) LSTM highway, H=32, T=200
    ex = highway_explorer(T=200)
    _measure(ex, "highway_H32_T200", [{"forget_bias": 1.0}, {"forget_bias": 2.0}],
             [{"forget_bias": float(b)} for b in np.linspace(-3.0, 7.0, 10)], n, results)

    # (4) training trace: a cold update trains 300 SGD steps
    ex = training_explorer()
    _measure(ex, "training", [{"clip": True}, {"clip": False}],
             [{"lr": float(v)} for v in np.geomspace(0.02, 1.5, 5)], n, results)

    goal = results["vanilla_H64_T200_warm_update_draw_median_ms"]
    goal_cpu = results["vanilla_H64_T200_warm_update_draw_cpu_median_ms"]
    print(f"{'measurement':52s} {'wall':>9s} {'cpu':>9s}")
    for key, value in results.items():
        if "_cpu_" not in key:
            cpu = results[key.replace("_median_ms", "_cpu_median_ms")]
            print(f"{key:52s} {value:7.1f}ms {cpu:7.1f}ms")
    print(f"goal: vanilla update + redraw at H=64, T=200 under 30 ms: warm median {goal:.1f} ms "
          f"wall, {goal_cpu:.1f} ms CPU ({'met' if goal < 30 else 'NOT met'})")
    return results


if __name__ == "__main__":
    main()
