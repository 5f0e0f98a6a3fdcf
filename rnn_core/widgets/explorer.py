"""The explorer: controls, a figure built once, a draw function that updates it in place.

An explorer is a set of controls (``controls``: sliders, dropdowns, checkboxes, each a grid of
values), one matplotlib figure and a draw function. The figure and its artists are created once;
``draw(**values)`` asks the (cached) compute function of ``rnn_core.analysis.explore`` for arrays
and sets them on the existing ``animated`` artists (``Line2D.set_data``, ``set_offsets``,
``AxesImage.set_data``, ``Text.set_text``), and may move axis limits. Nothing is rebuilt.

Live display (docs/architecture.md, D6): the browser draws. The explorer's ``widget`` is an
:class:`~rnn_core.widgets.web.ExplorerView` (anywidget) that draws the controls natively and the
figure on a canvas from frames: after ``draw``, the animated artists are serialised to pixels
(``frames``), with the ticks and axis labels of the current limits (``frames.Decorations``), and
painted over a background PNG of everything else, rendered by matplotlib once per figure size.
There is no matplotlib canvas in the browser and no image round trip per step.

Static contexts. A widget view needs a frontend with the widget manager and, for exported HTML,
saved widget state; nbconvert skips the ``application/vnd.jupyter.widget-view+json`` entry of an
output when the notebook holds no state for its model and falls back to the next mimetype in its
priority list. The explorers' display bundle holds the widget view, a PNG of the figure for the
current values (:meth:`Explorer.static_png`) and a one-line ``text/plain`` summary, so nbval,
nbconvert and the static book show the figure for the current values.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import traitlets

from rnn_core.widgets.backend import figure_png
from rnn_core.widgets.frames import Backgrounds, Decorations

__all__ = ["Explorer", "Drawn"]

STATIC_DPI = 100
"""The static picture's resolution (book, nbconvert, nbval): the live canvas draws at 72 dpi
times the screen's pixel ratio; a page read without the kernel gets a sharper PNG."""


class Drawn(NamedTuple):
    """What a draw function returns when some findings belong in panel titles.

    Attributes
    ----------
    readout : the text of the readout (and of the static picture's title).
    static_titles : Text artist -> the finding it states. Live, findings are read in the readout;
        the static picture writes each one into its panel's title instead.
    """

    readout: str
    static_titles: Mapping[Any, str] = {}


class Explorer:
    """Controls + a figure built once + a draw function that updates it in place.

    Parameters
    ----------
    name : the factory's name, used in error messages (``"vanilla_flow_explorer"``).
    controls : name -> :class:`~rnn_core.widgets.controls.Control`; each control's ``value`` is
        one keyword of ``draw``.
    fig : the figure (on an Agg canvas, see ``backend.new_figure``), every artist created.
    draw : ``draw(**values) -> str | Drawn``: compute (cached) and set data on the ``animated``
        artists; returns the readout (a summary shown as HTML above the figure) or a
        :class:`Drawn`. ``draw`` may change the animated artists and the axis limits, nothing
        else of the figure (the rest is the background).
    readout_artist : a matplotlib Text (a figure title) that carries the readout in the static
        PNG only; live, the readout is HTML.
    animated : the artists ``draw`` changes (drawn in the browser).
    overlays : legends over animated artists, made with ``axes.overlay_legend`` (opaque, in a
        fixed place); the browser repaints them from the background after the data.
    warm : ``warm(**values)``: the (cached) compute ``draw`` starts with, and nothing else: no
        artist, no figure. The look-ahead runs it in a background thread (``lookahead``) and
        then draws the frame from the cache on the main thread. None: the look-ahead draws on
        the main thread, compute included.

    Attributes
    ----------
    controls, fig, widget, values, readout, animated, overlays, warm, backgrounds, decorations.
    """

    def __init__(self, name: str, controls: Mapping[str, Any], fig: Any,
                 draw: Callable[..., str | Drawn], readout_artist: Any,
                 animated: Sequence[Any] = (), overlays: Sequence[Any] = (),
                 warm: Callable[..., Any] | None = None) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.name = name
        self.controls: dict[str, Any] = dict(controls)
        self.fig = fig
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)        # backgrounds are Agg pixels (a bare Figure has none)
        self._draw = draw
        self.warm = warm
        self._readout_artist = readout_artist
        if readout_artist is not None:
            readout_artist.set_visible(False)      # shown only in the static PNG
        self.animated = list(animated)
        self.overlays = list(overlays)
        self.backgrounds = Backgrounds(fig, self.animated, [readout_artist])
        self.decorations = Decorations(fig)
        self._static_titles: Mapping[Any, str] = {}
        self._values: dict[str, Any] = {k: c.value for k, c in self.controls.items()}
        self._drawn_for: dict[str, Any] | None = None
        self._syncing = False
        self._widget: Any = None
        self.readout = ""
        self._render()
        for key, control in self.controls.items():
            control.observe(self._make_callback(key), names="value")

    # -- values and grid positions --------------------------------------------------------------

    @property
    def values(self) -> dict[str, Any]:
        """The current control values (a copy)."""
        return dict(self._values)

    def index(self) -> list[int]:
        """The grid positions nearest to the current values, one per control."""
        return [c.index_of(self._values[k]) for k, c in self.controls.items()]

    def on_grid(self) -> bool:
        """Whether every current value is exactly a grid position (the browser may keep it)."""
        return all(c.grid[i] == self._values[k]
                   for (k, c), i in zip(self.controls.items(), self.index(), strict=True))

    def values_at(self, idx: Sequence[int]) -> dict[str, Any]:
        """The control values at grid positions ``idx``."""
        return {k: c.grid[i] for (k, c), i in zip(self.controls.items(), idx, strict=True)}

    def check_index(self, idx: Any) -> list[int]:
        """``idx`` as a list of grid positions, or a one-line ValueError naming the control."""
        names = list(self.controls)
        if not isinstance(idx, list | tuple) or len(idx) != len(names):
            raise ValueError(f"{self.name}: idx must be a list of {len(names)} grid positions "
                             f"({', '.join(names)}), got {idx!r}")
        for k, i in zip(names, idx, strict=True):
            n = len(self.controls[k].grid)
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
                raise ValueError(f"{self.name}: position of {k} must be an integer in "
                                 f"[0, {n - 1}], got {i!r}")
        return list(idx)

    def set_index(self, idx: Sequence[int]) -> None:
        """Move to grid positions ``idx`` (the browser's slider did): values, figure, readout;
        no frame is pushed back to the browser (it asked for this one)."""
        self._apply(self.values_at(idx), push=False)

    # -- updates -----------------------------------------------------------------------------

    def update(self, **values: Any) -> None:
        """Set control values and update the figure (and the browser view, if shown).

        Unknown names raise TypeError; a value the control cannot take (outside a slider's
        range, not among a dropdown's options) raises ValueError.
        """
        for key in values:
            if key not in self.controls:
                raise TypeError(
                    f"{self.name}.update: unknown control {key!r}; "
                    f"expected one of {sorted(self.controls)}"
                )
        self._apply(values, push=True)

    def _apply(self, values: Mapping[str, Any], push: bool) -> None:
        self._syncing = True
        try:
            for key, v in values.items():
                self._set_control(key, v)
        except ValueError:
            self._syncing = False
            self._render(push)     # the controls set before the bad one: keep the figure in step
            raise
        finally:
            self._syncing = False
        self._render(push)

    def _set_control(self, key: str, v: Any) -> None:
        control = self.controls[key]
        try:
            control.value = v
        except traitlets.TraitError as err:
            raise ValueError(
                f"{self.name}.update: {key} must be {control.expected()}, got {v!r}") from err
        self._values[key] = control.value

    def _make_callback(self, key: str) -> Callable[[dict], None]:
        def on_change(change: dict) -> None:
            if self._syncing:
                return
            self._values[key] = change["new"]
            self._render()

        return on_change

    def draw_values(self, values: Mapping[str, Any]) -> str:
        """Run ``draw`` for ``values`` (the figure's artists follow); returns the readout."""
        drawn = self._draw(**values)
        if not isinstance(drawn, Drawn):
            drawn = Drawn(drawn)
        self._drawn_for = dict(values)
        self._last = drawn
        return drawn.readout

    @contextlib.contextmanager
    def elsewhere(self) -> Iterator[None]:
        """Draw another setting inside (a prefetched frame), then put the axis limits (and so the
        sticky limits of ``axes.StickyAxis``) and the artists back to the current values."""
        saved = [(ax.get_xlim(), ax.get_ylim()) for ax in self.fig.axes]
        try:
            yield
        finally:
            for ax, (x, y) in zip(self.fig.axes, saved, strict=True):
                ax.set_xlim(x)
                ax.set_ylim(y)
            self.restore_current()

    def restore_current(self) -> None:
        """Put the figure back to the current values after drawing a prefetched frame."""
        if self._drawn_for != self._values:
            self.draw_values(self._values)

    def _render(self, push: bool = True) -> None:
        self.draw_values(self._values)
        self._static_titles = dict(self._last.static_titles)
        self.readout = self._last.readout
        if self._readout_artist is not None:
            self._readout_artist.set_text(self.readout)
        if push and self._widget is not None and self._widget.comm is not None:
            self._widget.send_frame(push=True)

    # -- display -----------------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The browser view (an anywidget): controls, readout and canvas."""
        if self._widget is None:
            from rnn_core.widgets.web import ExplorerView

            self._widget = ExplorerView(self)
        return self._widget

    def static_png(self) -> bytes:
        """A PNG of the figure with the readout as its title (for static notebook outputs)."""
        self.restore_current()
        art = self._readout_artist
        saved = {t: t.get_text() for t in self._static_titles}
        if art is not None:
            art.set_visible(True)
            if saved:       # the findings go to the panel titles, the setting stays on top
                art.set_text(self.readout.split("\n", 1)[0])
        for t, text in self._static_titles.items():
            t.set_text(text)
        try:
            return figure_png(self.fig, dpi=STATIC_DPI)
        finally:
            for t, text in saved.items():
                t.set_text(text)
            if art is not None:
                art.set_text(self.readout)
                art.set_visible(False)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Widget view for live frontends, a PNG of the current figure for static ones."""
        view = self.widget
        png = self.static_png()
        data = view._repr_mimebundle_() or {}
        bundle = dict(data[0] if isinstance(data, tuple) else data)   # anywidget: (data, metadata)
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        bundle["text/plain"] = f"{self.name}: {self.readout}"
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"<{self.name}({vals})>"
