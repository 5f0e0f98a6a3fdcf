"""Every use of a private or undocumented matplotlib / ipympl detail, in one place.

The explorers rely on four details that neither library documents as public API. When an upgrade
changes one of them, this file is the one to fix (``tests/test_widgets.py`` exercises each):

- the name of the selected backend without selecting one (``rcParams._get_backend_or_none`` before
  matplotlib 3.10, ``get_backend(auto_select=False)`` since);
- ipympl's ``Canvas`` and ``FigureManager`` (``ipympl.backend_nbagg``), built by hand so that the
  explorer owns its figure and pyplot's registry never sees it;
- ipympl's embedded image ``Canvas._data_url``, which 0.10 stores without its ``data:`` prefix
  until a frontend attaches;
- ipympl's display hook ``Canvas._repr_mimebundle_``, which gives the canvas its pixel size.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["backend_name", "ipympl_canvas", "prefix_data_url", "ipympl_display_hook"]


def backend_name() -> str:
    """The selected matplotlib backend, lower case, "" if none was selected yet (selects none)."""
    import matplotlib

    try:
        name = matplotlib.get_backend(auto_select=False)
    except TypeError:  # matplotlib < 3.10 has no auto_select
        name = matplotlib.rcParams._get_backend_or_none()
    return (name or "").lower()


def ipympl_canvas(fig: Any) -> Any:
    """Put ``fig`` on an ipympl ``Canvas`` widget with its ``FigureManager``, header and footer
    hidden: what ``%matplotlib widget`` does for ``plt.figure``, minus pyplot's registry (no
    ``plt.show`` shows it a second time, no "20 figures" warning)."""
    from ipympl.backend_nbagg import Canvas, FigureManager

    with warnings.catch_warnings():
        # ipympl's Toolbar passes its canvas on to traitlets' __init__, which warns
        # (a known upstream issue: matplotlib/ipympl#611, #488); nothing to act on here.
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=r"Passing unrecognized arguments to super\(Toolbar\)")
        canvas = Canvas(fig)
        # the manager handles the frontend's resize/dpi messages
        FigureManager(canvas, 0)
    canvas.header_visible = False
    canvas.footer_visible = False
    return canvas


def prefix_data_url(canvas: Any) -> None:
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


def ipympl_display_hook(canvas: Any) -> None:
    """Run ipympl's own display hook for a canvas shown inside another widget (a VBox), where
    IPython never calls it: it gives the canvas its pixel size and a valid embedded image.
    Without it the frontend finds a 0 x 0 canvas and an image it cannot decode."""
    canvas._repr_mimebundle_()
    prefix_data_url(canvas)
