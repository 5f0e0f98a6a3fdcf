"""One tanh step with a scalar recurrent weight, and its backward pass.

Forward: ``h_next = tanh(x + w * h)``; backward, with ``da = dout * (1 - h_next**2)``:
``dx = da``, ``dh = w * da``, ``dw = sum(da * h)``. Shapes: x, h and dout are (N, D).
"""

from __future__ import annotations

import numpy as np


def step(x: np.ndarray, h: np.ndarray, w: float) -> np.ndarray:
    """Return ``tanh(x + w * h)``; x and h have the same shape."""
    if np.shape(x) != np.shape(h):
        raise ValueError(
            f"step: x and h must have the same shape, got {np.shape(x)}, {np.shape(h)}"
        )
    ### BEGIN SOLUTION
    out = np.tanh(x + w * h)
    ### END SOLUTION
    return out


def step_backward(dout: np.ndarray, x: np.ndarray, h: np.ndarray, w: float):
    """Return (dx, dh, dw) for ``step``; dw is a float summed over every entry."""
    if np.shape(dout) != np.shape(x):
        raise ValueError(f"step_backward: dout must have the shape of x, got {np.shape(dout)}")
    ### BEGIN SOLUTION
    pre_activation = x + w * h
    da = dout * (1.0 - np.tanh(pre_activation) ** 2)
    dx, dh = da, w * da
    dw = float(np.sum(da * h))
    ### END SOLUTION
    return dx, dh, dw
