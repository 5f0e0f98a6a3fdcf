"""Explorer benchmark: one slider update, compute plus a real repaint, as the explorers do it.

Goal (issue 3): one slider update of the vanilla gradient-flow explorer at H=64, T=200, compute
plus redraw, median under 30 ms.

Every update is ``Explorer.update(...)`` followed by the frame the browser gets
(``ExplorerView.frame_message``, docs/architecture.md D6): the compute function (cached), setting
the artists' data, serialising the animated artists to pixels (``frames.frame``) and, when an axis
limit moved, rendering the new background PNG (``frames.Backgrounds``, cached by the limits). The
browser then paints the frame on its canvas; that part (and the comm) is measured by the e2e
harness.

Each explorer is measured on

- ``step``: typical slider steps, one slider position at a time across the slider (scale
  1.00 -> 1.05 -> 1.10 ..., T 200 -> 210 ...): every value new, so the compute runs (cold);
- ``step-hit``: back and forth between two neighbouring positions (the compute caches answer);
- ``jump``: big jumps that move the data out of the axis limits (new backgrounds), values new.

For each: median and 95th percentile of wall and process-CPU time over >= 30 updates, and how
many updates needed a new background. The machine is shared: wall time includes waiting for a
core, CPU time is what the update costs; the load average is printed next to the figures.

:func:`breakdown` splits one update into its kernel-side parts, for every explorer and for the
three kinds of step the browser harness times (next slider value, random jump across the
slider's range, first touch after the explorer is shown): compute (the cached compute function,
cold), artists (the draw function with the compute cached: set_data, limits, readout), frame
(serialising the animated artists) and background (the PNG when the limits moved, else the cache
look-up). What the browser adds (comm, paint) is the harness's total minus these; a step to a
frame the browser holds (moving back, a prefetched neighbour) costs the kernel nothing.

Run: ``python -m benchmarks bench_explorers`` (``breakdown`` alone:
``python -c "from benchmarks.bench_explorers import breakdown; breakdown()"``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np


def _stats(fn: Callable[[int], None], n: int) -> dict[str, float]:
    wall, cpu = [], []
    for i in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    w, c = np.array(wall) * 1e3, np.array(cpu) * 1e3
    return {"n": n, "wall_med": float(np.median(w)), "wall_p95": float(np.percentile(w, 95)),
            "cpu_med": float(np.median(c)), "cpu_p95": float(np.percentile(c, 95))}


def _run(make: Callable[[], object], values: list[dict]) -> dict[str, float]:
    """Time ``update(**values[i])`` + the browser frame on a fresh explorer; count the new
    backgrounds."""
    ex = make()
    view = ex.widget
    view.frame_message()                # the first frame (background), not counted
    renders = ex.backgrounds.renders

    def step(i: int) -> None:
        ex.update(**values[i])
        view.frame_message()

    out = _stats(step, len(values))
    out["backgrounds"] = ex.backgrounds.renders - renders
    return out


def _log_positions(control, start: float, n: int) -> list[float]:
    """``n`` successive positions of a FloatLogSlider from ``start`` upwards (then down)."""
    k0 = round((np.log10(start) - control.min) / control.step)
    top = round((control.max - control.min) / control.step)
    ks = [k0 + i for i in range(n)]
    ks = [k if k <= top else 2 * top - k for k in ks]
    return [float(10.0 ** (control.min + k * control.step)) for k in ks]


def _print_head(load: tuple[float, float, float], note: str, head: str) -> None:
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min) on "
          f"{os.cpu_count()} cores{note}")
    print(head)
    print("-" * len(head))


def main(n: int = 30) -> dict:
    """Measure and print; return {row name: stats}."""
    import matplotlib

    matplotlib.use("Agg")
    from rnn_core.widgets import (
        clipping_explorer,
        highway_explorer,
        training_explorer,
        vanilla_flow_explorer,
    )
    from rnn_core.widgets.backend import figure_png
    from rnn_core.widgets.frames import frame

    load0 = os.getloadavg()
    rows: dict[str, dict] = {}

    def vanilla():
        return vanilla_flow_explorer(scale=1.0, T=200, H=64)

    probe = vanilla()
    scales = _log_positions(probe.controls["scale"], 1.0, n)
    seeds = [1.0 + 1e-4 * i for i in range(n)]      # new values: defeats the compute caches
    cases = {
        "vanilla H64 T200": (vanilla, {
            "step scale": [{"scale": s} for s in scales],
            "step T": [{"T": 200 + 10 * (i + 1)} for i in range(n)],
            "step-hit scale": [{"scale": scales[i % 2]} for i in range(n)],
            "jump scale": [{"scale": (0.3 if i % 2 else 2.5) * seeds[i]} for i in range(n)],
            "jump scale+T": [{"scale": (0.3 if i % 2 else 2.5) * seeds[i],
                              "T": 200 if i % 2 else 900} for i in range(n)],
        }),
        "clipping": (lambda: clipping_explorer(threshold=0.1, lr=0.5), {
            "step threshold": [{"threshold": t} for t in _log_positions(
                clipping_explorer().controls["threshold"], 0.1, n)],
            "step-hit threshold": [{"threshold": (0.1, 0.11)[i % 2]} for i in range(n)],
            "jump lr": [{"lr": (0.1 if i % 2 else 15.0) * seeds[i]} for i in range(n)],
        }),
        "highway H32 T200": (lambda: highway_explorer(forget_bias=-4.0, T=200), {
            "step forget_bias": [{"forget_bias": -4.0 + 0.25 * (i + 1)} for i in range(n)],
            "step-hit forget_bias": [{"forget_bias": (1.0, 1.25)[i % 2]} for i in range(n)],
            "jump forget_bias+T": [{"forget_bias": (-3.0 if i % 2 else 7.0) + 1e-3 * i,
                                    "T": 100 if i % 2 else 900} for i in range(n)],
        }),
        "training (300 SGD steps per new value)": (
            lambda: training_explorer(lr=0.1, clip=True, threshold=1.0), {
                "step threshold": [{"threshold": t} for t in _log_positions(
                    training_explorer().controls["threshold"], 1.0, n)],
                "step-hit threshold": [{"threshold": (1.0, 1.12)[i % 2]} for i in range(n)],
                "jump lr+clip": [{"lr": (0.05 if i % 2 else 1.9) * seeds[i], "clip": bool(i % 2)}
                                 for i in range(n)],
            }),
    }

    _print_head(load0, "", f"{'explorer':40s} {'case':22s} {'n':>3s} {'bgs':>4s} "
                f"{'wall med':>9s} {'wall p95':>9s} {'cpu med':>8s} {'cpu p95':>8s}")
    for name, (make, sequences) in cases.items():
        for case, values in sequences.items():
            if case.startswith("step-hit"):
                for v in values[:2]:          # warm the caches once
                    make().update(**v)
            r = _run(make, values)
            rows[f"{name} | {case}"] = r
            print(f"{name:40s} {case:22s} {r['n']:3d} {r['backgrounds']:4d} "
                  f"{r['wall_med']:7.1f}ms {r['wall_p95']:7.1f}ms "
                  f"{r['cpu_med']:6.1f}ms {r['cpu_p95']:6.1f}ms")

    # the parts: a background (full render to PNG), the frame alone, the static picture
    import json

    ex = vanilla()
    view = ex.widget
    rows["vanilla background PNG (Agg, zlib 1)"] = _stats(lambda i: ex.backgrounds._render(1.0), n)
    rows["vanilla frame serialise alone"] = _stats(lambda i: frame(ex.fig, ex.animated), n)
    rows["PNG via savefig (static picture)"] = _stats(lambda i: figure_png(ex.fig), 10)
    msg, buffers = view.frame_message()
    size = len(json.dumps(msg)) + sum(len(b) for b in buffers if not b.startswith(b"\x89PNG"))
    print(f"\nparts (vanilla figure, {view.spec['width']} x {view.spec['height']} px; one frame "
          f"is {size} bytes, its background PNG {len(ex.backgrounds.get()[1])} bytes)")
    for key in ("vanilla background PNG (Agg, zlib 1)", "vanilla frame serialise alone",
                "PNG via savefig (static picture)"):
        r = rows[key]
        print(f"  {key:36s} wall {r['wall_med']:6.1f} ms (p95 {r['wall_p95']:6.1f}), "
              f"cpu {r['cpu_med']:6.1f} ms (p95 {r['cpu_p95']:6.1f})")

    load1 = os.getloadavg()
    goal = rows["vanilla H64 T200 | step scale"]
    print(f"\nload average after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    print(f"goal: vanilla slider step (scale, cold compute + frame) at H=64, T=200 under 30 ms: "
          f"median {goal['wall_med']:.1f} ms wall, {goal['cpu_med']:.1f} ms CPU "
          f"({'met' if goal['wall_med'] < 30 else 'NOT met'} in wall time at load "
          f"{load0[0]:.1f}-{load1[0]:.1f}; CPU time is the unloaded estimate)")
    return rows


def _slider_grid(control) -> list:
    """Every value a control can take: slider positions, options, both checkbox states."""
    return list(control.grid)


def _explorers() -> dict[str, tuple[Callable[[], object], str, Callable[[], None]]]:
    """name -> (factory, the slider the harness times, clear the compute cache)."""
    from rnn_core.analysis import explore
    from rnn_core.analysis import training_trace as tt
    from rnn_core.widgets import (
        clipping_explorer,
        highway_explorer,
        stack_gradient_explorer,
        training_explorer,
        vanilla_flow_explorer,
    )

    return {
        "vanilla": (lambda: vanilla_flow_explorer(scale=1.0, T=200), "scale",
                    explore._vanilla_flow.cache_clear),
        "clipping": (clipping_explorer, "threshold", explore._cliff_runs.cache_clear),
        "highway": (lambda: highway_explorer(forget_bias=3.0, T=200), "forget_bias",
                    explore._lstm_highway.cache_clear),
        "training": (lambda: training_explorer(lr=0.3, clip=True, threshold=1.0), "lr",
                     tt._cached.cache_clear),
        "stacked": (lambda: stack_gradient_explorer(num_layers=3, weight_scale=1.0, T=60),
                    "num_layers", explore._maps.cache_clear),
    }


def breakdown(n: int = 15, seed: int = 0) -> dict:
    """Median / p95 ms of compute, artists, frame, background per explorer and kind of step."""
    import matplotlib

    matplotlib.use("Agg")
    from rnn_core.widgets.frames import frame

    rng = np.random.default_rng(seed)
    load0 = os.getloadavg()
    _print_head(load0, f"; ms, median (p95) of {n} updates, kernel side of a frame",
                f"{'explorer':9s} {'step':6s} {'compute':>14s} {'artists':>14s} "
                f"{'frame':>14s} {'background':>14s} {'total':>14s}")
    rows: dict = {}
    for name, (make, key, clear) in _explorers().items():
        for kind in ("next", "jump", "first"):
            parts: dict[str, list[float]] = {p: [] for p in
                                             ("compute", "artists", "frame", "background")}
            ex = make()
            ex.widget.frame_message()
            grid = _slider_grid(ex.controls[key])
            i0 = int(np.argmin([abs(g - ex.values[key]) for g in grid]))
            for i in range(n):
                if kind == "first":
                    clear()
                    ex = make()
                    ex.widget.frame_message()
                    clear()
                if kind == "jump":
                    v = grid[int(rng.integers(len(grid)))]
                else:
                    j = i0 + 1 + (i if kind == "next" else 0)
                    period = 2 * (len(grid) - 1)
                    j = j % period
                    v = grid[j if j < len(grid) else period - j]
                values = {**ex.values, key: v}
                clear()
                t0 = time.perf_counter()
                ex._draw(**values)             # compute cold, artists
                t1 = time.perf_counter()
                ex._draw(**values)             # compute cached: artists only
                t2 = time.perf_counter()
                frame(ex.fig, ex.animated)
                t3 = time.perf_counter()
                ex.backgrounds.get()              # a new PNG only when the limits moved
                t4 = time.perf_counter()
                ex._values.update(values)         # where the browser now is
                parts["compute"].append((t1 - t0) - (t2 - t1))
                parts["artists"].append(t2 - t1)
                parts["frame"].append(t3 - t2)
                parts["background"].append(t4 - t3)
            row = {p: np.array(v) * 1e3 for p, v in parts.items()}
            row["total"] = sum(row.values())
            rows[(name, kind)] = {p: (float(np.median(v)), float(np.percentile(v, 95)))
                                  for p, v in row.items()}
            cells = " ".join(f"{m:6.1f} ({q:5.1f})" for m, q in rows[(name, kind)].values())
            print(f"{name:9s} {kind:6s} {cells}")
    load1 = os.getloadavg()
    print(f"load average after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    return rows


if __name__ == "__main__":
    main()
