"""A long-lag memory task that an LSTM learns and a vanilla RNN does not.

The task comes from ``rnn_core.data.lag_recall(..., filler="random", many_to_one=True)``: every
step shows a random symbol (one of K), and at the last step the model must name the symbol it saw
``lag`` steps earlier. A marker channel flags that step, so the model knows *which* symbol to
keep; what remains hard is to keep it for ``lag`` steps while a new random symbol arrives at
every step. The input of step t is the one-hot symbol (V = K + 1 columns, column 0 the unused
blank) followed by the marker, D = K + 2::

    x_t = [onehot(symbol_t), marker_t],    marker_t = 1 at t = T - 1 - lag, else 0
    y   = symbol_{T-1-lag} - 1             class in [0, K)

A vanilla RNN must carry the symbol through ``lag`` products of Jacobians that also mix in every
new random input; its gradient from the loss back to the marked step vanishes and is buried
under the gradients of the distractors. An LSTM can close its input gate and keep f ~ 1: the
cell state carries the symbol (and the gradient) along its highway. How open that highway is at
the start of training is set by the forget-gate bias (``forget_bias``).

Without distractors (``filler="blank"``) the task is much easier for a vanilla RNN (the constant
blank input lets the hidden state settle into one of K attractors), which is why this module
uses the random filler with a marker.

Shapes: N batch, T time, D input, H hidden, K symbols.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rnn_core._validate import as_generator, check_int, check_positive
from rnn_core.data.tasks import LagTask, lag_recall
from rnn_core.models import SequenceClassifier
from rnn_core.optim import Adam
from rnn_core.train import train

__all__ = ["marked_recall", "LagRun", "train_lag_classifier"]


def marked_recall(
    n: int, lag: int, rng: np.random.Generator | int, *, num_symbols: int = 4, extra: int = 5
) -> tuple[np.ndarray, np.ndarray, LagTask]:
    """Inputs and labels of the marked-recall task (see the module docstring).

    Notebook 08, section 6.

    Parameters
    ----------
    n : N, number of sequences.
    lag : steps between the marked symbol and the last step, >= 1.
    rng : Generator or int seed.
    num_symbols : K.
    extra : steps before the marked one; T = lag + extra.

    Returns
    -------
    x : float64 (N, T, K + 2): one-hot symbols (K + 1 columns, column 0 the blank) and the marker.
    y : int64 (N,): class of the marked symbol, in [0, K).
    task : the underlying ``LagTask`` from ``lag_recall``.
    """
    fn = "marked_recall"
    lag = check_int(fn, "lag", lag, minimum=1)
    extra = check_int(fn, "extra", extra, minimum=1)
    T = lag + extra
    task = lag_recall(n, T, lag, as_generator(rng, fn), num_symbols=num_symbols,
                      filler="random", many_to_one=True)
    V = task.vocab.size
    x = np.zeros(task.x.shape + (V + 1,))
    np.put_along_axis(x, task.x[..., None], 1.0, axis=2)
    x[:, T - 1 - lag, V] = 1.0
    y = task.y[:, -1] - 1
    return x, y, task


@dataclass(frozen=True)
class LagRun:
    """One trained model of :func:`train_lag_classifier`.

    Attributes
    ----------
    model : the trained SequenceClassifier.
    loss : (steps,) training loss of every step (nats; chance is log K).
    accuracy : accuracy on held-out sequences (chance is 1 / K).
    seconds : wall-clock training time.
    """

    model: SequenceClassifier
    loss: np.ndarray
    accuracy: float
    seconds: float


def train_lag_classifier(
    cell: str,
    lag: int,
    *,
    hidden_dim: int = 16,
    steps: int = 400,
    batch_size: int = 32,
    lr: float = 1e-2,
    forget_bias: float = 3.0,
    num_symbols: int = 4,
    extra: int = 5,
    n_test: int = 500,
    rng: int = 0,
) -> LagRun:
    """Train a many-to-one classifier on :func:`marked_recall` and measure held-out accuracy.

    Notebook 08, section 6.

    Parameters
    ----------
    cell : "rnn" or "lstm".
    lag : the distance to remember.
    hidden_dim : H. steps : Adam steps. batch_size : N, fresh sequences every step. lr : Adam's.
    forget_bias : LSTM only: initial bias of the forget gate (f = sigmoid(bias) at the start).
    num_symbols : K. extra : T = lag + extra.
    n_test : held-out sequences for the accuracy.
    rng : int seed: weights from ``rng``, minibatches from ``rng + 1``, test set from ``rng + 2``.

    Returns
    -------
    LagRun (model, loss, accuracy, seconds).
    """
    fn = "train_lag_classifier"
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise TypeError(f"{fn}: rng must be an int seed, got {type(rng).__name__}")
    steps = check_int(fn, "steps", steps, minimum=0)
    batch_size = check_int(fn, "batch_size", batch_size, minimum=1)
    check_positive(fn, "lr", lr)
    if not np.isfinite(forget_bias):
        raise ValueError(f"{fn}: forget_bias must be finite, got {forget_bias!r}")
    seed = int(rng)
    x_test, y_test, _ = marked_recall(n_test, lag, seed + 2, num_symbols=num_symbols,
                                      extra=extra)
    model = SequenceClassifier(x_test.shape[2], hidden_dim, num_symbols, cell=cell, rng=seed,
                               forget_bias=forget_bias)

    def batch(g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x, y, _ = marked_recall(batch_size, lag, g, num_symbols=num_symbols, extra=extra)
        return x, y

    t0 = time.perf_counter()
    hist = train(model, batch, Adam(lr), steps, rng=seed + 1, progress=False)
    seconds = time.perf_counter() - t0
    acc = float(np.mean(model.predict(x_test) == y_test))
    return LagRun(model=model, loss=np.asarray(hist.loss), accuracy=acc, seconds=seconds)
