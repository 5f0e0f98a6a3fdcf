"""Full vs truncated backpropagation through time: memory, gradients, and what each can learn.

Three measurements back the BPTT notebook (05):

* **Memory.** Full BPTT keeps every step's cache until the backward pass, so the bytes held grow
  linearly with T. :func:`cache_nbytes` counts the distinct numpy buffers a cache holds;
  :func:`bptt_cache_memory` measures it for a range of lengths.
* **Gradient.** Truncated BPTT with chunks of k steps carries the hidden state forward across a
  chunk boundary but stops the gradient there. :func:`truncated_gradient` sums the chunk gradients
  at fixed parameters (``tbptt_pass`` with an optimizer that adds them up and updates nothing);
  with ``k >= T`` it is the full gradient, and :func:`gradient_cosine` says how far the truncated
  one points from it.
* **Learning.** :func:`~rnn_core.train.tbptt_pass` (the exercise of notebook 05) trains on a batch
  of sequences with one update per chunk; :func:`lag_chunk_grid` runs it on the recall-with-lag
  task for every (lag, chunk) pair.
  A cue at step s and its target at s + lag share a chunk only if lag < k, and then only for the
  cues in the first k - lag positions of a chunk (:func:`shared_chunk_fraction`); with lag >= k
  no gradient links any cue to its target, and truncated BPTT fails (far below the accuracy it
  reaches when lag < k).

The models are :class:`~rnn_core.models.LanguageModel` instances (embedding, RNN/LSTM, scores at
every step), trained with a mask so that only the target steps of the task count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int, check_positive
from rnn_core.train import tbptt_pass

__all__ = [
    "cache_nbytes",
    "bptt_cache_memory",
    "shared_chunk_fraction",
    "truncated_gradient",
    "gradient_cosine",
    "recall_predictions",
    "recall_accuracy",
    "LagChunkGrid",
    "lag_chunk_grid",
]


# ------------------------------------------------------------------------------------- memory
def _owner(a: np.ndarray) -> np.ndarray:
    """The array that owns the memory of ``a`` (follows ``.base`` through views)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def cache_nbytes(cache: object) -> int:
    """Bytes of the distinct numpy buffers reachable from a cache.

    Walks tuples, lists, NamedTuples, dicts and dataclass-like objects with ``__dict__``; every
    array is reduced to the array that owns its memory (views count once, through their base),
    and every owner is counted once however often it is referenced (e.g. the weights that every
    step cache points to).

    Parameters
    ----------
    cache : any nesting of containers and numpy arrays (e.g. the ``StackCache`` of
        ``RecurrentStack.forward`` or the ``RNNCache`` of ``rnn_forward``).

    Returns
    -------
    int : total bytes.
    """
    seen: dict[int, int] = {}
    visited: set[int] = set()
    stack = [cache]
    while stack:
        obj = stack.pop()
        if isinstance(obj, np.ndarray):
            own = _owner(obj)
            seen[id(own)] = own.nbytes
            continue
        if id(obj) in visited or obj is None or isinstance(obj, str | bytes | int | float):
            continue
        visited.add(id(obj))
        if isinstance(obj, Mapping):
            stack.extend(obj.values())
        elif isinstance(obj, tuple | list):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
    return int(sum(seen.values()))


def bptt_cache_memory(
    lengths: Sequence[int],
    *,
    N: int,
    D: int,
    H: int,
    cell: str = "rnn",
    rng: np.random.Generator | int,
) -> np.ndarray:
    """Bytes held by the forward cache of one recurrent layer, for each sequence length T.

    Notebook 05, section 2.

    Runs ``RecurrentStack(cell, D, H).forward`` on random float64 input (N, T, D) and measures its
    cache with :func:`cache_nbytes`. This is what full BPTT must keep until the backward pass.

    Parameters
    ----------
    lengths : sequence lengths T to measure (each >= 1).
    N, D, H : batch, input and hidden sizes.
    cell : "rnn" or "lstm".
    rng : Generator or int seed (weights and inputs).

    Returns
    -------
    float64 array (len(lengths),) of bytes.
    """
    from rnn_core.models.recurrent import RecurrentStack

    fn = "bptt_cache_memory"
    N, D, H = (check_int(fn, k, v, minimum=1) for k, v in (("N", N), ("D", D), ("H", H)))
    lengths = [check_int(fn, "lengths[i]", T, minimum=1) for T in lengths]
    gen = as_generator(rng, fn)
    stack = RecurrentStack(cell, D, H)
    params = stack.init_params(gen)
    out = np.empty(len(lengths))
    for i, T in enumerate(lengths):
        _, cache = stack.forward(params, gen.standard_normal((N, T, D)))
        out[i] = cache_nbytes(cache)
    return out


# ------------------------------------------------------------------------------------ chunks
def shared_chunk_fraction(lag: int, k: int) -> float:
    """Fraction of the positions in a chunk of k steps whose target, lag steps later, is in the
    same chunk: ``max(k - lag, 0) / k``.

    Notebook 05, section 4.

    A cue at position p of a chunk (0 <= p < k) is connected to its target by the truncated
    gradient only if ``p + lag < k``; for cues spread evenly over the positions this is the
    fraction of cue-target pairs that truncated BPTT can learn from. It is 0 exactly when
    ``lag >= k``.

    Parameters
    ----------
    lag : distance from a cue to its target (>= 1).
    k : chunk length (>= 1).

    Returns
    -------
    float in [0, 1).
    """
    lag = check_int("shared_chunk_fraction", "lag", lag, minimum=1)
    k = check_int("shared_chunk_fraction", "k", k, minimum=1)
    return max(k - lag, 0) / k


class _SumGradients:
    """An optimizer that updates nothing and adds up the gradients it is given: handed to
    ``tbptt_pass``, it turns one pass into the truncated gradient at fixed parameters."""

    def __init__(self, params: Mapping[str, np.ndarray]) -> None:
        self.grads = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for name in self.grads:
            self.grads[name] += grads[name]


def truncated_gradient(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    mask: np.ndarray | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """The truncated-BPTT gradient of one batch at fixed parameters.

    Notebook 05, section 4.

    The sequence is cut into chunks of k steps; each chunk starts from the state the previous
    chunk ended in (carried forward) but no gradient flows into that state, so a loss at step t
    reaches back only to the first step of its own chunk. The chunk gradients are summed, with no
    update in between, so the result is directly comparable with the full gradient.

    Parameters
    ----------
    model : has ``params`` and ``loss_stateful(x, y, state, mask)`` (``LanguageModel``).
    x, y : int (N, T) inputs and targets.
    k : chunk length (>= 1); ``k >= T`` gives the full BPTT gradient.
    mask : (N, T) bool, steps that count in the loss; None: all.

    Returns
    -------
    loss : float, the total loss (the same as the full loss: the forward pass is unchanged).
    grads : dict keyed like ``model.params``.
    """
    if not isinstance(getattr(model, "params", None), Mapping):
        raise TypeError(f"truncated_gradient: model must have params (a dict) and loss_stateful "
                        f"(e.g. LanguageModel), got {type(model).__name__}")
    total = _SumGradients(model.params)
    losses, _ = tbptt_pass(model, x, y, k, total, mask=mask)
    return float(sum(losses)), total.grads


def gradient_cosine(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> float:
    """Cosine of the angle between two gradients (dicts with the same keys), all entries

    Notebook 05, section 4.
    flattened into one vector. Returns nan if either is zero."""
    fn = "gradient_cosine"
    if set(a) != set(b):
        raise KeyError(f"{fn}: a and b must have the same keys, got {sorted(a)} and {sorted(b)}")
    keys = sorted(a)
    dot = sum(float(np.vdot(a[key], check_array(fn, f"b[{key!r}]", b[key], np.shape(a[key]))))
              for key in keys)
    na = np.sqrt(sum(float(np.vdot(a[key], a[key])) for key in keys))
    nb = np.sqrt(sum(float(np.vdot(b[key], b[key])) for key in keys))
    if na == 0 or nb == 0:
        return float("nan")
    return dot / (na * nb)


def recall_predictions(model: Any, x: np.ndarray) -> np.ndarray:
    """Greedy prediction at every step, running the model forward over the whole sequence.

    Parameters
    ----------
    model : a ``LanguageModel``.
    x : int (N, T) input tokens.

    Returns
    -------
    int (N, T): argmax of the scores at every step.
    """
    x = check_array("recall_predictions", "x", x, (None, None), kind="int")
    return np.argmax(model.scores(x)[0], axis=-1)


def recall_accuracy(model: Any, task: Any) -> float:
    """Fraction of the target steps (``task.mask``) where the prediction equals ``task.y``.

    ``task`` is a :class:`~rnn_core.data.LagTask` (or anything with ``x``, ``y``, ``mask``).
    """
    pred = recall_predictions(model, task.x)
    m = np.asarray(task.mask, dtype=bool)
    if not m.any():
        raise ValueError("recall_accuracy: task.mask selects no step")
    return float(np.mean(pred[m] == task.y[m]))


class LagChunkGrid(NamedTuple):
    """Result of :func:`lag_chunk_grid`."""

    accuracy: np.ndarray
    """(len(lags), len(chunks)) held-out recall accuracy"""
    lags: tuple[int, ...]
    chunks: tuple[int, ...]
    chance: float
    """accuracy of guessing: 1 / number of symbols"""
    losses: np.ndarray
    """(len(lags), len(chunks), iterations): mean chunk loss of every training batch"""


def lag_chunk_grid(
    lags: Sequence[int],
    chunks: Sequence[int],
    *,
    T: int,
    iterations: int,
    batch: int = 32,
    hidden: int = 32,
    embed: int = 8,
    cell: str = "rnn",
    lr: float = 1e-2,
    num_symbols: int = 4,
    n_test: int = 400,
    rng: np.random.Generator | int,
    callback: Callable[[int, int, float], None] | None = None,
) -> LagChunkGrid:
    """Success of truncated BPTT for every (lag, chunk length) on the recall-with-lag task.

    Notebook 05, section 5.

    For each pair a fresh ``LanguageModel`` (same seed for all pairs) is trained by
    :func:`~rnn_core.train.tbptt_pass` with Adam on ``iterations`` fresh batches of
    ``lag_recall(batch, T, lag)`` (blank filler), then scored by :func:`recall_accuracy` on a
    held-out set of ``n_test`` sequences (run forward over the whole sequence, no truncation).

    Parameters
    ----------
    lags, chunks : the lags and chunk lengths k of the grid (each < T and >= 1).
    T : sequence length.
    iterations : training batches per pair.
    batch, hidden, embed : N, H and D of the model.
    cell : "rnn" or "lstm".
    lr : Adam learning rate.
    num_symbols : symbols of the task (chance = 1 / num_symbols).
    n_test : held-out sequences per lag.
    rng : Generator or int seed; each pair derives its own seeds from it, in order.
    callback : called as ``callback(i_lag, i_chunk, accuracy)`` after each pair (e.g. printing).

    Returns
    -------
    LagChunkGrid.
    """
    from rnn_core.data.tasks import lag_recall
    from rnn_core.models.language_model import LanguageModel
    from rnn_core.optim import Adam

    fn = "lag_chunk_grid"
    T = check_int(fn, "T", T, minimum=2)
    lags = tuple(check_int(fn, "lags[i]", v, minimum=1) for v in lags)
    chunks = tuple(check_int(fn, "chunks[i]", v, minimum=1) for v in chunks)
    if not lags or not chunks:
        raise ValueError(f"{fn}: lags and chunks must be non-empty")
    if max(lags) >= T:
        raise ValueError(f"{fn}: every lag must be < T={T}, got {max(lags)}")
    iterations = check_int(fn, "iterations", iterations, minimum=1)
    lr = check_positive(fn, "lr", lr)
    gen = as_generator(rng, fn)
    model_seed = int(gen.integers(2**31))
    acc = np.empty((len(lags), len(chunks)))
    losses = np.empty((len(lags), len(chunks), iterations))
    for i, lag in enumerate(lags):
        test = lag_recall(n_test, T, lag, gen, num_symbols=num_symbols)
        data_seed = int(gen.integers(2**31))
        for j, k in enumerate(chunks):
            model = LanguageModel(num_symbols + 1, embed, hidden, cell=cell, rng=model_seed)
            opt = Adam(lr)
            data = np.random.default_rng(data_seed)  # same training batches for every k
            for it in range(iterations):
                task = lag_recall(batch, T, lag, data, num_symbols=num_symbols)
                chunk_losses, _ = tbptt_pass(model, task.x, task.y, k, opt, task.mask)
                losses[i, j, it] = np.mean(chunk_losses)
            acc[i, j] = recall_accuracy(model, test)
            if callback is not None:
                callback(i, j, acc[i, j])
    return LagChunkGrid(acc, lags, chunks, 1.0 / num_symbols, losses)
