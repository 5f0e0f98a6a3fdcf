"""Axes of the explorers: values made safe for log axes, log10 axes, limits that stay put.

Most slider steps move the data a little. Limits that change only when the data need it
(:class:`StickyAxis`) let the browser reuse the last layout of the ticks and axis labels (see
``frames.Decorations``); fewer, smaller tick labels (:func:`lighten_axes`) make a new layout
cheaper. The browser draws the tick labels, so they are plain text (:func:`log10_axis`,
:func:`plain_log_axis`). Legends over the data are made by :func:`overlay_legend`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_core.style import log_label, power_of_ten

__all__ = [
    "TINY", "HUGE", "floored", "log10_axis", "power_of_ten", "plain_log_axis", "lighten_axes",
    "NICE_MANTISSAS", "nice_ceil", "nice_step", "decade_range", "StickyAxis", "OVERLAY_LEGEND",
    "overlay_legend",
]

TINY = 1e-300
"""Floor of values drawn on a log axis: log scales need positive, finite numbers."""
HUGE = 1e300
"""Ceiling of values drawn on a log axis."""


def floored(values: np.ndarray, lo: float = TINY, hi: float = HUGE) -> np.ndarray:
    """Values made safe for a log axis: NaN and non-positive entries become ``lo``, ``inf`` ``hi``.

    Parameters
    ----------
    values : array of any shape.
    lo, hi : the floor and the ceiling.

    Returns
    -------
    float64 array of the same shape with every entry in ``[lo, hi]``.
    """
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isnan(v), lo, v)
    return np.clip(v, lo, hi)


def log10_axis(ax: Any, which: str = "y", nticks: int = 5) -> None:
    """Make a linear axis that shows log10 values read as powers of ten ("1e-40", "1", "1e12").

    Gradient norms of long sequences span hundreds of decades (10^477 at scale 3, T = 1000),
    beyond the float range of a real log axis; their log10 values plot on a linear axis with no
    overflow and no floor, and the tick labels read like a log axis.
    """
    from matplotlib import ticker

    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_locator(ticker.MaxNLocator(nticks, integer=True, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: power_of_ten(v)))


def plain_log_axis(ax: Any, which: str = "y") -> None:
    """Label a log-scale axis with plain text ("1e-3", "1", "100" as "1e2"), as
    :func:`log10_axis` labels its axes, instead of matplotlib's math text (which the browser
    cannot draw); ticks between decades (a short axis) keep their digits ("0.002", "2e-5"), as
    :func:`rnn_core.style.log_label` writes them."""
    from matplotlib import ticker

    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: log_label(v)))
    axis.set_minor_formatter(ticker.NullFormatter())


def lighten_axes(ax: Any, nticks: int = 5, labelsize: float = 8) -> None:
    """Fewer and smaller tick labels, no minor ticks on log axes, log axes labelled in plain text
    (:func:`plain_log_axis`): text is most of a render's cost.

    Call after ``set_xscale``/``set_yscale`` (which reset the locators).
    """
    from matplotlib import ticker

    ax.tick_params(labelsize=labelsize)
    for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if axis.get_scale() == "log":
            axis.set_major_locator(ticker.LogLocator(numticks=nticks))
            axis.set_minor_locator(ticker.NullLocator())
            plain_log_axis(ax, which)
        else:
            axis.set_major_locator(ticker.MaxNLocator(nticks))


NICE_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
"""The grid of "nice" numbers (times a power of ten) that step-count and radius limits snap to."""


def nice_ceil(x: float) -> float:
    """The smallest number of the form m * 10^k (m in ``NICE_MANTISSAS``) that is >= ``x`` > 0."""
    if not (np.isfinite(x) and x > 0):
        return 1.0
    k = np.floor(np.log10(x))
    for m in NICE_MANTISSAS:
        v = m * 10.0**k
        if v >= x * (1 - 1e-12):
            return float(v)
    return float(10.0 ** (k + 1))  # pragma: no cover (the grid ends at 10)


def nice_step(x: float) -> float:
    """The largest number of the form 1, 2 or 5 times a power of ten that is <= ``x`` (>= 1)."""
    if not (np.isfinite(x) and x > 1):
        return 1.0
    k = float(np.floor(np.log10(x)))
    for m in (5.0, 2.0, 1.0):
        if m * 10.0**k <= x * (1 + 1e-12):
            return m * 10.0**k
    return 10.0**k  # pragma: no cover


def decade_range(lo: float, hi: float, current: tuple[float, float] | None = None,
                 pad: float = 0.3, min_span: float = 2.0, slack: float = 3.0,
                 headroom: float = 0.75, bound: float = 1e6) -> tuple[float, float]:
    """Axis limits in log10 units (decades) for data spanning ``[lo, hi]``, with hysteresis.

    ``current`` is kept while the data stay inside it (with a margin of 1 % of its span, at least
    0.1 decade) and fill at least ``1/slack`` of it (counting a ``pad`` margin on each side and a
    span of at least ``min_span``): small changes leave the limits alone, so the figure can be
    kept, and the data are never outside or squashed. Otherwise new limits are fitted: the
    data plus ``pad`` decades on each side (at least 2 % of the span), plus ``headroom`` times the
    data span on a side the data have just left (a slider that pushes the curve up keeps pushing
    it up: the next steps fit in), rounded out to whole multiples of a 1-2-5 step in decades
    (the tick spacing), at least ``min_span`` wide, clamped to ``[-bound, bound]``.

    Parameters
    ----------
    lo, hi : smallest and largest finite data value (log10 units).
    current : the limits now shown, or None.

    Returns
    -------
    (low, high) limits, high > low.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)):
        lo, hi = -1.0, 1.0
    lo, hi = min(lo, hi), max(lo, hi)
    lo, hi = max(lo, -bound), min(hi, bound)
    p = max(pad, 0.02 * (hi - lo))
    up = down = False
    if current is not None:
        clo, chi = float(current[0]), float(current[1])
        margin = max(0.1, 0.01 * (chi - clo))
        up = hi > min(chi - margin, bound - margin)
        down = lo < max(clo + margin, -bound + margin)
        if not (up or down) and chi - clo <= slack * max(hi - lo + 2 * p, min_span):
            return clo, chi
    span = max(hi - lo, min_span)
    new_lo = lo - p - (headroom * span if down else 0.0)
    new_hi = hi + p + (headroom * span if up else 0.0)
    if current is not None and up != down:
        # The data left on one side only: keep the other side where it was if the data still
        # fill enough of the axis, so a slider moved back and forth settles on limits that hold
        # both positions instead of flipping between two fits (and redrawing at every step).
        room = max(hi - lo + 2 * p, min_span) * slack
        for extra in (headroom * span, 0.0):          # with headroom if it fits, else without
            keep_lo, keep_hi = ((min(lo - p, clo), hi + p + extra) if up
                                else (lo - p - extra, max(hi + p, chi)))
            if keep_hi - keep_lo <= room:
                new_lo, new_hi = keep_lo, keep_hi
                break
    if new_hi - new_lo < min_span:
        mid = 0.5 * (new_lo + new_hi)
        new_lo, new_hi = mid - 0.5 * min_span, mid + 0.5 * min_span
    step = nice_step((new_hi - new_lo) / 4.0)
    new_lo = float(np.floor(new_lo / step) * step)
    new_hi = float(np.ceil(new_hi / step) * step)
    return max(new_lo, -bound), min(new_hi, bound)


class StickyAxis:
    """The limits of one axis, snapped to a coarse grid and changed only when the data need it.

    Most slider steps move the data a little; if the limits stayed put, only the data artists
    change and the browser paints them over a cached background instead of
    re-rendering every tick label. :meth:`fit` sets new limits only when the data leave the
    current ones or fill much less than them.

    Parameters
    ----------
    ax : the matplotlib Axes. which : "x" or "y".
    kind : how values map to limits:
        ``"log10"``: a linear axis of log10 values (see :func:`log10_axis`), whole decades;
        ``"log"``: a log-scale axis of positive values, whole decades;
        ``"upper"``: a linear axis from ``lower`` to a nice number >= the largest value;
        ``"symmetric"``: a linear axis ``[-r, r]``, r a nice number >= the largest ``|value|``.
    slack : keep the limits while they are at most ``slack`` times what a fresh fit would give
        (default 3 for decades, 1.5 for "upper" and "symmetric").
    lower : the fixed lower limit of kind "upper". pad : margin in decades (log kinds) or as a
        fraction of the largest value ("symmetric").
    """

    def __init__(self, ax: Any, which: str = "y", kind: str = "log10",
                 slack: float | None = None, lower: float = 0.0, pad: float | None = None,
                 min_span: float = 2.0) -> None:
        if which not in ("x", "y"):
            raise ValueError(f"StickyAxis: which must be 'x' or 'y', got {which!r}")
        if kind not in ("log10", "log", "upper", "symmetric"):
            raise ValueError(
                f"StickyAxis: kind must be 'log10', 'log', 'upper' or 'symmetric', got {kind!r}")
        self.ax, self.which, self.kind, self.lower = ax, which, kind, float(lower)
        decades = kind in ("log10", "log")
        self.slack = float(slack if slack is not None else (3.0 if decades else 1.5))
        self.pad = float(pad if pad is not None else (0.3 if decades else 0.05))
        self.min_span = float(min_span)
        self._fitted = False

    @property
    def limits(self) -> tuple[float, float] | None:
        """The axis' limits now, in the kind's own units (decades for "log"); None before the
        first fit. Read from the axis, so an explorer that puts the limits back after drawing
        another setting (a prefetched frame) puts this state back too."""
        if not self._fitted:
            return None
        lo, hi = self.ax.get_ylim() if self.which == "y" else self.ax.get_xlim()
        if self.kind == "log":
            return round(float(np.log10(lo)), 9), round(float(np.log10(hi)), 9)
        return float(lo), float(hi)

    def fit(self, *arrays: np.ndarray) -> bool:
        """Fit the limits to the finite values of ``arrays``; True if they changed."""
        vals = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
        v = np.concatenate(vals) if vals else np.empty(0)
        v = v[np.isfinite(v)]
        if self.kind == "log":
            v = v[v > 0]
            with np.errstate(divide="ignore"):
                v = np.log10(v)
        if self.kind in ("log10", "log"):
            lo, hi = (float(v.min()), float(v.max())) if v.size else (-1.0, 1.0)
            new = decade_range(lo, hi, self.limits, pad=self.pad, min_span=self.min_span,
                               slack=self.slack, bound=200.0 if self.kind == "log" else 1e6)
        else:
            if self.kind == "upper":
                top = float(v.max()) if v.size else self.lower + 1.0
                need = max(top - self.lower, 1e-12)
            else:
                need = (float(np.abs(v).max()) if v.size else 1.0) * (1.0 + self.pad)
            new_r = nice_ceil(need)
            cur = self.limits
            if cur is not None:
                cur_r = cur[1] - self.lower if self.kind == "upper" else cur[1]
                if need <= cur_r * (1 + 1e-12) and cur_r <= self.slack * new_r:
                    new_r = cur_r
            new = (self.lower, self.lower + new_r) if self.kind == "upper" else (-new_r, new_r)
        changed = new != self.limits
        self._fitted = True
        shown = (10.0 ** new[0], 10.0 ** new[1]) if self.kind == "log" else new
        (self.ax.set_ylim if self.which == "y" else self.ax.set_xlim)(*shown)
        return changed


OVERLAY_LEGEND: dict[str, Any] = {"framealpha": 1.0, "fancybox": False, "fontsize": 8}
"""Keywords of a legend that an :class:`Explorer` keeps over its moving data (``overlays``)."""


def overlay_legend(ax: Any, loc: str, **kwargs: Any) -> Any:
    """``ax.legend`` made to lie over moving data: opaque, square, in a fixed place, its frame
    snapped to whole pixels (the browser repaints it from the background over the data). Pass
    it to :class:`Explorer` as one of the ``overlays``."""
    legend = ax.legend(loc=loc, **{**OVERLAY_LEGEND, **kwargs})
    frame = legend.get_frame()
    frame.set_snap(True)
    frame.set_linewidth(1.0)     # 1 pt: whole pixels at 72 dpi and its multiples, no partial edge
    return legend
