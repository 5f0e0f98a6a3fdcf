"""Synthetic long-range tasks: the adding problem and recall-with-lag.

Both are tests of memory: the answer depends on an input far back in time, so the gradient has to
travel that far back (through the product of per-step Jacobians) for the model to learn it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnn_core._validate import as_generator, check_int
from rnn_core.data.vocab import Vocabulary

ADDING_BASELINE_MSE = 1.0 / 6.0
"""Mean squared error of always predicting 1 (the mean target) on the adding problem:
the variance of the sum of two independent U(0, 1) numbers, 2/12."""


def adding_problem(
    n: int, T: int, rng: np.random.Generator | int
) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber 1997, in the variant of Le et al. 2015).

    Each step has 2 input channels: channel 0 a number uniform in [0, 1], channel 1 a marker that
    is 1 at exactly two steps, one in the first half ``[0, T//2)`` and one in the second half
    ``[T//2, T)``, and 0 elsewhere. The target is the sum of the two marked numbers. Predicting
    the constant 1 gives the baseline MSE :data:`ADDING_BASELINE_MSE` = 1/6.

    Parameters
    ----------
    n : N, number of sequences
    T : sequence length, >= 2
    rng : Generator or int seed

    Returns
    -------
    x : float64, shape (N, T, 2)
    y : float64, shape (N,), in [0, 2]
    """
    fn = "adding_problem"
    n = check_int(fn, "n", n, minimum=1)
    T = check_int(fn, "T", T, minimum=2)
    g = as_generator(rng, fn)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = g.random((n, T))
    half = T // 2
    first = g.integers(0, half, size=n)
    second = g.integers(half, T, size=n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = x[rows, first, 0] + x[rows, second, 0]
    return x, y


BLANK = "_"
"""The filler token of the recall task (id 0): 'nothing to remember here'."""


def lag_vocabulary(num_symbols: int = 4) -> Vocabulary:
    """Tokens of the recall task: ``"_"`` (blank, id 0), then the symbols ``"A", "B", ...``.

    The model's input and output both use these V = num_symbols + 1 ids.
    """
    k = check_int("lag_vocabulary", "num_symbols", num_symbols, minimum=2)
    if k > 26:
        raise ValueError(f"lag_vocabulary: num_symbols must be <= 26, got {k}")
    return Vocabulary([BLANK] + [chr(ord("A") + i) for i in range(k)])


class LagTask(NamedTuple):
    """Inputs, targets and mask of a recall-with-lag data set, in the layout of
    ``temporal_softmax_loss(scores, y, mask)``."""

    x: np.ndarray
    """Input token ids, int64, shape (N, T)."""
    y: np.ndarray
    """Target ids, int64, shape (N, T): ``y[:, s + lag] = x[:, s]`` where mask is True, 0
    elsewhere."""
    mask: np.ndarray
    """bool, shape (N, T): the steps that carry a target."""
    vocab: Vocabulary
    """:func:`lag_vocabulary` (V = num_symbols + 1)."""


def lag_recall(
    n: int,
    T: int,
    lag: int,
    rng: np.random.Generator | int,
    *,
    num_symbols: int = 4,
    filler: str = "blank",
    many_to_one: bool = False,
) -> LagTask:
    """Recall with a lag chosen by the caller: a symbol seen at step s must be output at s + lag.

    Notebook 05, section 3.

    ``filler="blank"`` (the memory test; default): the input is blank except at a few cue steps
    that show a random symbol; the target at cue + lag is that symbol. Cues are at least ``lag``
    apart (each sits at a random offset in its own window of ``min(2*lag, T)`` steps), so one
    symbol is held at a time: the task is hard only because of the distance, which is what makes a
    vanilla RNN fail long lags (the gradient vanishes over ``lag`` steps) while an LSTM copes,
    and truncated BPTT fail when ``lag`` exceeds the chunk length (cue and target never share
    a chunk).

    ``filler="random"`` (a shift register): every step shows a random symbol and every step
    ``t >= lag`` has the target ``x[:, t - lag]``: the model must hold the last ``lag`` symbols.

    ``many_to_one=True``: only the last step carries a target, "what was the symbol ``lag`` steps
    ago", i.e. ``y[:, T-1] = x[:, T-1-lag]``; with blank filler the only cue is at ``T-1-lag``.

    Parameters
    ----------
    n : N, number of sequences
    T : sequence length
    lag : 1 <= lag < T
    rng : Generator or int seed
    num_symbols : K symbols (V = K + 1 with the blank)
    filler : "blank" or "random"
    many_to_one : a target at the last step only

    Returns
    -------
    LagTask : ``x`` (N, T) int64, ``y`` (N, T) int64, ``mask`` (N, T) bool, ``vocab``.
    Chance accuracy on the masked steps is 1 / num_symbols.
    """
    fn = "lag_recall"
    n = check_int(fn, "n", n, minimum=1)
    T = check_int(fn, "T", T, minimum=2)
    lag = check_int(fn, "lag", lag, minimum=1)
    if lag >= T:
        raise ValueError(
            f"{fn}: lag must be < T={T} (the target step s + lag must exist), got {lag}"
        )
    if filler not in ("blank", "random"):
        raise ValueError(f"{fn}: filler must be 'blank' or 'random', got {filler!r}")
    vocab = lag_vocabulary(num_symbols)
    g = as_generator(rng, fn)
    k = vocab.size - 1
    rows = np.arange(n)
    mask = np.zeros((n, T), dtype=bool)
    if filler == "random":
        x = g.integers(1, k + 1, size=(n, T))
        if many_to_one:
            mask[:, T - 1] = True
        else:
            mask[:, lag:] = True
    else:
        x = np.zeros((n, T), dtype=np.int64)
        if many_to_one:
            cues = np.full((n, 1), T - 1 - lag)
        else:
            w = min(2 * lag, T)  # window: cue at offset u in [0, w - lag), target at u + lag < w
            n_win = T // w
            cues = g.integers(0, w - lag, size=(n, n_win)) + w * np.arange(n_win)
        x[rows[:, None], cues] = g.integers(1, k + 1, size=cues.shape)
        mask[rows[:, None], cues + lag] = True
    x = x.astype(np.int64)
    y = np.zeros((n, T), dtype=np.int64)
    y[:, lag:] = x[:, :-lag]
    y[~mask] = 0
    return LagTask(x, y, mask, vocab)
