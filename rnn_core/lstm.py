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

The sequence functions are the readable loop over the two step functions (the exercises of
notebook 08): that loop is the reference, and it is what the student release runs, on the
student's own steps. In the course source a tuned kernel (``rnn_core/_kernels/lstm_sequence.py``,
not shipped) computes the same numbers faster and is used when importable;
``tests/test_lstm.py`` checks that kernel and loop agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnn_core._validate import check_array

try:  # instructor-only (docs/architecture.md, D1): absent from the student release
    from rnn_core._kernels import lstm_sequence as _kernel
except ImportError:  # pragma: no cover - the release
    _kernel = None
if _kernel is not None and Path(_kernel.__file__).parents[2] != Path(__file__).parents[1]:
    # found through another copy of the package (an editable install of the course source next
    # to a release copy on sys.path): this copy has no kernel, so it runs the students' steps
    _kernel = None  # pragma: no cover

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

    Notebook 08, section 1.

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
    """What ``lstm_backward`` needs from ``lstm_forward``: the step caches, and the states of every
    step.

    The tuned kernel returns its own cache type with the same properties (``h``, ``c``, ``h_all``,
    ``c_all``, ``gate``); code outside this module uses only those.
    """

    x: np.ndarray
    """inputs of every step, (N, T, D)"""
    Wx: np.ndarray
    """input-to-gates weights, (D, 4H)"""
    Wh: np.ndarray
    """hidden-to-gates weights, (H, 4H)"""
    h_all: np.ndarray
    """h0 followed by h_1..h_T, (N, T+1, H)"""
    c_all: np.ndarray
    """c0 followed by c_1..c_T, (N, T+1, H)"""
    steps: tuple[LSTMStepCache, ...]
    """the cache of every step, from ``lstm_step_forward``"""

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, (N, T, H) (a view into the cache: do not modify)."""
        return self.h_all[:, 1:]

    @property
    def c(self) -> np.ndarray:
        """Cell states c_1..c_T, (N, T, H) (a view into the cache: do not modify)."""
        return self.c_all[:, 1:]

    def gate(self, name: str) -> np.ndarray:
        """One gate's activations at every step, (N, T, H); name is "i", "f", "o" or "g"."""
        if name not in ("i", "f", "o", "g"):
            raise ValueError(f"LSTMCache.gate: name must be 'i', 'f', 'o' or 'g', got {name!r}")
        N, T1, H = self.h_all.shape
        if not self.steps:
            return np.empty((N, 0, H), dtype=self.h_all.dtype)
        return np.stack([getattr(s, name) for s in self.steps], axis=1)


def lstm_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    prev_c: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
    """One LSTM step (gates i, f, o, g along the 4H axis).

    Notebook 08, section 2.

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

    Notebook 08, section 2.

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
    s["4H"] = 4 * s["H"]
    check_array(fn, "Wx", Wx, ("D", "4H"), s)
    check_array(fn, "Wh", Wh, ("H", "4H"), s)
    check_array(fn, "b", b, ("4H",), s)
    if _kernel is not None:
        cache = _kernel.forward(x, h0, c0, Wx, Wh, b)
    else:
        cache = lstm_forward_steps(x, h0, c0, Wx, Wh, b)
    return cache.h.copy(), (cache.c.copy() if with_cells else None), cache


def lstm_forward_steps(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> LSTMCache:
    """The reference loop: ``lstm_step_forward`` at every step, each state carried to the next.

    Notebook 08, section 2. Unlike ``lstm_forward`` it never takes the tuned kernel, so the cache
    always holds the step caches (``cache.steps[t]``): the gradient-flow analysis walks back
    through them one ``lstm_step_backward`` at a time. Arguments as in ``lstm_forward_with_cells``
    (checked there; pass checked arrays), c0 None meaning zeros.
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, Wx, Wh, b)
    h_all = np.empty((N, T + 1, H), dtype=dtype)
    c_all = np.empty((N, T + 1, H), dtype=dtype)
    h_all[:, 0] = h0
    c_all[:, 0] = 0.0 if c0 is None else c0
    steps = []
    h, c = h_all[:, 0], c_all[:, 0]
    for t in range(T):
        h, c, step = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        h_all[:, t + 1] = h
        c_all[:, t + 1] = c
        steps.append(step)
    return LSTMCache(x=x, Wx=Wx, Wh=Wh, h_all=h_all, c_all=c_all, steps=tuple(steps))


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
    kinds = (LSTMCache,) if _kernel is None else (LSTMCache, _kernel.KernelCache)
    _check_cache(fn, cache, kinds)
    N, T1, H = cache.h_all.shape
    T = T1 - 1
    check_array(fn, "dh", dh, (N, T, H))
    if dc is not None:
        check_array(fn, "dc", dc, (N, T, H))
    if not isinstance(cache, LSTMCache):
        return _kernel.backward(dh, dc, cache)
    return _lstm_loop_backward(dh, cache, dc)


def _lstm_loop_backward(dh, cache: LSTMCache, dc):
    """The reference: ``lstm_step_backward`` from the last step to the first; each step receives
    the gradient of its outputs from above (dh, dc) plus what flows back from the step after it."""
    N, T1, H = cache.h_all.shape
    T = T1 - 1
    dtype = np.result_type(cache.h_all, dh)
    dh_next = np.zeros((N, H), dtype=dtype)  # reaches h_t through step t + 1
    dc_next = np.zeros((N, H), dtype=dtype)  # reaches c_t through step t + 1
    dx = np.empty(cache.x.shape, dtype=dtype)
    dWx = np.zeros(cache.Wx.shape, dtype=dtype)
    dWh = np.zeros(cache.Wh.shape, dtype=dtype)
    db = np.zeros(cache.Wh.shape[1], dtype=dtype)
    for t in reversed(range(T)):
        dc_t = dc_next if dc is None else dc_next + dc[:, t]
        dx[:, t], dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dh_next, dc_t, cache.steps[t]
        )
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dc_next, dWx, dWh, db


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


def _check_cache(fn: str, cache: object, kind: type | tuple[type, ...]) -> None:
    if not isinstance(cache, kind):
        name = (kind if isinstance(kind, type) else kind[0]).__name__
        raise TypeError(
            f"{fn}: cache must be the {name} returned by the forward pass, "
            f"got {type(cache).__name__}"
        )
