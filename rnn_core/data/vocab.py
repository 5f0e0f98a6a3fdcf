"""Vocabularies: a fixed, documented order of tokens and the maps token <-> integer id.

The order never comes from iterating over a ``set`` (whose order changes with ``PYTHONHASHSEED``):
the special tokens come first, in the order given, then the other tokens sorted by code point.
So the same data gives the same ids on every machine and in every run.

Special tokens:

- ``<NULL>`` (id 0 when present): padding; ``temporal_softmax_loss`` masks it out.
- ``<START>``: the first input of a decoder (captions, seq2seq targets).
- ``<END>``: the last token of a sequence; decoding stops there.
- ``<UNK>``: stands for any token not in the vocabulary, when the vocabulary has one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

NULL = "<NULL>"
START = "<START>"
END = "<END>"
UNK = "<UNK>"
SPECIALS = (NULL, START, END, UNK)
"""All four special tokens, in their standard order (``<NULL>`` is id 0)."""


class UnknownTokenError(ValueError):
    """A token is not in the vocabulary and the vocabulary has no ``<UNK>`` token."""


class Vocabulary:
    """An ordered list of distinct tokens; the id of a token is its position in the list.

    Parameters
    ----------
    tokens : sequence of str
        The tokens in id order. Must be distinct and non-empty strings.
    unk : str or None
        The token that unknown tokens are mapped to by :meth:`encode`. Default: ``"<UNK>"`` if it
        is among ``tokens``, else None (unknown tokens raise :class:`UnknownTokenError`).

    Examples
    --------
    >>> v = Vocabulary(["<NULL>", "a", "b"])
    >>> v.encode("ab").tolist()
    [1, 2]
    >>> v.decode_string([2, 1])
    'ba'
    """

    def __init__(self, tokens: Sequence[str], *, unk: str | None = None) -> None:
        fn = "Vocabulary"
        if isinstance(tokens, str) or not isinstance(tokens, Sequence):
            raise TypeError(
                f"{fn}: tokens must be a list or tuple of str, got {type(tokens).__name__}"
            )
        toks = tuple(tokens)
        if not toks:
            raise ValueError(f"{fn}: tokens must not be empty")
        for i, t in enumerate(toks):
            if not isinstance(t, str) or t == "":
                raise TypeError(f"{fn}: tokens[{i}] must be a non-empty str, got {t!r}")
        index: dict[str, int] = {}
        for i, t in enumerate(toks):
            if t in index:
                raise ValueError(
                    f"{fn}: tokens must be distinct, {t!r} appears at {index[t]} and {i}"
                )
            index[t] = i
        if unk is None and UNK in index:
            unk = UNK
        if unk is not None and unk not in index:
            raise ValueError(f"{fn}: unk={unk!r} is not one of the tokens")
        self._tokens = toks
        self._index = index
        self._unk = unk

    # ----------------------------------------------------------------- lookup
    @property
    def tokens(self) -> tuple[str, ...]:
        """The tokens in id order."""
        return self._tokens

    @property
    def size(self) -> int:
        """Number of tokens V."""
        return len(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self._tokens == other._tokens and self._unk == other._unk

    def __hash__(self) -> int:
        return hash((self._tokens, self._unk))

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self._tokens[:8])
        more = ", ..." if len(self._tokens) > 8 else ""
        return f"Vocabulary(V={len(self._tokens)}: [{head}{more}])"

    def id(self, token: str) -> int:
        """The id of one token (``<UNK>``'s id for an unknown token if the vocabulary has one)."""
        if token in self._index:
            return self._index[token]
        if self._unk is not None:
            return self._index[self._unk]
        raise UnknownTokenError(
            f"Vocabulary.id: token {token!r} is not in the vocabulary ({len(self)} tokens) "
            "and it has no <UNK> token"
        )

    def token(self, i: int) -> str:
        """The token with id ``i``."""
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise TypeError(f"Vocabulary.token: id must be an integer, got {type(i).__name__}")
        if not 0 <= int(i) < len(self._tokens):
            raise ValueError(f"Vocabulary.token: id must be in [0, {len(self)}), got {int(i)}")
        return self._tokens[int(i)]

    def _special_id(self, fn: str, tok: str) -> int:
        if tok not in self._index:
            raise ValueError(f"{fn}: the vocabulary has no {tok} token")
        return self._index[tok]

    @property
    def null_id(self) -> int:
        """Id of ``<NULL>`` (padding)."""
        return self._special_id("Vocabulary.null_id", NULL)

    @property
    def start_id(self) -> int:
        """Id of ``<START>``."""
        return self._special_id("Vocabulary.start_id", START)

    @property
    def end_id(self) -> int:
        """Id of ``<END>``."""
        return self._special_id("Vocabulary.end_id", END)

    @property
    def unk_id(self) -> int:
        """Id of the unknown-token stand-in."""
        if self._unk is None:
            raise ValueError("Vocabulary.unk_id: the vocabulary has no <UNK> token")
        return self._index[self._unk]

    # --------------------------------------------------------- encode/decode
    def encode(self, tokens: str | Iterable[str]) -> np.ndarray:
        """Map tokens to ids.

        Parameters
        ----------
        tokens : str or iterable of str
            A str is read as a sequence of characters (for character vocabularies); for a word
            vocabulary pass a list of words.

        Returns
        -------
        ids : ndarray of int64, shape (L,)
        """
        toks = list(tokens)
        out = np.empty(len(toks), dtype=np.int64)
        index = self._index
        unk_id = index[self._unk] if self._unk is not None else -1
        for i, t in enumerate(toks):
            j = index.get(t, unk_id)
            if j < 0:
                raise UnknownTokenError(
                    f"Vocabulary.encode: token {t!r} at position {i} is not in the vocabulary "
                    f"({len(self)} tokens) and it has no <UNK> token"
                )
            out[i] = j
        return out

    def decode(
        self, ids: Iterable[int] | np.ndarray, *, stop_at_end: bool = False,
        skip_special: bool = False,
    ) -> list[str]:
        """Map ids back to tokens.

        Parameters
        ----------
        ids : iterable of int or int ndarray, shape (L,)
        stop_at_end : stop before the first ``<END>``.
        skip_special : drop ``<NULL>``, ``<START>``, ``<END>`` (``<UNK>`` is kept).

        Returns
        -------
        tokens : list of str
        """
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValueError(f"Vocabulary.decode: ids must be 1-D (L,), got shape {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(
                f"Vocabulary.decode: ids must be integers (token ids), got dtype {arr.dtype}"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= len(self._tokens)):
            bad = int(arr[(arr < 0) | (arr >= len(self._tokens))][0])
            raise ValueError(f"Vocabulary.decode: ids must be in [0, {len(self)}), got {bad}")
        out: list[str] = []
        for i in arr.tolist():
            t = self._tokens[i]
            if stop_at_end and t == END:
                break
            if skip_special and t in (NULL, START, END):
                continue
            out.append(t)
        return out

    def decode_string(
        self, ids: Iterable[int] | np.ndarray, sep: str = "", *, stop_at_end: bool = True,
        skip_special: bool = True,
    ) -> str:
        """Ids -> one string: the tokens joined with ``sep`` ("" for characters, " " for words).

        By default stops at ``<END>`` and drops the other special tokens.
        """
        return sep.join(self.decode(ids, stop_at_end=stop_at_end, skip_special=skip_special))

    def encode_batch(
        self,
        sequences: Sequence[str | Sequence[str]],
        length: int | None = None,
        *,
        start: bool = True,
        end: bool = True,
        pad: str = "right",
    ) -> np.ndarray:
        """Encode several sequences into one array padded with ``<NULL>``.

        Parameters
        ----------
        sequences : sequence of N token sequences (str = characters, or list of str)
        length : total length L of each row, after adding ``<START>``/``<END>``; default: the
            longest. A sequence that does not fit raises ValueError.
        start, end : put ``<START>`` first / ``<END>`` last in each row.
        pad : "right" (tokens then ``<NULL>``s) or "left" (``<NULL>``s then tokens, so that an
            encoder's last step sees the last token).

        Returns
        -------
        ids : ndarray of int64, shape (N, L)
        """
        fn = "Vocabulary.encode_batch"
        if pad not in ("right", "left"):
            raise ValueError(f"{fn}: pad must be 'right' or 'left', got {pad!r}")
        null = self._special_id(fn, NULL)
        head = [self._special_id(fn, START)] if start else []
        tail = [self._special_id(fn, END)] if end else []
        rows = [head + self.encode(s).tolist() + tail for s in sequences]
        longest = max((len(r) for r in rows), default=0)
        if length is None:
            length = longest
        elif isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"{fn}: length must be a positive int or None, got {length!r}")
        elif longest > length:
            raise ValueError(
                f"{fn}: length={length} is too short; the longest sequence needs {longest}"
            )
        out = np.full((len(rows), length), null, dtype=np.int64)
        for i, r in enumerate(rows):
            if pad == "right":
                out[i, : len(r)] = r
            elif r:
                out[i, length - len(r) :] = r
        return out


def _check_specials(fn: str, specials: Sequence[str]) -> tuple[str, ...]:
    if isinstance(specials, str):
        raise TypeError(f"{fn}: specials must be a list or tuple of str, not a str")
    return tuple(specials)


def char_vocabulary(text: str, specials: Sequence[str] = ()) -> Vocabulary:
    """Character vocabulary of ``text``: ``specials`` first (in the order given), then every
    distinct character of ``text`` sorted by code point.

    Parameters
    ----------
    text : str
    specials : e.g. ``()`` for a language model or ``(NULL, START, END)`` for seq2seq.

    Returns
    -------
    Vocabulary
    """
    fn = "char_vocabulary"
    if not isinstance(text, str):
        raise TypeError(f"{fn}: text must be a str, got {type(text).__name__}")
    sp = _check_specials(fn, specials)
    chars = sorted(set(text) - set(sp))
    if not sp and not chars:
        raise ValueError(f"{fn}: text is empty and no specials were given")
    return Vocabulary(list(sp) + chars)


def word_vocabulary(
    sentences: Iterable[str | Sequence[str]],
    specials: Sequence[str] = SPECIALS,
    *,
    min_count: int = 1,
) -> Vocabulary:
    """Word vocabulary: ``specials`` first, then every word seen at least ``min_count`` times,
    sorted alphabetically (by code point).

    Parameters
    ----------
    sentences : iterable of sentences; a sentence is a str (split on whitespace) or a list of words.
    specials : default ``("<NULL>", "<START>", "<END>", "<UNK>")``.
    min_count : rarer words are left out (they encode to ``<UNK>`` if it is a special).

    Returns
    -------
    Vocabulary
    """
    fn = "word_vocabulary"
    sp = _check_specials(fn, specials)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"{fn}: min_count must be an int >= 1, got {min_count!r}")
    counts: Counter[str] = Counter()
    for s in sentences:
        counts.update(s.split() if isinstance(s, str) else s)
    words = sorted(w for w, c in counts.items() if c >= min_count and w not in sp)
    if not sp and not words:
        raise ValueError(f"{fn}: no words and no specials")
    return Vocabulary(list(sp) + words)
