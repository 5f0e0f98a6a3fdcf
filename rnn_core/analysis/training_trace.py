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

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from rnn_core._lookahead import checkpoint
from rnn_core._validate import check_int, check_positive
from rnn_core.analysis.explore import code_keyed_cache
from rnn_core.clipping import clip_grad_norm, global_norm
from rnn_core.rnn import rnn_backward, rnn_forward

__all__ = ["TrainingTrace", "training_trace", "bit_memory_loss", "DIVERGED", "WH_SCALE", "STEPS",
           "training_positions", "precompute_training"]

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
    steps: int | None = None,
    T: int = 20,
    seed: int = 0,
) -> TrainingTrace:
    """Train the bit-memory tanh RNN with SGD, with or without norm clipping (cached).

    Parameters
    ----------
    lr : SGD learning rate, > 0.
    clip : rescale the gradient to norm ``threshold`` whenever its norm exceeds it.
    threshold : the clipping threshold, > 0 (ignored when ``clip`` is False).
    steps : number of SGD steps, >= 1 (default ``STEPS``).
    T : sequence length, >= 2.
    seed : seed of the initial weights and the minibatches (same seed, same run).

    Returns
    -------
    TrainingTrace with per-step loss, gradient norm before clipping and clip flags.
    """
    return _cached(*_key("training_trace", lr, clip, threshold, steps, T, seed))


STEPS = 100
"""SGD steps of a run unless told otherwise (the training explorer's runs). Without clipping,
the runs at learning rates 0.3, 0.6, 1, 1.5 and 2 blow up by step 45, as they do in 300-step
runs; at lr 0.3 with clipping at 1, 18 of the 22 clipped steps of a 300-step run fall in the
first 100. A run costs ~0.1 s on an idle core, so a slider step feels immediate (issue 17)."""


def _key(fn: str, lr: float, clip: bool, threshold: float, steps: int | None, T: int,
         seed: int) -> tuple[float, bool, float, int, int, int]:
    """Checked arguments as the cache key: without clipping the threshold is dropped (0.0);
    ``steps`` None is ``STEPS``."""
    lr = check_positive(fn, "lr", lr)
    threshold = check_positive(fn, "threshold", threshold)
    steps = check_int(fn, "steps", STEPS if steps is None else steps, minimum=1)
    T = check_int(fn, "T", T, minimum=2)
    seed = check_int(fn, "seed", seed, minimum=0)
    if not isinstance(clip, bool | np.bool_):
        raise TypeError(f"{fn}: clip must be a bool, got {type(clip).__name__}")
    return lr, bool(clip), threshold if clip else 0.0, steps, T, seed


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


_NAMES = ("Wx", "Wh", "b", "w", "c")
CACHE_SIZE = 3000
"""Traces kept: the explorer's whole grid (47 learning rates x (52 thresholds + no clipping)
= 2538 traces of ~5 kB each) fits."""
N_BATCH, D_IN, H_HIDDEN = 32, 2, 16


class _Data(NamedTuple):
    """Initial parameters and every minibatch of a run: they depend on (steps, T, seed) only."""

    params: tuple[np.ndarray, ...]
    bits: np.ndarray
    """targets of every step, (steps, N)"""
    x: np.ndarray
    """inputs of every step, (steps, N, T, D), with the bit in x[:, :, 0, 0]"""


@lru_cache(maxsize=4)
def _data(steps: int, T: int, seed: int) -> _Data:
    """The draws of a run, in the order the training loop made them (weights, then per step the
    bits and the inputs): the same numbers whatever lr, clip and threshold are."""
    N, D, H = N_BATCH, D_IN, H_HIDDEN
    rng = np.random.default_rng(seed)
    Wx = rng.normal(0.0, 0.5, (D, H))
    q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    Wh = WH_SCALE * q  # just past the edge of stability: spikes appear as training moves Wh
    w = rng.normal(0.0, 1.0 / np.sqrt(H), H)
    bits = np.empty((steps, N))
    x = np.empty((steps, N, T, D))
    for step in range(steps):
        bits[step] = rng.choice(np.array([-1.0, 1.0]), size=N)
        x[step] = rng.normal(0.0, 0.2, (N, T, D))
        x[step, :, 0, 0] = bits[step]
    params = (Wx, Wh, np.zeros(H), w, np.zeros(1))
    for a in (*params, bits, x):
        a.setflags(write=False)
    return _Data(params, bits, x)


@dataclass
class _Run:
    """A run in progress: per-step records, and with ``record`` the parameters before each step
    and its raw gradients (what a clipped run that branches off needs)."""

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    diverged_at: int | None = None
    params: list[list[np.ndarray]] = field(default_factory=list)
    grads: list[list[np.ndarray]] = field(default_factory=list)

    def trace(self, lr: float, clip: bool, threshold: float, T: int) -> TrainingTrace:
        n = len(self.loss)
        return TrainingTrace(
            loss=np.array(self.loss), grad_norm=np.array(self.grad_norm),
            clipped=np.array(self.clipped, dtype=bool), steps=np.arange(n),
            diverged_at=self.diverged_at, lr=lr, clip=clip, threshold=threshold, T=T,
        )


def _sgd(run: _Run, params: list[np.ndarray], first: int, lr: float, clip: bool,
         threshold: float, data: _Data, record: bool = False) -> _Run:
    """The training loop, from step ``first`` with ``params`` (updated in place) onwards."""
    for step in range(first, len(data.bits)):
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        if record:
            run.params.append([p.copy() for p in params])
        # a copy: the cached minibatch stays what it is whatever the exercise code does to x
        loss, grads = bit_memory_loss(params, data.x[step].copy(), data.bits[step])
        named = dict(zip(_NAMES, grads, strict=True))
        norm = global_norm(named)
        run.loss.append(loss)
        run.grad_norm.append(norm)
        if record:
            run.grads.append(grads)
        if not np.isfinite(norm) or norm > DIVERGED:
            run.clipped.append(False)
            run.diverged_at = step
            break
        if clip:
            clip_grad_norm(named, threshold, eps=0.0)  # the exercise of notebook 07
        run.clipped.append(bool(clip and norm > threshold))
        for p, g in zip(params, grads, strict=True):
            p -= lr * g
    return run


@code_keyed_cache(maxsize=CACHE_SIZE)  # recomputed when the student edits an exercise
def _cached(lr: float, clip: bool, threshold: float, steps: int, T: int, seed: int
            ) -> TrainingTrace:
    data = _data(steps, T, seed)
    run = _sgd(_Run(), [p.copy() for p in data.params], 0, lr, clip, threshold, data)
    return run.trace(lr, clip, threshold, T)


@code_keyed_cache(maxsize=2)
def _unclipped_record(lr: float, steps: int, T: int, seed: int) -> _Run:
    """The run without clipping, with the parameters and raw gradients of every step."""
    data = _data(steps, T, seed)
    return _sgd(_Run(), [p.copy() for p in data.params], 0, lr, False, 0.0, data, record=True)


def _branch(base: _Run, lr: float, threshold: float, data: _Data) -> _Run:
    """The run with clipping at ``threshold``, from the run without clipping at the same lr.

    Both runs are the same up to the first step at which ``clip_grad_norm`` changes the gradient:
    the parameters, the minibatches and so the losses and raw gradients agree until then. That
    step is found by calling ``clip_grad_norm`` on a copy of each step's recorded gradient, in
    order, exactly as the loop would call it; from there the loop runs on.
    """
    for s, grads in enumerate(base.grads):
        norm = base.grad_norm[s]
        if not np.isfinite(norm) or norm > DIVERGED:
            break                                  # the clipped run stops here too, unclipped
        named = {k: g.copy() for k, g in zip(_NAMES, grads, strict=True)}
        clip_grad_norm(named, threshold, eps=0.0)
        if not all(np.array_equal(named[k], g) for k, g in zip(_NAMES, grads, strict=True)):
            run = _Run(loss=base.loss[: s + 1], grad_norm=base.grad_norm[: s + 1],
                       clipped=[bool(n > threshold) for n in base.grad_norm[: s + 1]])
            params = [p.copy() for p in base.params[s]]
            for p, g in zip(params, named.values(), strict=True):
                p -= lr * g
            return _sgd(run, params, s + 1, lr, True, threshold, data)
    n = len(base.loss) - (base.diverged_at is not None)
    return _Run(loss=list(base.loss), grad_norm=list(base.grad_norm),
                clipped=[bool(v > threshold) for v in base.grad_norm[:n]]
                + [False] * (len(base.loss) - n), diverged_at=base.diverged_at)


def training_positions(lrs: Sequence[float], thresholds: Sequence[float], lr: float = 0.3,
                       clip: bool = True, threshold: float = 1.0
                       ) -> list[tuple[float, bool, float]]:
    """Every (lr, clip, threshold) of the explorer's grid, ordered from the given one outward.

    First the given threshold at every learning rate (nearest learning rates first, the given
    clip state before the other), then, learning rate by learning rate outward, every other
    threshold (nearest first). Without clipping the threshold does not matter: one position per
    learning rate. ``lrs`` and ``thresholds`` are the slider values exactly as the explorer
    passes them (the cache compares floats exactly).
    """
    def outward(values: Sequence[float], v: float) -> list[float]:
        i0 = int(np.argmin([abs(x - v) for x in values]))
        return sorted(values, key=lambda x: (abs(values.index(x) - i0), values.index(x)))

    lrs, thresholds = list(lrs), list(thresholds)
    lr_order = outward(lrs, lr)
    thr_order = outward(thresholds, threshold)
    out: list[tuple[float, bool, float]] = []
    seen: set = set()

    def add(p: tuple[float, bool, float]) -> None:
        key = p if p[1] else (p[0], False, 0.0)
        if key not in seen:
            seen.add(key)
            out.append(p)

    for a in lr_order:
        for c in (clip, not clip):
            add((a, c, thr_order[0]))
    for a in lr_order:
        for t in thr_order[1:]:
            add((a, True, t))
    return out


def precompute_training(positions: Iterable[tuple[float, bool, float]],
                        steps: int | None = None, T: int = 20, seed: int = 0,
                        budget_s: float | None = None) -> Iterator[TrainingTrace]:
    """Compute the traces of ``positions`` into the cache of :func:`training_trace`; yield each.

    For a slider grid in the background (the explorer's precompute after display): at each
    learning rate the run without clipping is computed once, with its gradients recorded, and
    every clipped run branches off it at its first clipped step (see ``_branch``): the same
    arrays as ``training_trace`` computes position by position, at a fraction of the cost.
    Positions already cached are yielded from the cache. Stops when ``budget_s`` seconds have
    passed (checked between positions); positions must be valid ``training_trace`` arguments.
    """
    start = time.perf_counter()
    for lr, clip, threshold in positions:
        if budget_s is not None and time.perf_counter() - start > budget_s:
            return
        args = _key("precompute_training", lr, clip, threshold, steps, T, seed)
        lr, clip, threshold, steps = args[:4]
        if not _cached.cached(*args):
            data = _data(steps, T, seed)
            base = _unclipped_record(lr, steps, T, seed)
            if not _cached.cached(lr, False, 0.0, steps, T, seed):
                _cached.put((lr, False, 0.0, steps, T, seed), base.trace(lr, False, 0.0, T))
            if clip:
                _cached.put(args, _branch(base, lr, threshold, data).trace(lr, True, threshold, T))
        yield _cached(*args)
