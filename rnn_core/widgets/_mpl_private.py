"""Every use of a private or undocumented matplotlib detail, in one place.

The browser-drawn explorers read one detail that matplotlib does not document as public API
(``tests/test_widgets.py`` exercises it); when an upgrade changes it, this file is the one to fix:

- a line's dash pattern as it is drawn, ``Line2D._dash_pattern``: ``(offset, [on, off, ...])`` in
  points, already scaled by the line width (``lines.scale_dashes``), or ``(0, None)`` for a solid
  line. The public ``get_dashes``/``get_linestyle`` give the style name, not the lengths drawn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["line_dash_pattern"]


def line_dash_pattern(line: Any) -> tuple[float, list[float] | None]:
    """``(offset, on-off lengths in points)`` of a Line2D as drawn; ``(0, None)`` when solid."""
    offset, seq = line._dash_pattern
    return float(offset or 0.0), (list(seq) if seq else None)
