"""Cell benchmark: forward+backward time of the RNN and LSTM layers, cache memory against T, and
the LSTM against ``torch.nn.LSTM`` (float64, CPU) when torch is installed.

Run: ``python -m benchmarks bench_cells`` (or ``python -m benchmarks`` for every benchmark).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

import rnn_core.lstm as lstm_module
from rnn_core.lstm import lstm_backward, lstm_forward
from rnn_core.rnn import rnn_backward, rnn_forward

SHAPES = [(100, 32, 64, 128), (500, 16, 32, 32)]  # (T, N, D, H)
MEMORY_TS = [50, 100, 200, 400, 800]
MEMORY_SHAPE = (32, 64, 128)  # (N, D, H) for the memory table


def _best_times(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Best CPU time in seconds of each callable (``time.process_time``: this process, every
    thread), timed in interleaved rounds (A, B, C, A, B, ...) so that a burst of load from other
    processes hits every contender alike. CPU rather than wall time: on a shared machine the
    wall clock also counts the time other processes held the core; with one BLAS thread (and
    ``torch.set_num_threads(1)``) CPU time is one core's work."""
    for run in runs.values():
        run()  # warm-up
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            t0 = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - t0)
    return best


def _params(cell: str, N: int, T: int, D: int, H: int, rng: np.random.Generator):
    G = 4 * H if cell == "lstm" else H
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.1
    Wx = rng.standard_normal((D, G)) / np.sqrt(D)
    Wh = rng.standard_normal((H, G)) / np.sqrt(H)
    b = rng.standard_normal(G) * 0.1
    dh = rng.standard_normal((N, T, H))
    return x, h0, Wx, Wh, b, dh


def cache_nbytes(cache: tuple) -> int:
    """Bytes of the arrays a cache holds that the forward pass allocated (inputs and weights,
    which the caller owns anyway, are not counted)."""
    skip = {"x", "Wx", "Wh"}
    return sum(
        v.nbytes for k, v in cache._asdict().items() if isinstance(v, np.ndarray) and k not in skip
    )


def _numpy_run(cell: str, N: int, T: int, D: int, H: int) -> Callable[[], object]:
    """cell "rnn", "lstm" (the tuned kernel when present) or "lstm-loop" (the readable loop over
    the step functions: what the student release runs)."""
    rng = np.random.default_rng(0)
    x, h0, Wx, Wh, b, dh = _params("rnn" if cell == "rnn" else "lstm", N, T, D, H, rng)
    fwd, bwd = (rnn_forward, rnn_backward) if cell == "rnn" else (lstm_forward, lstm_backward)

    def run():
        _, cache = fwd(x, h0, Wx, Wh, b)
        return bwd(dh, cache)

    if cell != "lstm-loop":
        return run

    def loop():
        kernel, lstm_module._kernel = lstm_module._kernel, None
        try:
            return run()
        finally:
            lstm_module._kernel = kernel

    return loop


def _torch_run(N: int, T: int, D: int, H: int) -> Callable[[], object] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)  # one core each: numpy runs one BLAS thread (make, setup())
    rng = np.random.default_rng(0)
    x, h0, _, _, _, dh = _params("lstm", N, T, D, H, rng)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    xt = torch.from_numpy(x).requires_grad_(True)
    h0t = torch.from_numpy(h0)[None].contiguous().requires_grad_(True)
    c0t = torch.zeros_like(h0t)
    dht = torch.from_numpy(dh)

    def run():
        lstm.zero_grad(set_to_none=True)
        xt.grad = None
        h0t.grad = None
        out, _ = lstm(xt, (h0t, c0t))
        out.backward(dht)

    return run


def _threadpool_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    rows = [
        f"{p.get('internal_api')} {p.get('version')} threads={p.get('num_threads')} "
        f"arch={p.get('architecture')}"
        for p in threadpool_info()
    ]
    return "; ".join(rows) or "no BLAS/OpenMP pools found"


def _floor_runs(N: int, T: int, D: int, H: int) -> dict[str, Callable[[], object]]:
    """Two parts of the tuned LSTM kernel alone, on its shapes: every matrix product of a
    forward and a backward (``matmul``: the input projection, the recurrence both ways, the
    weight gradients and dx per block of ``BLOCK_STEPS``), and every exp and tanh of a forward
    (``exp/tanh``). No LSTM in numpy can take less than their sum."""
    from rnn_core._kernels.lstm_sequence import BLOCK_STEPS

    rng = np.random.default_rng(0)
    G, K = 4 * H, min(T, BLOCK_STEPS)
    Wx, Wh = rng.standard_normal((D, G)), rng.standard_normal((H, G))
    x = rng.standard_normal((T, D, N))
    h, da = rng.standard_normal((H, N)), rng.standard_normal((G, N))
    rec, dh = np.empty((G, N)), np.empty((H, N))
    DA, X = rng.standard_normal((G, K * N)), rng.standard_normal((K * N, D))
    Hp = rng.standard_normal((H, K * N))
    ifo, g = rng.standard_normal((3 * H, N)) * 0.1, rng.standard_normal((2 * H, N)) * 0.1

    def matmul():
        np.matmul(Wx.T, x)
        for _ in range(T):
            np.matmul(Wh.T, h, out=rec)
            np.matmul(Wh, da, out=dh)
        for _ in range(-(-T // K)):
            X.T @ DA.T
            Hp @ DA.T
            DA.T @ Wx.T

    def transcendental():
        for _ in range(T):
            np.exp(ifo, out=ifo)
            np.negative(ifo, out=ifo)          # keeps the values in range, as the kernel does
            np.tanh(g, out=g)

    return {"matmul": matmul, "exp/tanh": transcendental}


def main(rounds: int = 7) -> dict:
    """Measure and print; return the figures as a dict."""

    results: dict = {"timings": [], "memory": [], "env": {}}
    torch_version = None
    try:
        import torch

        torch_version = torch.__version__
        torch_threads = torch.get_num_threads()
    except ImportError:
        torch_threads = None
    results["env"] = {
        "numpy": np.__version__,
        "torch": torch_version,
        "torch_threads": torch_threads,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "threadpool": _threadpool_info(),
    }
    print(f"bench_cells: forward+backward, float64, best CPU time of {rounds} interleaved rounds; "
          f"load {os.getloadavg()[0]:.2f}")
    for k, v in results["env"].items():
        print(f"  {k}: {v}")
    print()
    kernel = "tuned kernel" if lstm_module._kernel is not None else "no kernel: the loop"
    print(f"CPU ms; LSTM ms: lstm_forward + lstm_backward ({kernel}); "
          "loop ms: the loop over the steps")
    head = f"{'T':>5} {'N':>4} {'D':>4} {'H':>4} | {'RNN ms':>8} {'LSTM ms':>8} {'loop ms':>8} | "
    print(head + f"{'torch LSTM ms':>13} {'LSTM/torch':>10}")
    for T, N, D, H in SHAPES:
        runs = {"rnn": _numpy_run("rnn", N, T, D, H), "lstm": _numpy_run("lstm", N, T, D, H),
                "loop": _numpy_run("lstm-loop", N, T, D, H)}
        torch_run = _torch_run(N, T, D, H)
        if torch_run is not None:
            runs["torch"] = torch_run
        best = _best_times(runs, rounds)
        rnn_s, lstm_s, torch_s = best["rnn"], best["lstm"], best.get("torch")
        ratio = None if torch_s is None else lstm_s / torch_s
        row = {
            "T": T,
            "N": N,
            "D": D,
            "H": H,
            "rnn_ms": rnn_s * 1e3,
            "lstm_ms": lstm_s * 1e3,
            "lstm_loop_ms": best["loop"] * 1e3,
            "torch_lstm_ms": None if torch_s is None else torch_s * 1e3,
            "lstm_over_torch": ratio,
        }
        results["timings"].append(row)
        tcol = "torch not installed" if torch_s is None else f"{torch_s * 1e3:13.2f} {ratio:10.2f}"
        print(f"{T:>5} {N:>4} {D:>4} {H:>4} | {rnn_s * 1e3:8.2f} {lstm_s * 1e3:8.2f} "
              f"{best['loop'] * 1e3:8.2f} | {tcol}")
    print("  (LSTM/torch < 1 means rnn_core is faster than torch.nn.LSTM)")
    print("\nthe tuned LSTM's floor: its matrix products alone and its exp and tanh alone, CPU ms")
    print(f"{'T':>5} {'N':>4} {'D':>4} {'H':>4} | {'matmul':>8} {'exp/tanh':>8} {'sum':>8} | "
          f"{'LSTM ms':>8}")
    for row in results["timings"]:
        T, N, D, H = row["T"], row["N"], row["D"], row["H"]
        floor = _best_times(_floor_runs(N, T, D, H), rounds)
        row["floor_matmul_ms"] = floor["matmul"] * 1e3
        row["floor_transcendental_ms"] = floor["exp/tanh"] * 1e3
        total = row["floor_matmul_ms"] + row["floor_transcendental_ms"]
        print(f"{T:>5} {N:>4} {D:>4} {H:>4} | {row['floor_matmul_ms']:8.2f} "
              f"{row['floor_transcendental_ms']:8.2f} {total:8.2f} | {row['lstm_ms']:8.2f}")
    print()
    N, D, H = MEMORY_SHAPE
    print(f"cache memory (arrays allocated by the forward pass), N={N} D={D} H={H}, float64")
    print(f"{'T':>5} | {'RNN MiB':>9} {'LSTM MiB':>9} | {'LSTM bytes/step':>15}")
    rng = np.random.default_rng(1)
    for T in MEMORY_TS:
        x, h0, Wx, Wh, b, _ = _params("rnn", N, T, D, H, rng)
        _, rc = rnn_forward(x, h0, Wx, Wh, b)
        x, h0, Wx, Wh, b, _ = _params("lstm", N, T, D, H, rng)
        _, lc = lstm_forward(x, h0, Wx, Wh, b)
        rb, lb = cache_nbytes(rc), cache_nbytes(lc)
        results["memory"].append({"T": T, "rnn_bytes": rb, "lstm_bytes": lb})
        print(f"{T:>5} | {rb / 2**20:9.2f} {lb / 2**20:9.2f} | {lb / T:15.0f}")
    print("  linear in T: RNN keeps h (N, T+1, H); LSTM keeps gates (T, 4H, N), h and c")
    print("  (T+1, H, N) each, tanh(c) (T, H, N): about 7 N H floats per step.")
    return results


if __name__ == "__main__":
    main()
