"""Layers around the recurrence: word embedding, affine maps (per step and plain), softmax losses.

Shapes: N batch, T time, D input/embedding, M output features, V vocabulary.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnn_core._validate import check_array, check_mask

__all__ = [
    "EmbeddingCache",
    "AffineCache",
    "word_embedding_forward",
    "word_embedding_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "affine_forward",
    "affine_backward",
    "temporal_softmax_loss",
    "softmax_loss",
]


class EmbeddingCache(NamedTuple):
    """What ``word_embedding_backward`` needs."""

    x: np.ndarray
    """token ids, int (N, T)"""
    V: int
    """vocabulary size (rows of W)"""
    D: int
    """embedding size (columns of W)"""
    dtype: np.dtype
    """dtype of W"""


class AffineCache(NamedTuple):
    """What ``temporal_affine_backward`` / ``affine_backward`` need."""

    x: np.ndarray
    """input, (N, T, D) or (N, D)"""
    w: np.ndarray
    """weights, (D, M)"""


def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, EmbeddingCache]:
    """Look up the embedding of every token: ``out[n, t] = W[x[n, t]]``.

    Notebook 01, section 1.

    Parameters
    ----------
    x : token ids, integer array of shape (N, T), each in [0, V).
    W : embedding matrix, shape (V, D).

    Returns
    -------
    out : embeddings, shape (N, T, D).
    cache : EmbeddingCache for ``word_embedding_backward``.
    """
    fn = "word_embedding_forward"
    check_array(fn, "x", x, ("N", "T"), kind="int")
    check_array(fn, "W", W, ("V", "D"))
    V, D = W.shape
    if x.size and (x.min() < 0 or x.max() >= V):
        bad = x.min() if x.min() < 0 else x.max()
        raise ValueError(f"{fn}: x must hold token ids in [0, V) = [0, {V}), got {bad}")
    out = W[x]
    return out, EmbeddingCache(x=x, V=V, D=D, dtype=W.dtype)


def word_embedding_backward(dout: np.ndarray, cache: EmbeddingCache) -> np.ndarray:
    """Gradient of the embedding matrix: every occurrence of token v adds its dout row to dW[v].

    Notebook 01, section 1.

    Parameters
    ----------
    dout : upstream gradient, shape (N, T, D).
    cache : EmbeddingCache from ``word_embedding_forward``.

    Returns
    -------
    dW : gradient of W, shape (V, D).
    """
    fn = "word_embedding_backward"
    _check_cache(fn, cache, EmbeddingCache)
    N, T = cache.x.shape
    check_array(fn, "dout", dout, (N, T, cache.D))
    ### BEGIN SOLUTION
    dW = np.zeros((cache.V, cache.D), dtype=np.result_type(cache.dtype, dout))
    # np.add.at accumulates repeated indices (dW[x] += dout would keep only the last one).
    np.add.at(dW, cache.x, dout)
    ### END SOLUTION
    return dW


def temporal_affine_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, AffineCache]:
    """The same affine map at every step: ``out[:, t] = x[:, t] @ w + b``.

    Parameters
    ----------
    x : input, shape (N, T, D).
    w : weights, shape (D, M).
    b : bias, shape (M,).

    Returns
    -------
    out : shape (N, T, M).
    cache : AffineCache for ``temporal_affine_backward``.
    """
    fn = "temporal_affine_forward"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "T", "D"), s)
    check_array(fn, "w", w, ("D", "M"), s)
    check_array(fn, "b", b, ("M",), s)
    out = x @ w + b
    return out, AffineCache(x=x, w=w)


def temporal_affine_backward(
    dout: np.ndarray, cache: AffineCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``temporal_affine_forward``.

    Parameters
    ----------
    dout : upstream gradient, shape (N, T, M).
    cache : AffineCache from ``temporal_affine_forward``.

    Returns
    -------
    dx : (N, T, D); dw : (D, M); db : (M,).
    """
    fn = "temporal_affine_backward"
    _check_cache(fn, cache, AffineCache)
    N, T, D = cache.x.shape
    M = cache.w.shape[1]
    check_array(fn, "dout", dout, (N, T, M))
    dx = dout @ cache.w.T
    dw = cache.x.reshape(N * T, D).T @ dout.reshape(N * T, M)
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, AffineCache]:
    """Affine map of one batch of vectors: ``out = x @ w + b``.

    Parameters
    ----------
    x : input, shape (N, D).
    w : weights, shape (D, M).
    b : bias, shape (M,).

    Returns
    -------
    out : shape (N, M); cache : AffineCache for ``affine_backward``.
    """
    fn = "affine_forward"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "D"), s)
    check_array(fn, "w", w, ("D", "M"), s)
    check_array(fn, "b", b, ("M",), s)
    return x @ w + b, AffineCache(x=x, w=w)


def affine_backward(
    dout: np.ndarray, cache: AffineCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``affine_forward``.

    Parameters
    ----------
    dout : upstream gradient, shape (N, M).
    cache : AffineCache from ``affine_forward``.

    Returns
    -------
    dx : (N, D); dw : (D, M); db : (M,).
    """
    fn = "affine_backward"
    _check_cache(fn, cache, AffineCache)
    N = cache.x.shape[0]
    check_array(fn, "dout", dout, (N, cache.w.shape[1]))
    return dout @ cache.w.T, cache.x.T @ dout, dout.sum(axis=0)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable for logits of any finite size.

    Subtracting the row maximum makes the largest shifted logit 0, so exp never overflows. For
    logits near +-1e308 the difference ``x - max`` itself can exceed the float range; it then
    becomes -inf, which is the right answer (that class has probability 0 in float64).
    """
    with np.errstate(over="ignore"):
        shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def temporal_softmax_loss(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy at every step, summed over steps and averaged over the batch.

    Notebook 01, section 2.

    ``loss = -(1/N) sum_{n,t} mask[n,t] * log softmax(x[n,t])[y[n,t]]``; masked steps (mask
    False) add nothing to the loss and get zero gradient, whatever their logits and targets.

    Parameters
    ----------
    x : logits, shape (N, T, V).
    y : target ids, integer array of shape (N, T), each in [0, V) where mask is True.
    mask : which steps count, shape (N, T), bool (or 0/1 integers).

    Returns
    -------
    loss : float.
    dx : gradient of the loss with respect to x, shape (N, T, V).
    """
    fn = "temporal_softmax_loss"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "T", "V"), s)
    check_array(fn, "y", y, ("N", "T"), s, kind="int")
    mask = check_mask(fn, mask, ("N", "T"), s)
    N, T, V = x.shape
    yv = y[mask]
    if yv.size and (yv.min() < 0 or yv.max() >= V):
        bad = yv.min() if yv.min() < 0 else yv.max()
        raise ValueError(f"{fn}: y must hold class ids in [0, V) = [0, {V}), got {bad}")
    ### BEGIN SOLUTION
    logp = _log_softmax(x)  # (N, T, V) log-probabilities
    n, t = np.indices((N, T))
    y_safe = np.where(mask, y, 0)  # masked targets may be anything (e.g. -1 padding)
    logp_y = logp[n, t, y_safe]  # (N, T) log-probability of the target
    loss = -np.sum(logp_y, where=mask) / N
    dx = np.exp(logp)  # softmax probabilities
    dx[n, t, y_safe] -= 1.0  # d(-log p_y)/dx = p - onehot(y)
    dx *= mask[..., None] / N
    ### END SOLUTION
    return float(loss), dx


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy of one batch, averaged over the batch.

    Notebook 00, section 3 (the classifiers of the shared and untied RNNs); notebooks 01 and 02.

    Parameters
    ----------
    x : logits, shape (N, C).
    y : target class ids, integer array of shape (N,), each in [0, C).

    Returns
    -------
    loss : float; dx : gradient with respect to x, shape (N, C).
    """
    fn = "softmax_loss"
    s: dict[str, int] = {}
    check_array(fn, "x", x, ("N", "C"), s)
    check_array(fn, "y", y, ("N",), s, kind="int")
    N, C = x.shape
    if y.size and (y.min() < 0 or y.max() >= C):
        bad = y.min() if y.min() < 0 else y.max()
        raise ValueError(f"{fn}: y must hold class ids in [0, C) = [0, {C}), got {bad}")
    logp = _log_softmax(x)
    rows = np.arange(N)
    loss = -logp[rows, y].sum() / N
    dx = np.exp(logp)
    dx[rows, y] -= 1.0
    dx /= N
    return float(loss), dx


def _check_cache(fn: str, cache: object, kind: type) -> None:
    if not isinstance(cache, kind):
        raise TypeError(
            f"{fn}: cache must be the {kind.__name__} returned by the forward pass, "
            f"got {type(cache).__name__}"
        )
