"""Explorer benchmark: one slider update, compute plus a real repaint, as the explorers do it.

Goal (issue 3): one slider update of the vanilla gradient-flow explorer at H=64, T=200, compute
plus redraw, median under 30 ms.

Every update is ``Explorer.update(...)`` followed by the frame the browser gets
(``ExplorerView.frame_message``, docs/architecture.md D6): the compute function (cached), setting
the artists' data, serialising the animated artists to pixels (``frames.frame``) with the ticks
and axis labels, laid out anew when an axis limit moved (``frames.Decorations``), and the
background PNG (``frames.Backgrounds``: rendered once per figure size, then a cache look-up). The
browser then paints the frame on its canvas; that part (and the comm) is measured by the e2e
harness.

Each explorer is measured on

- ``step``: typical slider steps, one slider position at a time across the slider (scale
  1.00 -> 1.05 -> 1.10 ..., T 200 -> 210 ...): every value new, so the compute runs (cold);
- ``step-hit``: back and forth between two neighbouring positions (the compute caches answer);
- ``jump``: big jumps that move the data out of the axis limits (new tick layouts), values new.

For each: median and 95th percentile of wall and process-CPU time over >= 30 updates, and how
many updates needed a new background (``bgs``) and how many axes had their ticks laid out anew
(``lay``). The machine is shared: wall time includes waiting for a core, CPU time is what the
update costs; the load average is printed next to the figures.

:func:`breakdown` splits one update into its kernel-side parts, for every explorer and for the
three kinds of step the browser harness times (next slider value, random jump across the
slider's range, first touch after the explorer is shown): compute (the cached compute function,
cold), artists (the draw function with the compute cached: set_data, limits, readout), frame
(serialising the animated artists, and the ticks and axis labels: laid out when the limits moved,
else the cache look-up) and background (the cache look-up of the PNG). What the browser adds
(comm, paint) is the harness's total minus these; a step to a frame the browser holds (moving back,
a prefetched neighbour) costs the kernel nothing.

:func:`compute` is the kernel's compute alone, cold, at positions drawn across every slider's
range, with the time a precompute takes to fill the caches (issue 17).

Run: ``python -m benchmarks bench_explorers`` (``breakdown`` alone:
``python -c "from benchmarks.bench_explorers import breakdown; breakdown()"``; the compute
table alone: ``python -c "from benchmarks.bench_explorers import compute; compute()"``).
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
    renders, laid_out = ex.backgrounds.renders, ex.decorations.axes_laid_out

    def step(i: int) -> None:
        ex.update(**values[i])
        view.frame_message()

    out = _stats(step, len(values))
    out["backgrounds"] = ex.backgrounds.renders - renders
    out["layouts"] = ex.decorations.axes_laid_out - laid_out
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
        "training (100 SGD steps per new value)": (
            lambda: training_explorer(lr=0.1, clip=True, threshold=1.0), {
                "step threshold": [{"threshold": t} for t in _log_positions(
                    training_explorer().controls["threshold"], 1.0, n)],
                "step-hit threshold": [{"threshold": (1.0, 1.12)[i % 2]} for i in range(n)],
                "jump lr+clip": [{"lr": (0.05 if i % 2 else 1.9) * seeds[i], "clip": bool(i % 2)}
                                 for i in range(n)],
            }),
    }

    _print_head(load0, "", f"{'explorer':40s} {'case':22s} {'n':>3s} {'bgs':>4s} {'lay':>4s} "
                f"{'wall med':>9s} {'wall p95':>9s} {'cpu med':>8s} {'cpu p95':>8s}")
    for name, (make, sequences) in cases.items():
        for case, values in sequences.items():
            if case.startswith("step-hit"):
                for v in values[:2]:          # warm the caches once
                    make().update(**v)
            r = _run(make, values)
            rows[f"{name} | {case}"] = r
            print(f"{name:40s} {case:22s} {r['n']:3d} {r['backgrounds']:4d} {r['layouts']:4d} "
                  f"{r['wall_med']:7.1f}ms {r['wall_p95']:7.1f}ms "
                  f"{r['cpu_med']:6.1f}ms {r['cpu_p95']:6.1f}ms")

    # the parts: a background (full render to PNG), the frame alone, the static picture
    import json

    ex = vanilla()
    view = ex.widget
    rows["vanilla background PNG (Agg, zlib 1)"] = _stats(lambda i: ex.backgrounds._render(1.0), n)
    rows["vanilla frame serialise alone"] = _stats(lambda i: frame(ex.fig, ex.animated), n)
    rows["vanilla ticks and axis labels laid out"] = _stats(
        lambda i: ex.decorations._lay_out(), n)
    rows["PNG via savefig (static picture)"] = _stats(lambda i: figure_png(ex.fig), 10)
    msg, buffers = view.frame_message()
    size = len(json.dumps(msg)) + sum(len(b) for b in buffers if not b.startswith(b"\x89PNG"))
    print(f"\nparts (vanilla figure, {view.spec['width']} x {view.spec['height']} px; one frame "
          f"is {size} bytes, its background PNG {len(ex.backgrounds.get()[1])} bytes)")
    for key in ("vanilla background PNG (Agg, zlib 1)", "vanilla frame serialise alone",
                "vanilla ticks and axis labels laid out", "PNG via savefig (static picture)"):
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
    print()
    rows["compute"] = compute()
    rows["behind"] = behind()
    rows["ahead_rate"] = ahead_rate()
    return rows


def behind(n: int = 8, delay_ms: float = 20.0, seed: int = 0) -> dict:
    """A student's request that arrives while a look-ahead request computes (issue 17).

    For each explorer, ``n`` trials on an asyncio loop, as in a kernel: a look-ahead request for
    a position not computed yet (``ExplorerView._on_msg``, ``current`` false), ``delay_ms``
    later a request of the student's for another such position, timed from its arrival to its
    frame sent. Beside it, the same kind of request with nothing in flight. With the look-ahead
    thread (``rnn_core.widgets.lookahead``) the two agree within the gate's hand-over; before
    it, the student's request waited for the rest of the look-ahead's compute.
    """
    import asyncio
    import random

    rng = random.Random(seed)
    rows: dict[str, dict[str, float]] = {}
    print(f"a student's request behind a look-ahead request (load {_loadavg()}):")
    print(f"{'explorer':9s} {'alone med':>9s} {'p95':>6s} {'behind med':>10s} {'p95':>6s}  "
          f"(ms from the request to its frame sent, {n} trials each, uncached positions)")
    for name, (make, slider, clear) in _explorers().items():
        ex = make()
        view = ex.widget
        sent: list[dict] = []
        view.send = lambda msg, buffers=None, sent=sent: sent.append(msg)
        k = list(ex.controls).index(slider)
        size = len(ex.controls[slider].grid)

        def position(ex=ex, k=k, size=size) -> list[int]:
            idx = ex.index()
            idx[k] = rng.randrange(size)
            return idx

        async def trial(ahead: bool, view=view, sent=sent, position=position) -> float:
            a, b = position(), position()
            n_sent = len(sent)
            if ahead:
                view._on_msg(view, {"type": "want", "idx": a, "current": False}, [])
                await asyncio.sleep(delay_ms / 1e3)
            n_before = len(sent)
            t0 = time.perf_counter()
            view._on_msg(view, {"type": "want", "idx": b, "current": True}, [])
            ms = 1e3 * (time.perf_counter() - t0)
            assert len(sent) > n_before
            while ahead and not any(m.get("idx") == a and not m.get("push")
                                    for m in sent[n_sent:] if m is not sent[n_before]):
                await asyncio.sleep(0.002)         # the look-ahead's frame, before the next
            return ms

        async def run(ahead: bool, clear=clear, trial=trial) -> list[float]:
            out = []
            for _ in range(n):
                clear()
                out.append(await trial(ahead))
            return out

        type(view).comm = object()            # "shown": frames are sent (to the list above)
        try:
            alone, behind_ = (np.array(asyncio.run(run(f))) for f in (False, True))
        finally:
            del type(view).comm
        rows[name] = {"alone_med": float(np.median(alone)),
                      "alone_p95": float(np.percentile(alone, 95)),
                      "behind_med": float(np.median(behind_)),
                      "behind_p95": float(np.percentile(behind_, 95))}
        r = rows[name]
        print(f"{name:9s} {r['alone_med']:9.1f} {r['alone_p95']:6.1f} {r['behind_med']:10.1f} "
              f"{r['behind_p95']:6.1f}")
    return rows


def ahead_rate(seconds: float = 3.0, transit_ms: float = 50.0) -> dict:
    """Look-ahead frames per second with one and with two requests out (``web.AHEAD_OUT``).

    For each explorer, on an asyncio loop as in a kernel: a stand-in browser asks for the
    positions of its longest slider, outward from the current one, as look-ahead
    requests, keeping ``out`` of them out; each request and each answer takes ``transit_ms / 2``
    on the way (the part of a look-ahead round trip outside the kernel: about 50 ms in make e2e
    on a quiet machine, 58 ms at load1 10). Counted: frames received in ``seconds``, caches
    cleared first. With one out, the look-ahead thread idles while a frame travels.
    """
    import asyncio

    half = transit_ms / 2e3
    rows: dict[str, dict[str, float]] = {}
    print(f"look-ahead frames per second, one or two requests out (load {_loadavg()}; "
          f"{transit_ms:.0f} ms outside the kernel per round trip, {seconds:.0f} s each):")
    print(f"{'explorer':9s} {'1 out':>7s} {'2 out':>7s} {'ratio':>6s}")
    for name, (make, _, clear) in _explorers().items():
        rate, capped = {}, {}
        for out in (1, 2):
            clear()
            ex = make()
            view = ex.widget
            k, size = max(((i, len(c["values"])) for i, c in enumerate(view.spec["controls"])
                           if c["kind"] == "range"), key=lambda ks: ks[1])
            start = ex.index()
            order = sorted((j for j in range(size) if j != start[k]),
                           key=lambda j, s0=start[k]: (abs(j - s0), j))

            async def run(out=out, view=view, order=order, k=k, start=start
                          ) -> tuple[int, bool]:
                loop = asyncio.get_running_loop()
                todo, pending, got, asking = list(order), [0], [0], [True]

                def ask() -> None:
                    while asking[0] and pending[0] < out and todo:
                        idx = list(start)
                        idx[k] = todo.pop(0)
                        pending[0] += 1
                        loop.call_later(half, view._on_msg, view,
                                        {"type": "want", "idx": idx, "current": False}, [])

                def arrived(msg: dict) -> None:
                    pending[0] -= 1
                    got[0] += msg.get("type") == "frame"
                    ask()

                def send(msg: dict, buffers: object = None) -> None:
                    if msg.get("type") in ("frame", "error") and not msg.get("push"):
                        loop.call_later(half, arrived, msg)

                view.send = send
                ask()
                await asyncio.sleep(seconds)
                n, asking[0], done_all = got[0], False, not todo
                while pending[0]:                  # the thread ends its jobs before the next run
                    await asyncio.sleep(0.01)
                return n, done_all

            type(view).comm = object()            # "shown": frames are sent (to send above)
            try:
                n, capped[out] = asyncio.run(run())
                rate[out] = n / seconds
            finally:
                del type(view).comm
        rows[name] = {"one": rate[1], "two": rate[2], "slider_done": capped[1] or capped[2]}
        print(f"{name:9s} {rate[1]:7.1f} {rate[2]:7.1f} {rate[2] / rate[1]:6.2f}"
              + ("  (the whole slider asked within the time: a floor, not a rate)"
                 if capped[1] or capped[2] else ""))
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
                frame(ex.fig, ex.animated, ex.decorations)   # ticks laid out if limits moved
                t3 = time.perf_counter()
                ex.backgrounds.get()              # a new PNG only when the figure's size changed
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


def _compute_calls() -> dict[str, tuple[Callable[[], object], Callable[..., object]]]:
    """name -> (explorer factory at its defaults, compute(**control values) as its draw calls it).

    Each compute call repeats the explorer's fixed arguments (H, seed, steps, T where fixed), so
    the numbers are those of a slider move, without the figure.
    """
    from rnn_core.analysis import explore
    from rnn_core.analysis.training_trace import training_trace
    from rnn_core.widgets import (
        clipping_explorer,
        highway_explorer,
        stack_gradient_explorer,
        training_explorer,
        vanilla_flow_explorer,
    )

    return {
        "vanilla": (vanilla_flow_explorer, lambda scale, T, init, activation, input_scale:
                    explore.vanilla_flow(scale, int(T), init, activation, input_scale, 64, 0)),
        "clipping": (clipping_explorer, lambda threshold, lr, clip_mode:
                     explore.cliff_runs(threshold, lr, 60, clip_mode, 30.0)),
        "highway": (highway_explorer, lambda forget_bias, T:
                    explore.lstm_highway(forget_bias, int(T), 32, 0)),
        "training": (training_explorer, lambda lr, clip, threshold:
                     training_trace(lr, bool(clip), threshold)),
        "stacked": (stack_gradient_explorer, lambda num_layers, weight_scale:
                    explore.stack_gradient_maps(int(num_layers), float(weight_scale), 60, 0)),
    }


def _clear_compute_caches() -> None:
    """Empty every cache of the compute modules: the next call is cold."""
    import sys

    for name in ("rnn_core.analysis.explore", "rnn_core.analysis.training_trace"):
        for obj in vars(sys.modules[name]).values():
            if callable(getattr(obj, "cache_clear", None)) and hasattr(obj, "cache_info"):
                obj.cache_clear()


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return f.read().strip()


def compute(n: int = 20, seed: int = 0, precompute_all: bool = True,
            training_grid: bool = False) -> dict:
    """Cold compute per explorer and slider: what a move to a new position costs the kernel.

    For each explorer and each of its controls, ``n`` positions of that control drawn (seeded)
    uniformly from its grid, the other controls at the explorer's defaults, as a student moves
    one slider. Before each call the explorer's result cache is emptied (so the position is new)
    while what the package keeps apart from it (weights, inputs, parts a move of this slider does
    not change) stays as the session left it. A last row per explorer, ``any``, draws every
    control at once and empties every cache of ``rnn_core.analysis.explore`` and
    ``training_trace`` before each call: as cold as a fresh kernel after imports. Reported:
    median, p95 and max wall ms (CPU median beside: on a shared machine wall time includes
    waiting for a core), the first frame (defaults, every cache empty), and where the package
    provides a precompute, the time to fill the caches: the stacked explorer's whole grid; for
    the training explorer the first pass of ``training_positions`` (every lr at the default
    threshold, both clip states) and the default lr's column of thresholds
    (``training_grid=True``: the whole 2538-position grid, several minutes).
    ``/proc/loadavg`` is printed before and after.
    """
    import matplotlib

    matplotlib.use("Agg")
    from rnn_core.analysis import explore
    from rnn_core.analysis import training_trace as tt

    rng = np.random.default_rng(seed)
    print(f"/proc/loadavg before: {_loadavg()} ({os.cpu_count()} cores); cold compute, "
          f"{n} seeded positions per slider, ms")
    head = (f"{'explorer':9s} {'slider':12s} {'wall med':>8s} {'p95':>7s} {'max':>7s} "
            f"{'cpu med':>7s} {'first':>7s}  slowest position")
    print(head)
    print("-" * len(head))
    rows: dict = {}
    clear_result = {name: c for name, (_, _, c) in _explorers().items()}
    for name, (make, fn) in _compute_calls().items():
        ex = make()
        grids = {k: _slider_grid(c) for k, c in ex.controls.items()}
        fn(**ex.values)                                    # imports, lazy modules
        _clear_compute_caches()
        t0 = time.perf_counter()
        fn(**ex.values)
        first = (time.perf_counter() - t0) * 1e3
        for slider in [*grids, "any"]:
            wall, cpu, where = [], [], []
            for _ in range(n):
                if slider == "any":
                    pos = {k: g[int(rng.integers(len(g)))] for k, g in grids.items()}
                    _clear_compute_caches()
                else:
                    g = grids[slider]
                    pos = {**ex.values, slider: g[int(rng.integers(len(g)))]}
                    clear_result[name]()
                t0, c0 = time.perf_counter(), time.process_time()
                fn(**pos)
                wall.append((time.perf_counter() - t0) * 1e3)
                cpu.append((time.process_time() - c0) * 1e3)
                where.append(pos)
            w = np.array(wall)
            worst = where[int(np.argmax(w))]
            rows[(name, slider)] = {
                "wall_med": float(np.median(w)), "wall_p95": float(np.percentile(w, 95)),
                "wall_max": float(w.max()), "cpu_med": float(np.median(cpu)), "first": first,
                "slowest": worst}
            shown = worst if slider == "any" else {slider: worst[slider]}
            text = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in shown.items())
            print(f"{name:9s} {slider:12s} {np.median(w):6.1f}ms {np.percentile(w, 95):5.1f}ms "
                  f"{w.max():5.1f}ms {np.median(cpu):5.1f}ms {first:5.1f}ms  {text}")
    if precompute_all and hasattr(explore, "precompute"):
        print("precompute (fill the cache; cold start):")
        ex = _compute_calls()["stacked"][0]()
        _clear_compute_caches()
        t0 = time.perf_counter()
        grid = explore.stack_gradient_maps_grid(_slider_grid(ex.controls["num_layers"]),
                                                _slider_grid(ex.controls["weight_scale"]))
        rows["precompute stacked"] = time.perf_counter() - t0
        print(f"  stacked, whole grid ({len(grid)} positions): {rows['precompute stacked']:.2f} s")
        ex = _compute_calls()["training"][0]()
        lrs, thr = _slider_grid(ex.controls["lr"]), _slider_grid(ex.controls["threshold"])
        pos = tt.training_positions(lrs, thr, **ex.values)
        first_pass = 2 * len(lrs)
        parts = {"training, first pass (every lr at the default threshold)": pos[:first_pass]}
        column = [p for p in pos[first_pass:] if p[0] == pos[0][0]]
        parts[f"training, the default lr's other thresholds ({len(column)})"] = column
        if training_grid:
            parts["training, the whole grid"] = pos
        _clear_compute_caches()
        for label, chunk in parts.items():
            if label.endswith("whole grid"):
                _clear_compute_caches()
            t0 = time.perf_counter()
            k = sum(1 for _ in tt.precompute_training(chunk))
            dt = time.perf_counter() - t0
            rows[f"precompute {label}"] = dt
            print(f"  {label}: {k} positions in {dt:.1f} s ({dt / max(k, 1) * 1e3:.0f} ms each)")
    print(f"/proc/loadavg after: {_loadavg()}")
    return rows


if __name__ == "__main__":
    main()
