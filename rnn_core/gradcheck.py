"""Numeric gradients by centred differences, and the relative error used to compare gradients.

Centred difference: ``df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)``, error O(h^2). In float64
with h = 1e-5 the truncation error is ~1e-10 and the rounding error ~1e-16 |f| / h ~ 1e-11 |f|,
so an analytic gradient that is right agrees to about 1e-8 or better.

An array-valued layer ``out = f(x)`` is checked through the scalar ``L = sum(out * dout)`` with a
random upstream gradient ``dout``: then ``dL/dx`` is exactly what the layer's backward returns for
``dout``, and a random ``dout`` exercises every output entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from rnn_core._validate import as_generator, check_array, check_positive

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "layer_numerical_gradient",
    "check_layer_gradients",
    "random_upstream",
]


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numeric gradient of a scalar function by centred differences.

    Notebook 05, section 1.

    Parameters
    ----------
    f : function of the array ``x`` returning a scalar. It is called with ``x`` itself, whose
        entries are nudged in place one at a time (and restored exactly afterwards).
    x : point at which to differentiate, any shape, floating dtype.
    h : step size.

    Returns
    -------
    grad : array of the same shape as x, ``grad[i] ~ df/dx[i]``.
    """
    fn = "eval_numerical_gradient"
    check_array(fn, "x", x, (None,) * np.ndim(x), finite=True)
    h = check_positive(fn, "h", h)
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        fp = float(f(x))
        x[idx] = old - h
        fm = float(f(x))
        x[idx] = old
        grad[idx] = (fp - fm) / (2.0 * h)
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numeric gradient of ``sum(f(x) * df)`` with respect to x: the vector-Jacobian product.

    Parameters
    ----------
    f : function of the array ``x`` returning an array (any shape). Nudges ``x`` in place.
    x : point at which to differentiate, floating dtype.
    df : upstream gradient, same shape as ``f(x)``.
    h : step size.

    Returns
    -------
    grad : array of the same shape as x.
    """
    fn = "eval_numerical_gradient_array"
    check_array(fn, "df", df, (None,) * np.ndim(df))
    return eval_numerical_gradient(lambda z: float(np.sum(np.asarray(f(z)) * df)), x, h)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error between two gradients, measured against their scale.

    Notebook 00, section 2.

    Definition::

        rel_error(a, b) = max_i |a_i - b_i| / max(max_i |a_i|, max_i |b_i|, 1e-300)

    the largest entrywise discrepancy divided by the largest entry. Unlike the per-entry form
    ``|a_i - b_i| / (|a_i| + |b_i|)`` it is not fooled by entries that are zero in truth and
    ~1e-11 in the numeric estimate (rounding noise), yet every entry must agree to the given
    fraction of the gradient's size. Two all-zero arrays give 0.0.

    Parameters
    ----------
    a, b : arrays of the same shape.
    """
    fn = "rel_error"
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{fn}: a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


def layer_numerical_gradient(
    forward: Callable[..., object],
    inputs: Mapping[str, object],
    name: str,
    dout: np.ndarray | tuple[np.ndarray, ...],
    h: float = 1e-5,
) -> np.ndarray:
    """Numeric gradient of a layer's ``L = sum_k sum(out_k * dout_k)`` with respect to one input.

    Parameters
    ----------
    forward : ``forward(**inputs)`` returns the output array, or a tuple whose first items are
        the outputs, one per upstream gradient (items after them, such as a cache, are ignored).
    inputs : every argument of ``forward`` by name.
    name : the float input to differentiate with respect to; it is copied, so the caller's
        arrays are never modified.
    dout : upstream gradient of the output, or a tuple of them, one per output.
    h : step size.

    Returns
    -------
    grad : array of the shape of ``inputs[name]``: what the layer's backward should return for
        ``dout``.
    """
    fn = "layer_numerical_gradient"
    if name not in inputs:
        raise KeyError(f"{fn}: {name!r} is not one of the inputs {sorted(inputs)}")
    douts = dout if isinstance(dout, tuple) else (dout,)
    ups = tuple(np.asarray(u, dtype=np.float64) for u in douts)

    def loss(v: np.ndarray) -> float:
        out = forward(**{**inputs, name: v})
        outs = out if isinstance(out, tuple) else (out,)
        if len(outs) < len(ups):
            raise TypeError(f"{fn}: {len(ups)} upstream gradients for {len(outs)} outputs")
        return float(sum(np.sum(np.asarray(o) * u) for o, u in zip(outs, ups, strict=False)))

    x = np.array(inputs[name], dtype=np.float64)
    return eval_numerical_gradient(loss, x, h)


def check_layer_gradients(
    forward: Callable[..., object],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    dout: np.ndarray | tuple[np.ndarray, ...],
    h: float = 1e-5,
) -> dict[str, float]:
    """Compare analytic gradients of a layer with numeric ones, for every named input.

    Parameters
    ----------
    forward : ``forward(**inputs)`` returns the layer output (an array, same shape as dout), or
        a tuple of outputs as in :func:`layer_numerical_gradient`.
    inputs : the layer's inputs by name (never modified).
    analytic : the gradient the backward pass returned for each name to check (a subset of inputs).
    dout : upstream gradient used for ``analytic`` (a tuple for several outputs).
    h : step size.

    Returns
    -------
    dict name -> rel_error(analytic, numeric).
    """
    errors = {}
    for name, grad in analytic.items():
        if name not in inputs:
            raise KeyError(f"check_layer_gradients: analytic gradient {name!r} has no input")
        errors[name] = rel_error(grad, layer_numerical_gradient(forward, inputs, name, dout, h))
    return errors


def random_upstream(shape: Sequence[int], rng: np.random.Generator | int) -> np.ndarray:
    """A standard normal upstream gradient of the given shape (float64)."""
    return as_generator(rng, "random_upstream").standard_normal(tuple(shape))
