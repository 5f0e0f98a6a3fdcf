"""Every use of a private or undocumented matplotlib detail, in one place.

The browser-drawn explorers read details that matplotlib does not document as public API
(``tests/test_widgets.py`` exercises them); when an upgrade changes them, this file is the one
to fix:

- a line's dash pattern as it is drawn, ``Line2D._dash_pattern``: ``(offset, [on, off, ...])`` in
  points, already scaled by the line width (``lines.scale_dashes``), or ``(0, None)`` for a solid
  line. The public ``get_dashes``/``get_linestyle`` give the style name, not the lengths drawn.
- an axis laid out as ``Axis.draw`` lays it out before drawing (``_update_ticks``,
  ``_get_ticklabel_bboxes``, ``_update_label_position``, ``_update_offset_text_position``): the
  ticks in view with their positions and labels, the axis label moved clear of the tick labels,
  the offset text placed. The browser draws these parts (``frames.Decorations``).
- ``matplotlib.text._get_text_metrics_with_cache``: a text's (width, height, descent) through the
  cache the text layout itself uses (``text_descent``); the renderer's public method measures
  the string again each time.
- the axes whose labels a figure aligns with an axes' (``Figure._align_label_groups``, filled by
  ``Figure.align_labels``): ``Axis._update_label_position`` places an axis label clear of their
  tick labels too, so a layout cached per axes is keyed on them (``label_siblings``).
- the tick locators of an axis, ``Axis.major.locator`` and ``Axis.minor.locator``, swapped for a
  ``NullLocator`` while a background is rendered without ticks (``hidden_ticks``); the public
  ``set_major_locator`` would also re-point the formatter and reset defaults.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["line_dash_pattern", "lay_out_axis", "label_siblings", "hidden_ticks", "text_descent"]


def line_dash_pattern(line: Any) -> tuple[float, list[float] | None]:
    """``(offset, on-off lengths in points)`` of a Line2D as drawn; ``(0, None)`` when solid."""
    offset, seq = line._dash_pattern
    return float(offset or 0.0), (list(seq) if seq else None)


def lay_out_axis(axis: Any, renderer: Any) -> tuple[list[Any], dict[int, Any]]:
    """Lay out ``axis`` as ``Axis.draw`` does before it draws: tick positions and labels, the axis
    label clear of the tick labels, the offset text's position and string. Returns the ticks
    ``Axis.draw`` would draw (those in view) and the window extent of each visible tick label
    (by ``id`` of its Text), as measured for the layout."""
    ticks = list(axis._update_ticks())
    below, above = axis._get_ticklabel_bboxes(ticks, renderer)
    axis._update_label_position(renderer)
    axis._update_offset_text_position(below, above)
    axis.offsetText.set_text(axis.major.formatter.get_offset())
    extents = {}
    for which, boxes in (("label1", below), ("label2", above)):
        shown = [getattr(t, which) for t in ticks if getattr(t, which).get_visible()]
        extents.update({id(label): box for label, box in zip(shown, boxes, strict=True)})
    return ticks, extents


def label_siblings(ax: Any, which: str) -> list[Any]:
    """The other axes whose ``which`` ("x" or "y") tick labels the layout of ``ax``'s ``which``
    label takes into account (those ``Figure.align_labels`` grouped with it), in figure order."""
    fig = ax.get_figure(root=False)
    group = getattr(fig, "_align_label_groups", {}).get(which)
    found = set() if group is None else {id(o) for o in group.get_siblings(ax) if o is not ax}
    return [o for o in fig.axes if id(o) in found]


@contextlib.contextmanager
def hidden_ticks(axes: Sequence[Any]) -> Iterator[None]:
    """Inside, every axis of ``axes`` has no ticks (so no tick labels, no grid lines) and no
    axis label or offset text; outside, all of it is back as it was."""
    from matplotlib.ticker import NullLocator

    saved = []
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            saved.append((axis, axis.major.locator, axis.minor.locator,
                          axis.label.get_visible(), axis.offsetText.get_visible()))
            axis.major.locator, axis.minor.locator = NullLocator(), NullLocator()
            axis.label.set_visible(False)
            axis.offsetText.set_visible(False)
    try:
        yield
    finally:
        # last saved, first put back: shared axes share one Ticker, so a later entry saved the
        # NullLocator an earlier one put in
        for axis, major, minor, label, offset in reversed(saved):
            axis.major.locator, axis.minor.locator = major, minor
            axis.label.set_visible(label)
            axis.offsetText.set_visible(offset)
            axis.stale = True


def text_descent(renderer: Any, s: str, text: Any) -> float:
    """The descent in pixels of one line ``s`` in ``text``'s font, as its layout measures it
    (cached)."""
    from matplotlib.text import _get_text_metrics_with_cache

    return float(_get_text_metrics_with_cache(renderer, s, text.get_fontproperties(), False,
                                              text.get_figure(root=True).dpi)[2])
