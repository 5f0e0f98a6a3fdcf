"""Figures for the explorers: which display mode, a figure on its own canvas, PNG bytes.

Two display modes, chosen from the active matplotlib backend when an explorer is created:

``"ipympl"`` (``%matplotlib widget``, the live canvas in JupyterLab)
    The figure's canvas is itself a widget; a repaint is sent to the frontend by the canvas.
``"image"`` (every other backend: inline, Agg, nbval, nbconvert)
    The figure lives on a private Agg canvas (never registered with pyplot, so the inline backend
    does not display it a second time); the explorer shows its pixels in an ``ipywidgets.Image``.
"""

from __future__ import annotations

import io
from typing import Any

from rnn_core.widgets._mpl_private import backend_name, ipympl_canvas

__all__ = ["backend_mode", "new_figure", "figure_png", "canvas_png", "PNG_COMPRESS_LEVEL"]


def backend_mode() -> str:
    """``"ipympl"`` if matplotlib's active backend is ipympl (``%matplotlib widget``), else
    ``"image"``. Does not select a backend if none was selected yet."""
    name = backend_name()
    return "ipympl" if ("ipympl" in name or name == "widget") else "image"


def new_figure(figsize: tuple[float, float], mode: str, dpi: float = 72) -> Any:
    """A matplotlib Figure for an explorer, owned by it (pyplot never registers it).

    ``mode="ipympl"``: on an ipympl ``Canvas`` widget (see ``_mpl_private.ipympl_canvas``);
    ``mode="image"``: on a private Agg canvas.
    """
    from matplotlib.figure import Figure

    if mode not in ("ipympl", "image"):
        raise ValueError(f"new_figure: mode must be 'ipympl' or 'image', got {mode!r}")
    fig = Figure(figsize=figsize, dpi=dpi)
    if mode == "ipympl":
        ipympl_canvas(fig)
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig


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
