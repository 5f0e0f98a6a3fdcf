"""Date-format pairs for sequence-to-sequence: a date written by a human -> a standard form.

The standard (target) form is ISO 8601 by default, ``target="iso"``: ``"27 November 2026" ->
"2026-11-27"``, ``"Nov 27, 2026" -> "2026-11-27"``, ... (always 10 characters). With
``target="long"`` it is the long form ``"27 November 2026"`` (day without a leading zero, full
month name): ``"2026-11-27" -> "27 November 2026"``, ``"01/05/2026" -> "1 May 2026"``, whose
length varies from 10 to 17 characters, so a decoder must decide where to stop.

The truth comes from :mod:`datetime` (weekdays are always right). Month and weekday names are
English and written by this module, not by ``strftime``, so the output does not depend on the
locale. Numeric formats are day-first (27/11/2026) or ISO year-first (2026-11-27), never
month-first, so no input is ambiguous.

Vocabularies are character-level and fixed (they do not depend on the sample):
``<NULL>`` (id 0), ``<START>``, ``<END>``, then the characters sorted by code point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from rnn_core._validate import as_generator, check_int
from rnn_core.data.vocab import END, NULL, START, Vocabulary

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _ordinal(d: int) -> str:
    suffix = "th" if 11 <= d % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return f"{d}{suffix}"


def _mon(d: dt.date) -> str:
    return MONTHS[d.month - 1][:3]


def _month(d: dt.date) -> str:
    return MONTHS[d.month - 1]


def _wd(d: dt.date) -> str:
    return WEEKDAYS[d.weekday()]


DATE_FORMATS: dict[str, Callable[[dt.date], str]] = {
    "27 November 2026": lambda d: f"{d.day} {_month(d)} {d.year}",
    "November 27, 2026": lambda d: f"{_month(d)} {d.day}, {d.year}",
    "Nov 27, 2026": lambda d: f"{_mon(d)} {d.day}, {d.year}",
    "27 Nov 2026": lambda d: f"{d.day} {_mon(d)} {d.year}",
    "2026 Nov 27": lambda d: f"{d.year} {_mon(d)} {d.day}",
    "27/11/2026": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "27.11.2026": lambda d: f"{d.day}.{d.month}.{d.year}",
    "27-11-2026": lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",
    "27th of november 2026": lambda d: f"{_ordinal(d.day)} of {_month(d).lower()} {d.year}",
    "friday 27 nov 2026": lambda d: f"{_wd(d).lower()} {d.day} {_mon(d).lower()} {d.year}",
    "Friday, November 27, 2026": lambda d: f"{_wd(d)}, {_month(d)} {d.day}, {d.year}",
    "Fri 27 Nov 2026": lambda d: f"{_wd(d)[:3]} {d.day} {_mon(d)} {d.year}",
    "NOV 27 2026": lambda d: f"{_mon(d).upper()} {d.day} {d.year}",
    "2026-11-27": lambda d: d.isoformat(),
}
"""The human formats, each named by how it writes 2026-11-27, in a fixed order."""

FORMAT_NAMES = tuple(DATE_FORMATS)

_TARGETS: dict[str, Callable[[dt.date], str]] = {
    "iso": lambda d: d.isoformat(),
    "long": DATE_FORMATS["27 November 2026"],
}
TARGET_NAMES = tuple(_TARGETS)
"""The target forms: ``"iso"`` (``2026-11-27``) and ``"long"`` (``27 November 2026``)."""

_TARGET_CHARS = {
    "iso": "-0123456789",
    "long": "".join(sorted(set(" 0123456789" + "".join(MONTHS)))),
}


def _check_target(fn: str, target: str) -> str:
    if target not in _TARGETS:
        raise ValueError(f"{fn}: target must be one of {list(TARGET_NAMES)}, got {target!r}")
    return target


def _max_length(f: Callable[[dt.date], str]) -> int:
    return max(len(f(dt.date(2000, 1, 1) + dt.timedelta(days=k))) for k in range(366))

_SOURCE_CHARS = "".join(
    sorted(
        set("0123456789 ,./-")
        | set("".join(MONTHS) + "".join(WEEKDAYS))
        | set("".join(MONTHS).lower() + "".join(WEEKDAYS).lower() + "thndrsof")
        | set("".join(MONTHS).upper())
    )
)


def date_vocabularies(target: str = "iso") -> tuple[Vocabulary, Vocabulary]:
    """Source and target character vocabularies: ``<NULL>``, ``<START>``, ``<END>``, then sorted
    characters (source: digits, letters, space and ``,./-``; target ``"iso"``: digits and ``-``;
    target ``"long"``: space, digits and the letters of the month names)."""
    target = _check_target("date_vocabularies", target)
    specials = [NULL, START, END]
    return (
        Vocabulary(specials + list(_SOURCE_CHARS)),
        Vocabulary(specials + list(_TARGET_CHARS[target])),
    )


def format_date(date: dt.date, fmt: str) -> str:
    """Write ``date`` in one of the :data:`DATE_FORMATS` (named by its example)."""
    if fmt not in DATE_FORMATS:
        raise ValueError(f"format_date: fmt must be one of {list(DATE_FORMATS)}, got {fmt!r}")
    if not isinstance(date, dt.date):
        raise TypeError(f"format_date: date must be a datetime.date, got {type(date).__name__}")
    return DATE_FORMATS[fmt](date)


class DatePairs(NamedTuple):
    """Human-written dates and their standard forms, as strings and as padded id arrays."""

    sources: list[str]
    """N human-written dates."""
    targets: list[str]
    """N dates in the target form: ISO ``YYYY-MM-DD`` or long ``27 November 2026``."""
    dates: list[dt.date]
    """The N dates."""
    formats: list[str]
    """The format name of each source."""
    x: np.ndarray
    """Source ids, int64, shape (N, Ts): ``<START>`` chars ``<END>``, padded with ``<NULL>``
    (on the left by default, so an encoder ends on ``<END>``)."""
    y: np.ndarray
    """Target ids, int64, shape (N, Tt) with Tt = :data:`TARGET_LENGTH` of the target form
    (12 for ISO, 19 for long): ``<START>`` chars ``<END>``, right-padded with ``<NULL>``; decoder
    input ``y[:, :-1]``, decoder target ``y[:, 1:]``."""
    source_vocab: Vocabulary
    target_vocab: Vocabulary


class DateSplit(NamedTuple):
    """Train and test pairs; no date of the test set appears in the training set."""

    train: DatePairs
    test: DatePairs


SOURCE_LENGTH = 2 + max(
    len(f(dt.date(2000, 1, 1) + dt.timedelta(days=k))) for f in DATE_FORMATS.values()
    for k in range(366)
)
"""Padded source length Ts: the longest source of any date in a leap year (e.g.
``Wednesday, September 27, 2000``) plus ``<START>`` and ``<END>``."""

TARGET_LENGTH = {name: 2 + _max_length(f) for name, f in _TARGETS.items()}
"""Padded target length Tt of each target form: 12 for ``"iso"`` (10 characters), 19 for
``"long"`` (at most 17 characters, ``27 September 2026``), plus ``<START>`` and ``<END>``."""


def _pairs(
    dates: list[dt.date], formats: list[str], source_pad: str, target: str
) -> DatePairs:
    src_vocab, tgt_vocab = date_vocabularies(target)
    sources = [DATE_FORMATS[f](d) for d, f in zip(dates, formats, strict=True)]
    targets = [_TARGETS[target](d) for d in dates]
    x = src_vocab.encode_batch(sources, length=SOURCE_LENGTH, pad=source_pad)
    y = tgt_vocab.encode_batch(targets, length=TARGET_LENGTH[target])
    return DatePairs(sources, targets, dates, formats, x, y, src_vocab, tgt_vocab)


def date_pairs(
    n_train: int,
    n_test: int,
    rng: np.random.Generator | int,
    *,
    start: dt.date = dt.date(1950, 1, 1),
    end: dt.date = dt.date(2049, 12, 31),
    formats: tuple[str, ...] = FORMAT_NAMES,
    source_pad: str = "left",
    target: str = "iso",
) -> DateSplit:
    """Random distinct dates in [start, end], each written in a random format, split by date.

    Notebook 04, section 1.

    Parameters
    ----------
    n_train, n_test : number of pairs in each part (all dates distinct)
    rng : Generator or int seed
    start, end : the date range (inclusive)
    formats : names from :data:`DATE_FORMATS` to draw from, uniformly
    source_pad : "left" (default; an encoder's last step is ``<END>``) or "right"
    target : the form of the targets: "iso" (default; ``2026-11-27``, always 10 characters) or
        "long" (``27 November 2026``, 10 to 17 characters, e.g. ``1 May 2026``)

    Returns
    -------
    DateSplit : ``train`` and ``test`` :class:`DatePairs`; no test date is a training date.
    """
    fn = "date_pairs"
    n_train = check_int(fn, "n_train", n_train, minimum=1)
    n_test = check_int(fn, "n_test", n_test, minimum=0)
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise TypeError(f"{fn}: start and end must be datetime.date")
    span = (end - start).days + 1
    if span < n_train + n_test:
        raise ValueError(
            f"{fn}: the range {start}..{end} has {max(span, 0)} dates, fewer than "
            f"n_train + n_test = {n_train + n_test}"
        )
    if isinstance(formats, str) or not formats:
        raise ValueError(f"{fn}: formats must be a non-empty tuple of format names")
    for f in formats:
        if f not in DATE_FORMATS:
            raise ValueError(f"{fn}: unknown format {f!r}; choose from {list(DATE_FORMATS)}")
    if source_pad not in ("left", "right"):
        raise ValueError(f"{fn}: source_pad must be 'left' or 'right', got {source_pad!r}")
    target = _check_target(fn, target)
    g = as_generator(rng, fn)
    offsets = g.choice(span, size=n_train + n_test, replace=False)
    fmt_ids = g.integers(0, len(formats), size=n_train + n_test)
    dates = [start + dt.timedelta(days=int(o)) for o in offsets]
    fmts = [formats[i] for i in fmt_ids]
    return DateSplit(
        _pairs(dates[:n_train], fmts[:n_train], source_pad, target),
        _pairs(dates[n_train:], fmts[n_train:], source_pad, target),
    )
