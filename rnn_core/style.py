"""One palette and text alternatives for every figure of the course.

**Palette.** :data:`PALETTE` is Okabe & Ito's colour-blind-safe set (Okabe & Ito 2008, "Color
Universal Design") without its yellow: every pair of its seven colours stays distinguishable under
simulated protanopia, deuteranopia and tritanopia (``tests/test_book.py`` checks that the CIEDE2000
difference of every pair exceeds 10 after Machado et al. 2009's simulation).
:func:`install` makes it matplotlib's default colour cycle, so ``"C0"``, ``"C1"``, ... and every
unstyled line use it, with a line style as a second channel (:data:`LINESTYLES`): two curves that
differ in colour also differ in dash pattern.

**Alt text.** A screen reader cannot read a PNG. ``describe(fig, "...")`` stores a text
alternative on a figure; the IPython display formatter that :func:`install` registers (called by
``rnn_core.setup()``) publishes the figure's ``image/png`` with the metadata ``{"alt": text}``,
which the static book writes as the ``<img alt>`` (JupyterLab keeps it in the saved notebook).
In a notebook the line that shows a figure reads::

    rnn_core.style.show(fig, "Loss (log scale) against training step: ... ; what to see")

and for an explorer (its static picture at the current values)::

    rnn_core.style.show(explorer, "...")

A text names what is plotted against what and what to see in it, and differs from every other
figure's text.

**Log axes in plain text.** :func:`install` makes every log axis made after it (``semilogy``,
``set_yscale("log")``, a log colour bar) label its ticks in plain text, as the explorers do:
``1e-3``, ``1``, ``1e2``, and ``0.002`` or ``2e-5`` between decades (:func:`log_label`), on the
ticks matplotlib's default labels (``10^{-3}`` in math text) would label. Math text cost about 0.3 s
for a kernel's first log axis and tens of ms per figure after (docs/architecture.md, D7).

``import rnn_core.style`` needs the standard library only; matplotlib and IPython are imported
when used.
"""

from __future__ import annotations

import functools
import math
from typing import Any

__all__ = [
    "PALETTE",
    "LINESTYLES",
    "ALT_ATTR",
    "describe",
    "alt_text",
    "alt_metadata",
    "show",
    "install",
    "power_of_ten",
    "log_label",
    "plain_log_scale",
]

PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
)
"""Okabe-Ito colours in cycle order, hue by hue where matplotlib's default cycle has them
(``"C0"`` blue, ``"C1"`` orange, ``"C2"`` green, ``"C3"`` red, ``"C4"`` purple), so prose that
names a curve's colour stays right. Yellow (``#F0E442``) is left out: on white it is too faint
for a line."""

LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)))
"""The second channel: one dash pattern per cycle colour (same length as :data:`PALETTE`)."""

ALT_ATTR = "_rnn_alt_text"
"""Attribute of a matplotlib Figure that holds its text alternative."""

_MIN_ALT = 20
"""Shortest text accepted: anything shorter cannot say what is plotted against what."""


def _check_alt(text: Any, who: str) -> str:
    if not isinstance(text, str) or len(text.strip()) < _MIN_ALT:
        raise ValueError(
            f"{who}: alt must be a sentence of at least {_MIN_ALT} characters saying what is "
            f"plotted against what and what to see, got {text!r}"
        )
    return " ".join(text.split())


def describe(fig: Any, alt: str) -> Any:
    """Give ``fig`` (a matplotlib Figure) its text alternative; returns ``fig``.

    Raises
    ------
    ValueError
        ``fig`` is not a Figure, or ``alt`` is not a sentence (at least 20 characters).
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"describe: fig must be a matplotlib Figure, got {type(fig).__name__}")
    setattr(fig, ALT_ATTR, _check_alt(alt, "describe"))
    return fig


def alt_text(fig: Any) -> str | None:
    """The text alternative stored on ``fig`` by :func:`describe`, or None."""
    return getattr(fig, ALT_ATTR, None)


def alt_metadata(fig: Any) -> dict[str, Any]:
    """Display metadata carrying ``fig``'s text alternative: ``{"image/png": {"alt": text}}``
    (empty when it has none). For code that publishes a figure's PNG itself, e.g. an explorer's
    ``display(bundle, raw=True, metadata=alt_metadata(self.fig))``."""
    text = alt_text(fig)
    return {"image/png": {"alt": text}} if text else {}


def show(obj: Any, alt: str) -> None:
    """Show a figure or an explorer with its text alternative.

    Parameters
    ----------
    obj : a matplotlib Figure (shown as ``plt.show()`` would), or an explorer (an object with a
        ``fig`` and a ``_repr_mimebundle_``: its widget, and a PNG for static views).
    alt : what is plotted against what, and what to see; unique in the course.
    """
    alt = _check_alt(alt, "show")
    fig = getattr(obj, "fig", None)
    if fig is not None and hasattr(obj, "_repr_mimebundle_"):
        from IPython.display import display

        describe(fig, alt)
        display(obj._repr_mimebundle_(), raw=True, metadata=alt_metadata(fig))
        return
    import matplotlib.pyplot as plt

    describe(obj, alt)
    plt.show()


def power_of_ten(exponent: float) -> str:
    """The label of 10^exponent as the course writes it on axes: "1", "1e-40", "1e12" (plain text:
    the browser draws the explorers' tick labels, and it draws no math text)."""
    n = int(round(exponent))
    return "1" if n == 0 else f"1e{n}"


def log_label(value: float) -> str:
    """The tick label of ``value`` on a log axis: a decade as :func:`power_of_ten` writes it; a
    value between decades in plain digits from 0.001 to 9999 ("0.003", "200", "1024"), else as
    "2e-5" or "1.5e7"; "" for value <= 0."""
    if not value > 0:
        return ""
    e = math.log10(value)
    if abs(e - round(e)) < 1e-9:
        return power_of_ten(e)
    if 1e-3 <= value < 1e4:
        return f"{value:.4g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


MINOR_DECADES = 3
"""A log axis spanning more decades than this gets no minor ticks between decades."""


@functools.cache
def plain_log_scale() -> Any:
    """The ``"log"`` scale :func:`install` registers with matplotlib (one class, built at the first
    call: matplotlib is imported lazily): matplotlib's locators and its choice of the ticks that
    get a label, each label written by :func:`log_label`, fewer minor ticks on a long axis."""
    from matplotlib import scale, ticker

    class PlainLogFormatter(ticker.LogFormatter):
        """matplotlib's log formatter deciding which ticks get a label; :func:`log_label` text."""

        def __call__(self, x: float, pos: Any = None) -> str:
            return log_label(x) if super().__call__(x, pos) else ""

    class ThinMinorLogLocator(ticker.LogLocator):
        """matplotlib's minor log ticks on an axis spanning at most ``MINOR_DECADES`` decades;
        beyond, only the decades without a major tick (each 2 ... 9 tick is a whole tick to lay
        out and draw: on a two-panel figure spanning seven decades they doubled its time)."""

        def __init__(self, base: float, subs: Any) -> None:
            super().__init__(base, subs)
            self.log_base = base

        def tick_values(self, vmin: float, vmax: float) -> Any:
            lo, hi = sorted((float(vmin), float(vmax)))
            if lo > 0 and (math.log(hi) - math.log(lo)) / math.log(self.log_base) > MINOR_DECADES:
                # decades, at most 32 of them (matplotlib strides further on a longer axis)
                decades = ticker.LogLocator(self.log_base, subs=(1.0,), numticks=32)
                return decades.tick_values(vmin, vmax)
            return super().tick_values(vmin, vmax)

    class PlainLogScale(scale.LogScale):
        name = "log"

        # No ``axis`` in the signature: matplotlib >= 3.11 then builds the scale without one.
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

        def set_default_locators_and_formatters(self, axis: Any) -> None:
            super().set_default_locators_and_formatters(axis)
            axis.set_minor_locator(ThinMinorLogLocator(self.base, self.subs))
            axis.set_major_formatter(PlainLogFormatter(self.base))
            axis.set_minor_formatter(
                PlainLogFormatter(self.base, labelOnlyBase=(self.subs is not None))
            )

    return PlainLogScale


def _wrap_png(previous: Any) -> Any:
    def png_with_alt(fig: Any) -> Any:
        data = previous(fig)
        text = alt_text(fig)
        if data is None or not text:
            return data
        return data, {"alt": text}

    png_with_alt.wraps = previous  # type: ignore[attr-defined]
    return png_with_alt


def install(shell: Any = None) -> None:
    """Make :data:`PALETTE` (with :data:`LINESTYLES`) matplotlib's default cycle, label log axes
    in plain text (:func:`plain_log_scale`) and, in IPython, publish each figure's text
    alternative with its PNG. Called by ``rnn_core.setup()`` after it
    chose the plotting backend (the inline backend registers the PNG formatter this wraps)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(PALETTE)) + cycler(
        linestyle=list(LINESTYLES)
    )
    from matplotlib import scale

    scale.register_scale(plain_log_scale())
    if shell is None:
        return
    from matplotlib.figure import Figure

    png = shell.display_formatter.formatters["image/png"]
    try:
        previous = png.lookup_by_type(Figure)
    except KeyError:
        return  # no PNG for figures here (a widget backend draws them itself)
    while hasattr(previous, "wraps"):  # setup() run twice: wrap the original once
        previous = previous.wraps
    png.for_type(Figure, _wrap_png(previous))
