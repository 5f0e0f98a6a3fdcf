"""The LSTM's gradient highway: the cell state carries gradient through ``diag(f_t)``.

``dc_T/dc_k`` along the direct path is ``diag(f_T * ... * f_{k+1})``; through the full Jacobian of
(h, c) it also picks up the routes through h and the gates. With a large forget-gate bias f ~ 1
and the direct path keeps the gradient near 1 over hundreds of steps, while a vanilla RNN's
``||dL/dh_k||`` decays geometrically. All norms are returned as log10 (no overflow/underflow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core._lookahead import checkpoint
from rnn_core._validate import check_array
from rnn_core.analysis.jacobians import LSTMTrajectory, lstm_jacobians, lstm_walk_back

_TINY = np.finfo(float).tiny
_LN10 = np.log(10.0)


@dataclass(frozen=True)
class HighwayNorms:
    """log10 norms for k = 0..T (shape (T+1,) each).

    Attributes
    ----------
    log10_direct : log10 ||dc_T/dc_k|| along the direct path = log10 max_i prod_{s>k} f_s[i].
    log10_full_c : log10 ||dc_T/dc_k|| (spectral norm) through the full (h, c) Jacobian product.
    log10_grad_h : log10 ||dL/dh_k|| for a loss at the last step, upstream gradient on h_T.
    """

    log10_direct: np.ndarray
    log10_full_c: np.ndarray
    log10_grad_h: np.ndarray


def lstm_highway_norms(traj: LSTMTrajectory, Wh: np.ndarray, dh_T: np.ndarray) -> HighwayNorms:
    """Direct-path and full-Jacobian norms of dc_T/dc_k, and ||dL/dh_k||, for one sequence.

    Notebook 08, section 3. ``||dL/dh_k||`` is backpropagated by ``lstm_walk_back``
    (``lstm_step_backward``, the exercise of notebook 08) through the trajectory's step caches,
    renormalised after every step (log space).

    Parameters
    ----------
    traj : one sequence from ``lstm_trajectory`` (gates of shape (T, H)).
    Wh : shape (H, 4H).
    dh_T : upstream gradient dL/dh_T, shape (H,).
    """
    fn = "lstm_highway_norms"
    if traj.f.ndim != 2:
        raise ValueError(f"{fn}: traj must be one sequence (gates of shape (T, H)), "
                         f"got {traj.f.shape}")
    T, H = traj.f.shape
    check_array(fn, "dh_T", dh_T, (H,))
    J = lstm_jacobians(traj, Wh)
    logf = np.log(np.maximum(traj.f, _TINY))
    cum = np.zeros((T + 1, H))
    cum[:T] = np.cumsum(logf[::-1], axis=0)[::-1]  # cum[k] = sum_{s=k+1..T} log f_s
    direct = cum.max(axis=1)
    grad = np.empty(T + 1)
    # The c-c blocks of every product are kept and their spectral norms taken in ONE batched SVD
    # (the same LAPACK call per matrix as np.linalg.norm(block, 2), without T Python round trips).
    blocks = np.empty((T + 1, H, H))
    log_scale = np.empty(T + 1)
    P = np.eye(2 * H)  # e^{sP} P = d(h_T, c_T)/d(h_k, c_k)
    sP = 0.0
    for k in range(T, -1, -1):
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        blocks[k], log_scale[k] = P[H:, H:], sP
        if k > 0:
            P = P @ J[k - 1]
            n = max(np.abs(P).max(), _TINY)
            P, sP = P / n, sP + np.log(n)
    sigma1 = np.linalg.svd(blocks, compute_uv=False)[:, 0]
    full = log_scale + np.log(np.maximum(sigma1, _TINY))
    # (dL/dh_k, dL/dc_k) = e^{sv} (dh, dc), one lstm_step_backward per step, renormalised
    nv = max(np.linalg.norm(dh_T), _TINY)
    sv = np.log(nv)
    grad[T] = sv

    def renormalise(k: int, grads: tuple) -> tuple[np.ndarray, np.ndarray]:
        nonlocal sv
        dh, dc = grads[1], grads[2]
        grad[k - 1] = sv + np.log(max(np.linalg.norm(dh), _TINY))
        n = max(np.sqrt(np.linalg.norm(dh) ** 2 + np.linalg.norm(dc) ** 2), _TINY)
        sv = sv + np.log(n)
        return dh / n, dc / n

    lstm_walk_back(traj, dh_T[None] / nv, np.zeros((1, H)), renormalise)
    return HighwayNorms(log10_direct=direct / _LN10, log10_full_c=full / _LN10,
                        log10_grad_h=grad / _LN10)
