"""Figures for the explorers: a figure on its own Agg canvas, PNG bytes.

The explorers draw live in the browser (``web``); matplotlib renders only pictures: the
background of each set of axis limits (``frames.Backgrounds``) and the static PNG of the display
bundle. So every explorer figure lives on a private Agg canvas, whatever backend pyplot uses: it
is never registered with pyplot, so the inline backend does not display it a second time and no
``plt.show`` shows it.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["new_figure", "figure_png"]


def new_figure(figsize: tuple[float, float], dpi: float = 72) -> Any:
    """A matplotlib Figure for an explorer, on a private Agg canvas (pyplot never sees it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Any, dpi: float | None = None) -> bytes:
    """Render ``fig`` to PNG bytes (a full render with Agg)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buf.getvalue()
