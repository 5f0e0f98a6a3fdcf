"""LSTM: one step and a whole sequence, each forward beside its backward.

The step, with row vectors (batch first) and the four gates stacked along the 4H axis in the order
i (input), f (forget), o (output), g (candidate)::

    a   = x Wx + h_prev Wh + b                        (N, 4H)
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2H]), sigmoid(a[:, 2H:3H])
    g   = tanh(a[:, 3H:])
    c   = f * c_prev + i * g                          cell state  (N, H)
    h   = o * tanh(c)                                 hidden state (N, H)

Backward (``sigmoid' = s (1 - s)``, ``tanh' = 1 - tanh**2``)::

    do      = dh * tanh(c)
    dc      = dc_next + dh * o * (1 - tanh(c)**2)     the cell "highway": dc_prev = dc * f
    di, df, dg = dc * g, dc * c_prev, dc * i
    da      = [di * i(1-i), df * f(1-f), do * o(1-o), dg * (1-g**2)]
    dx = da Wx^T,  dh_prev = da Wh^T,  dWx = x^T da,  dWh = h_prev^T da,  db = sum_n da

Shapes: N batch, T time, D input, H hidden. ``Wx`` is (D, 4H), ``Wh`` is (H, 4H), ``b`` is (4H,).

Cell states of a sequence: ``lstm_forward_with_cells`` returns them, and every ``LSTMCache`` has
``cache.h`` and ``cache.c`` (N, T, H) with the hidden and cell state of every step
(``cache.h_all`` / ``cache.c_all`` also include h0 / c0 at index 0) and ``cache.gate("f")`` etc.
(N, T, H) with the gate activations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnn_core._validate import check_array

__all__ = [
    "sigmoid",
    "LSTMStepCache",
    "LSTMCache",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_forward_with_cells",
    "lstm_backward",
    "lstm_backward_with_cells",
]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-a))``, computed as ``0.5 * tanh(a / 2) + 0.5``.

    The tanh form never overflows (no warning for a = -1000) and is exact to rounding.
    """
    return 0.5 * np.tanh(0.5 * a) + 0.5


class LSTMStepCache(NamedTuple):
    """What ``lstm_step_backward`` needs from ``lstm_step_forward``."""

    x: np.ndarray
    """input of this step, (N, D)"""
    prev_h: np.ndarray
    """hidden state before the step, (N, H)"""
    prev_c: np.ndarray
    """cell state before the step, (N, H)"""
    Wx: np.ndarray
    """input-to-gates weights, (D, 4H)"""
    Wh: np.ndarray
    """hidden-to-gates weights, (H, 4H)"""
    i: np.ndarray
    """input gate, (N, H)"""
    f: np.ndarray
    """forget gate, (N, H)"""
    o: np.ndarray
    """output gate, (N, H)"""
    g: np.ndarray
    """candidate values, (N, H)"""
    next_c: np.ndarray
    """cell state after the step, (N, H)"""
    tanh_next_c: np.ndarray
    """tanh(next_c), (N, H)"""


class LSTMCache(NamedTuple):
    """What ``lstm_backward`` needs from ``lstm_forward``; also the states of every step.

    The per-step arrays are stored time-major and *transposed* (features before batch), so that
    each gate of a step, e.g. ``gates[t, :H]`` (i_t as an (H, N) block), is one contiguous piece of
    memory: numpy's elementwise operations on contiguous blocks are several times faster than on
    column slices of an (N, 4H) array, which matters in the time loop. Use the properties
    ``h``, ``c``, ``h_all``, ``c_all`` for the usual batch-first (N, T, H) views.
    """

    x: np.ndarray
    """inputs of every step, (N, T, D)"""
    Wx: np.ndarray
    """input-to-gates weights, (D, 4H)"""
    Wh: np.ndarray
    """hidden-to-gates weights, (H, 4H)"""
    gates: np.ndarray
    """gate activations, (T, 4H, N): ``gates[t, :H]`` is i_t transposed, then f, o, g"""
    hT: np.ndarray
    """h0 then the hidden state of every step, transposed, (T+1, H, N)"""
    cT: np.ndarray
    """c0 then the cell state of every step, transposed, (T+1, H, N)"""
    tanh_cT: np.ndarray
    """tanh of the cell state of every step, transposed, (T, H, N)"""

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, (N, T, H) (a view into the cache: do not modify)."""
        return self.hT[1:].transpose(2, 0, 1)

    @property
    def c(self) -> np.ndarray:
        """Cell states c_1..c_T, (N, T, H) (a view into the cache: do not modify)."""
        return self.cT[1:].transpose(2, 0, 1)

    @property
    def h_all(self) -> np.ndarray:
        """h0 followed by h_1..h_T, (N, T+1, H) (a view)."""
        return self.hT.transpose(2, 0, 1)

    @property
    def c_all(self) -> np.ndarray:
        """c0 followed by c_1..c_T, (N, T+1, H) (a view)."""
        return self.cT.transpose(2, 0, 1)

    def gate(self, name: str) -> np.ndarray:
        """One gate's activations at every step, (N, T, H); name is "i", "f", "o" or "g"."""
        k = "ifog".index(name)
        H = self.hT.shape[1]
        return self.gates[:, k * H : (k + 1) * H].transpose(2, 0, 1)


def lstm_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    prev_c: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
    """One LSTM step (gates i, f, o, g along the 4H axis).

    Parameters
    ----------
    x : input for this step, shape (N, D).
    prev_h : previous hidden state, shape (N, H).
    prev_c : previous cell state, shape (N, H).
    Wx : input-to-gates weights, shape (D, 4H).
    Wh : hidden-to-gates weights, shape (H, 4H).
    b : bias, shape (4H,).

    Returns
    -------
    next_h : (N, H); next_c : (N, H); cache : LSTMStepCache for ``lstm_step_backward``.
    """
    fn = "lstm_step_forward"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "D"), s)
    check_array(fn, "prev_h", prev_h, ("N", "H"), s)
    check_array(fn, "prev_c", prev_c, ("N", "H"), s)
    H = s["H"]
    s["4H"] = 4 * H
    check_array(fn, "Wx", Wx, ("D", "4H"), s)
    check_array(fn, "Wh", Wh, ("H", "4H"), s)
    check_array(fn, "b", b, ("4H",), s)
    ### BEGIN SOLUTION
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    o = sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    tanh_next_c = np.tanh(next_c)
    next_h = o * tanh_next_c
    cache = LSTMStepCache(x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c, tanh_next_c)
    ### END SOLUTION
    return next_h, next_c, cache


def lstm_step_backward(
    dnext_h: np.ndarray, dnext_c: np.ndarray, cache: LSTMStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of one LSTM step.

    Parameters
    ----------
    dnext_h : gradient with respect to next_h, shape (N, H).
    dnext_c : gradient with respect to next_c, shape (N, H).
    cache : LSTMStepCache from ``lstm_step_forward``.

    Returns
    -------
    dx : (N, D); dprev_h : (N, H); dprev_c : (N, H); dWx : (D, 4H); dWh : (H, 4H); db : (4H,).
    """
    fn = "lstm_step_backward"
    _check_cache(fn, cache, LSTMStepCache)
    check_array(fn, "dnext_h", dnext_h, cache.next_c.shape)
    check_array(fn, "dnext_c", dnext_c, cache.next_c.shape)
    ### BEGIN SOLUTION
    i, f, o, g = cache.i, cache.f, cache.o, cache.g
    tc = cache.tanh_next_c
    do = dnext_h * tc
    dc = dnext_c + dnext_h * o * (1.0 - tc**2)  # both paths into next_c
    di = dc * g
    df = dc * cache.prev_c
    dg = dc * i
    dprev_c = dc * f
    da = np.concatenate(
        [di * i * (1.0 - i), df * f * (1.0 - f), do * o * (1.0 - o), dg * (1.0 - g**2)], axis=1
    )
    dx = da @ cache.Wx.T
    dprev_h = da @ cache.Wh.T
    dWx = cache.x.T @ da
    dWh = cache.prev_h.T @ da
    db = da.sum(axis=0)
    ### END SOLUTION
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward_with_cells(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, LSTMCache]:
    """Run an LSTM over a sequence and return the hidden and the cell states of every step.

    Parameters
    ----------
    x : inputs, shape (N, T, D).
    h0 : initial hidden state, shape (N, H).
    Wx : input-to-gates weights, shape (D, 4H).
    Wh : hidden-to-gates weights, shape (H, 4H).
    b : bias, shape (4H,).
    c0 : initial cell state, shape (N, H); None means zeros. Pass the last cell state of the
        previous chunk to carry the memory across chunks (stateful truncated BPTT).

    Returns
    -------
    h : hidden states, shape (N, T, H) (a fresh array).
    c : cell states, shape (N, T, H) (a fresh array).
    cache : LSTMCache for ``lstm_backward`` / ``lstm_backward_with_cells``.
    """
    return _lstm_forward(x, h0, Wx, Wh, b, c0, with_cells=True)


def _lstm_forward(x, h0, Wx, Wh, b, c0, *, with_cells: bool):
    """Shared body of the two forward functions; skips the copy of c when not wanted."""
    fn = "lstm_forward"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "T", "D"), s)
    check_array(fn, "h0", h0, ("N", "H"), s)
    if c0 is not None:
        check_array(fn, "c0", c0, ("N", "H"), s)
    N, T, H = s["N"], s["T"], s["H"]
    s["4H"] = 4 * H
    check_array(fn, "Wx", Wx, ("D", "4H"), s)
    check_array(fn, "Wh", Wh, ("H", "4H"), s)
    check_array(fn, "b", b, ("4H",), s)

    dtype = np.result_type(x, h0, Wx, Wh, b)
    G, H3 = 4 * H, 3 * H
    # Feature-major, time-major layout (see LSTMCache): step t works on contiguous (4H, N) and
    # (H, N) blocks. The input part of the pre-activations of all steps is one batched matmul;
    # the loop adds Wh^T h_{t-1} and turns each block, in place, into the gate activations.
    xT = np.ascontiguousarray(x.transpose(1, 2, 0), dtype=dtype)  # (T, D, N)
    gates = np.matmul(Wx.T.astype(dtype, copy=False), xT)  # (T, 4H, N) = (x_t Wx)^T
    gates += b[:, None]
    hT = np.empty((T + 1, H, N), dtype=dtype)
    cT = np.empty((T + 1, H, N), dtype=dtype)
    tanh_cT = np.empty((T, H, N), dtype=dtype)
    hT[0] = h0.T
    cT[0] = 0.0 if c0 is None else c0.T
    WhT = Wh.T
    rec = np.empty((G, N), dtype=dtype)  # Wh^T h_{t-1}
    ig = np.empty((H, N), dtype=dtype)
    with np.errstate(over="ignore"):  # exp(-a) = inf for a < -709 gives sigmoid 0, correctly
        for t in range(T):
            a = gates[t]
            np.matmul(WhT, hT[t], out=rec)
            a += rec
            ifo = a[:H3]  # sigmoid in place: 1 / (1 + exp(-a))
            np.negative(ifo, out=ifo)
            np.exp(ifo, out=ifo)
            ifo += 1.0
            np.reciprocal(ifo, out=ifo)
            g = a[H3:]
            np.tanh(g, out=g)
            c = cT[t + 1]
            np.multiply(a[H : 2 * H], cT[t], out=c)  # f * c_prev
            np.multiply(a[:H], g, out=ig)
            c += ig  # + i * g
            np.tanh(c, out=tanh_cT[t])
            np.multiply(a[2 * H : H3], tanh_cT[t], out=hT[t + 1])  # h = o * tanh(c)
    cache = LSTMCache(x=x, Wx=Wx, Wh=Wh, gates=gates, hT=hT, cT=cT, tanh_cT=tanh_cT)
    if not with_cells:
        return cache.h.copy(), None, cache
    return cache.h.copy(), cache.c.copy(), cache


def lstm_forward(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    *,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, LSTMCache]:
    """Run an LSTM over a sequence (initial cell state zero unless ``c0`` is given).

    Parameters
    ----------
    x : inputs, shape (N, T, D).
    h0 : initial hidden state, shape (N, H).
    Wx : input-to-gates weights, shape (D, 4H).
    Wh : hidden-to-gates weights, shape (H, 4H).
    b : bias, shape (4H,).
    c0 : keyword only, initial cell state (N, H); default zeros.

    Returns
    -------
    h : hidden states, shape (N, T, H).
    cache : LSTMCache for ``lstm_backward``; ``cache.c`` holds the cell states (N, T, H).
    """
    h, _, cache = _lstm_forward(x, h0, Wx, Wh, b, c0, with_cells=False)
    return h, cache


def lstm_backward_with_cells(
    dh: np.ndarray, cache: LSTMCache, dc: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for an LSTM, also returning the gradient of c0.

    Parameters
    ----------
    dh : upstream gradient with respect to every hidden state, shape (N, T, H).
    cache : LSTMCache from ``lstm_forward`` / ``lstm_forward_with_cells``.
    dc : optional upstream gradient with respect to every cell state, shape (N, T, H)
        (e.g. from a loss that reads the cells); None means zeros.

    Returns
    -------
    dx : (N, T, D); dh0 : (N, H); dc0 : (N, H); dWx : (D, 4H); dWh : (H, 4H); db : (4H,).
    """
    fn = "lstm_backward"
    _check_cache(fn, cache, LSTMCache)
    T, H, N = cache.tanh_cT.shape
    check_array(fn, "dh", dh, (N, T, H))
    if dc is not None:
        check_array(fn, "dc", dc, (N, T, H))
    gates, cT, tanh_cT, Wh = cache.gates, cache.cT, cache.tanh_cT, cache.Wh
    G, H3 = 4 * H, 3 * H
    dtype = np.result_type(gates, dh)
    dhT = np.ascontiguousarray(dh.transpose(1, 2, 0))  # (T, H, N), like the cache
    dcT = None if dc is None else np.ascontiguousarray(dc.transpose(1, 2, 0))

    # The pre-activation gradients da_t are collected in a block of K steps, (4H, K, N); when a
    # block is full its steps' contributions to dWx, dWh, db and dx are added with one matmul each
    # (K*N columns wide: as fast per flop as one huge matmul, but the block stays small and hot).
    D = cache.Wx.shape[0]
    K = min(T, _BLOCK_STEPS) if T else 1
    da = np.empty((G, K, N), dtype=dtype)
    dWx = np.zeros((D, G), dtype=dtype)
    dWh = np.zeros((H, G), dtype=dtype)
    db = np.zeros(G, dtype=dtype)
    dx = np.empty((N, T, D), dtype=dtype)
    xT = cache.x.transpose(1, 0, 2)  # (T, N, D) view
    da_t = np.empty((G, N), dtype=dtype)
    dact = np.empty((G, N), dtype=dtype)  # local derivatives of the activations at step t
    dh_next = np.zeros((H, N), dtype=dtype)  # reaches h_t through h_{t+1}
    dc_next = np.zeros((H, N), dtype=dtype)  # reaches c_t through c_{t+1}
    for t in reversed(range(T)):
        gt = gates[t]
        tc = tanh_cT[t]
        dh_t = dhT[t] + dh_next
        dct = tc * tc
        np.subtract(1.0, dct, out=dct)
        dct *= gt[2 * H : H3]
        dct *= dh_t
        dct += dc_next  # dc_t = dc_next + dh_t * o * (1 - tanh(c)^2)
        if dcT is not None:
            dct += dcT[t]
        np.multiply(dct, gt[H3:], out=da_t[:H])  # di = dc * g
        np.multiply(dct, cT[t], out=da_t[H : 2 * H])  # df = dc * c_prev
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
            X = xT[t0:t1].reshape(L * N, D)  # rows ordered (t, n)
            Hp = cache.hT[t0:t1].transpose(1, 0, 2).reshape(H, L * N)  # h_{t-1}, (t, n)
            dWx += X.T @ DA.T
            dWh += Hp @ DA.T
            db += DA.sum(axis=1)
            dx[:, t0:t1] = (DA.T @ cache.Wx.T).reshape(L, N, D).transpose(1, 0, 2)
    return dx, dh_next.T.copy(), dc_next.T.copy(), dWx, dWh, db


def lstm_backward(
    dh: np.ndarray, cache: LSTMCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``lstm_forward``.

    Parameters
    ----------
    dh : upstream gradient with respect to every hidden state, shape (N, T, H).
    cache : LSTMCache from ``lstm_forward``.

    Returns
    -------
    dx : (N, T, D); dh0 : (N, H); dWx : (D, 4H); dWh : (H, 4H); db : (4H,).
    Use ``lstm_backward_with_cells`` for the gradient of c0 as well.
    """
    dx, dh0, _, dWx, dWh, db = lstm_backward_with_cells(dh, cache)
    return dx, dh0, dWx, dWh, db


_BLOCK_STEPS = 16
"""Steps per block of pre-activation gradients in ``lstm_backward_with_cells``."""


def _check_cache(fn: str, cache: object, kind: type) -> None:
    if not isinstance(cache, kind):
        raise TypeError(
            f"{fn}: cache must be the {kind.__name__} returned by the forward pass, "
            f"got {type(cache).__name__}"
        )
