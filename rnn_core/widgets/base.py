"""Shared machinery of the explorers: controls, a figure built once, in-place updates, display.

An explorer is a set of ipywidgets controls, one matplotlib figure, and a pure compute function.
The figure and its artists are created once; a slider change calls ``Explorer.update``, which
asks the (cached) compute function for arrays, sets them on the existing artists
(``Line2D.set_data``, ``set_offsets``, ``Text.set_text``), adjusts limits and asks the canvas to
redraw. Nothing is rebuilt and ``plt.show`` is never called.

Two display modes, chosen from the active matplotlib backend when the explorer is created:

``"ipympl"`` (``%matplotlib widget``, the fast path in JupyterLab)
    The figure's canvas is itself a widget; the explorer's ``widget`` is
    ``VBox([controls, canvas])`` and ``update`` ends with ``fig.canvas.draw_idle()``, which
    the frontend turns into an in-place repaint.
``"image"`` (every other backend: inline, Agg, nbval, nbconvert)
    The figure lives on a private Agg canvas (never registered with pyplot, so the inline
    backend does not display it a second time). The explorer's ``widget`` is
    ``VBox([controls, ipywidgets.Image])``; once the explorer has been displayed, each update
    re-renders the PNG into that Image widget, so sliders still work in a live notebook with
    the inline backend.

Static contexts. A widget view needs a frontend with the widget manager and, for exported HTML,
saved widget state; nbconvert skips the ``application/vnd.jupyter.widget-view+json`` entry of an
output when the notebook holds no state for its model and falls back to the next mimetype in its
priority list. ipympl's own ``Canvas._repr_mimebundle_`` relies on that by putting a PNG next to
the widget view. The explorers do the same: their display bundle holds the widget view of the
whole explorer, a PNG of the figure for the current values and a one-line ``text/plain``
summary, so nbval, nbconvert and static HTML show the figure for the default values.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Explorer",
    "OVERLAY_LEGEND",
    "overlay_legend",
    "backend_mode",
    "new_figure",
    "figure_png",
    "canvas_png",
    "StickyAxis",
    "decade_range",
    "nice_ceil",
    "nice_step",
    "lighten_axes",
    "floored",
    "floored_exp",
    "set_log_ylim",
    "log10_axis",
    "set_log10_lim",
    "slider",
    "log_slider",
    "int_slider",
    "dropdown",
]

TINY = 1e-300
"""Floor of values drawn on a log axis: log scales need positive, finite numbers."""
HUGE = 1e300
"""Ceiling of values drawn on a log axis."""


# --------------------------------------------------------------------------- numeric helpers


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


def floored_exp(log_values: np.ndarray, lo: float = TINY, hi: float = HUGE) -> np.ndarray:
    """``exp(log_values)`` clipped to ``[lo, hi]`` without overflow or underflow warnings.

    Parameters
    ----------
    log_values : natural logarithms, any shape; ``-inf`` (an exact zero) maps to ``lo``.

    Returns
    -------
    float64 array of the same shape with every entry in ``[lo, hi]``.
    """
    lv = np.asarray(log_values, dtype=np.float64)
    lv = np.where(np.isnan(lv), np.log(lo), lv)
    return np.clip(np.exp(np.clip(lv, np.log(lo), np.log(hi))), lo, hi)


def set_log_ylim(ax: Any, *arrays: np.ndarray, pad_decades: float = 0.3) -> None:
    """Fit a log-scale y axis to the positive finite values of ``arrays`` (with a margin).

    Parameters
    ----------
    ax : matplotlib Axes with a log y scale.
    arrays : the data drawn on it (already floored).
    pad_decades : margin above and below, in powers of ten.
    """
    lo, hi = np.inf, -np.inf
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        a = a[np.isfinite(a) & (a > 0)]
        if a.size:
            lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    if not np.isfinite(lo):
        lo, hi = 1e-3, 1.0
    llo, lhi = np.log10(lo) - pad_decades, np.log10(hi) + pad_decades
    if lhi - llo < 1.0:
        mid = 0.5 * (llo + lhi)
        llo, lhi = mid - 0.5, mid + 0.5
    # matplotlib's LogLocator computes ticks beyond the limits; keep it far from overflow
    llo, lhi = max(llo, -200.0), min(lhi, 200.0)
    ax.set_ylim(10.0**llo, 10.0**lhi)


def log10_axis(ax: Any, which: str = "y", nticks: int = 5) -> None:
    """Make a linear axis that shows log10 values read as powers of ten ("1e-40", "1", "1e12").

    Gradient norms of long sequences span hundreds of decades (10^477 at scale 3, T = 1000),
    beyond the float range of a real log axis; their log10 values plot on a linear axis with no
    overflow and no floor, and the tick labels read like a log axis.
    """
    from matplotlib import ticker

    def fmt(v: float, _pos: Any) -> str:
        n = int(round(v))
        return "1" if n == 0 else f"1e{n}"

    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_locator(ticker.MaxNLocator(nticks, integer=True, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(ticker.FuncFormatter(fmt))


def set_log10_lim(ax: Any, *arrays: np.ndarray, which: str = "y", pad: float = 0.3) -> None:
    """Fit an axis made by ``log10_axis`` to the finite values of ``arrays`` (log10 data), with a
    margin of ``pad`` decades and a span of at least two decades."""
    vals = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    v = np.concatenate(vals) if vals else np.empty(0)
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (-1.0, 1.0)
    lo, hi = lo - pad, hi + pad
    if hi - lo < 2.0:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - 1.0, mid + 1.0
    (ax.set_ylim if which == "y" else ax.set_xlim)(lo, hi)


# --------------------------------------------------------------------------- sticky limits

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
    blitted, and the data are never outside or squashed. Otherwise new limits are fitted: the
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
    change and the explorer repaints them over a cached background (blitting) instead of
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
        self.limits: tuple[float, float] | None = None   # in the kind's own units

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
        self.limits = new
        shown = (10.0 ** new[0], 10.0 ** new[1]) if self.kind == "log" else new
        (self.ax.set_ylim if self.which == "y" else self.ax.set_xlim)(*shown)
        return changed


# --------------------------------------------------------------------------- figures


def backend_mode() -> str:
    """``"ipympl"`` if matplotlib's active backend is ipympl (``%matplotlib widget``), else
    ``"image"``. Does not select a backend if none was selected yet."""
    import matplotlib

    try:
        name = matplotlib.get_backend(auto_select=False)
    except TypeError:  # matplotlib < 3.10 has no auto_select
        name = matplotlib.rcParams._get_backend_or_none()
    name = (name or "").lower()
    return "ipympl" if ("ipympl" in name or name == "widget") else "image"


def new_figure(figsize: tuple[float, float], mode: str, dpi: float = 72) -> Any:
    """A matplotlib Figure for an explorer.

    ``mode="ipympl"`` puts it on an ipympl ``Canvas`` widget with its ``FigureManager`` (what
    ``%matplotlib widget`` does for ``plt.figure``, minus pyplot's registry: the explorer owns its
    figure, ``plt.show`` never shows it a second time) and hides the canvas header;
    ``mode="image"`` puts it on a private Agg canvas, also unknown to pyplot.
    """
    if mode == "ipympl":
        from ipympl.backend_nbagg import Canvas, FigureManager
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, dpi=dpi)
        with warnings.catch_warnings():
            # ipympl's Toolbar passes its canvas on to traitlets' __init__, which warns
            # (a known upstream issue: matplotlib/ipympl#611, #488); nothing to act on here.
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    message=r"Passing unrecognized arguments to super\(Toolbar\)")
            canvas = Canvas(fig)
            # the manager handles the frontend's resize/dpi messages; it is not registered
            # with pyplot, so no plt.show() displays it again and no "20 figures" warning
            FigureManager(canvas, 0)
        canvas.header_visible = False
        canvas.footer_visible = False
        return fig
    if mode != "image":
        raise ValueError(f"new_figure: mode must be 'ipympl' or 'image', got {mode!r}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def lighten_axes(ax: Any, nticks: int = 5, labelsize: float = 8) -> None:
    """Fewer and smaller tick labels, no minor ticks on log axes: text is most of a redraw's cost.

    Call after ``set_xscale``/``set_yscale`` (which reset the locators).
    """
    from matplotlib import ticker

    ax.tick_params(labelsize=labelsize)
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_locator(ticker.LogLocator(numticks=nticks))
            axis.set_minor_locator(ticker.NullLocator())
        else:
            axis.set_major_locator(ticker.MaxNLocator(nticks))


def figure_png(fig: Any, dpi: float | None = None) -> bytes:
    """Render ``fig`` to PNG bytes (a full render with Agg, whatever the canvas)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buf.getvalue()


PNG_COMPRESS_LEVEL = 1
"""zlib level of :func:`canvas_png`: level 1 encodes several times faster than PIL's default 6
for a few percent more bytes (plots are mostly flat colour); see benchmarks/bench_explorers.py."""


def canvas_png(canvas: Any, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """The pixels an Agg canvas holds now (after ``draw`` or a blit), as PNG bytes (RGB).

    No re-render, unlike :func:`figure_png`: the image-widget fallback sends exactly what the
    blitted canvas shows.
    """
    from PIL import Image

    w, h = canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="png", compress_level=compress_level)
    return buf.getvalue()


# --------------------------------------------------------------------------- controls


def slider(description: str, value: float, lo: float, hi: float, step: float,
           fmt: str = ".2f", continuous: bool = True) -> Any:
    """A FloatSlider (continuous_update as asked)."""
    import ipywidgets as w

    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         readout_format=fmt, continuous_update=continuous,
                         style={"description_width": "initial"})


def log_slider(description: str, value: float, lo: float, hi: float, steps: int = 60,
               fmt: str = ".3g", continuous: bool = True) -> Any:
    """A FloatLogSlider from ``lo`` to ``hi`` (base 10) with ``steps`` positions."""
    import ipywidgets as w

    llo, lhi = np.log10(lo), np.log10(hi)
    return w.FloatLogSlider(value=value, base=10, min=llo, max=lhi, step=(lhi - llo) / steps,
                            description=description, readout_format=fmt,
                            continuous_update=continuous, style={"description_width": "initial"})


def int_slider(description: str, value: int, lo: int, hi: int, step: int = 1,
               continuous: bool = True) -> Any:
    """An IntSlider."""
    import ipywidgets as w

    return w.IntSlider(value=value, min=lo, max=hi, step=step, description=description,
                       continuous_update=continuous, style={"description_width": "initial"})


def dropdown(description: str, value: Any, options: Any) -> Any:
    """A Dropdown over ``options`` (a list, or (label, value) pairs)."""
    import ipywidgets as w

    return w.Dropdown(value=value, options=options, description=description,
                      style={"description_width": "initial"})


def checkbox(description: str, value: bool) -> Any:
    """A Checkbox."""
    import ipywidgets as w

    return w.Checkbox(value=value, description=description, indent=False)


# --------------------------------------------------------------------------- the explorer

OVERLAY_LEGEND: dict[str, Any] = {"framealpha": 1.0, "fancybox": False, "fontsize": 8}
"""Keywords of a legend that an :class:`Explorer` keeps over its blitted data (``overlays``)."""


def overlay_legend(ax: Any, loc: str, **kwargs: Any) -> Any:
    """``ax.legend`` made for blitting: opaque, square, in a fixed place, its frame snapped to
    whole pixels. Pass it to :class:`Explorer` as one of the ``overlays``."""
    legend = ax.legend(loc=loc, **{**OVERLAY_LEGEND, **kwargs})
    frame = legend.get_frame()
    frame.set_snap(True)
    frame.set_linewidth(1.0)     # 1 pt: whole pixels at 72 dpi and its multiples, no partial edge
    return legend




def _prefix_data_url(canvas: Any) -> None:
    """Make an ipympl canvas's embedded image a valid data URL.

    Until a frontend attaches, ipympl 0.10 keeps the last rendered PNG in ``_data_url`` as bare
    base64 (``Canvas.send_binary``), which the frontend then fails to decode ("the
    HTMLImageElement provided is in the 'broken' state") and the canvas stays blank.
    """
    url = getattr(canvas, "_data_url", None)
    if getattr(canvas, "syncing_data_url", False) and isinstance(url, str) and url and not (
        url.startswith("data:")
    ):
        canvas._data_url = "data:image/png;base64," + url

class Explorer:
    """Controls + a figure built once + a draw function that updates it in place, blitted.

    Parameters
    ----------
    name : the factory's name, used in error messages (``"vanilla_flow_explorer"``).
    controls : name -> ipywidget; each control's ``value`` is one keyword of ``draw``.
    fig : the figure, with every artist already created.
    draw : ``draw(**values) -> str``: compute (cached) and set data on the existing artists;
        returns the readout text, a one-line summary shown in an HTML widget above the figure.
        ``draw`` may change the data of the ``animated`` artists and the axis limits, nothing
        else of the figure (the rest is the cached background).
    readout_artist : a matplotlib Text (a figure title) that carries the readout in the static
        PNG of the display bundle only; the live figure leaves it to the HTML widget.
    mode : ``"ipympl"`` or ``"image"`` (see the module docstring).
    animated : the artists ``draw`` changes: data lines, scatters, titles that state a finding.
        They are marked animated (a full draw skips them) and repainted after every update,
        in (axes, zorder) order, over the cached background.
    overlays : legends that lie over animated artists, made with :data:`OVERLAY_LEGEND`
        (opaque, square, snapped to whole pixels) and a fixed ``loc``. After the animated
        artists are painted, the pixels of each legend's frame are copied back from the cached
        background: what a full render (legend over the data) shows, without re-rendering the
        legend's text.

    Attributes
    ----------
    controls, fig, widget, values, readout, mode, readout_widget.
    last_render : ``"full"`` or ``"blit"``: how the last repaint was done (None before one).
    """

    def __init__(self, name: str, controls: Mapping[str, Any], fig: Any,
                 draw: Callable[..., str], readout_artist: Any, mode: str,
                 animated: Sequence[Any] = (), overlays: Sequence[Any] = (),
                 static_titles: Mapping[Any, str] | None = None) -> None:
        import ipywidgets as w

        self.name = name
        # Text artist -> the finding it states, kept up to date by ``draw``. Live, the findings
        # are in the readout widget (re-rendering changing titles is most of a blit's cost); the
        # static picture writes each one into its panel's title instead.
        self._static_titles = static_titles if static_titles is not None else {}
        self.controls: dict[str, Any] = dict(controls)
        self.fig = fig
        self.mode = mode
        self._draw = draw
        self._readout_artist = readout_artist
        if readout_artist is not None:
            readout_artist.set_visible(False)      # shown only in the static PNG
        order = {id(ax): i for i, ax in enumerate(fig.axes)}
        self._animated = sorted(
            animated, key=lambda a: (order.get(id(a.axes), len(order)), a.get_zorder()))
        for a in self._animated:
            a.set_animated(True)
        self._overlays = list(overlays)
        self._overlay_boxes: list[Any] = []
        self._background: Any = None
        self._background_key: Any = None
        self.last_render: str | None = None
        fig.canvas.mpl_connect("draw_event", self._on_draw)
        self._values: dict[str, Any] = {k: c.value for k, c in self.controls.items()}
        self._syncing = False
        self._displayed = False
        self._image: Any = None
        self._widget: Any = None
        self.readout = ""
        self.readout_widget = w.HTML(layout=w.Layout(margin="2px 0 2px 8px"))
        self._render()
        for key, control in self.controls.items():
            control.observe(self._make_callback(key), names="value")

    # -- updates -----------------------------------------------------------------------------

    @property
    def values(self) -> dict[str, Any]:
        """The current control values (a copy)."""
        return dict(self._values)

    def update(self, **values: Any) -> None:
        """Set control values and update the figure in place (the slider callback calls this).

        Unknown names raise TypeError; a value the control cannot take (outside a slider's
        range, not among a dropdown's options) raises ValueError.
        """
        for key in values:
            if key not in self.controls:
                raise TypeError(
                    f"{self.name}.update: unknown control {key!r}; "
                    f"expected one of {sorted(self.controls)}"
                )
        self._syncing = True
        try:
            for key, v in values.items():
                self._set_control(key, v)
        except (TypeError, ValueError):
            self._syncing = False
            self._render()     # the controls set before the bad one: keep the figure in step
            raise
        finally:
            self._syncing = False
        self._render()

    def _set_control(self, key: str, v: Any) -> None:
        import traitlets

        control = self.controls[key]
        lo, hi = getattr(control, "min", None), getattr(control, "max", None)
        if hasattr(control, "base"):  # FloatLogSlider: min/max are exponents
            lo, hi = control.base**lo, control.base**hi
        if lo is not None and isinstance(v, int | float | np.number) and not isinstance(v, bool):
            tol = 1e-9 * max(abs(lo), abs(hi), 1.0)
            if not (lo - tol <= v <= hi + tol):
                raise ValueError(
                    f"{self.name}.update: {key} must be in [{lo:g}, {hi:g}], got {v!r}"
                )
        try:
            control.value = v
        except traitlets.TraitError as err:
            options = getattr(control, "options", None)
            want = f"one of {list(options)!r}" if options is not None else "a valid value"
            raise ValueError(f"{self.name}.update: {key} must be {want}, got {v!r}") from err
        self._values[key] = control.value

    def _make_callback(self, key: str) -> Callable[[dict], None]:
        def on_change(change: dict) -> None:
            if self._syncing:
                return
            self._values[key] = change["new"]
            self._render()

        return on_change

    def _render(self) -> None:
        text = self._draw(**self._values)
        self.readout = text
        self.readout_widget.value = "<b>" + html.escape(text).replace("\n", "<br>") + "</b>"
        if self._readout_artist is not None:
            self._readout_artist.set_text(text)
        if self.mode == "ipympl":
            self.render()
            _prefix_data_url(self.fig.canvas)
        elif self._displayed and self._image is not None:
            self.render()
            self._image.value = canvas_png(self.fig.canvas)
        # Image mode, not displayed: nothing to repaint now; the next render() catches up
        # (a full draw if the limits changed meanwhile, else a blit).

    # -- repainting --------------------------------------------------------------------------

    def _static_key(self) -> tuple:
        """What the cached background depends on besides the static artists: pixel size, dpi
        and every axis' limits. A change forces a full draw."""
        fig = self.fig
        return (fig.canvas.get_width_height(physical=True), float(fig.dpi),
                tuple((ax.get_xlim(), ax.get_ylim()) for ax in fig.axes))

    def _on_draw(self, event: Any) -> None:
        """After every full draw (ours, a resize, the frontend's): keep the background (the
        animated artists were skipped) and paint the animated artists over it."""
        canvas = self.fig.canvas
        if canvas.is_saving() or not hasattr(canvas, "copy_from_bbox"):
            return       # savefig draws everything itself, maybe on another canvas or dpi
        self._background = canvas.copy_from_bbox(self.fig.bbox)
        self._background_key = self._static_key()
        self._overlay_boxes = [self._overlay_box(a, event.renderer)
                               for a in self._overlays if a.get_visible()]
        self._draw_animated(event.renderer)

    def _overlay_box(self, legend: Any, renderer: Any) -> tuple[int, int, int, int]:
        """The pixels the legend's snapped frame covers, edge line included, as Agg's
        ``restore_region`` takes them: (x0, top, x1, bottom), rows from the top, ends included."""
        frame = legend.get_frame()
        bbox = frame.get_window_extent(renderer)
        half = 0.5 * frame.get_linewidth() * self.fig.dpi / 72.0
        w, h = self.fig.canvas.get_width_height(physical=True)
        x0 = int(np.floor(bbox.x0 - half + 1.0))      # snapping puts the edge on whole pixels
        x1 = int(np.floor(bbox.x1 + half))
        top = int(np.floor(h - bbox.y1 - half + 1.0))
        bottom = int(np.floor(h - bbox.y0 + half))
        return max(x0, 0), max(top, 0), min(x1, w - 1), min(bottom, h - 1)

    def _draw_animated(self, renderer: Any = None) -> None:
        fig = self.fig
        if renderer is None:
            for a in self._animated:
                fig.draw_artist(a)
        else:
            for a in self._animated:
                a.draw(renderer)
        for box in self._overlay_boxes:
            # Agg's restore_region adds xy to the box's position: (0, 0) keeps it in place
            fig.canvas.restore_region(self._background, bbox=box, xy=(0, 0))

    def render(self) -> str:
        """Repaint the canvas for the current artists: ``"blit"`` (restore the cached
        background, draw the animated artists, ``canvas.blit``) when no axis limit and no pixel
        size changed since the background was taken, else ``"full"`` (``canvas.draw()``, which
        takes a new background). Returns which one it did; in ipympl mode the canvas sends the
        changed pixels to the frontend either way."""
        canvas = self.fig.canvas
        if self._background is None or self._static_key() != self._background_key:
            canvas.draw()                      # -> _on_draw: new background + animated artists
            self.last_render = "full"
        else:
            canvas.restore_region(self._background)
            self._draw_animated()
            canvas.blit(self.fig.bbox)
            self.last_render = "blit"
        return self.last_render

    # -- display -----------------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The ipywidgets box to display: the controls, the readout, the figure."""
        if self._widget is None:
            import ipywidgets as w

            boxes = [w.HBox(list(self.controls.values())[i:i + 3],
                            layout=w.Layout(flex_flow="row wrap"))
                     for i in range(0, len(self.controls), 3)]
            if self.mode == "ipympl":
                view = self.fig.canvas
            else:
                self._image = w.Image(format="png")
                view = self._image
            self._widget = w.VBox([*boxes, self.readout_widget, view])
        return self._widget

    def static_png(self) -> bytes:
        """A PNG of the figure with the readout as its title (for static notebook outputs)."""
        art = self._readout_artist
        saved = {t: t.get_text() for t in self._static_titles}
        if art is not None:
            art.set_visible(True)
            if saved:       # the findings go to the panel titles, the setting stays on top
                art.set_text(self.readout.split("\n", 1)[0])
        for t, text in self._static_titles.items():
            t.set_text(text)
        try:
            return figure_png(self.fig)
        finally:
            for t, text in saved.items():
                t.set_text(text)
            if art is not None:
                art.set_text(self.readout)
                art.set_visible(False)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Widget view for live frontends, a PNG of the current figure for static ones."""
        box = self.widget
        png = self.static_png()
        self._displayed = True
        if self.mode == "image":
            self.render()
            self._image.value = canvas_png(self.fig.canvas)
        else:
            # The canvas sits inside a VBox, so ipympl's own display hook never runs: call it
            # to give the canvas its pixel size and a valid embedded image. Without it the
            # frontend finds a 0 x 0 canvas and an image it cannot decode, and shows nothing.
            self.fig.canvas._repr_mimebundle_()
            _prefix_data_url(self.fig.canvas)
        bundle = dict(box._repr_mimebundle_() or {})
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        bundle["text/plain"] = f"{self.name}: {self.readout}"
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"<{self.name}({vals})>"
