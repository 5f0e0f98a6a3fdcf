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
import io
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "Explorer",
    "backend_mode",
    "new_figure",
    "figure_png",
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
    """Render ``fig`` to PNG bytes (with Agg, whatever the canvas)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi if dpi is not None else fig.dpi)
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


class Explorer:
    """Controls + a figure built once + a draw function that updates it in place.

    Parameters
    ----------
    name : the factory's name, used in error messages (``"vanilla_flow_explorer"``).
    controls : name -> ipywidget; each control's ``value`` is one keyword of ``draw``.
    fig : the figure, with every artist already created.
    draw : ``draw(**values) -> str``: compute (cached) and set data on the existing artists;
        returns the readout text, a one-line summary that the explorer also shows in the
        figure (``readout_artist``) so a static image carries it.
    readout_artist : a matplotlib Text whose text ``draw``'s return value becomes.
    mode : ``"ipympl"`` or ``"image"`` (see the module docstring).

    Attributes
    ----------
    controls, fig, widget, values, readout, mode.
    """

    def __init__(self, name: str, controls: Mapping[str, Any], fig: Any,
                 draw: Callable[..., str], readout_artist: Any, mode: str) -> None:
        self.name = name
        self.controls: dict[str, Any] = dict(controls)
        self.fig = fig
        self.mode = mode
        self._draw = draw
        self._readout_artist = readout_artist
        self._values: dict[str, Any] = {k: c.value for k, c in self.controls.items()}
        self._syncing = False
        self._displayed = False
        self._image: Any = None
        self._widget: Any = None
        self.readout = ""
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
        if self._readout_artist is not None:
            self._readout_artist.set_text(text)
        self._redraw()

    def _redraw(self) -> None:
        if self.mode == "ipympl":
            self.fig.canvas.draw_idle()
        elif self._displayed and self._image is not None:
            self._image.value = figure_png(self.fig)
        # Not displayed in image mode: nothing to repaint; the figure renders when saved/drawn.

    # -- display -----------------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The ipywidgets box to display: the controls above the figure (canvas or image)."""
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
            self._widget = w.VBox([*boxes, view])
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Widget view for live frontends, a PNG of the current figure for static ones."""
        box = self.widget
        png = figure_png(self.fig)
        self._displayed = True
        if self.mode == "image":
            self._image.value = png
        elif getattr(self.fig.canvas, "syncing_data_url", False):
            # No frontend has attached yet: seed the canvas's embedded-state image so exported
            # widget state (nbconvert --execute, "save widget state") shows the figure too.
            self.fig.canvas._data_url = "data:image/png;base64," + base64.b64encode(png).decode()
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
