"""A figure's moving parts as numbers the browser draws: one frame per set of control values.

After an explorer's ``draw`` has set new data on its animated artists, :func:`frame` turns each of
them into display pixels (the artist's own transform applied to its data, y from the top, in the
figure's pixels at its dpi) with its style: lines (colour, width, dash pattern, caps, markers),
scatters (marker path, sizes, colours), images (RGBA bytes through the artist's cmap and norm,
and their pixel extent) and texts (string, anchor, font size, colour, alignment, rotation). Point
data and image bytes go in binary buffers, the rest in compact JSON. The browser
(``static/explorer.js``) paints them over the :class:`Backgrounds` image in the same order a
full render would (axes, then zorder), clipped to their axes, then repaints the legends that lie
over the data from the background.

What depends on the axis limits is drawn by the browser too (:class:`Decorations`): the ticks,
their labels, the axis labels (matplotlib moves them clear of the tick labels) and offset texts,
laid out by matplotlib as its own draw would and sent as lines and texts at the head of every
frame, cached per axes by its limits and tick positions (a step that moves one axes' limits lays
out that axes alone). Everything else (axes frames, titles,
legends, colourbars, artists in data coordinates that never move) is the background: one PNG
rendered by matplotlib with the animated artists and the decorations hidden. It depends on the
figure's pixel size and the axes' boxes only, and on the limits of the axes that hold a static
artist in data coordinates (a filled contour, a colourbar's colours): a slider that moves the
limits costs a few lines and texts, not a render (docs/architecture.md, D6).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnn_core.widgets._mpl_private import (
    hidden_ticks,
    label_siblings,
    lay_out_axis,
    line_dash_pattern,
    text_descent,
)

__all__ = ["frame", "draw_order", "Backgrounds", "Decorations", "overlay_boxes", "pixel_size"]


def pixel_size(fig: Any) -> tuple[int, int]:
    """The figure's size in pixels at its dpi, as Agg renders it (whole pixels, rounded down):
    the canvas the browser draws on. Rows are counted from the top of this height, as Agg does."""
    return fig.canvas.get_width_height(physical=True)


def draw_order(fig: Any, artists: Sequence[Any]) -> list[Any]:
    """The artists in the order a full render paints them: by axes, then by zorder."""
    order = {id(ax): i for i, ax in enumerate(fig.axes)}
    return sorted(artists, key=lambda a: (order.get(id(a.axes), len(order)), a.get_zorder()))


def _rgba(c: Any, alpha: float | None = None) -> list[float]:
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(c, alpha)
    return [round(float(r), 4), round(float(g), 4), round(float(b), 4), round(float(a), 4)]


def _first_rgba(colors: Any, alpha: float | None) -> list[float] | None:
    """The one colour of a collection (None when it has none, e.g. ``facecolors="none"``)."""
    arr = np.asarray(colors, dtype=float).reshape(-1, 4)
    if arr.shape[0] == 0 or arr[0, 3] == 0:
        return None
    return _rgba(tuple(arr[0]), alpha)


class _Packer:
    """Collects binary buffers; an artist's JSON names its buffers by index."""

    def __init__(self) -> None:
        self.buffers: list[bytes] = []

    def add(self, a: np.ndarray) -> int:
        self.buffers.append(np.ascontiguousarray(a).tobytes())
        return len(self.buffers) - 1


def _to_pixels(fig: Any, transform: Any, xy: np.ndarray) -> np.ndarray:
    """Data -> figure pixels, y from the top, as float32 (non-finite points stay NaN: breaks)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if xy.shape[0] == 0:
        return np.zeros((0, 2), np.float32)
    with np.errstate(all="ignore"):
        px = np.asarray(transform.transform(xy), dtype=np.float64)
    px[:, 1] = pixel_size(fig)[1] - px[:, 1]
    px[~np.isfinite(px).all(axis=1)] = np.nan
    return px.astype(np.float32)


def _clip(fig: Any, artist: Any) -> list[float] | None:
    """The artist's clip rectangle (its axes) as [x, y, w, h] pixels from the top left."""
    box = artist.get_clip_box() if artist.get_clip_on() else None
    if box is None:
        return None
    x0, y0, x1, y1 = box.extents
    return [round(float(x0), 2), round(float(pixel_size(fig)[1] - y1), 2),
            round(float(x1 - x0), 2), round(float(y1 - y0), 2)]


def _marker(fig: Any, marker: Any, size_pt: float, pack: _Packer,
            snap: float | None = None) -> dict[str, Any]:
    """A marker's path in pixels around (0, 0), y down, for a marker ``size_pt`` points wide;
    ``snap``: its vertices moved to whole pixels plus ``snap`` (0.5 for an odd edge width)."""
    path = marker.get_path().transformed(marker.get_transform())
    verts = np.asarray(path.vertices, dtype=np.float64) * size_pt * fig.dpi / 72.0
    verts[:, 1] *= -1
    if snap is not None:          # as Agg snaps it: y already pointing down
        verts = np.floor(verts + 0.5) + snap
    codes = path.codes if path.codes is not None else np.r_[1, np.full(len(verts) - 1, 2)]
    return {"path": pack.add(verts.astype(np.float32)), "codes": [int(c) for c in codes],
            "filled": bool(marker.is_filled())}


def _snapped(px: np.ndarray, lw: float, snap: Any) -> np.ndarray:
    """Axis-aligned polylines snapped to the pixel grid, as Agg snaps them (``snap=None``: only
    when every segment is horizontal or vertical); the lines then land on the same pixels."""
    if snap is False or len(px) < 2:
        return px
    d = np.diff(px, axis=0)
    ok = ~np.isnan(d).any(axis=1)
    if snap is None and not (np.isclose(d[ok, 0], 0) | np.isclose(d[ok, 1], 0)).all():
        return px
    half = 0.5 if int(round(lw)) % 2 else 0.0
    return (np.floor(px + 0.5) + half).astype(px.dtype)


def _line(fig: Any, line: Any, pack: _Packer, ticks: Sequence[Any] = ()) -> dict[str, Any]:
    """A Line2D. With ``ticks`` (tick marks: one-point lines with a tick marker, ``line`` one
    of them), one item draws the markers of all of them, each at a whole pixel with its path
    snapped to pixel centres, as Agg draws tick marks."""
    from matplotlib.markers import MarkerStyle

    tick = bool(ticks)
    lw = float(line.get_linewidth()) * fig.dpi / 72.0
    if tick:
        px = np.floor(np.vstack([_to_pixels(fig, t.get_transform(), t.get_xydata())
                                 for t in ticks]) + 0.5)
    else:
        px = _snapped(_to_pixels(fig, line.get_transform(), line.get_xydata()), lw,
                      line.get_snap())
    out: dict[str, Any] = {"kind": "line", "xy": pack.add(px), "n": int(px.shape[0])}
    if line.get_linestyle() not in ("None", " ", "", "none") and lw > 0:
        offset, seq = line_dash_pattern(line)
        scale = fig.dpi / 72.0
        out.update(color=_rgba(line.get_color(), line.get_alpha()), lw=round(lw, 3),
                   dash=[round(float(s) * scale, 3) for s in (seq or [])],
                   dash_offset=round(float(offset or 0.0) * scale, 3),
                   cap=(line.get_dash_capstyle() if seq else line.get_solid_capstyle()),
                   join=(line.get_dash_joinstyle() if seq else line.get_solid_joinstyle()))
    marker = MarkerStyle(line.get_marker())
    if marker.get_marker() not in ("None", None, "", " ", "none"):
        ew = float(line.get_markeredgewidth()) * fig.dpi / 72.0
        m = _marker(fig, marker, float(line.get_markersize()), pack,
                    snap=(0.5 if int(round(ew)) % 2 else 0.0) if tick else None)
        m.update(face=_rgba(line.get_markerfacecolor(), line.get_alpha())
                 if m["filled"] else None,
                 edge=_rgba(line.get_markeredgecolor(), line.get_alpha()),
                 ew=round(float(line.get_markeredgewidth()) * fig.dpi / 72.0, 3))
        out["marker"] = m
    return out


def _scatter(fig: Any, coll: Any, pack: _Packer) -> dict[str, Any]:
    px = _to_pixels(fig, coll.get_offset_transform(), coll.get_offsets())
    sizes = np.asarray(coll.get_sizes(), dtype=np.float64)
    size_pt = float(np.sqrt(sizes[0])) if sizes.size else 6.0
    path = coll.get_paths()[0]
    verts = np.asarray(path.vertices, dtype=np.float64) * size_pt * fig.dpi / 72.0
    verts[:, 1] *= -1
    codes = path.codes if path.codes is not None else np.r_[1, np.full(len(verts) - 1, 2)]
    lws = np.asarray(coll.get_linewidths(), dtype=float)
    alpha = coll.get_alpha()
    return {"kind": "line", "xy": pack.add(px), "n": int(px.shape[0]),
            "marker": {"path": pack.add(verts.astype(np.float32)),
                       "codes": [int(c) for c in codes], "filled": True,
                       "face": _first_rgba(coll.get_facecolors(), alpha),
                       "edge": _first_rgba(coll.get_edgecolors(), alpha),
                       "ew": round(float(lws[0] if lws.size else 0.0) * fig.dpi / 72.0, 3)}}


def _image(fig: Any, im: Any, pack: _Packer) -> dict[str, Any]:
    data = im.get_array()
    rgba = np.asarray(im.to_rgba(data, bytes=True), dtype=np.uint8)   # (rows, cols, 4)
    if im.origin == "lower":
        rgba = rgba[::-1]                       # the browser's row 0 is the top
    x0, x1, y0, y1 = im.get_extent()
    corners = _to_pixels(fig, im.axes.transData, np.array([[x0, y0], [x1, y1]]))
    left, right = sorted(corners[:, 0].tolist())
    top, bottom = sorted(corners[:, 1].tolist())
    return {"kind": "image", "rgba": pack.add(rgba), "w": int(rgba.shape[1]),
            "h": int(rgba.shape[0]), "box": [left, top, right - left, bottom - top],
            "alpha": float(im.get_alpha() if im.get_alpha() is not None else 1.0)}


_BASELINE = {"baseline": "alphabetic", "center_baseline": "middle", "center": "middle",
             "top": "top", "bottom": "bottom"}


def _text(fig: Any, text: Any, extent: Any = None) -> dict[str, Any]:
    """A Text; ``extent``: its window extent if already measured (a tick label's layout)."""
    s = text.get_text()
    if s.count("$") - s.count(r"\$") >= 2:     # matplotlib would draw math text
        raise TypeError(f"frame: the browser cannot draw the math text {s!r}; give the explorer "
                        "plain labels (e.g. axes.plain_log_axis for a log axis)")
    x, y = _to_pixels(fig, text.get_transform(), np.array([text.get_unitless_position()]))[0]
    va = _BASELINE.get(text.get_verticalalignment(), "alphabetic")
    rot = float(text.get_rotation())
    if s and "\n" not in s and (not rot or text.get_rotation_mode() == "anchor"):
        # the browser's font metrics differ from matplotlib's: put the baseline where
        # matplotlib's layout puts it rather than align by name. In the text's own (unrotated)
        # frame the baseline is its box's bottom plus the line's descent (at least that of
        # "lp", as Text._get_layout counts it); "anchor" rotation turns that frame about the
        # anchor point.
        renderer = fig.canvas.get_renderer()
        descent = max(text_descent(renderer, t, text) for t in (s, "lp"))
        height = pixel_size(fig)[1]
        ax_, ay_ = float(x), height - float(y)        # the anchor, y up as matplotlib's
        if rot:
            text.set_rotation(0)
        try:
            box = extent if extent is not None and not rot else text.get_window_extent(renderer)
            up = box.y0 + descent - ay_
        finally:
            if rot:
                text.set_rotation(rot)
        r = np.deg2rad(rot)
        x = ax_ - up * np.sin(r)
        y = height - (ay_ + up * np.cos(r))
        va = "alphabetic"
    return {"kind": "text", "s": s, "x": float(x), "y": float(y),
            "size": round(float(text.get_fontsize()) * fig.dpi / 72.0, 3),
            "color": _rgba(text.get_color(), text.get_alpha()),
            "ha": text.get_horizontalalignment(), "va": va,
            "rotation": float(text.get_rotation()), "weight": str(text.get_fontweight())}


def frame(fig: Any, artists: Sequence[Any], decorations: Decorations | None = None
          ) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Serialise the visible ``artists`` (in :func:`draw_order`): a JSON-able list, one entry
    per artist, and the binary buffers its entries point to (float32 pixel coordinates, uint8
    RGBA for images). With ``decorations``, the figure's ticks, tick labels and axis labels
    come first (drawn under the data, as the axes draw them before their data)."""
    from matplotlib.collections import PathCollection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    for ax in fig.axes:
        ax.apply_aspect()         # what a draw does first: an equal-aspect axes shrinks its box
    pack = _Packer()
    out = []
    if decorations is not None:   # first: their buffer indices stay what they were cached with
        items, buffers = decorations.get()
        out.extend(items)
        pack.buffers.extend(buffers)
    for a in draw_order(fig, artists):
        if not a.get_visible():
            continue
        if isinstance(a, Line2D):
            item = _line(fig, a, pack)
        elif isinstance(a, PathCollection):
            item = _scatter(fig, a, pack)
        elif isinstance(a, AxesImage):
            item = _image(fig, a, pack)
        elif isinstance(a, Text):
            item = _text(fig, a)
        else:
            raise TypeError(f"frame: cannot draw a {type(a).__name__} in the browser; "
                            "expected a Line2D, PathCollection, AxesImage or Text")
        item["clip"] = _clip(fig, a)
        item["z"] = float(a.get_zorder())
        out.append(item)
    return out, pack.buffers


def overlay_boxes(fig: Any, overlays: Sequence[Any]) -> list[list[int]]:
    """The pixels each legend's frame covers, edge included, as [x, y, w, h] from the top left
    (the browser copies them back from the background over the data)."""
    renderer = fig.canvas.get_renderer()
    w, h = pixel_size(fig)
    out = []
    for leg in overlays:
        if not leg.get_visible():
            continue
        fr = leg.get_frame()
        bbox = fr.get_window_extent(renderer)
        half = 0.5 * fr.get_linewidth() * fig.dpi / 72.0
        x0 = max(int(np.floor(bbox.x0 - half)), 0)
        x1 = min(int(np.ceil(bbox.x1 + half)), w)
        top = max(int(np.floor(h - bbox.y1 - half)), 0)
        bottom = min(int(np.ceil(h - bbox.y0 + half)), h)
        out.append([x0, top, x1 - x0, bottom - top])
    return out


PNG_COMPRESS_LEVEL = 1
"""zlib level of the backgrounds: several times faster than PIL's default 6 for a few percent
more bytes (plots are mostly flat colour)."""


def canvas_png(canvas: Any, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """Draw an Agg canvas and encode its pixels as PNG (RGB): cheaper than ``savefig``, which
    re-renders and encodes at zlib level 6."""
    from PIL import Image

    canvas.draw()
    w, h = canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="png", compress_level=compress_level)
    return buf.getvalue()


def _data_coords(artist: Any, ax: Any) -> bool:
    """Whether ``artist`` is placed (at least along one axis) in ``ax``'s data coordinates."""
    from matplotlib.transforms import Transform

    tr = artist.get_transform()
    if not isinstance(tr, Transform):
        return False
    return any(tr.contains_branch_seperately(ax.transData))


def static_data_axes(fig: Any, animated: Sequence[Any]) -> list[Any]:
    """The axes of ``fig`` that hold an artist in data coordinates that is not animated (a
    filled contour, a colourbar's colours, a reference circle): the background shows it, so
    the background depends on these axes' limits."""
    moving = {id(a) for a in animated}
    out = []
    for ax in fig.axes:
        parts = [*ax.lines, *ax.collections, *ax.images, *ax.patches, *ax.texts, *ax.artists]
        if any(id(a) not in moving and a.get_visible() and _data_coords(a, ax) for a in parts):
            out.append(ax)
    return out


def _box(ax: Any) -> tuple[float, ...]:
    """The axes' box in figure fractions, as drawn (equal-aspect axes shrink it)."""
    ax.apply_aspect()
    return tuple(round(float(v), 9) for v in ax.get_position().bounds)


class Decorations:
    """The ticks, tick labels, axis labels and offset texts of every axes, as frame items the
    browser draws (lines and texts), laid out by matplotlib as its draw would lay them out.

    ``get()`` returns ``(items, buffers)``, cached by the pixel size, and per axes its box,
    limits, tick positions and axis label strings (64 kept): most slider steps keep the limits
    and reuse the last entry. A new combination is assembled from the layouts of single axes,
    each cached by its own key (and those of the axes its labels align with): a step that moves
    one axes' limits lays out that axes alone. Math text cannot be drawn by the browser: a label
    with it raises TypeError (give the explorer plain labels, e.g.
    :func:`~rnn_core.widgets.axes.plain_log_axis`).
    """

    MAX = 64
    MAX_PARTS = 256

    def __init__(self, fig: Any) -> None:
        self.fig = fig
        self._cache: dict[Any, tuple[list[dict[str, Any]], list[bytes]]] = {}
        self._parts: dict[Any, tuple[list[dict[str, Any]], list[bytes]]] = {}
        self.layouts = 0         # combinations assembled (new limits somewhere: cache misses)
        self.axes_laid_out = 0   # single axes laid out by matplotlib (the work of a miss)

    @staticmethod
    def _axis_key(ax: Any, which: str, box: tuple | None = None) -> tuple:
        """What the layout of ``ax``'s x or y axis depends on, besides the figure's size
        (``box``: ``ax``'s box, if already measured)."""
        axis = ax.xaxis if which == "x" else ax.yaxis
        return (_box(ax) if box is None else box,
                ax.get_xlim() if which == "x" else ax.get_ylim(),
                tuple(axis.get_majorticklocs()), tuple(axis.get_minorticklocs()),
                axis.label.get_text(), axis.get_visible())

    @classmethod
    def _axes_key(cls, ax: Any) -> tuple:
        box = _box(ax)
        return (ax.get_visible(), ax.axison, cls._axis_key(ax, "x", box),
                cls._axis_key(ax, "y", box))

    def key(self) -> tuple:
        return (pixel_size(self.fig), float(self.fig.dpi),
                *(self._axes_key(ax) for ax in self.fig.axes))

    def get(self) -> tuple[list[dict[str, Any]], list[bytes]]:
        k = self.key()
        if k not in self._cache:
            if len(self._cache) >= self.MAX:
                del self._cache[next(iter(self._cache))]       # the oldest
            self._cache[k] = self._assemble(k)
        return self._cache[k]

    def _assemble(self, key: tuple) -> tuple[list[dict[str, Any]], list[bytes]]:
        """The combination for ``key`` (from :meth:`key`): each axes' layout from its own cache,
        keyed by its own key and the x (y) axis keys of the axes its x (y) label aligns with."""
        self.layouts += 1
        size, axes_keys = key[:2], key[2:]
        renderer = None
        parts = []
        for ax, own in zip(self.fig.axes, axes_keys, strict=True):
            k = (size, own, *(tuple(self._axis_key(o, w) for o in label_siblings(ax, w))
                              for w in ("x", "y")))
            part = self._parts.get(k)
            if part is None:
                if len(self._parts) >= self.MAX_PARTS:
                    del self._parts[next(iter(self._parts))]
                renderer = renderer or self.fig.canvas.get_renderer()
                part = self._parts[k] = self._lay_out_axes(ax, renderer)
            parts.append(part)
        return _joined(parts)

    def _lay_out(self) -> tuple[list[dict[str, Any]], list[bytes]]:
        """Every axes laid out afresh, nothing cached: what ``get()`` must equal."""
        renderer = self.fig.canvas.get_renderer()
        return _joined([self._lay_out_axes(ax, renderer) for ax in self.fig.axes])

    def _lay_out_axes(self, ax: Any, renderer: Any) -> tuple[list[dict[str, Any]], list[bytes]]:
        self.axes_laid_out += 1
        fig = self.fig
        pack = _Packer()
        items: list[dict[str, Any]] = []
        if not ax.get_visible() or not ax.axison:
            return items, pack.buffers
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():
                continue
            z = float(axis.get_zorder())
            ticks, extents = lay_out_axis(axis, renderer)
            ticks = [t for t in ticks if t.get_visible()]
            for grid in (t.gridline for t in ticks):
                if grid.get_visible():
                    items.append({**_line(fig, grid, pack), "clip": _clip(fig, grid), "z": z})
            for part in ("tick1line", "tick2line"):      # the marks of one side: one item
                marks = [getattr(t, part) for t in ticks if getattr(t, part).get_visible()]
                if marks:
                    items.append({**_line(fig, marks[0], pack, ticks=marks),
                                  "clip": _clip(fig, marks[0]), "z": z})
            for tick in ticks:
                for label in (tick.label1, tick.label2):
                    if label.get_visible() and label.get_text():
                        items.append({**_text(fig, label, extents.get(id(label))),
                                      "clip": None, "z": z})
            for text in (axis.label, axis.offsetText):
                if text.get_visible() and text.get_text():
                    items.append({**_text(fig, text), "clip": None, "z": z})
        return items, pack.buffers


def _joined(parts: Sequence[tuple[list[dict[str, Any]], list[bytes]]]
            ) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The items and buffers of several parts in one list each, buffer indices moved to match."""
    items: list[dict[str, Any]] = []
    buffers: list[bytes] = []
    for part_items, part_buffers in parts:
        items.extend(_shifted(item, len(buffers)) for item in part_items)
        buffers.extend(part_buffers)
    return items, buffers


def _shifted(item: dict[str, Any], shift: int) -> dict[str, Any]:
    """``item`` with its buffer indices moved by ``shift`` (its buffers placed after others)."""
    if not shift or "xy" not in item:
        return item
    out = {**item, "xy": item["xy"] + shift}
    if "marker" in item:
        out["marker"] = {**item["marker"], "path": item["marker"]["path"] + shift}
    return out


class Backgrounds:
    """PNG backgrounds of a figure: everything but the animated artists and the
    :class:`Decorations` (ticks, tick labels, axis labels), which the browser draws.

    Parameters
    ----------
    fig : the figure. animated : the artists left out of the background.
    hidden : artists that are never drawn live (the readout title of the static picture).

    ``get(scale)`` returns ``(bg_id, png)``, cached by the pixel size and scale, the axes' boxes
    and the limits of the axes that hold static artists in data coordinates
    (:func:`static_data_axes`): the id changes exactly when one of these changed since the
    background was rendered.
    """

    def __init__(self, fig: Any, animated: Sequence[Any], hidden: Sequence[Any] = ()) -> None:
        self.fig = fig
        self._animated = list(animated)
        self._hidden = [a for a in hidden if a is not None]
        self._static_axes = static_data_axes(fig, self._animated)
        self._cache: dict[Any, tuple[int, bytes]] = {}
        self.renders = 0     # how many PNGs were rendered (ids count up, never reused)

    MAX = 64
    """Backgrounds kept (a few hundred kB each at most)."""

    def key(self, scale: float = 1.0) -> tuple:
        """What the background depends on besides the static artists."""
        return (pixel_size(self.fig), float(self.fig.dpi), float(scale),
                tuple(_box(ax) for ax in self.fig.axes),
                tuple((ax.get_xlim(), ax.get_ylim()) for ax in self._static_axes))

    def get(self, scale: float = 1.0) -> tuple[int, bytes]:
        k = self.key(scale)
        if k not in self._cache:
            if len(self._cache) >= self.MAX:
                del self._cache[next(iter(self._cache))]       # the oldest
            png = self._render(scale)
            self._cache[k] = (self.renders, png)
        return self._cache[k]

    def _render(self, scale: float) -> bytes:
        from matplotlib.text import Text

        off = self._animated + self._hidden
        shown = [a.get_visible() for a in off]
        # a draw re-places axes titles (Axes._update_title_position), and a hidden title lands
        # far off: keep where the animated texts are
        where = [(a, a.get_position()) for a in self._animated if isinstance(a, Text)]
        for a in off:
            a.set_visible(False)
        try:
            self.renders += 1
            with hidden_ticks(self.fig.axes):
                if scale != 1.0:              # a HiDPI screen: savefig renders at another dpi
                    buf = io.BytesIO()
                    self.fig.savefig(buf, format="png", dpi=self.fig.dpi * scale)
                    return buf.getvalue()
                return canvas_png(self.fig.canvas)
        finally:
            for a, v in zip(off, shown, strict=True):
                a.set_visible(v)
            for a, xy in where:
                a.set_position(xy)
