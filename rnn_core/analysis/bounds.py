"""The Pascanu, Mikolov & Bengio (2013) bound on vanishing and exploding gradients.

R. Pascanu, T. Mikolov, Y. Bengio, "On the difficulty of training recurrent neural networks",
ICML 2013, section 3.1: if ``|phi'| <= gamma`` (gamma = 1 for tanh, 1/4 for the logistic sigmoid)
and ``sigma_1`` is the largest singular value of the recurrent matrix, then every factor obeys
``||dh_t/dh_{t-1}|| <= ||diag(phi')|| ||Wh^T|| <= sigma_1 gamma = eta``, hence

    ||dh_t/dh_k|| <= eta^(t - k).

Three regimes follow (``pascanu_regime``):

- ``eta < 1`` (``sigma_1 < 1/gamma``): the bound shrinks geometrically, vanishing is guaranteed;
- ``eta = 1``: the bound is 1, the gradient cannot grow (it may still vanish);
- ``eta > 1`` (``sigma_1 > 1/gamma``): necessary, not sufficient, for exploding gradients.

(The paper writes lambda_1 for the largest singular value; the course writes sigma_1, keeping
lambda for eigenvalues.)
"""

from __future__ import annotations

import numpy as np

from rnn_core._validate import check_array, check_int
from rnn_core.analysis.jacobians import ACTIVATIONS, GAMMA

_TINY = np.finfo(float).tiny

VANISHING = "vanishing guaranteed"
"""Regime label for eta < 1."""
CANNOT_GROW = "cannot grow"
"""Regime label for eta = 1 (within ``ETA_TOL``): the bound eta^(t-k) is 1."""
EXPLOSION = "explosion possible"
"""Regime label for eta > 1."""
REGIMES = (VANISHING, CANNOT_GROW, EXPLOSION)
ETA_TOL = 1e-9
"""Default tolerance around 1: |eta - 1| <= ETA_TOL counts as eta = 1 (SVD round-off)."""


def _gamma(fn: str, activation: str) -> float:
    if activation not in ACTIVATIONS:
        raise ValueError(f"{fn}: activation must be one of {ACTIVATIONS}, got {activation!r}")
    return GAMMA[activation]


def pascanu_eta(Wh: np.ndarray, activation: str = "tanh") -> float:
    """eta = sigma_1(Wh) * gamma (Pascanu, Mikolov & Bengio 2013), Wh of shape (H, H).

    Notebook 06, section 5.
    """
    g = _gamma("pascanu_eta", activation)
    check_array("pascanu_eta", "Wh", Wh, ("H", "H"))
    return float(np.linalg.norm(Wh, 2)) * g


def regime_from_eta(eta: float, tol: float = ETA_TOL) -> str:
    """The Pascanu regime for a given ``eta = gamma sigma_1``.

    Parameters
    ----------
    eta : >= 0, finite.
    tol : >= 0; ``|eta - 1| <= tol`` counts as eta = 1.

    Returns
    -------
    regime : ``"vanishing guaranteed"`` (eta < 1), ``"cannot grow"`` (eta = 1: the bound is 1)
        or ``"explosion possible"`` (eta > 1).
    """
    fn = "regime_from_eta"
    eta, tol = float(eta), float(tol)
    if not (np.isfinite(eta) and eta >= 0):
        raise ValueError(f"{fn}: eta must be a finite number >= 0, got {eta!r}")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"{fn}: tol must be a finite number >= 0, got {tol!r}")
    if abs(eta - 1.0) <= tol:
        return CANNOT_GROW
    return VANISHING if eta < 1.0 else EXPLOSION


def pascanu_regime(Wh: np.ndarray, activation: str = "tanh", tol: float = ETA_TOL) -> str:
    """Pascanu regime of Wh: "vanishing guaranteed", "cannot grow" or "explosion possible".

    Notebook 06, section 5.

    Pascanu, Mikolov & Bengio 2013, section 3.1, with ``eta = gamma sigma_1(Wh)``:
    eta < 1 guarantees vanishing; eta = 1 (within ``tol``) bounds every gradient by its upstream
    norm, so it cannot grow; eta > 1 is necessary (not sufficient) for explosion.

    Parameters
    ----------
    Wh : shape (H, H).
    activation : "tanh" (gamma 1), "sigmoid" (gamma 1/4) or "linear" (gamma 1).
    tol : >= 0; ``|eta - 1| <= tol`` counts as eta = 1 (default 1e-9, round-off of the SVD).

    Returns
    -------
    regime : one of ``REGIMES``.
    """
    return regime_from_eta(pascanu_eta(Wh, activation), tol)


def pascanu_bound_log10(
    Wh: np.ndarray, T: int, activation: str = "tanh", log10_grad_T: float = 0.0
) -> np.ndarray:
    """log10 of the bound ``||dL/dh_k|| <= eta^(T-k) ||dL/dh_T||`` for k = 0..T.

    Notebook 06, section 5.

    Pascanu, Mikolov & Bengio 2013, eq. (7).

    Parameters
    ----------
    Wh : shape (H, H).
    T : last step.
    activation : sets gamma.
    log10_grad_T : log10 ||dL/dh_T|| (0 for a unit upstream gradient, i.e. the bound on
        ``||dh_T/dh_k||`` itself).

    Returns
    -------
    log10_bound : shape (T+1,), finite for any Wh (eta = 0 is floored at the smallest float).
    """
    T = check_int("pascanu_bound_log10", "T", T, minimum=0)
    return bound_log10_from_eta(pascanu_eta(Wh, activation), T, log10_grad_T)


def bound_log10_from_eta(eta: float, T: int, log10_grad_T: float = 0.0) -> np.ndarray:
    """``log10(eta^(T-k)) + log10_grad_T`` for k = 0..T, shape (T+1,); eta floored at tiny.

    What ``pascanu_bound_log10`` computes, for a caller that already knows eta (e.g. from cached
    singular values).
    """
    T = check_int("bound_log10_from_eta", "T", T, minimum=0)
    eta = max(float(eta), _TINY)
    k = np.arange(T + 1)
    return float(log10_grad_T) + (T - k) * np.log10(eta)
