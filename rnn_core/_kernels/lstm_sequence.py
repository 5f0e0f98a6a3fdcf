"""The tuned LSTM sequence kernel: forward and backward over T steps, in a feature-major layout.

Computes exactly what ``rnn_core.lstm``'s readable loop over ``lstm_step_forward`` /
``lstm_step_backward`` computes (``tests/test_lstm.py`` checks values and every gradient in
float64), faster (``python -m benchmarks cells`` times both): the input projection of all steps
is one batched matmul, every gate of a step is a contiguous block, activations are computed in
place, the step-by-step argument checks are skipped, and the weight gradients are summed over
blocks of steps with one matmul each.

Instructor-only: the student release leaves ``rnn_core/_kernels/`` out, and ``rnn_core.lstm``
then runs the loop on the student's step functions. Arguments arrive checked by ``rnn_core.lstm``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["KernelCache", "forward", "backward", "BLOCK_STEPS"]

BLOCK_STEPS = 16
"""Steps per block of pre-activation gradients in ``backward``."""


class KernelCache(NamedTuple):
    """What ``backward`` needs from ``forward``; also the states of every step.

    The per-step arrays are stored time-major and feature-major (features before batch), so that
    each gate of a step, e.g. ``gates[t, :H]`` (i_t as an (H, N) block), is one contiguous piece of
    memory: numpy's elementwise operations on contiguous blocks are several times faster than on
    column slices of an (N, 4H) array, which matters in the time loop. The properties ``h``,
    ``c``, ``h_all``, ``c_all`` and ``gate`` give the usual batch-first (N, T, H) views, as
    ``rnn_core.lstm.LSTMCache`` does.
    """

    x: np.ndarray
    """inputs of every step, (N, T, D)"""
    Wx: np.ndarray
    """input-to-gates weights, (D, 4H)"""
    Wh: np.ndarray
    """hidden-to-gates weights, (H, 4H)"""
    gates: np.ndarray
    """gate activations, (T, 4H, N): ``gates[t, :H]`` is i_t, feature-major, then f, o, g"""
    h_steps: np.ndarray
    """h0 then the hidden state of every step, feature-major, (T+1, H, N)"""
    c_steps: np.ndarray
    """c0 then the cell state of every step, feature-major, (T+1, H, N)"""
    tanh_c_steps: np.ndarray
    """tanh of the cell state of every step, feature-major, (T, H, N)"""

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, (N, T, H) (a view into the cache: do not modify)."""
        return self.h_steps[1:].transpose(2, 0, 1)

    @property
    def c(self) -> np.ndarray:
        """Cell states c_1..c_T, (N, T, H) (a view into the cache: do not modify)."""
        return self.c_steps[1:].transpose(2, 0, 1)

    @property
    def h_all(self) -> np.ndarray:
        """h0 followed by h_1..h_T, (N, T+1, H) (a view)."""
        return self.h_steps.transpose(2, 0, 1)

    @property
    def c_all(self) -> np.ndarray:
        """c0 followed by c_1..c_T, (N, T+1, H) (a view)."""
        return self.c_steps.transpose(2, 0, 1)

    def gate(self, name: str) -> np.ndarray:
        """One gate's activations at every step, (N, T, H); name is "i", "f", "o" or "g"."""
        k = "ifog".index(name)
        H = self.h_steps.shape[1]
        return self.gates[:, k * H : (k + 1) * H].transpose(2, 0, 1)


def forward(x, h0, c0, Wx, Wh, b) -> KernelCache:
    """LSTM over a sequence: x (N, T, D), h0 (N, H), c0 (N, H) or None (zeros), Wx (D, 4H),
    Wh (H, 4H), b (4H,). Returns the KernelCache; ``cache.h`` / ``cache.c`` are the states."""
    N, T, _ = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, Wx, Wh, b)
    G, H3 = 4 * H, 3 * H
    # Feature-major, time-major layout (see KernelCache): step t works on contiguous (4H, N) and
    # (H, N) blocks. The input part of the pre-activations of all steps is one batched matmul;
    # the loop adds Wh^T h_{t-1} and turns each block, in place, into the gate activations.
    x_feature_major = np.ascontiguousarray(x.transpose(1, 2, 0), dtype=dtype)  # (T, D, N)
    gates = np.matmul(Wx.T.astype(dtype, copy=False), x_feature_major)  # (T, 4H, N) = (x_t Wx)^T
    gates += b[:, None]
    h_steps = np.empty((T + 1, H, N), dtype=dtype)
    c_steps = np.empty((T + 1, H, N), dtype=dtype)
    tanh_c_steps = np.empty((T, H, N), dtype=dtype)
    h_steps[0] = h0.T
    c_steps[0] = 0.0 if c0 is None else c0.T
    Wh_steps = Wh.T
    rec = np.empty((G, N), dtype=dtype)  # Wh^T h_{t-1}
    ig = np.empty((H, N), dtype=dtype)
    with np.errstate(over="ignore"):  # exp(-a) = inf for a < -709 gives sigmoid 0, correctly
        for t in range(T):
            a = gates[t]
            np.matmul(Wh_steps, h_steps[t], out=rec)
            a += rec
            ifo = a[:H3]  # sigmoid in place: 1 / (1 + exp(-a))
            np.negative(ifo, out=ifo)
            np.exp(ifo, out=ifo)
            ifo += 1.0
            np.reciprocal(ifo, out=ifo)
            g = a[H3:]
            np.tanh(g, out=g)
            c = c_steps[t + 1]
            np.multiply(a[H : 2 * H], c_steps[t], out=c)  # f * c_prev
            np.multiply(a[:H], g, out=ig)
            c += ig  # + i * g
            np.tanh(c, out=tanh_c_steps[t])
            np.multiply(a[2 * H : H3], tanh_c_steps[t], out=h_steps[t + 1])  # h = o * tanh(c)
    return KernelCache(x=x, Wx=Wx, Wh=Wh, gates=gates, h_steps=h_steps, c_steps=c_steps,
                       tanh_c_steps=tanh_c_steps)


def backward(dh, dc, cache: KernelCache):
    """Backward of ``forward``: dh (N, T, H) upstream gradient of every hidden state, dc (N, T, H)
    of every cell state or None. Returns dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx, dWh, db."""
    T, H, N = cache.tanh_c_steps.shape
    gates, c_steps, tanh_c_steps, Wh = cache.gates, cache.c_steps, cache.tanh_c_steps, cache.Wh
    G, H3 = 4 * H, 3 * H
    dtype = np.result_type(gates, dh)
    dh_steps = np.ascontiguousarray(dh.transpose(1, 2, 0))  # (T, H, N), like the cache
    dc_steps = None if dc is None else np.ascontiguousarray(dc.transpose(1, 2, 0))

    # The pre-activation gradients da_t are collected in a block of K steps, (4H, K, N); when a
    # block is full its steps' contributions to dWx, dWh, db and dx are added with one matmul each
    # (K*N columns wide: as fast per flop as one huge matmul, but the block stays small and hot).
    D = cache.Wx.shape[0]
    K = min(T, BLOCK_STEPS) if T else 1
    da = np.empty((G, K, N), dtype=dtype)
    dWx = np.zeros((D, G), dtype=dtype)
    dWh = np.zeros((H, G), dtype=dtype)
    db = np.zeros(G, dtype=dtype)
    dx = np.empty((N, T, D), dtype=dtype)
    x_time_major = cache.x.transpose(1, 0, 2)  # (T, N, D) view
    da_t = np.empty((G, N), dtype=dtype)
    dact = np.empty((G, N), dtype=dtype)  # local derivatives of the activations at step t
    dh_next = np.zeros((H, N), dtype=dtype)  # reaches h_t through h_{t+1}
    dc_next = np.zeros((H, N), dtype=dtype)  # reaches c_t through c_{t+1}
    for t in reversed(range(T)):
        gt = gates[t]
        tc = tanh_c_steps[t]
        dh_t = dh_steps[t] + dh_next
        dct = tc * tc
        np.subtract(1.0, dct, out=dct)
        dct *= gt[2 * H : H3]
        dct *= dh_t
        dct += dc_next  # dc_t = dc_next + dh_t * o * (1 - tanh(c)^2)
        if dc_steps is not None:
            dct += dc_steps[t]
        np.multiply(dct, gt[H3:], out=da_t[:H])  # di = dc * g
        np.multiply(dct, c_steps[t], out=da_t[H : 2 * H])  # df = dc * c_prev
        np.multiply(dh_t, tc, out=da_t[2 * H : H3])  # do = dh * tanh(c)
        np.multiply(dct, gt[:H], out=da_t[H3:])  # dg = dc * i
        s = gt[:H3]
        np.subtract(1.0, s, out=dact[:H3])
        dact[:H3] *= s  # sigmoid' = s (1 - s)
        g = gt[H3:]
        np.multiply(g, g, out=dact[H3:])
        np.subtract(1.0, dact[H3:], out=dact[H3:])  # tanh' = 1 - g^2
        da_t *= dact  # through the activations
        dct *= gt[H : 2 * H]
        dc_next = dct  # dc_prev = dc * f
        np.matmul(Wh, da_t, out=dh_next)  # dh_prev = (da Wh^T)^T
        t0 = t - t % K  # first step of this block
        da[:, t - t0] = da_t
        if t == t0:  # block [t0, t1) complete: weight gradients for its steps
            t1 = min(t0 + K, T)
            L = t1 - t0
            DA = da[:, :L].reshape(G, L * N)  # columns ordered (t, n)
            X = x_time_major[t0:t1].reshape(L * N, D)  # rows ordered (t, n)
            Hp = cache.h_steps[t0:t1].transpose(1, 0, 2).reshape(H, L * N)  # h_{t-1}, (t, n)
            dWx += X.T @ DA.T
            dWh += Hp @ DA.T
            db += DA.sum(axis=1)
            dx[:, t0:t1] = (DA.T @ cache.Wx.T).reshape(L, N, D).transpose(1, 0, 2)
    return dx, dh_next.T.copy(), dc_next.T.copy(), dWx, dWh, db
