"""Vanilla (tanh) RNN: one step and a whole sequence, each forward beside its backward.

The recurrence, with row vectors (batch first)::

    a_t = x_t Wx + h_{t-1} Wh + b          pre-activation, (N, H)
    h_t = tanh(a_t)                        hidden state,   (N, H)

Backward (the chain rule read off the two lines above; ``tanh'(a_t) = 1 - h_t**2``)::

    da_t      = dh_t * (1 - h_t**2)
    dx_t      = da_t @ Wx.T
    dh_{t-1}  = da_t @ Wh.T                # = J_t^T dh_t: notebook 06, section 1
    dWx      += x_t.T @ da_t,   dWh += h_{t-1}.T @ da_t,   db += sum_n da_t

Shapes: N batch, T time, D input, H hidden. ``Wx`` is (D, H), ``Wh`` is (H, H), ``b`` is (H,).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnn_core._validate import check_array

__all__ = [
    "RNNStepCache",
    "RNNCache",
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
]


class RNNStepCache(NamedTuple):
    """What ``rnn_step_backward`` needs from ``rnn_step_forward``."""

    x: np.ndarray
    """input of this step, (N, D)"""
    prev_h: np.ndarray
    """hidden state before the step, (N, H)"""
    Wx: np.ndarray
    """input-to-hidden weights, (D, H)"""
    Wh: np.ndarray
    """hidden-to-hidden weights, (H, H)"""
    next_h: np.ndarray
    """hidden state after the step, tanh(a), (N, H)"""


class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs from ``rnn_forward``."""

    x: np.ndarray
    """inputs of every step, (N, T, D)"""
    Wx: np.ndarray
    """input-to-hidden weights, (D, H)"""
    Wh: np.ndarray
    """hidden-to-hidden weights, (H, H)"""
    h_all: np.ndarray
    """h0 followed by the hidden states of every step, (N, T+1, H): ``h_all[:, 0]`` is h0 and
    ``h_all[:, t + 1]`` the state step t (t = 0 .. T-1, the loop's index) computes; in the notes'
    h_0 ... h_T, ``h_all[:, k]`` is h_k"""


def rnn_step_forward(
    x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, RNNStepCache]:
    """One step of a tanh RNN: ``next_h = tanh(x @ Wx + prev_h @ Wh + b)``.

    Notebook 00, section 2.

    Parameters
    ----------
    x : input for this step, shape (N, D).
    prev_h : hidden state from the previous step, shape (N, H).
    Wx : input-to-hidden weights, shape (D, H).
    Wh : hidden-to-hidden weights, shape (H, H).
    b : bias, shape (H,).

    Returns
    -------
    next_h : next hidden state, shape (N, H).
    cache : RNNStepCache for ``rnn_step_backward``.
    """
    fn = "rnn_step_forward"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "D"), s)
    check_array(fn, "prev_h", prev_h, ("N", "H"), s)
    check_array(fn, "Wx", Wx, ("D", "H"), s)
    check_array(fn, "Wh", Wh, ("H", "H"), s)
    check_array(fn, "b", b, ("H",), s)
    ### BEGIN SOLUTION
    a = x @ Wx + prev_h @ Wh + b
    next_h = np.tanh(a)
    cache = RNNStepCache(x=x, prev_h=prev_h, Wx=Wx, Wh=Wh, next_h=next_h)
    ### END SOLUTION
    return next_h, cache


def rnn_step_backward(
    dnext_h: np.ndarray, cache: RNNStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of one RNN step.

    Notebook 00, section 2.

    Parameters
    ----------
    dnext_h : gradient of the loss with respect to next_h, shape (N, H).
    cache : RNNStepCache from ``rnn_step_forward``.

    Returns
    -------
    dx : (N, D); dprev_h : (N, H); dWx : (D, H); dWh : (H, H); db : (H,).
    """
    fn = "rnn_step_backward"
    _check_cache(fn, cache, RNNStepCache)
    check_array(fn, "dnext_h", dnext_h, cache.next_h.shape)
    ### BEGIN SOLUTION
    da = dnext_h * (1.0 - cache.next_h**2)  # tanh'(a) = 1 - tanh(a)^2
    dx = da @ cache.Wx.T
    dprev_h = da @ cache.Wh.T
    dWx = cache.x.T @ da
    dWh = cache.prev_h.T @ da
    db = da.sum(axis=0)
    ### END SOLUTION
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, RNNCache]:
    """Run a tanh RNN over a whole sequence.

    Notebook 00, section 2.

    The input projection ``x_t @ Wx + b`` does not depend on the recurrence, so it is computed for
    all T steps in one matrix product before the time loop; the loop only adds ``h_{t-1} @ Wh``.

    Parameters
    ----------
    x : inputs, shape (N, T, D).
    h0 : initial hidden state, shape (N, H).
    Wx : input-to-hidden weights, shape (D, H).
    Wh : hidden-to-hidden weights, shape (H, H).
    b : bias, shape (H,).

    Returns
    -------
    h : hidden states of every step, shape (N, T, H) (a fresh array; the cache keeps its own copy).
    cache : RNNCache for ``rnn_backward``.
    """
    fn = "rnn_forward"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "T", "D"), s)
    check_array(fn, "h0", h0, ("N", "H"), s)
    check_array(fn, "Wx", Wx, ("D", "H"), s)
    check_array(fn, "Wh", Wh, ("H", "H"), s)
    check_array(fn, "b", b, ("H",), s)
    N, T, H = s["N"], s["T"], s["H"]
    ### BEGIN SOLUTION
    xa = x @ Wx + b  # (N, T, H): input part of a_t for every step, one matmul
    h_all = np.empty((N, T + 1, H), dtype=np.result_type(x, h0, Wx, Wh, b))
    h_all[:, 0] = h0
    for t in range(T):
        a_t = xa[:, t] + h_all[:, t] @ Wh
        np.tanh(a_t, out=h_all[:, t + 1])
    h = h_all[:, 1:].copy()
    cache = RNNCache(x=x, Wx=Wx, Wh=Wh, h_all=h_all)
    ### END SOLUTION
    return h, cache


def rnn_backward(
    dh: np.ndarray, cache: RNNCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``rnn_forward``.

    Notebook 00, section 2.

    Parameters
    ----------
    dh : upstream gradient of the loss with respect to every hidden state, shape (N, T, H)
        (only the direct part from the layer above; the part through h_{t+1} is added here).
    cache : RNNCache from ``rnn_forward``.

    Returns
    -------
    dx : (N, T, D); dh0 : (N, H); dWx : (D, H); dWh : (H, H); db : (H,).
    """
    fn = "rnn_backward"
    _check_cache(fn, cache, RNNCache)
    N, T1, H = cache.h_all.shape
    check_array(fn, "dh", dh, (N, T1 - 1, H))
    ### BEGIN SOLUTION
    T = T1 - 1
    h_all, Wx, Wh, x = cache.h_all, cache.Wx, cache.Wh, cache.x
    da = np.empty_like(dh)  # da[:, t] = dL/da_t, kept for the weight gradients
    dh_next = np.zeros((N, H), dtype=dh.dtype)  # gradient arriving at h_t through h_{t+1}
    for t in reversed(range(T)):
        h_t = h_all[:, t + 1]
        da[:, t] = (dh[:, t] + dh_next) * (1.0 - h_t * h_t)
        dh_next = da[:, t] @ Wh.T  # dL/dh_{t-1}
    dh0 = dh_next
    # Weight gradients sum over steps: one matmul over the N*T rows instead of T small ones.
    da_2d = da.reshape(N * T, H)
    D = Wx.shape[0]
    dx = (da_2d @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da_2d
    dWh = h_all[:, :-1].reshape(N * T, H).T @ da_2d
    db = da_2d.sum(axis=0)
    ### END SOLUTION
    return dx, dh0, dWx, dWh, db


def _check_cache(fn: str, cache: object, kind: type) -> None:
    if not isinstance(cache, kind):
        raise TypeError(
            f"{fn}: cache must be the {kind.__name__} returned by the forward pass, "
            f"got {type(cache).__name__}"
        )
