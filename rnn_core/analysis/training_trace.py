"""A small training run whose gradients spike: the data of the training explorer.

A tanh RNN (H=16) reads a sequence of T noisy 2-d inputs whose first step carries a bit
(+1 or -1) and must output that bit at the last step (squared error on a linear readout of
h_T): the gradient of the loss reaches the first step only through the product of T Jacobians,
so when training pushes Wh across the edge of stability the gradient norm jumps by orders of
magnitude (Pascanu et al. 2013's "cliff"). Plain SGD on fresh minibatches, with or without norm
clipping of the full gradient (all five parameters together), from the same initial weights and
the same minibatches. The gradient norm is recorded before clipping.

The forward and backward passes are ``rnn_core.rnn``'s ``rnn_forward`` / ``rnn_backward``
and the clipping is ``rnn_core.clipping.clip_grad_norm`` (the exercises of notebooks 00 and 07:
in the student release the explorer runs on the student's code). The tests check the gradient
against numeric differences.

A run without clipping whose gradient norm exceeds ``DIVERGED`` (or turns non-finite) stops
there: the step is recorded and ``diverged_at`` says when, so callers plot what happened without
NaN or overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core._validate import check_int, check_positive
from rnn_core.analysis.explore import code_keyed_cache
from rnn_core.clipping import clip_grad_norm, global_norm
from rnn_core.rnn import rnn_backward, rnn_forward

__all__ = ["TrainingTrace", "training_trace", "bit_memory_loss", "DIVERGED", "WH_SCALE"]

DIVERGED = 1e6
"""A gradient norm above this ends the run (it would only blow the weights up)."""

WH_SCALE = 1.2
"""Wh starts as this times a random orthogonal matrix: just past the edge of stability."""


@dataclass(frozen=True)
class TrainingTrace:
    """Per-step record of one training run (S = number of steps actually run)."""

    loss: np.ndarray
    """minibatch loss before the step's update, (S,)"""
    grad_norm: np.ndarray
    """L2 norm of the full gradient before clipping, (S,)"""
    clipped: np.ndarray
    """True where clipping rescaled the gradient, (S,) bool"""
    steps: np.ndarray
    """step indices 0..S-1, (S,)"""
    diverged_at: int | None
    """the step whose gradient norm exceeded DIVERGED or was non-finite; None if none did"""
    lr: float
    clip: bool
    threshold: float
    T: int

    @property
    def n_clipped(self) -> int:
        """How many steps were clipped."""
        return int(self.clipped.sum())


def training_trace(
    lr: float = 0.5,
    clip: bool = True,
    threshold: float = 1.0,
    steps: int = 300,
    T: int = 20,
    seed: int = 0,
) -> TrainingTrace:
    """Train the bit-memory tanh RNN with SGD, with or without norm clipping (cached).

    Parameters
    ----------
    lr : SGD learning rate, > 0.
    clip : rescale the gradient to norm ``threshold`` whenever its norm exceeds it.
    threshold : the clipping threshold, > 0 (ignored when ``clip`` is False).
    steps : number of SGD steps, >= 1.
    T : sequence length, >= 2.
    seed : seed of the initial weights and the minibatches (same seed, same run).

    Returns
    -------
    TrainingTrace with per-step loss, gradient norm before clipping and clip flags.
    """
    fn = "training_trace"
    lr = check_positive(fn, "lr", lr)
    threshold = check_positive(fn, "threshold", threshold)
    steps = check_int(fn, "steps", steps, minimum=1)
    T = check_int(fn, "T", T, minimum=2)
    seed = check_int(fn, "seed", seed, minimum=0)
    if not isinstance(clip, bool | np.bool_):
        raise TypeError(f"{fn}: clip must be a bool, got {type(clip).__name__}")
    return _cached(lr, bool(clip), threshold if clip else 0.0, steps, T, seed)


def bit_memory_loss(params: list[np.ndarray], x: np.ndarray, bits: np.ndarray
                    ) -> tuple[float, list[np.ndarray]]:
    """Loss of the bit-memory task and its gradient with respect to every parameter.

    Parameters
    ----------
    params : [Wx (D, H), Wh (H, H), b (H,), w (H,), c (1,)]: the RNN and its linear readout.
    x : inputs, (N, T, D).
    bits : targets, (N,): the readout ``h_T @ w + c`` should equal them.

    Returns
    -------
    loss : ``0.5 * mean((h_T @ w + c - bits)**2)``.
    grads : gradients in the order of ``params``, same shapes.
    """
    Wx, Wh, b, w, c = params
    N, _, _ = x.shape
    H = Wh.shape[0]
    h, cache = rnn_forward(x, np.zeros((N, H)), Wx, Wh, b)
    h_last = h[:, -1]  # h_T, the only state the readout sees
    resid = h_last @ w + c[0] - bits
    loss = 0.5 * float(np.mean(resid**2))
    dy = resid / N                       # dL/d(readout), (N,)
    dh = np.zeros_like(h)
    dh[:, -1] = np.outer(dy, w)          # only h_T reaches the loss
    _, _, dWx, dWh, db = rnn_backward(dh, cache)
    return loss, [dWx, dWh, db, h_last.T @ dy, np.array([dy.sum()])]


@code_keyed_cache(maxsize=64)   # recomputed when the student edits an exercise
def _cached(lr: float, clip: bool, threshold: float, steps: int, T: int, seed: int
            ) -> TrainingTrace:
    N, D, H = 32, 2, 16
    rng = np.random.default_rng(seed)
    Wx = rng.normal(0.0, 0.5, (D, H))
    q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    Wh = WH_SCALE * q  # just past the edge of stability: spikes appear as training moves Wh
    b = np.zeros(H)
    w = rng.normal(0.0, 1.0 / np.sqrt(H), H)
    c = np.zeros(1)
    params = [Wx, Wh, b, w, c]
    losses, norms, flags = [], [], []
    diverged_at = None
    for step in range(steps):
        bits = rng.choice(np.array([-1.0, 1.0]), size=N)
        x = rng.normal(0.0, 0.2, (N, T, D))
        x[:, 0, 0] = bits
        loss, grads = bit_memory_loss(params, x, bits)
        named = dict(zip("Wx Wh b w c".split(), grads, strict=True))
        norm = global_norm(named)
        losses.append(loss)
        norms.append(norm)
        if not np.isfinite(norm) or norm > DIVERGED:
            flags.append(False)
            diverged_at = step
            break
        if clip:
            clip_grad_norm(named, threshold, eps=0.0)  # the exercise of notebook 07
        flags.append(bool(clip and norm > threshold))
        for p, g in zip(params, grads, strict=True):
            p -= lr * g
    n = len(losses)
    return TrainingTrace(
        loss=np.array(losses), grad_norm=np.array(norms), clipped=np.array(flags, dtype=bool),
        steps=np.arange(n), diverged_at=diverged_at, lr=lr, clip=clip,
        threshold=threshold, T=T,
    )
