"""Notebook benchmark: every notebook on a fresh kernel started as JupyterHub, Colab or a
hand-started ``jupyter lab`` would start it, idle and beside two busy processes.

A plain kernel does not inherit the Makefile's ``OPENBLAS_NUM_THREADS=1`` (nor ``OMP_``/``MKL_``):
they are removed from the kernel's environment, so numpy's BLAS starts one thread per core unless
``rnn_core.setup()`` limits it. ``RNN_PLOTS=inline`` is set: a headless kernel has no frontend to
ask ipympl for its images, so inline (every figure rendered to PNG) is the honest cost of drawing.

Per cell, measured from outside the kernel (no code added to the notebooks): CPU seconds of the
kernel process, all its threads (``/proc/<pid>/stat`` utime + stime, before and after the cell),
and wall seconds (request to reply). Printed per notebook: total and longest cell, both ways, with
the 1-minute load average at the end of the notebook; ``--cells K`` adds the K longest cells of
each notebook (where to cut first), and ``--json`` writes every cell's figures. Goals (issue 17):
idle, all ten < 60 s and no cell > 10 s; beside two busy processes, all ten < 120 s.

Run: ``python -m benchmarks bench_notebooks`` (both modes), or as a script with options:
``python benchmarks/bench_notebooks.py --mode idle --cells 3 --root /path/to/checkout 04 08``
(``--root`` measures another checkout, e.g. main: its notebooks and its ``rnn_core`` first on the
kernel's ``sys.path``).

On a shared machine the load moves by a factor of two within minutes, so two runs one after the
other compare the load, not the code. Even at the same load this virtual machine's speed drifts by
up to half within the hour: each run therefore also times a fixed workload, the **yardstick**
(``yardstick()``: a small RNN's forward and backward passes and three inline-style PNG figures, in
a fresh interpreter, the best of three), before and after the notebooks. Compare totals of two
runs against their yardsticks; a goal in seconds holds only at the yardstick it was measured at.
``--against OTHER`` runs each notebook on both checkouts, back to back, the first of the pair
alternating, and prints both with their difference:
``python benchmarks/bench_notebooks.py --mode idle --against /work/main``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PLAIN_DROP = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
GOALS = {"idle": (60.0, 10.0), "busy": (120.0, None)}  # (all ten, longest cell) in seconds


_PROBE = ("import threadpoolctl\n"
          "print(','.join(str(p['num_threads']) for p in threadpoolctl.threadpool_info()\n"
          "               if p['user_api'] == 'blas'))")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class NotebookRun:
    name: str
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    load: float = 0.0
    blas_threads: str = "?"
    """numpy's BLAS threads in the kernel after the notebook ran (asked by one extra cell)"""

    @property
    def total_cpu(self) -> float:
        return sum(self.cpu)

    @property
    def total_wall(self) -> float:
        return sum(self.wall)

    def longest(self) -> tuple[int, float, float]:
        """(cell index, CPU s, wall s) of the cell with the longest wall time."""
        return self.top(1)[0]

    def top(self, k: int) -> list[tuple[int, float, float]]:
        """(cell index, CPU s, wall s) of the k cells with the longest wall times, longest first."""
        order = sorted(range(len(self.wall)), key=self.wall.__getitem__, reverse=True)
        return [(self.cells[i], self.cpu[i], self.wall[i]) for i in order[:k]]


def plain_env(root: Path) -> dict[str, str]:
    """The environment of a hand-started kernel: no BLAS thread limits; ``root``'s rnn_core first
    on the path when it is not this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in _PLAIN_DROP}
    env["RNN_PLOTS"] = "inline"
    if root.resolve() != ROOT:
        env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_notebook(path: Path, env: dict[str, str], timeout: int = 600) -> NotebookRun:
    """Execute ``path`` on a fresh kernel; per-cell CPU and wall seconds."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    probe = len(nb.cells)  # one extra cell, not timed: did setup() limit the BLAS threads?
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    km = KernelManager(kernel_name="python3")
    run = NotebookRun(path.stem)
    start: dict[str, float] = {}

    def before(cell, cell_index, **_):
        start["cpu"] = _cpu_seconds(km.provisioner.pid)
        start["wall"] = time.perf_counter()

    def after(cell, cell_index, execute_reply=None, **_):
        if cell_index == probe:
            text = "".join(o.get("text", "") for o in cell.get("outputs", []))
            run.blas_threads = text.strip() or "?"
            return
        run.wall.append(time.perf_counter() - start["wall"])
        run.cpu.append(_cpu_seconds(km.provisioner.pid) - start["cpu"])
        run.cells.append(cell_index)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                msg = f"cell {cell_index}: {out.get('ename')}: {out.get('evalue')}"
                run.errors.append(msg[:200])

    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}},
                            on_cell_execute=before, on_cell_executed=after)
    try:
        client.execute(env=env, cwd=str(path.parent))
    finally:  # the client leaves a kernel it did not create running
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    run.load = os.getloadavg()[0]
    return run


# The yardstick's workload: what a notebook spends its time on (small numpy products in a Python
# loop, matplotlib laying out and rendering a figure), fixed, in a fresh interpreter.
_YARDSTICK = """
import io, sys, time
import numpy as np
from matplotlib.figure import Figure
from matplotlib.backends.backend_agg import FigureCanvasAgg
from rnn_core import rnn_backward, rnn_forward

def work():
    r = np.random.default_rng(0)
    x, h0 = r.standard_normal((16, 50, 8)), np.zeros((16, 32))
    Wx, Wh, b = 0.3 * r.standard_normal((8, 32)), 0.2 * r.standard_normal((32, 32)), np.zeros(32)
    for _ in range(40):
        h, cache = rnn_forward(x, h0, Wx, Wh, b)
        rnn_backward(np.ones_like(h), cache)
    for k in range(3):
        fig = Figure(figsize=(8, 3.2))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.semilogy(np.arange(1, 101), np.exp(-0.05 * np.arange(100)) + 1e-3, label="curve")
        ax.set_title(f"yardstick figure {k}")
        ax.set_xlabel("step")
        ax.legend()
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")

best = float("inf")
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    work()
    best = min(best, time.perf_counter() - t)
print(best)
"""


def yardstick(root: Path = ROOT, repeats: int = 3) -> float:
    """Seconds of the fixed workload ``_YARDSTICK`` (best of ``repeats``) in a fresh interpreter
    with ``root``'s ``rnn_core`` and one BLAS thread: the machine's speed at the moment."""
    if repeats < 1:
        raise ValueError(f"yardstick: repeats must be >= 1, got {repeats}")
    env = plain_env(root)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    out = subprocess.run([sys.executable, "-c", _YARDSTICK, str(repeats)], env=env, cwd=root,
                         capture_output=True, text=True, timeout=300, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _busy(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def measure(mode: str, root: Path = ROOT, only: list[str] | None = None,
            cells: int = 0) -> list[NotebookRun]:
    paths = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in only)]
    env = plain_env(root)
    hogs = _busy(2) if mode == "busy" else []
    try:
        runs = []
        for p in paths:
            r = run_notebook(p, env)
            runs.append(r)
            _print_row(r, cells)
        return runs
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def _print_header(mode: str, root: Path) -> None:
    extra = "" if root.resolve() == ROOT else f" (checkout {root})"
    print(f"bench_notebooks, {mode}{extra}: fresh plain kernels (no *_NUM_THREADS), inline plots")
    print(f"{'notebook':<24} {'CPU s':>7} {'wall s':>7} | {'longest cell':>12} {'CPU s':>6} "
          f"{'wall s':>6} | {'load':>5} {'BLAS':>5}")


def _print_row(r: NotebookRun, cells: int = 0) -> None:
    i, c, w = r.longest()
    print(f"{r.name:<24} {r.total_cpu:7.1f} {r.total_wall:7.1f} | {i:>12} {c:6.1f} {w:6.1f} | "
          f"{r.load:5.2f} {r.blas_threads:>5}"
          + ("" if not r.errors else f"  ERRORS: {'; '.join(r.errors)}"), flush=True)
    if cells:
        print(f"{'':<4}longest cells (index: CPU s / wall s): "
              + ", ".join(f"{i}: {c:.1f} / {w:.1f}" for i, c, w in r.top(cells)), flush=True)


def _print_total(mode: str, runs: list[NotebookRun]) -> dict:
    cpu, wall = sum(r.total_cpu for r in runs), sum(r.total_wall for r in runs)
    worst = max((r.longest()[2] for r in runs), default=0.0)
    all_goal, cell_goal = GOALS[mode]
    goal = f"goal: all < {all_goal:.0f} s" + ("" if cell_goal is None else
                                                 f", no cell > {cell_goal:.0f} s")
    print(f"{'all ' + str(len(runs)):<24} {cpu:7.1f} {wall:7.1f} | {'worst cell':>12} {'':>6} "
          f"{worst:6.1f} | {os.getloadavg()[0]:5.2f}   ({goal})")
    return {"cpu": cpu, "wall": wall, "worst_cell_wall": worst,
            "notebooks": {r.name: {"cpu": r.total_cpu, "wall": r.total_wall,
                                   "longest": r.longest(), "load": r.load,
                                   "blas_threads": r.blas_threads,
                                   "cells": [[i, c, w] for i, c, w in
                                             zip(r.cells, r.cpu, r.wall, strict=True)],
                                   "errors": r.errors} for r in runs}}


def compare(mode: str, root: Path, other: Path, only: list[str] | None = None) -> dict:
    """Each notebook on ``other`` and on ``root``, back to back (who goes first alternates);
    returns {notebook: {"root"|"other": {"cpu", "wall", "load"}}}."""
    names = [p.name for p in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             if not only or any(p.name.startswith(o) for o in only)]
    envs = {"root": plain_env(root), "other": plain_env(other)}
    dirs = {"root": root, "other": other}
    print(f"bench_notebooks, {mode}: {root} against {other}, notebook by notebook")
    print(f"{'notebook':<24} {'CPU s':>13} {'wall s':>13} | {'load':>5}   (other -> root)")
    before = yardstick(root)
    hogs = _busy(2) if mode == "busy" else []
    out: dict = {}
    try:
        for i, name in enumerate(names):
            runs = {}
            for who in (("other", "root") if i % 2 == 0 else ("root", "other")):
                r = run_notebook(dirs[who] / "notebooks" / name, envs[who])
                if r.errors:
                    print(f"  {who}: ERRORS: {'; '.join(r.errors)}")
                runs[who] = {"cpu": r.total_cpu, "wall": r.total_wall, "load": r.load}
            a, b = runs["other"], runs["root"]
            print(f"{Path(name).stem:<24} {a['cpu']:5.1f} -> {b['cpu']:5.1f} "
                  f"{a['wall']:5.1f} -> {b['wall']:5.1f} | {b['load']:5.2f}", flush=True)
            out[name] = runs
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    tot = {w: {k: sum(r[w][k] for r in out.values()) for k in ("cpu", "wall")}
           for w in ("other", "root")}
    print(f"{'all ' + str(len(out)):<24} {tot['other']['cpu']:5.1f} -> {tot['root']['cpu']:5.1f} "
          f"{tot['other']['wall']:5.1f} -> {tot['root']['wall']:5.1f} | "
          f"{os.getloadavg()[0]:5.2f}")
    out["yardstick_s"] = _print_yardstick(before, yardstick(root))
    print()
    return out


def main(modes: tuple[str, ...] = ("idle", "busy"), root: Path = ROOT,
         only: list[str] | None = None, cells: int = 0) -> dict:
    out = {}
    for mode in modes:
        before = yardstick(root)
        _print_header(mode, root)
        out[mode] = _print_total(mode, measure(mode, root, only, cells))
        out[mode]["yardstick_s"] = _print_yardstick(before, yardstick(root))
        print()
    return out


def _print_yardstick(before: float, after: float) -> list[float]:
    print(f"yardstick (fixed workload, best of 3, idle machine): {before:.2f} s before, "
          f"{after:.2f} s after; load1 {os.getloadavg()[0]:.2f}")
    return [before, after]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("idle", "busy", "both"), default="both")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--json", type=Path, help="also write the figures (every cell's) here")
    parser.add_argument("--cells", type=int, default=0, metavar="K",
                        help="also print the K longest cells of each notebook")
    parser.add_argument("--against", type=Path, metavar="OTHER",
                        help="compare with checkout OTHER, notebook by notebook, back to back")
    parser.add_argument("only", nargs="*", help="notebook prefixes, e.g. 04 08")
    a = parser.parse_args()
    if a.cells < 0:
        parser.error(f"--cells must be >= 0, got {a.cells}")
    if a.against is not None and not (a.against / "notebooks").is_dir():
        parser.error(f"--against must be a checkout with a notebooks/ folder, got {a.against}")
    modes = ("idle", "busy") if a.mode == "both" else (a.mode,)
    if a.against is not None:
        res = {m: compare(m, a.root, a.against, a.only) for m in modes}
    else:
        res = main(modes, a.root, a.only, a.cells)
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
