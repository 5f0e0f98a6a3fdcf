"""Gradient clipping, in place on a dict of gradient arrays.

``clip_grad_norm`` follows ``torch.nn.utils.clip_grad_norm_`` (L2 norm): the total norm is taken
over all arrays as if they were one vector, every array is multiplied by
``min(1, max_norm / (total_norm + eps))`` (so the direction is kept and gradients below the
threshold are unchanged), and the norm before clipping is returned.
``clip_grad_value`` clamps every entry to [-clip_value, clip_value], which changes the direction.

``clip_grad_norm`` is the exercise of notebook 07 and the library's only norm clipping: the
training loops (``rnn_core.train``), the cliff of ``rnn_core.analysis.cliff`` and the training
explorer's trace call it, so in the student release they run on the student's clipping.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping

import numpy as np

from rnn_core._validate import check_array, check_positive

__all__ = ["clip_grad_norm", "clip_grad_value", "global_norm"]


def _check_grads(fn: str, grads: object) -> MutableMapping[str, np.ndarray]:
    if not isinstance(grads, MutableMapping):
        raise TypeError(
            f"{fn}: grads must be a dict of name -> float array, got {type(grads).__name__}"
        )
    for name, g in grads.items():
        check_array(fn, f"grads[{name!r}]", g, (None,) * np.ndim(g), finite=False)
    return grads


def global_norm(grads: MutableMapping[str, np.ndarray]) -> float:
    """Total L2 norm of all arrays in ``grads`` taken together (inf/NaN if any entry is).

    Notebook 07, section 1.

    Computed as the norm of the per-array norms, each scaled by the largest entry, so huge
    gradients (entries ~1e200) give their true norm instead of overflowing to inf.
    """
    fn = "global_norm"
    _check_grads(fn, grads)
    norms = np.array([_l2(g) for g in grads.values()], dtype=np.float64)
    return _l2(norms)


def _l2(a: np.ndarray) -> float:
    # Called a dozen times per SGD step of the training explorer: array methods and in-place
    # operations on the one copy np.abs makes (the same arithmetic as m * sqrt(sum((a/m)**2))).
    if a.size == 0:
        return 0.0
    a = np.abs(a.astype(np.float64, copy=False))
    m = float(a.max())  # NaN if any entry is NaN
    if not math.isfinite(m) or m == 0.0:
        return m
    a /= m
    np.square(a, out=a)
    return m * math.sqrt(float(a.sum()))


def clip_grad_norm(
    grads: MutableMapping[str, np.ndarray],
    max_norm: float,
    eps: float = 1e-6,
    error_if_nonfinite: bool = False,
) -> float:
    """Rescale all gradients together so that their total L2 norm is at most ``max_norm``.

    Notebook 07, section 1.

    Parameters
    ----------
    grads : dict name -> float array (any shapes); modified in place.
    max_norm : threshold, > 0.
    eps : added to the norm in the denominator, as in PyTorch.
    error_if_nonfinite : raise ValueError if the total norm is NaN or inf. Otherwise (PyTorch's
        default) the arrays are still multiplied by the coefficient, which is 0 for an infinite
        norm (finite entries become 0, infinite ones NaN) and NaN for a NaN norm.

    Returns
    -------
    total_norm : the total norm before clipping.
    """
    fn = "clip_grad_norm"
    _check_grads(fn, grads)
    max_norm = check_positive(fn, "max_norm", max_norm)
    eps = check_positive(fn, "eps", eps, allow_zero=True)
    ### BEGIN SOLUTION
    total_norm = global_norm(grads)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise ValueError(
            f"{fn}: the total norm of the gradients is {total_norm}, not finite; "
            "pass error_if_nonfinite=False to clip anyway"
        )
    # NaN <= max_norm is False: a NaN norm gives a NaN coefficient, an infinite one 0
    coef = 1.0 if total_norm <= max_norm else max_norm / (total_norm + eps)
    if coef < 1.0 or np.isnan(coef):
        with np.errstate(invalid="ignore"):
            for g in grads.values():
                g *= coef
    ### END SOLUTION
    return total_norm


def clip_grad_value(grads: MutableMapping[str, np.ndarray], clip_value: float) -> None:
    """Clamp every gradient entry to [-clip_value, clip_value], in place.

    Notebook 07, section 3.

    Parameters
    ----------
    grads : dict name -> float array; modified in place.
    clip_value : bound, > 0.
    """
    fn = "clip_grad_value"
    _check_grads(fn, grads)
    clip_value = check_positive(fn, "clip_value", clip_value)
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
