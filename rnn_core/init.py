"""Weight initialisers. Each takes a shape (or a size) and ``rng`` (a numpy Generator or int seed).

Row-vector convention: a weight ``W`` of shape (fan_in, fan_out) is used as ``x @ W``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnn_core._validate import as_generator, check_int, check_positive

__all__ = [
    "small_gaussian",
    "glorot",
    "orthogonal",
    "identity",
    "init_matrix",
    "INIT_NAMES",
]

INIT_NAMES = ("gaussian0.01", "glorot", "orthogonal", "identity")
"""Names accepted by ``init_matrix``."""


def _shape(fn: str, shape: Sequence[int] | int) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, Sequence):
        raise TypeError(f"{fn}: shape must be a tuple of ints, got {type(shape).__name__}")
    return tuple(check_int(fn, "shape", d, minimum=1) for d in shape)


def small_gaussian(
    shape: Sequence[int], rng: np.random.Generator | int, std: float = 0.01
) -> np.ndarray:
    """Independent normal entries with mean 0 and standard deviation ``std`` (default 0.01)."""
    fn = "small_gaussian"
    shape = _shape(fn, shape)
    std = check_positive(fn, "std", std)
    return as_generator(rng, fn).standard_normal(shape) * std


def glorot(shape: Sequence[int], rng: np.random.Generator | int) -> np.ndarray:
    """Glorot (Xavier) normal: mean 0, variance ``2 / (fan_in + fan_out)``.

    For a 2-D shape (fan_in, fan_out); keeps the variance of activations and of gradients
    roughly constant through a linear layer. A 1-D shape (n,) uses fan_in = fan_out = n.
    """
    fn = "glorot"
    shape = _shape(fn, shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"{fn}: shape must be (fan_in, fan_out), got {shape}")
    fan_in, fan_out = shape[0], shape[-1]
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return as_generator(rng, fn).standard_normal(shape) * std


def orthogonal(n: int, rng: np.random.Generator | int, gain: float = 1.0) -> np.ndarray:
    """A random orthogonal (n, n) matrix, uniformly (Haar) distributed, times ``gain``.

    QR of a Gaussian matrix, with the columns of Q multiplied by the signs of diag(R): without
    that sign fix Q is orthogonal but not Haar-distributed. Every singular value equals ``gain``.
    """
    fn = "orthogonal"
    n = check_int(fn, "n", n, minimum=1)
    gain = check_positive(fn, "gain", gain)
    a = as_generator(rng, fn).standard_normal((n, n))
    q, r = np.linalg.qr(a)
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    return q * d * gain


def identity(n: int, gain: float = 1.0) -> np.ndarray:
    """``gain`` times the (n, n) identity (the IRNN initialisation of Wh)."""
    fn = "identity"
    n = check_int(fn, "n", n, minimum=1)
    gain = check_positive(fn, "gain", gain)
    return np.eye(n) * gain


def init_matrix(
    name: str, shape: Sequence[int], rng: np.random.Generator | int, scale: float = 1.0
) -> np.ndarray:
    """Initialise a weight matrix by name, multiplied by ``scale``.

    Notebook 06, section 6.

    Parameters
    ----------
    name : "gaussian0.01", "glorot", "orthogonal" or "identity".
    shape : (rows, cols). "orthogonal" and "identity" need cols a multiple of rows, (n, k n),
        and stack k independent blocks side by side, e.g. the LSTM's Wh of shape (H, 4H)
        gets one orthogonal block per gate.
    rng : Generator or int seed (unused by "identity").
    scale : multiplies the result (the gain of orthogonal/identity, the std factor otherwise).

    Returns
    -------
    W : float64 array of the given shape.
    """
    fn = "init_matrix"
    shape = _shape(fn, shape)
    scale = check_positive(fn, "scale", scale)
    if name == "gaussian0.01":
        return small_gaussian(shape, rng) * scale
    if name == "glorot":
        return glorot(shape, rng) * scale
    if name in ("orthogonal", "identity"):
        if len(shape) != 2 or shape[1] % shape[0] != 0:
            raise ValueError(f"{fn}: {name!r} needs a shape (n, k*n), got {shape}")
        n, k = shape[0], shape[1] // shape[0]
        if name == "identity":
            return np.hstack([identity(n, scale)] * k)
        gen = as_generator(rng, fn)
        return np.hstack([orthogonal(n, gen, scale) for _ in range(k)])
    raise ValueError(f"{fn}: unknown initialiser {name!r}; expected one of {', '.join(INIT_NAMES)}")
