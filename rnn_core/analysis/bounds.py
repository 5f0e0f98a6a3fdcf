"""The Pascanu, Mikolov & Bengio (2013) bound on vanishing and exploding gradients.

R. Pascanu, T. Mikolov, Y. Bengio, "On the difficulty of training recurrent neural networks",
ICML 2013, section 3.1: if ``|phi'| <= gamma`` (gamma = 1 for tanh, 1/4 for the logistic sigmoid)
and ``lambda_1`` is the largest singular value of the recurrent matrix, then every factor obeys
``||dh_t/dh_{t-1}|| <= ||diag(phi')|| ||Wh^T|| <= lambda_1 gamma = eta``, hence

    ||dh_t/dh_k|| <= eta^(t - k).

``lambda_1 < 1/gamma`` is sufficient for vanishing gradients; ``lambda_1 > 1/gamma`` is necessary
(not sufficient) for exploding ones.
"""

from __future__ import annotations

import numpy as np

from rnn_core._validate import check_array, check_int
from rnn_core.analysis.jacobians import ACTIVATIONS, GAMMA

_TINY = np.finfo(float).tiny


def _gamma(fn: str, activation: str) -> float:
    if activation not in ACTIVATIONS:
        raise ValueError(f"{fn}: activation must be one of {ACTIVATIONS}, got {activation!r}")
    return GAMMA[activation]


def largest_singular_value(Wh: np.ndarray) -> float:
    """lambda_1: the largest singular value (spectral norm) of Wh, shape (H, H)."""
    check_array("largest_singular_value", "Wh", Wh, ("H", "H"))
    return float(np.linalg.norm(Wh, 2))


def pascanu_eta(Wh: np.ndarray, activation: str = "tanh") -> float:
    """eta = lambda_1(Wh) * gamma (Pascanu, Mikolov & Bengio 2013), Wh of shape (H, H)."""
    g = _gamma("pascanu_eta", activation)
    check_array("pascanu_eta", "Wh", Wh, ("H", "H"))
    return float(np.linalg.norm(Wh, 2)) * g


def pascanu_regime(Wh: np.ndarray, activation: str = "tanh") -> str:
    """"vanishing guaranteed" if lambda_1 < 1/gamma, else "explosion possible".

    Pascanu, Mikolov & Bengio 2013, section 3.1.

    Parameters
    ----------
    Wh : shape (H, H). activation : "tanh" (gamma 1), "sigmoid" (gamma 1/4) or "linear" (gamma 1).
    """
    return "vanishing guaranteed" if pascanu_eta(Wh, activation) < 1.0 else "explosion possible"


def pascanu_bound_log10(
    Wh: np.ndarray, T: int, activation: str = "tanh", log10_grad_T: float = 0.0
) -> np.ndarray:
    """log10 of the bound ``||dL/dh_k|| <= eta^(T-k) ||dL/dh_T||`` for k = 0..T.

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
    eta = max(pascanu_eta(Wh, activation), _TINY)
    k = np.arange(T + 1)
    return float(log10_grad_T) + (T - k) * np.log10(eta)
