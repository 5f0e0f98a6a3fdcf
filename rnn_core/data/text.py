"""The shipped English text for the character language model, and its batching.

The text is the first 30 chapters of *Pride and Prejudice* by Jane Austen (1813, public domain),
taken from the Debian package ``r-cran-janeaustenr`` (which takes it from Project Gutenberg),
one paragraph per line, plain ASCII, under 300 KB. The file header (lines starting with ``#``)
says so; :func:`load_text` skips it. Nothing is downloaded.

Stateful truncated BPTT layout (:func:`stream_rows`): the id stream is cut into N equal rows,
row i is the i-th N-th of the stream; ``rnn_core.train.tbptt_pass`` (the one chunk loop) cuts the
rows into chunks of k steps, so row i of chunk c+1 continues row i of chunk c and the hidden state
of row i is carried across chunks.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnn_core._validate import check_array, check_int
from rnn_core.data.vocab import Vocabulary, char_vocabulary

TEXT_FILE = "pride_and_prejudice.txt"
"""Name of the shipped text file inside the ``rnn_core.data`` package: Pride and Prejudice
(chapters 1-30), Jane Austen, 1813; public domain."""


def text_path() -> Path:
    """Path of the shipped text file."""
    return Path(str(resources.files("rnn_core.data").joinpath(TEXT_FILE)))


def load_text(max_chars: int | None = None) -> str:
    """The shipped text, without its ``#`` header: one paragraph per line, ASCII.

    Parameters
    ----------
    max_chars : keep only the first ``max_chars`` characters (None: all, about 299 000).

    Returns
    -------
    text : str
    """
    if max_chars is not None:
        check_int("load_text", "max_chars", max_chars, minimum=1)
    raw = resources.files("rnn_core.data").joinpath(TEXT_FILE).read_text(encoding="ascii")
    lines = raw.splitlines(keepends=True)
    k = 0
    while k < len(lines) and lines[k].startswith("#"):
        k += 1
    text = "".join(lines[k:])
    return text if max_chars is None else text[:max_chars]


def encode_text(text: str, vocab: Vocabulary) -> np.ndarray:
    """Character ids of ``text``, shape (L,), int64."""
    if not isinstance(text, str):
        raise TypeError(f"encode_text: text must be a str, got {type(text).__name__}")
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"encode_text: vocab must be a Vocabulary, got {type(vocab).__name__}")
    return vocab.encode(text)


def train_val_split(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Split a stream in two contiguous parts: the first ``1 - val_fraction`` for training, the
    rest for validation (no shuffling: held-out text is text the model has not read).

    Parameters
    ----------
    ids : int array, shape (L,)
    val_fraction : in (0, 1)

    Returns
    -------
    train_ids : shape (L - L_val,), val_ids : shape (L_val,), L_val = round(L * val_fraction)
    """
    fn = "train_val_split"
    ids = check_array(fn, "ids", ids, (None,), kind="int")
    f = float(val_fraction)
    if not 0.0 < f < 1.0:
        raise ValueError(f"{fn}: val_fraction must be in (0, 1), got {val_fraction!r}")
    n_val = int(round(len(ids) * f))
    if n_val < 1 or n_val >= len(ids):
        raise ValueError(
            f"{fn}: val_fraction={f} of {len(ids)} ids leaves an empty part; use a longer stream"
        )
    return ids[: len(ids) - n_val], ids[len(ids) - n_val :]


class CharCorpus(NamedTuple):
    """The shipped text as character ids."""

    text: str
    """The text (after ``max_chars``)."""
    vocab: Vocabulary
    """Its character vocabulary (sorted characters, no special tokens)."""
    train: np.ndarray
    """Training ids, shape (L_train,), int64."""
    val: np.ndarray
    """Validation ids (the end of the text), shape (L_val,), int64."""


def load_char_corpus(max_chars: int | None = None, val_fraction: float = 0.1) -> CharCorpus:
    """:func:`load_text`, its :func:`~rnn_core.data.char_vocabulary`, and a train/val split.

    Notebook 01.
    """
    text = load_text(max_chars)
    vocab = char_vocabulary(text)
    train, val = train_val_split(vocab.encode(text), val_fraction)
    return CharCorpus(text, vocab, train, val)


def stream_rows(ids: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a stream into N parallel rows, inputs and next-character targets.

    Notebook 01, section 3.

    Parameters
    ----------
    ids : int array, shape (L,)
    batch_size : N

    Returns
    -------
    x : shape (N, R), ``x[i, t] = ids[i*R + t]`` with R = (L - 1) // N
    y : shape (N, R), ``y[i, t] = ids[i*R + t + 1]`` (the next character)
    """
    fn = "stream_rows"
    ids = check_array(fn, "ids", ids, (None,), kind="int")
    n = check_int(fn, "batch_size", batch_size, minimum=1)
    r = (len(ids) - 1) // n
    if r < 1:
        raise ValueError(f"{fn}: {len(ids)} ids are too few for batch_size={n}")
    x = ids[: n * r].reshape(n, r)
    y = ids[1 : n * r + 1].reshape(n, r)
    return x, y


def unigram_entropy(ids: np.ndarray, vocab_size: int | None = None) -> float:
    """Entropy of the character frequencies, in nats per character.

    Notebook 01, section 3.

    This is the loss of the best model that ignores context (it predicts each character with its
    frequency): a language model must get below it to have learnt anything about sequences.

    Parameters
    ----------
    ids : int array, shape (L,)
    vocab_size : V (optional; checks the ids are below it)

    Returns
    -------
    H : float, ``-sum_c p_c log p_c``
    """
    fn = "unigram_entropy"
    ids = check_array(fn, "ids", ids, (None,), kind="int")
    if len(ids) == 0:
        raise ValueError(f"{fn}: ids must not be empty")
    if ids.min() < 0:
        raise ValueError(f"{fn}: ids must be >= 0, got {int(ids.min())}")
    if vocab_size is not None:
        v = check_int(fn, "vocab_size", vocab_size, minimum=1)
        if ids.max() >= v:
            raise ValueError(f"{fn}: ids must be < vocab_size={v}, got {int(ids.max())}")
    counts = np.bincount(ids)
    p = counts[counts > 0] / len(ids)
    return float(-(p * np.log(p)).sum())
