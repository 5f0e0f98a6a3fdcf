"""The explorers' controls: sliders, dropdowns and checkboxes, each a discrete grid of values.

A control holds the current ``value`` (a traitlets trait: ``observe`` it to follow changes) and the
grid of values the browser offers: a slider's positions, a dropdown's options, a checkbox's two
states. The grid is sent once to the browser, which draws the control natively (``<input
type="range">``, ``<select>``, ``<input type="checkbox">``, each with a ``<label>``) and names a
position by its index in the grid. From Python a control takes any value in its range (a slider
is not snapped to its grid); the browser shows the nearest position.

traitlets (a dependency of ipywidgets) comes with this module; ``import rnn_core`` does not
import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

__all__ = ["Control", "slider", "log_slider", "int_slider", "dropdown", "checkbox"]

_TOL = 1e-9


class Control(traitlets.HasTraits):
    """One control: ``kind`` ("range", "select" or "checkbox"), its ``description``, the
    ``grid`` of values the browser offers, their ``labels``, and the current ``value``.

    Setting ``value`` to something the control cannot take raises ``traitlets.TraitError``
    with :meth:`expected` as its message.
    """

    value = traitlets.Any()

    def __init__(self, kind: str, description: str, grid: Sequence[Any],
                 labels: Sequence[str], value: Any, **extra: Any) -> None:
        self.kind = kind
        self.description = description
        self.grid = list(grid)
        self.labels = list(labels)
        for k, v in extra.items():
            setattr(self, k, v)
        super().__init__()
        self.value = value

    @traitlets.validate("value")
    def _check(self, proposal: Any) -> Any:
        v = proposal["value"]
        if not self.accepts(v):
            raise traitlets.TraitError(self.expected())
        if self.kind == "range" and self.integer:
            return int(round(v))
        return v

    def accepts(self, v: Any) -> bool:
        if self.kind == "checkbox":
            return isinstance(v, bool | np.bool_)
        if self.kind == "select":
            return any(v == g and type(v) is type(g) for g in self.grid) or (
                v in self.grid and not isinstance(v, bool))
        if isinstance(v, bool) or not isinstance(v, int | float | np.number):
            return False
        lo, hi = self.grid[0], self.grid[-1]
        tol = _TOL * max(abs(lo), abs(hi), 1.0)
        return bool(lo - tol <= v <= hi + tol)

    def expected(self) -> str:
        """What the control takes, as the end of "x must be ...": "in [0.01, 2]",
        "one of ['norm', 'value']", "True or False"."""
        if self.kind == "checkbox":
            return "True or False"
        if self.kind == "select":
            return f"one of {self.grid!r}"
        return f"in [{self.grid[0]:g}, {self.grid[-1]:g}]"

    def index_of(self, v: Any) -> int:
        """The grid position nearest to ``v`` (in log space for a log slider)."""
        if self.kind != "range":
            return next(i for i, g in enumerate(self.grid) if g == v)
        g = np.asarray(self.grid, dtype=float)
        if getattr(self, "base", None):
            return int(np.argmin(np.abs(np.log(g) - np.log(max(float(v), 1e-300)))))
        return int(np.argmin(np.abs(g - float(v))))

    def spec(self, name: str) -> dict[str, Any]:
        """What the browser needs to draw the control (sent once)."""
        out = {"name": name, "kind": self.kind, "label": self.description,
               "labels": self.labels}
        if self.kind == "range":
            out["values"] = [float(g) for g in self.grid]
            out["log"] = bool(getattr(self, "base", None))
        return out

    def __repr__(self) -> str:
        return f"<{self.kind} {self.description!r} = {self.value!r}>"


def _range(description: str, value: float, grid: np.ndarray, fmt: str, integer: bool = False,
           **extra: Any) -> Any:
    labels = [format(int(g) if integer else float(g), fmt) for g in grid]
    return Control("range", description, [int(g) if integer else float(g) for g in grid], labels,
                   value, integer=integer, min=extra.pop("min", grid[0]),
                   max=extra.pop("max", grid[-1]), **extra)


def slider(description: str, value: float, lo: float, hi: float, step: float,
           fmt: str = ".2f") -> Any:
    """A slider from ``lo`` to ``hi`` in steps of ``step``."""
    n = int(round((hi - lo) / step))
    grid = np.round(lo + step * np.arange(n + 1), 12)
    return _range(description, value, grid, fmt, step=step)


def log_slider(description: str, value: float, lo: float, hi: float, steps: int = 60,
               fmt: str = ".3g") -> Any:
    """A slider from ``lo`` to ``hi`` with ``steps`` equal steps in log10 (``steps + 1``
    positions). ``min``/``max`` are the exponents, ``base`` is 10 (as ipywidgets' log slider)."""
    llo, lhi = float(np.log10(lo)), float(np.log10(hi))
    exps = np.round(llo + (lhi - llo) / steps * np.arange(steps + 1), 12)
    return _range(description, value, 10.0**exps, fmt, base=10, min=llo, max=lhi,
                  step=(lhi - llo) / steps)


def int_slider(description: str, value: int, lo: int, hi: int, step: int = 1) -> Any:
    """An integer slider."""
    return _range(description, value, np.arange(lo, hi + 1, step), "d", integer=True, step=step)


def dropdown(description: str, value: Any, options: Sequence[Any]) -> Any:
    """A dropdown over ``options`` (a list, or (label, value) pairs)."""
    pairs = [o if isinstance(o, tuple) else (str(o), o) for o in options]
    return Control("select", description, [v for _, v in pairs], [lab for lab, _ in pairs],
                   value, options=list(options))


def checkbox(description: str, value: bool) -> Any:
    """A checkbox."""
    return Control("checkbox", description, [False, True], ["off", "on"], value)
