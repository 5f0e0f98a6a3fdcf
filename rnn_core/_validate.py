"""Argument checks shared by every public function.

Each check raises a one-line error that names the argument and says what was expected, e.g.
``ValueError: rnn_step_forward: Wh must have shape (H, H) = (5, 5), got (5, 4)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

Dim = int | str | None
"""A dimension in an expected shape: an int (exact), a str (a named axis that must agree with
other arguments of the same call, e.g. ``"N"``), or None (anything)."""


class ShapeError(ValueError):
    """An argument has the wrong number of dimensions or the wrong size along one of them."""


def _fmt_shape(dims: Sequence[Dim], sizes: Mapping[str, int]) -> str:
    parts = []
    for d in dims:
        if isinstance(d, str):
            parts.append(f"{d}={sizes[d]}" if d in sizes else d)
        elif d is None:
            parts.append("*")
        else:
            parts.append(str(d))
    return "(" + ", ".join(parts) + ")"


def check_array(
    fn: str,
    name: str,
    value: object,
    dims: Sequence[Dim],
    sizes: dict[str, int] | None = None,
    *,
    kind: str = "float",
    finite: bool = True,
) -> np.ndarray:
    """Check one array argument and return it as an ndarray.

    Parameters
    ----------
    fn : name of the public function (for the message).
    name : name of the argument (for the message).
    value : the argument.
    dims : expected shape; a named axis (str) is bound in ``sizes`` when first seen and must
        agree after that.
    sizes : dict shared by the checks of one call; filled in as named axes are seen.
    kind : "float" (real floating dtype), "int" (integer dtype) or "any".
    finite : for float arrays, reject NaN and inf.
    """
    # Called for every argument of every step function, thousands of times per training run:
    # the checks below are ordered and written for speed (dtype.kind instead of np.issubdtype,
    # the method .all() instead of np.all), with the same verdicts and messages.
    if sizes is None:
        sizes = {}
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{fn}: {name} must be a numpy array of shape {_fmt_shape(dims, sizes)}, "
            f"got {type(value).__name__}"
        )
    a = value
    dkind = a.dtype.kind
    if kind == "float" and dkind != "f":  # "f": the real floating dtypes, as np.floating
        raise TypeError(f"{fn}: {name} must be a floating-point array, got dtype {a.dtype}")
    if kind == "int" and dkind not in "iu" and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(
            f"{fn}: {name} must be an integer array (token ids), got dtype {a.dtype}"
        )
    shape = a.shape
    if len(shape) != len(dims):
        raise ShapeError(
            f"{fn}: {name} must have {len(dims)} dimensions {_fmt_shape(dims, sizes)}, "
            f"got shape {shape}"
        )
    for axis, d in enumerate(dims):
        if d is None:
            continue
        n = shape[axis]
        if d.__class__ is str:
            bound = sizes.get(d)
            if bound is None:
                sizes[d] = n
            elif bound != n:
                raise ShapeError(
                    f"{fn}: {name} must have shape {_fmt_shape(dims, sizes)}, got {shape} "
                    f"(axis {axis} is {d}, which other arguments set to {bound})"
                )
        elif n != d:
            raise ShapeError(
                f"{fn}: {name} must have shape {_fmt_shape(dims, sizes)}, got {shape}"
            )
    if finite and dkind == "f" and kind == "float" and not np.isfinite(a).all():
        bad = "NaN" if np.isnan(a).any() else "inf"
        raise ValueError(f"{fn}: {name} contains {bad}; every entry must be finite")
    return a


def check_mask(
    fn: str, mask: object, dims: Sequence[Dim] = ("N", "T"), sizes: dict[str, int] | None = None
) -> np.ndarray:
    """The one mask rule: a bool array, or 0/1 values (int or float), returned as bool.

    A mask says which steps count (a loss, a state update, a chunk of truncated BPTT); True keeps
    a step. Anything but 0 and 1 (e.g. 0.5, a weight) is refused rather than rounded.
    """
    m = check_array(fn, "mask", mask, dims, sizes, kind="any", finite=False)
    if m.dtype == np.bool_:
        return m
    numeric = np.issubdtype(m.dtype, np.integer) or np.issubdtype(m.dtype, np.floating)
    if numeric and np.all((m == 0) | (m == 1)):
        return m.astype(bool)
    raise TypeError(f"{fn}: mask must be a bool array (or 0/1 values), got dtype {m.dtype}"
                    + ("" if not numeric else " with values other than 0 and 1"))


def check_positive(fn: str, name: str, value: float, *, allow_zero: bool = False) -> float:
    """Check a positive real scalar (a threshold, a learning rate, a scale)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        want = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ValueError(f"{fn}: {name} must be {want}, got {value!r}")
    return v


def check_int(fn: str, name: str, value: object, *, minimum: int | None = None) -> int:
    """Check an integer scalar (a length, a count, a chunk size)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{fn}: {name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {v}")
    return v


def as_generator(rng: np.random.Generator | int | None, fn: str = "rng") -> np.random.Generator:
    """Return a Generator from a Generator or an int seed; None is refused (explicit randomness)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{fn}: rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}"
    )
