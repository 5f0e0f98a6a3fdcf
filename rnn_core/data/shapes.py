"""Small synthetic images of coloured shapes, their captions, and a hand-made convolutional feature
extractor: the data of the one-to-many (captioning) model.

An image (default 24 x 24 x 3, black background) shows either one shape in the middle
("a red circle"), or two shapes side by side ("a red circle left of a blue square") or one above
the other ("a green triangle above a yellow circle"). The caption always names the left (or top)
shape first, so it is a function of the image. Shapes are 7 x 7 pixels: circle, square, triangle;
colours: red, green, blue, yellow; positions are jittered by up to ``jitter`` pixels.

:func:`extract_features` maps images to feature vectors (N, F): a fixed convolutional network
with hand-designed filters (no training) -- 1x1 colour-opponent filters with ReLU, a soft
occupancy map, 7x7 matched filters for the three shapes, then pooling to a 3 x 3 grid. Colour,
shape and position are linearly readable from the features (the tests check it with least squares).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from rnn_core._validate import as_generator, check_array, check_int, check_positive
from rnn_core.data.vocab import END, NULL, START, Vocabulary, word_vocabulary

COLOURS = ("red", "green", "blue", "yellow")
"""Colour names; class ids are positions in this tuple."""
SHAPES = ("circle", "square", "triangle")
"""Shape names; class ids are positions in this tuple."""
LAYOUTS = ("single", "left of", "above")
"""Layout 0: one shape in the middle; 1: two shapes side by side; 2: one above the other."""

RGB = np.array(
    [[0.9, 0.1, 0.1], [0.1, 0.8, 0.1], [0.15, 0.25, 0.95], [0.95, 0.85, 0.1]], dtype=np.float64
)
"""Nominal RGB of each colour (each shape's brightness is scaled by a factor in [0.8, 1])."""

SHAPE_HALF = 3
"""Shapes fit in a (2*3+1) = 7-pixel square around their centre."""

MAX_CAPTION_TOKENS = 10
"""``<START> a c s left of a c s <END>``: the longest encoded caption."""


def _shape_masks(kind: np.ndarray, dr: np.ndarray, dc: np.ndarray) -> np.ndarray:
    """Boolean masks of shapes of class ``kind`` at offsets (dr, dc) from their centres.

    ``kind`` broadcasts against ``dr`` and ``dc`` (integer offsets, any shape).
    """
    h = SHAPE_HALF
    inside_box = (np.abs(dr) <= h) & (np.abs(dc) <= h)
    circle = dr**2 + dc**2 <= (h + 0.2) ** 2
    square = inside_box
    # upward triangle: apex at row -h, base (width 2h+1) at row +h
    triangle = inside_box & (2 * np.abs(dc) <= dr + h)
    return np.where(kind == 0, circle, np.where(kind == 1, square, triangle))


def shape_template(kind: int) -> np.ndarray:
    """The 7 x 7 boolean mask of a shape class (0 circle, 1 square, 2 triangle)."""
    if kind not in (0, 1, 2):
        raise ValueError(f"shape_template: kind must be 0, 1 or 2, got {kind!r}")
    d = np.arange(-SHAPE_HALF, SHAPE_HALF + 1)
    return _shape_masks(np.array(kind), d[:, None], d[None, :])


def caption_vocabulary() -> Vocabulary:
    """Caption words: ``<NULL>`` (id 0), ``<START>``, ``<END>``, then the words sorted."""
    words = ["a", "left", "of", "above", *COLOURS, *SHAPES]
    return word_vocabulary([words], specials=(NULL, START, END))


def caption_text(layout: int, colours: tuple[int, int], shapes: tuple[int, int]) -> str:
    """The caption of one image: ``"a red circle"`` or ``"a red circle left of a blue square"``."""
    first = f"a {COLOURS[colours[0]]} {SHAPES[shapes[0]]}"
    if layout == 0:
        return first
    return f"{first} {LAYOUTS[layout]} a {COLOURS[colours[1]]} {SHAPES[shapes[1]]}"


class ShapeImages(NamedTuple):
    """Images of coloured shapes with their captions and the attributes they were drawn from."""

    images: np.ndarray
    """float64 in [0, 1], shape (N, H, W, 3)."""
    captions: list[str]
    """N caption strings."""
    tokens: np.ndarray
    """Encoded captions, int64, shape (N, 10): ``<START>`` words ``<END>``, then ``<NULL>``."""
    vocab: Vocabulary
    """:func:`caption_vocabulary`."""
    layout: np.ndarray
    """int64 (N,): index into :data:`LAYOUTS`."""
    colour: np.ndarray
    """int64 (N, 2): colour of the first (left/top) and second shape; -1 where absent."""
    shape: np.ndarray
    """int64 (N, 2): shape class of the first and second shape; -1 where absent."""
    centre: np.ndarray
    """int64 (N, 2, 2): (row, col) centre of each shape; -1 where absent."""


def shape_images(
    n: int,
    rng: np.random.Generator | int,
    *,
    size: int = 24,
    jitter: int = 1,
    p_single: float = 0.2,
    noise: float = 0.02,
) -> ShapeImages:
    """Generate N captioned images.

    Notebook 03, section 1.

    Parameters
    ----------
    n : N, number of images
    rng : Generator or int seed
    size : H = W, a multiple of 3, at least 21
    jitter : each centre moves by up to this many pixels along each axis (0, 1 or 2)
    p_single : probability of a one-shape image; the two relations share the rest equally
    noise : standard deviation of Gaussian pixel noise (the result is clipped to [0, 1])

    Returns
    -------
    ShapeImages
    """
    fn = "shape_images"
    n = check_int(fn, "n", n, minimum=1)
    size = check_int(fn, "size", size, minimum=21)
    if size % 3:
        raise ValueError(f"{fn}: size must be a multiple of 3 (3 x 3 pooling grid), got {size}")
    jitter = check_int(fn, "jitter", jitter, minimum=0)
    if jitter > 2:
        raise ValueError(f"{fn}: jitter must be 0, 1 or 2, got {jitter}")
    p_single = check_positive(fn, "p_single", p_single, allow_zero=True)
    if p_single > 1:
        raise ValueError(f"{fn}: p_single must be in [0, 1], got {p_single}")
    noise = check_positive(fn, "noise", noise, allow_zero=True)
    g = as_generator(rng, fn)

    p_pair = (1 - p_single) / 2
    layout = g.choice(3, size=n, p=[p_single, p_pair, p_pair])
    colour = g.integers(0, len(COLOURS), size=(n, 2))
    shape = g.integers(0, len(SHAPES), size=(n, 2))
    bright = g.uniform(0.8, 1.0, size=(n, 2))
    jit = g.integers(-jitter, jitter + 1, size=(n, 2, 2))

    cell = size // 3
    near, mid, far = cell // 2, size // 2, size - 1 - cell // 2  # centres of the grid cells
    base = np.array(
        [
            [[mid, mid], [-1, -1]],  # single
            [[mid, near], [mid, far]],  # left of
            [[near, mid], [far, mid]],  # above
        ]
    )
    centre = base[layout] + jit
    present = np.stack([np.ones(n, bool), layout > 0], axis=1)  # (N, 2)
    centre[~present] = -1
    colour[~present] = -1
    shape[~present] = -1

    rows = np.arange(size)
    images = np.zeros((n, size, size, 3))
    for k in range(2):
        on = present[:, k]
        if not on.any():
            continue
        dr = rows[None, :, None] - centre[on, k, 0][:, None, None]
        dc = rows[None, None, :] - centre[on, k, 1][:, None, None]
        mask = _shape_masks(shape[on, k][:, None, None], dr, dc)  # (n_on, H, W)
        rgb = RGB[colour[on, k]] * bright[on, k][:, None]  # (n_on, 3)
        images[on] += mask[..., None] * rgb[:, None, None, :]
    if noise > 0:
        images = np.clip(images + noise * g.standard_normal(images.shape), 0.0, 1.0)

    captions = [
        caption_text(int(layout[i]), tuple(colour[i]), tuple(shape[i])) for i in range(n)
    ]
    vocab = caption_vocabulary()
    tokens = vocab.encode_batch([c.split() for c in captions], length=MAX_CAPTION_TOKENS)
    return ShapeImages(
        images, captions, tokens, vocab, layout.astype(np.int64), colour.astype(np.int64),
        shape.astype(np.int64), centre.astype(np.int64),
    )


# ----------------------------------------------------------------- feature extractor
def conv2d(images: np.ndarray, filters: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """2-D convolution (cross-correlation, as in deep-learning libraries): "same" size, zero
    padding.

    Parameters
    ----------
    images : float, shape (N, H, W, C)
    filters : float, shape (kh, kw, C, F), kh and kw odd
    bias : float, shape (F,), optional

    Returns
    -------
    out : shape (N, H, W, F), ``out[n, i, j, f] = sum_{a, b, c} x[n, i+a-kh//2, j+b-kw//2, c]
    * filters[a, b, c, f] + bias[f]``
    """
    fn = "conv2d"
    sizes: dict[str, int] = {}
    x = check_array(fn, "images", images, ("N", "H", "W", "C"), sizes)
    w = check_array(fn, "filters", filters, (None, None, "C", "F"), sizes)
    kh, kw = w.shape[:2]
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"{fn}: filters must have odd height and width, got {kh}x{kw}")
    n, h, wd, c = x.shape
    f = w.shape[3]
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))  # view (N, H, W, C, kh, kw)
    wmat = w.transpose(2, 0, 1, 3).reshape(c * kh * kw, f)  # rows in (C, kh, kw) order
    out = np.empty((n, h, wd, f))
    step = max(1, 2**22 // (h * wd * c * kh * kw))  # images per im2col block (~32 MB)
    for s in range(0, n, step):
        cols = windows[s : s + step].reshape(-1, c * kh * kw)  # im2col: copies one block
        out[s : s + step] = (cols @ wmat).reshape(-1, h, wd, f)
    if bias is not None:
        out += check_array(fn, "bias", bias, ("F",), sizes)
    return out


def _pool(maps: np.ndarray, grid: int, how: str) -> np.ndarray:
    n, h, w, f = maps.shape
    blocks = maps.reshape(n, grid, h // grid, grid, w // grid, f)
    pooled = blocks.max(axis=(2, 4)) if how == "max" else blocks.mean(axis=(2, 4))
    return pooled  # (N, grid, grid, F)


# colour-opponent 1x1 filters (rows: R, G, B weights) and biases, one column per colour
_COLOUR_W = np.array(
    [[1.0, -1.0, -1.0, 1.0], [-1.0, 1.0, -1.0, 1.0], [-1.0, -1.0, 1.0, -2.0]], dtype=np.float64
)
_COLOUR_B = np.array([-0.2, -0.2, -0.2, -1.0])
_COLOUR_SCALE = 1.0 / np.maximum(RGB @ _COLOUR_W + _COLOUR_B, 1e-9).max(axis=0)

FEATURE_CHANNELS = ("red", "green", "blue", "yellow", "occupied", *SHAPES)
"""The 8 channels pooled on the grid: 4 colour maps and occupancy (average-pooled),
3 matched-filter maps (max-pooled)."""


def feature_names(grid: int = 3) -> list[str]:
    """Name of each feature, e.g. ``"red@(0,2)"`` (grid row 0, column 2), in feature order.

    Notebook 03, section 2.
    """
    grid = check_int("feature_names", "grid", grid, minimum=1)
    return [f"{c}@({i},{j})" for i in range(grid) for j in range(grid) for c in FEATURE_CHANNELS]


def extract_features(images: np.ndarray, grid: int = 3) -> np.ndarray:
    """Fixed convolutional features of RGB images.

    Notebook 03, section 2.

    1. 1x1 convolution with colour-opponent filters + ReLU -> 4 colour maps (red = R - G - B,
       green = G - R - B, blue = B - R - G, yellow = R + G - 2B, each with a threshold), scaled
       so a pure colour gives about 1.
    2. Occupancy ``o`` = clip((R + G + B - 0.3) / 0.5, 0, 1) (a ReLU minus a shifted ReLU).
    3. 7x7 matched filters: the bipolar map ``2 o - 1`` correlated with each shape's bipolar
       template (+1 inside, -1 outside), divided by 49, ReLU: 1 exactly where a shape sits.
    4. Pooling to a ``grid x grid`` grid: average for colours and occupancy, max for shapes.

    Parameters
    ----------
    images : float, shape (N, H, W, 3), values in [0, 1]; H and W multiples of ``grid``
    grid : pooling grid size

    Returns
    -------
    features : float64, shape (N, F) with F = grid * grid * 8, in the order of
        :func:`feature_names`; values in [0, ~1]
    """
    fn = "extract_features"
    x = check_array(fn, "images", images, (None, None, None, 3))
    grid = check_int(fn, "grid", grid, minimum=1)
    n, h, w, _ = x.shape
    if h % grid or w % grid:
        raise ValueError(
            f"{fn}: image height and width must be multiples of grid={grid}, got {h}x{w}"
        )
    x = x.astype(np.float64, copy=False)
    colour = np.maximum(conv2d(x, _COLOUR_W[None, None], _COLOUR_B), 0.0) * _COLOUR_SCALE
    occ = np.clip((x.sum(axis=3, keepdims=True) - 0.3) / 0.5, 0.0, 1.0)
    templates = np.stack([2.0 * shape_template(k) - 1.0 for k in range(3)], axis=-1)
    k = templates.shape[0]
    shapes = np.maximum(conv2d(2.0 * occ - 1.0, templates[:, :, None, :] / k**2), 0.0)
    pooled = np.concatenate(
        [_pool(colour, grid, "mean"), _pool(occ, grid, "mean"), _pool(shapes, grid, "max")],
        axis=3,
    )  # (N, grid, grid, 8)
    return pooled.reshape(n, -1)
