"""The explorers' controls: ipywidgets sliders, dropdowns and checkboxes with one look.

Each control's ``value`` is one keyword of the explorer's draw function. ipywidgets is imported
when a control is made, not when this module is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["slider", "log_slider", "int_slider", "dropdown", "checkbox"]


def slider(description: str, value: float, lo: float, hi: float, step: float,
           fmt: str = ".2f", continuous: bool = True) -> Any:
    """A FloatSlider (continuous_update as asked)."""
    import ipywidgets as w

    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         readout_format=fmt, continuous_update=continuous,
                         style={"description_width": "initial"})


def log_slider(description: str, value: float, lo: float, hi: float, steps: int = 60,
               fmt: str = ".3g", continuous: bool = True) -> Any:
    """A FloatLogSlider from ``lo`` to ``hi`` (base 10) with ``steps`` positions."""
    import ipywidgets as w

    llo, lhi = np.log10(lo), np.log10(hi)
    return w.FloatLogSlider(value=value, base=10, min=llo, max=lhi, step=(lhi - llo) / steps,
                            description=description, readout_format=fmt,
                            continuous_update=continuous, style={"description_width": "initial"})


def int_slider(description: str, value: int, lo: int, hi: int, step: int = 1,
               continuous: bool = True) -> Any:
    """An IntSlider."""
    import ipywidgets as w

    return w.IntSlider(value=value, min=lo, max=hi, step=step, description=description,
                       continuous_update=continuous, style={"description_width": "initial"})


def dropdown(description: str, value: Any, options: Any) -> Any:
    """A Dropdown over ``options`` (a list, or (label, value) pairs)."""
    import ipywidgets as w

    return w.Dropdown(value=value, options=options, description=description,
                      style={"description_width": "initial"})


def checkbox(description: str, value: bool) -> Any:
    """A Checkbox."""
    import ipywidgets as w

    return w.Checkbox(value=value, description=description, indent=False)
