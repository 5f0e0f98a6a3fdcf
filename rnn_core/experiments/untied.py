"""Shared versus untied recurrent weights: a measured answer to "wouldn't a separate W per step be
more powerful?".

The vanilla RNN applies the SAME ``(Wx, Wh, b)`` at every step. The untied variant gives step t its
own ``(Wx_t, Wh_t, b_t)``, t = 1..T_max:

    shared:  h_t = tanh(x_t Wx   + h_{t-1} Wh   + b)
    untied:  h_t = tanh(x_t Wx_t + h_{t-1} Wh_t + b_t)

Three consequences, all measured by :func:`compare_shared_untied`:

1. the untied model has ``T_max`` times as many recurrent parameters (:func:`param_counts`);
2. it has no weights for step ``T_max + 1``: it cannot run on a sequence longer than the longest
   one it was built for (:class:`UntiedRNNClassifier` raises);
3. with variable-length training data, step t's weights only ever see the sequences that reach
   step t, so late steps learn from few examples and the model generalises worse.

The task (:func:`sum_sign_task`) is many-to-one on variable-length sequences: ``x_t`` uniform in
[-1, 1], label 1 when ``sum_t x_t > 0``. The same rule at every step (add the new number to a
running total) solves it for every length, which is what weight sharing builds in.

Shapes: N batch, T time, D input, H hidden, C classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnn_core._validate import (
    as_generator,
    check_array,
    check_int,
    check_mask,
    check_positive,
)
from rnn_core.init import init_matrix
from rnn_core.layers import affine_backward, affine_forward, softmax_loss
from rnn_core.models import SequenceClassifier
from rnn_core.models.recurrent import steps_backward, steps_forward
from rnn_core.optim import Adam
from rnn_core.train import train

__all__ = [
    "VariableLengthBatch",
    "sum_sign_task",
    "UntiedRNNClassifier",
    "param_counts",
    "accuracy_by_length",
    "UntiedComparison",
    "compare_shared_untied",
]


class VariableLengthBatch(NamedTuple):
    """Variable-length sequences padded at the end, in the layout of ``SequenceClassifier.loss``."""

    x: np.ndarray
    """inputs, float64 (N, T, 1); zero after each sequence's end"""
    y: np.ndarray
    """labels, int64 (N,): 1 if the sum of the sequence is positive, else 0"""
    mask: np.ndarray
    """bool (N, T): True on the real steps ``t < lengths[n]``"""
    lengths: np.ndarray
    """int64 (N,), each in [min_len, max_len]"""


def sum_sign_task(
    n: int,
    rng: np.random.Generator | int,
    *,
    min_len: int = 1,
    max_len: int = 10,
    pad_to: int | None = None,
) -> VariableLengthBatch:
    """Sequences of numbers uniform in [-1, 1] with lengths uniform in [min_len, max_len]; the
    label says whether their sum is positive.

    Notebook 00, section 3.

    Parameters
    ----------
    n : N, number of sequences.
    rng : Generator or int seed.
    min_len, max_len : shortest and longest length (inclusive), 1 <= min_len <= max_len.
    pad_to : T, padded length (>= max_len); default max_len.

    Returns
    -------
    VariableLengthBatch : ``x`` (N, T, 1), ``y`` (N,), ``mask`` (N, T), ``lengths`` (N,).
    Both classes are equally likely (the sum of a symmetric distribution).
    """
    fn = "sum_sign_task"
    n = check_int(fn, "n", n, minimum=1)
    min_len = check_int(fn, "min_len", min_len, minimum=1)
    max_len = check_int(fn, "max_len", max_len, minimum=min_len)
    T = max_len if pad_to is None else check_int(fn, "pad_to", pad_to, minimum=max_len)
    g = as_generator(rng, fn)
    lengths = g.integers(min_len, max_len + 1, size=n)
    mask = np.arange(T)[None, :] < lengths[:, None]
    x = np.where(mask, g.uniform(-1.0, 1.0, size=(n, T)), 0.0)
    y = (x.sum(axis=1) > 0).astype(np.int64)
    return VariableLengthBatch(x[:, :, None], y, mask, lengths.astype(np.int64))


class UntiedRNNClassifier:
    """Many-to-one tanh RNN with its own weights at every step (the untied variant).

    Notebook 00, section 3. Step t (0-based) computes ``h_t = tanh(x_t Wx[t] + h_{t-1} Wh[t] +
    b[t])``; the class scores are ``h_last W_out + b_out`` with h_last the state after each
    sequence's last real step. The steps are ``rnn_core.models.recurrent.steps_forward`` /
    ``steps_backward`` with step t's own weights: padded steps (mask False) carry the state
    through unchanged, by the same rule as ``SequenceClassifier``.

    Parameters
    ----------
    input_dim : D.
    hidden_dim : H.
    num_classes : C.
    max_len : T_max, the number of steps that have weights; longer inputs are refused.
    rng : Generator or int seed for the initial parameters.
    init : initialiser of each step's Wh[t] (``rnn_core.init.init_matrix``); the other matrices
        use "glorot", like ``SequenceClassifier``.

    Attributes
    ----------
    params : dict with ``Wx`` (T_max, D, H), ``Wh`` (T_max, H, H), ``b`` (T_max, H),
        ``W_out`` (H, C), ``b_out`` (C,).
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        num_classes: int,
        max_len: int,
        *,
        rng: np.random.Generator | int,
        init: str = "glorot",
    ) -> None:
        fn = "UntiedRNNClassifier"
        D = check_int(fn, "input_dim", input_dim, minimum=1)
        H = check_int(fn, "hidden_dim", hidden_dim, minimum=1)
        C = self.num_classes = check_int(fn, "num_classes", num_classes, minimum=2)
        T = self.max_len = check_int(fn, "max_len", max_len, minimum=1)
        self.input_dim, self.hidden_dim = D, H
        gen = as_generator(rng, fn)
        self.params: dict[str, np.ndarray] = {
            "Wx": np.stack([init_matrix("glorot", (D, H), gen) for _ in range(T)]),
            "Wh": np.stack([init_matrix(init, (H, H), gen) for _ in range(T)]),
            "b": np.zeros((T, H)),
            "W_out": init_matrix("glorot", (H, C), gen),
            "b_out": np.zeros(C),
        }

    @property
    def num_params(self) -> int:
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    def _check(self, fn: str, x: np.ndarray, mask: np.ndarray | None):
        x = check_array(fn, "x", x, (None, None, self.input_dim))
        N, T, _ = x.shape
        if T == 0:
            raise ValueError(f"{fn}: x must have at least one time step, got shape {x.shape}")
        if T > self.max_len:
            raise ValueError(
                f"{fn}: x has T={T} steps but the untied model has weights for only "
                f"max_len={self.max_len} steps; it cannot run past its longest training length"
            )
        if mask is not None:
            mask = check_mask(fn, mask, (N, T))
        return x, mask

    def _forward(self, x: np.ndarray, mask: np.ndarray | None):
        p = self.params
        N = x.shape[0]
        _, caches, h, _ = steps_forward(
            "rnn", x, np.zeros((N, self.hidden_dim)), None,
            lambda t: (p["Wx"][t], p["Wh"][t], p["b"][t]), mask,
        )
        scores, aff_cache = affine_forward(h, p["W_out"], p["b_out"])
        return scores, caches, aff_cache

    def loss(
        self, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Cross-entropy loss (batch mean) and gradients of every parameter.

        Parameters
        ----------
        x : float (N, T, D) with T <= max_len.
        y : int (N,), class labels in [0, C).
        mask : optional bool (N, T); False steps are skipped (state carried through).

        Returns
        -------
        loss : float; grads : dict keyed like ``params`` (steps t >= T get zero gradient).
        """
        fn = "UntiedRNNClassifier.loss"
        x, mask = self._check(fn, x, mask)
        N, T, _ = x.shape
        y = check_array(fn, "y", y, (N,), kind="int")
        if y.size and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(f"{fn}: y must hold class labels in [0, {self.num_classes}), "
                             f"got values in [{y.min()}, {y.max()}]")
        scores, caches, aff_cache = self._forward(x, mask)
        loss, dscores = softmax_loss(scores, y)
        dh, dW_out, db_out = affine_backward(dscores, aff_cache)
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}

        def store(t: int, dh_t: np.ndarray, step: tuple) -> None:
            grads["Wx"][t], grads["Wh"][t], grads["b"][t] = step[1:]

        dout = np.zeros((N, T, self.hidden_dim))  # the loss reads only the final state
        steps_backward("rnn", dout, caches, dh, None, mask, store)
        grads["W_out"] = dW_out
        grads["b_out"] = db_out
        return float(loss), grads

    def predict(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Most likely class of each sequence, int (N,). x: float (N, T, D), T <= max_len."""
        x, mask = self._check("UntiedRNNClassifier.predict", x, mask)
        return np.argmax(self._forward(x, mask)[0], axis=1)


def param_counts(input_dim: int, hidden_dim: int, num_classes: int, T: int) -> tuple[int, int]:
    """Parameter counts ``(shared, untied)`` of a one-layer tanh RNN classifier.

    Notebook 00, section 3.

    shared = D H + H H + H + H C + C;  untied = T (D H + H H + H) + H C + C.
    """
    fn = "param_counts"
    D = check_int(fn, "input_dim", input_dim, minimum=1)
    H = check_int(fn, "hidden_dim", hidden_dim, minimum=1)
    C = check_int(fn, "num_classes", num_classes, minimum=1)
    T = check_int(fn, "T", T, minimum=1)
    cell, head = D * H + H * H + H, H * C + C
    return cell + head, T * cell + head


def accuracy_by_length(
    model: SequenceClassifier | UntiedRNNClassifier,
    lengths: np.ndarray,
    n_per_length: int,
    rng: np.random.Generator | int,
) -> np.ndarray:
    """Held-out accuracy of ``model`` on fresh :func:`sum_sign_task` sequences of each length.

    Parameters
    ----------
    model : anything with ``predict(x)`` for x (N, T, 1).
    lengths : int (K,), the test lengths.
    n_per_length : sequences per length.
    rng : Generator or int seed (the same seed gives the same test sequences for every model).

    Returns
    -------
    acc : float (K,) in [0, 1]; NaN where the model cannot run (an untied model past max_len).
    """
    fn = "accuracy_by_length"
    lengths = check_array(fn, "lengths", lengths, (None,), kind="int")
    n = check_int(fn, "n_per_length", n_per_length, minimum=1)
    g = as_generator(rng, fn)
    acc = np.full(len(lengths), np.nan)
    for i, L in enumerate(lengths):
        data = sum_sign_task(n, g, min_len=int(L), max_len=int(L))
        if isinstance(model, UntiedRNNClassifier) and L > model.max_len:
            continue
        acc[i] = float(np.mean(model.predict(data.x) == data.y))
    return acc


@dataclass(frozen=True)
class UntiedComparison:
    """Result of :func:`compare_shared_untied` (accuracies on held-out sequences)."""

    lengths: np.ndarray
    """test lengths 1..test_max_len, int (K,)"""
    train_max_len: int
    """L: training lengths are uniform in [1, L]"""
    shared_acc: np.ndarray
    """accuracy of the shared model at each test length, (K,)"""
    untied_acc: np.ndarray
    """accuracy of the untied model, (K,); NaN for lengths > L (it cannot run)"""
    shared_params: int
    """number of parameters of the shared model"""
    untied_params: int
    """number of parameters of the untied model"""
    shared_loss: np.ndarray
    """training loss per step, (steps,)"""
    untied_loss: np.ndarray
    """training loss per step, (steps,)"""
    shared_model: SequenceClassifier
    """the trained shared model"""
    untied_model: UntiedRNNClassifier
    """the trained untied model"""

    def mean_acc(self, which: str, longer: bool = False) -> float:
        """Mean accuracy of "shared" or "untied" over the training lengths (``longer=False``) or
        over the lengths beyond L (``longer=True``; NaN for the untied model)."""
        acc = {"shared": self.shared_acc, "untied": self.untied_acc}[which]
        sel = self.lengths > self.train_max_len if longer else self.lengths <= self.train_max_len
        return float(np.mean(acc[sel]))


def compare_shared_untied(
    *,
    train_max_len: int = 20,
    test_max_len: int = 40,
    n_train: int = 200,
    n_test_per_length: int = 200,
    hidden_dim: int = 8,
    steps: int = 300,
    lr: float = 1e-2,
    rng: np.random.Generator | int,
) -> UntiedComparison:
    """Train a shared and an untied tanh RNN classifier on the same data, with the same budget,
    and test both on held-out sequences of every length 1..test_max_len.

    Notebook 00, section 3.

    Both models get the same training set (``n_train`` sum-sign sequences with lengths uniform in
    [1, train_max_len], padded and masked), the same hidden size, the same optimiser (Adam, ``lr``)
    and the same number of full-batch steps.

    Parameters
    ----------
    train_max_len : L, the longest training sequence (and the untied model's max_len).
    test_max_len : longest test length (> L to test extrapolation).
    n_train : training sequences.
    n_test_per_length : held-out sequences per test length.
    hidden_dim : H of both models.
    steps : Adam steps for each model.
    lr : Adam learning rate.
    rng : Generator or int seed; it seeds the data, both initialisations and the test sets.

    Returns
    -------
    UntiedComparison
    """
    fn = "compare_shared_untied"
    L = check_int(fn, "train_max_len", train_max_len, minimum=1)
    L_test = check_int(fn, "test_max_len", test_max_len, minimum=1)
    check_int(fn, "n_train", n_train, minimum=1)
    check_int(fn, "n_test_per_length", n_test_per_length, minimum=1)
    H = check_int(fn, "hidden_dim", hidden_dim, minimum=1)
    steps = check_int(fn, "steps", steps, minimum=0)
    lr = check_positive(fn, "lr", lr)
    g = as_generator(rng, fn)
    seeds = g.integers(0, 2**31, size=4)
    data = sum_sign_task(n_train, int(seeds[0]), min_len=1, max_len=L)
    batch = (data.x, data.y, data.mask)
    shared = SequenceClassifier(1, H, 2, cell="rnn", rng=int(seeds[1]))
    untied = UntiedRNNClassifier(1, H, 2, L, rng=int(seeds[2]))
    h_shared = train(shared, batch, Adam(lr), steps, progress=False)
    h_untied = train(untied, batch, Adam(lr), steps, progress=False)
    lengths = np.arange(1, L_test + 1)
    return UntiedComparison(
        lengths=lengths,
        train_max_len=L,
        shared_acc=accuracy_by_length(shared, lengths, n_test_per_length, int(seeds[3])),
        untied_acc=accuracy_by_length(untied, lengths, n_test_per_length, int(seeds[3])),
        shared_params=shared.num_params,
        untied_params=untied.num_params,
        shared_loss=h_shared.arrays()["loss"],
        untied_loss=h_untied.arrays()["loss"],
        shared_model=shared,
        untied_model=untied,
    )
