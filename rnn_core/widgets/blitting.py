"""Repaint only what changed: a cached background plus the artists a slider moves.

matplotlib's blitting recipe (its tutorial's ``BlitManager``), with two additions the explorers
need: the background is retaken whenever an axis limit or the pixel size changed (the data may
have moved the limits), and legends that lie over the moving data are copied back from the
background after the data are painted (what a full render shows, without re-rendering text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Blitter"]


class Blitter:
    """Keeps a figure's background and repaints its animated artists over it.

    Parameters
    ----------
    fig : the figure, with every artist already created.
    animated : the artists that change between repaints (data lines, scatters, changing titles).
        They are marked animated (a full draw skips them) and painted after every repaint, in
        (axes, zorder) order, over the cached background.
    overlays : legends over animated artists, made with ``axes.overlay_legend`` (opaque, square,
        snapped to whole pixels) in a fixed place; their frames' pixels are copied back from the
        background after the animated artists are painted.

    Attributes
    ----------
    last_render : ``"full"`` or ``"blit"``: how the last repaint was done (None before one).
    """

    def __init__(self, fig: Any, animated: Sequence[Any] = (), overlays: Sequence[Any] = ()):
        self.fig = fig
        order = {id(ax): i for i, ax in enumerate(fig.axes)}
        self._animated = sorted(
            animated, key=lambda a: (order.get(id(a.axes), len(order)), a.get_zorder()))
        for a in self._animated:
            a.set_animated(True)
        self._overlays = list(overlays)
        self._overlay_boxes: list[tuple[int, int, int, int]] = []
        self._background: Any = None
        self._background_key: Any = None
        self.last_render: str | None = None
        fig.canvas.mpl_connect("draw_event", self._on_draw)

    def _static_key(self) -> tuple:
        """What the background depends on besides the static artists: pixel size, dpi and every
        axis' limits. A change forces a full draw."""
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
        """Repaint the canvas for the current artists: ``"blit"`` (restore the background, draw
        the animated artists, ``canvas.blit``) when no axis limit and no pixel size changed since
        the background was taken, else ``"full"`` (``canvas.draw()``, which takes a new
        background). Returns which one it did; an ipympl canvas sends the changed pixels to the
        frontend either way."""
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
