"""The explorer: controls, a figure built once, a draw function that updates it in place.

An explorer is a set of ipywidgets controls, one matplotlib figure and a draw function. The figure
and its artists are created once; a control change calls ``draw``, which asks the (cached) compute
function of ``rnn_core.analysis.explore`` for arrays and sets them on the existing artists
(``Line2D.set_data``, ``set_offsets``); the :class:`~rnn_core.widgets.blitting.Blitter` repaints.
Nothing is rebuilt and ``plt.show`` is never called.

Display (see ``backend`` for the two modes): in ``"ipympl"`` mode the explorer's ``widget`` is
``VBox([controls, readout, canvas])`` and the canvas sends each repaint to the frontend; in
``"image"`` mode it is ``VBox([controls, readout, ipywidgets.Image])`` and, once displayed, each
repaint is encoded as PNG into that Image, so sliders still work with the inline backend.

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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from rnn_core.widgets._mpl_private import ipympl_display_hook, prefix_data_url
from rnn_core.widgets.backend import canvas_png, figure_png
from rnn_core.widgets.blitting import Blitter

__all__ = ["Explorer", "Drawn"]


class Drawn(NamedTuple):
    """What a draw function returns when some findings belong in panel titles.

    Attributes
    ----------
    readout : the text of the readout widget (and of the static picture's title).
    static_titles : Text artist -> the finding it states. Live, findings are read in the readout
        (re-rendering changing titles is most of a blit's cost); the static picture writes each
        one into its panel's title instead.
    """

    readout: str
    static_titles: Mapping[Any, str] = {}


class Explorer:
    """Controls + a figure built once + a draw function that updates it in place, blitted.

    Parameters
    ----------
    name : the factory's name, used in error messages (``"vanilla_flow_explorer"``).
    controls : name -> ipywidget; each control's ``value`` is one keyword of ``draw``.
    fig : the figure, with every artist already created.
    draw : ``draw(**values) -> str | Drawn``: compute (cached) and set data on the existing
        artists; returns the readout (a one-line summary shown in an HTML widget above the
        figure) or a :class:`Drawn`. ``draw`` may change the data of the ``animated`` artists
        and the axis limits, nothing else of the figure (the rest is the cached background).
    readout_artist : a matplotlib Text (a figure title) that carries the readout in the static
        PNG of the display bundle only; the live figure leaves it to the HTML widget.
    mode : ``"ipympl"`` or ``"image"`` (see ``rnn_core.widgets.backend``).
    animated, overlays : what changes and the legends over it (see ``Blitter``).

    Attributes
    ----------
    controls, fig, widget, values, readout, mode, readout_widget.
    last_render : ``"full"`` or ``"blit"``: how the last repaint was done (None before one).
    """

    def __init__(self, name: str, controls: Mapping[str, Any], fig: Any,
                 draw: Callable[..., str | Drawn], readout_artist: Any, mode: str,
                 animated: Sequence[Any] = (), overlays: Sequence[Any] = ()) -> None:
        import ipywidgets as w

        self.name = name
        self.controls: dict[str, Any] = dict(controls)
        self.fig = fig
        self.mode = mode
        self._draw = draw
        self._readout_artist = readout_artist
        if readout_artist is not None:
            readout_artist.set_visible(False)      # shown only in the static PNG
        self._blitter = Blitter(fig, animated, overlays)
        self._static_titles: Mapping[Any, str] = {}
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

    @property
    def last_render(self) -> str | None:
        return self._blitter.last_render

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
        drawn = self._draw(**self._values)
        if not isinstance(drawn, Drawn):
            drawn = Drawn(drawn)
        text = drawn.readout
        self._static_titles = dict(drawn.static_titles)
        self.readout = text
        self.readout_widget.value = "<b>" + html.escape(text).replace("\n", "<br>") + "</b>"
        if self._readout_artist is not None:
            self._readout_artist.set_text(text)
        if self.mode == "ipympl":
            self.render()
            prefix_data_url(self.fig.canvas)
        elif self._displayed and self._image is not None:
            self.render()
            self._image.value = canvas_png(self.fig.canvas)
        # Image mode, not displayed: nothing to repaint now; the next render() catches up
        # (a full draw if the limits changed meanwhile, else a blit).

    def render(self) -> str:
        """Repaint the canvas (``Blitter.render``): ``"blit"`` or ``"full"``."""
        return self._blitter.render()

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
            ipympl_display_hook(self.fig.canvas)
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
