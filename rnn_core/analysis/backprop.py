"""How much gradient reaches each step: norms of dL/dh_k from a real backward pass.

The backward pass is the ordinary one, ``dL/dh_{k-1} = J_k^T dL/dh_k`` i.e.
``dprev_h = (dh * phi'(a)) @ Wh.T`` (notebook 06, section 1), taken one step at a time by
``rnn_core.analysis.jacobians.walk_back`` (``rnn_backward`` over one time step) and carried out
in log space: the vector is renormalised after every step and its norm accumulated as a
logarithm, so T = 10,000 steps with a large or tiny Wh neither overflow nor underflow. Results
are log10 norms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core._validate import check_array
from rnn_core.analysis.jacobians import VanillaTrajectory, walk_back

_TINY = np.finfo(float).tiny
_LN10 = np.log(10.0)


def _unit_rows(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of G divided by their norms, and the natural-log norms (floored at log(tiny))."""
    # np.linalg.norm(G, axis=-1) computes exactly this, behind a generic dispatch that cost as
    # much as the sum itself on the one-row vectors of a backward walk
    n = np.maximum(np.sqrt(np.add.reduce(G * G, axis=-1)), _TINY)
    return G / n[..., None], np.log(n)


def _check(fn: str, traj: VanillaTrajectory, Wh: np.ndarray) -> tuple[int, int]:
    if traj.dphi.ndim != 2:
        raise ValueError(f"{fn}: traj must be one sequence (dphi of shape (T, H)), "
                         f"got dphi of shape {traj.dphi.shape}")
    T, H = traj.dphi.shape
    check_array(fn, "Wh", Wh, (H, H))
    return T, H


def log10_grad_norms_last(traj: VanillaTrajectory, Wh: np.ndarray, dh_T: np.ndarray) -> np.ndarray:
    """log10 ||dL/dh_k|| for k = 0..T, for a loss at the last step only.

    Notebook 06, section 5.

    Parameters
    ----------
    traj : one sequence from ``vanilla_trajectory`` (dphi of shape (T, H)).
    Wh : recurrent weights, shape (H, H).
    dh_T : upstream gradient dL/dh_T, shape (H,).

    Returns
    -------
    log10_norms : shape (T+1,); entry k is log10 ||dL/dh_k||. An exactly zero gradient is floored
        at log10(tiny) ~ -307.6.
    """
    fn = "log10_grad_norms_last"
    T, H = _check(fn, traj, Wh)
    check_array(fn, "dh_T", dh_T, (H,))
    out = np.empty(T + 1)
    u, log_norm = _unit_rows(dh_T)
    out[T] = log_norm

    def renormalise(t: int, grads: tuple) -> np.ndarray:
        nonlocal log_norm
        u, ds = _unit_rows(grads[1])
        log_norm = log_norm + ds
        out[t - 1] = log_norm
        return u

    walk_back(traj, u, renormalise, Wh)
    return out / _LN10


@dataclass(frozen=True)
class GradientMap:
    """Where the loss of each step sends its gradient.

    Attributes
    ----------
    log10_map : shape (T+1, T+1); ``log10_map[t, k] = log10 ||dL_t/dh_k||`` for k <= t (how much of
        step t's loss reaches step k); -inf for k > t (no path), and row 0 is -inf (no loss at h_0).
    log10_total : shape (T+1,); ``log10 ||dL/dh_k||`` for the total loss ``L = sum_t L_t``.
    """

    log10_map: np.ndarray
    log10_total: np.ndarray


def gradient_map(traj: VanillaTrajectory, Wh: np.ndarray, dh: np.ndarray) -> GradientMap:
    """Backward pass for a loss at every step, kept per source step t.

    Notebook 06, section 9.

    Parameters
    ----------
    traj : one sequence (dphi of shape (T, H)).
    Wh : shape (H, H).
    dh : upstream gradients dL_t/dh_t for t = 1..T, shape (T, H).

    Returns
    -------
    GradientMap (log10 norms; see its attributes).
    """
    fn = "gradient_map"
    T, H = _check(fn, traj, Wh)
    check_array(fn, "dh", dh, (T, H))
    out = np.full((T + 1, T + 1), -np.inf)
    total = np.empty(T + 1)
    sources = np.arange(T, 0, -1)  # carried row i holds the gradient of the loss of step T - i
    S = np.empty(0)  # natural-log norms of the carried rows (the rows themselves are unit)

    def add_loss_and_record(k: int, G: np.ndarray) -> np.ndarray:
        nonlocal S
        if k >= 1:
            u, s = _unit_rows(dh[k - 1])
            G, S = np.vstack([G, u]), np.append(S, s)
        out[sources[: S.size], k] = S
        top = S.max()
        total[k] = top + np.log(max(np.linalg.norm(np.exp(S - top) @ G), _TINY))
        return G

    def step(t: int, grads: tuple) -> np.ndarray:
        nonlocal S
        G, ds = _unit_rows(grads[1])
        S = S + ds
        return add_loss_and_record(t - 1, G)

    walk_back(traj, add_loss_and_record(T, np.empty((0, H))), step, Wh)
    return GradientMap(log10_map=out / _LN10, log10_total=total / _LN10)
