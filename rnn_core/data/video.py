"""A "video" of a moving dot, for many-to-one classification: frames in, direction class out.

Each video has T frames of size S x S (flattened to D = S*S per step). A soft dot (a Gaussian blob)
starts at a random sub-pixel position and moves ``speed`` pixels per frame in one of 4 or 8
directions, staying inside the frame; Gaussian pixel noise is added. The label is the direction.
Positions are (row, col) with row 0 at the top, so "up" decreases the row.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnn_core._validate import as_generator, check_int, check_positive

DIRECTION_NAMES = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")
"""Names of the 8 direction classes, counter-clockwise from "right" (class k is at angle 45k deg).
With 4 directions the classes are right, up, left, down (every other name)."""

_STEPS8 = np.array(  # (d_row, d_col) per class, counter-clockwise from right
    [(0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1)], dtype=np.float64
)


def direction_names(num_directions: int = 4) -> tuple[str, ...]:
    """Class names for 4 or 8 directions, in class order."""
    if num_directions not in (4, 8):
        raise ValueError(f"direction_names: num_directions must be 4 or 8, got {num_directions!r}")
    return DIRECTION_NAMES if num_directions == 8 else DIRECTION_NAMES[::2]


def direction_steps(num_directions: int = 4) -> np.ndarray:
    """The (d_row, d_col) step of each class, shape (num_directions, 2); entries in {-1, 0, 1}."""
    direction_names(num_directions)
    return _STEPS8.copy() if num_directions == 8 else _STEPS8[::2].copy()


class DotVideos(NamedTuple):
    """Videos of a moving dot and their direction labels."""

    x: np.ndarray
    """Frames, float64, shape (N, T, D) with D = size * size (row-major)."""
    y: np.ndarray
    """Direction class, int64, shape (N,)."""
    positions: np.ndarray
    """Dot centre (row, col) in pixels, float64, shape (N, T, 2), before noise."""
    names: tuple[str, ...]
    """Class names, ``names[y[i]]``."""


def moving_dot(
    n: int,
    rng: np.random.Generator | int,
    *,
    T: int = 6,
    size: int = 8,
    num_directions: int = 4,
    speed: float = 1.0,
    noise: float = 0.1,
    blob_sigma: float = 0.7,
) -> DotVideos:
    """Generate N videos of a dot moving in a straight line.

    Notebook 02, section 1.

    Parameters
    ----------
    n : N, number of videos
    rng : Generator or int seed
    T : frames per video
    size : S, frames are S x S pixels (D = S*S)
    num_directions : 4 (right, up, left, down) or 8 (with diagonals)
    speed : pixels per frame along each moving axis (diagonal steps move by ``speed`` in both)
    noise : standard deviation of the Gaussian pixel noise (the dot's peak is 1)
    blob_sigma : width of the Gaussian dot, in pixels

    Returns
    -------
    DotVideos : ``x`` (N, T, S*S) float64, ``y`` (N,) int64, ``positions`` (N, T, 2), ``names``.
    The dot centre stays within [0.5, S - 1.5] on both axes.
    """
    fn = "moving_dot"
    n = check_int(fn, "n", n, minimum=1)
    T = check_int(fn, "T", T, minimum=2)
    size = check_int(fn, "size", size, minimum=4)
    names = direction_names(num_directions)
    speed = check_positive(fn, "speed", speed)
    noise = check_positive(fn, "noise", noise, allow_zero=True)
    blob_sigma = check_positive(fn, "blob_sigma", blob_sigma)
    lo, hi = 0.5, size - 1.5
    travel = (T - 1) * speed
    if travel > hi - lo:
        raise ValueError(
            f"{fn}: the dot travels (T - 1) * speed = {travel:g} pixels but a {size}x{size} frame "
            f"has room for {hi - lo:g}; use fewer frames, a lower speed or a larger size"
        )
    g = as_generator(rng, fn)
    y = g.integers(0, len(names), size=n)
    step = direction_steps(num_directions)[y] * speed  # (N, 2)
    # start so that start + t*step stays in [lo, hi] for t in 0..T-1, along each axis
    start_lo = lo - np.minimum(step, 0) * (T - 1)
    start_hi = hi - np.maximum(step, 0) * (T - 1)
    start = start_lo + g.random((n, 2)) * (start_hi - start_lo)
    pos = start[:, None, :] + np.arange(T)[None, :, None] * step[:, None, :]  # (N, T, 2)
    grid = np.arange(size, dtype=np.float64)
    gr = np.exp(-((grid - pos[..., 0:1]) ** 2) / (2 * blob_sigma**2))  # (N, T, S) over rows
    gc = np.exp(-((grid - pos[..., 1:2]) ** 2) / (2 * blob_sigma**2))  # (N, T, S) over cols
    frames = gr[..., :, None] * gc[..., None, :]  # (N, T, S, S)
    if noise > 0:
        frames = frames + noise * g.standard_normal(frames.shape)
    x = frames.reshape(n, T, size * size)
    return DotVideos(x, y.astype(np.int64), pos, names)
