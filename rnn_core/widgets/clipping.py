"""Explorer (2): gradient clipping on Pascanu's cliff.

The one-unit recurrence ``x_t = w sigma(x_{t-1}) + b`` over 50 steps with loss
``(sigma(x_50) - 0.7)^2`` has a loss surface over (w, b) with a sharp wall: next to it the
gradient is huge, and one plain gradient step throws the parameters far away. Controls: the
clipping threshold, the learning rate and the clipping mode (norm or value). The learning rate
halves every ``halflife`` steps (as in notebook 07), so a run that stays next to the wall can settle
in the narrow valley instead of zigzagging across it. Plots, from
:func:`rnn_core.analysis.explore.cliff_runs` (cached): the loss surface (log colour scale,
drawn once) with the two gradient-descent paths from the same start, with and without clipping,
clipped steps marked; and the loss along both runs.
"""

from __future__ import annotations

import numpy as np

from rnn_core.analysis.cliff import DescentPath
from rnn_core.analysis.explore import cliff_grid, cliff_runs
from rnn_core.widgets.axes import StickyAxis, floored, lighten_axes, overlay_legend
from rnn_core.widgets.backend import new_figure
from rnn_core.widgets.controls import dropdown, log_slider
from rnn_core.widgets.explorer import Explorer

__all__ = ["clipping_explorer", "clipping_readout", "clipping_finding", "cliff_runs"]

TAIL = 10
"""Runs are compared on the mean of their last TAIL losses, not on one (zigzagging) value."""


def clipping_finding(raw: DescentPath, clipped: DescentPath) -> str:
    """What the loss panel shows, decided from the data: compares the mean of the last losses.

    The numbers in brackets are the mean of the last ``TAIL`` losses with, then without, clipping.
    """
    r, c = raw.tail_loss(TAIL), clipped.tail_loss(TAIL)
    if c < r / 10:
        verdict = "clipping ends lower"
    elif r < c / 10:
        verdict = "clipping ends higher"
    else:
        verdict = "both end about as low"
    return f"{verdict} (last {TAIL}: {c:.1g} vs {r:.1g})"


def clipping_readout(raw: DescentPath, clipped: DescentPath, threshold: float, lr: float) -> str:
    """One line: the setting, how many steps were clipped, where each run ended."""
    n = int(np.sum(clipped.clipped))
    steps = len(clipped.clipped)
    return (f"threshold = {threshold:.3g}, lr = {lr:.3g}: {n} of {steps} steps clipped; "
            f"loss at the last step {raw.loss[-1]:.2g} without clipping, "
            f"{clipped.loss[-1]:.2g} with")


def _inside(path: np.ndarray, w: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all((path[:, 0] >= w[0]) & (path[:, 0] <= w[-1])
                       & (path[:, 1] >= b[0]) & (path[:, 1] <= b[-1])))


def clipping_explorer(threshold: float = 1.0, lr: float = 0.3, mode_clip: str = "norm",
                      steps: int = 60, halflife: float | None = 30.0) -> Explorer:
    """Gradient descent on the cliff loss with and without clipping, on the loss surface.

    Parameters
    ----------
    threshold : initial clipping threshold, in [0.01, 10] (log slider).
    lr : initial learning rate (of step 0), in [0.05, 20] (log slider).
    mode_clip : "norm" (rescale the whole gradient) or "value" (clip each entry).
    steps : gradient-descent steps per run (fixed for the explorer).
    halflife : the learning rate halves every ``halflife`` steps (fixed; None: constant).

    Returns
    -------
    Explorer with controls ``threshold``, ``lr``, ``clip_mode``.
    """
    controls = {
        "threshold": log_slider("clip threshold", threshold, 0.01, 10.0, steps=60),
        "lr": log_slider("learning rate", lr, 0.05, 20.0, steps=52),
        "clip_mode": dropdown("clipping", mode_clip, [("norm (keep direction)", "norm"),
                                                      ("value (per entry)", "value")]),
    }
    w, b, surface = cliff_grid()
    fig = new_figure((11.5, 4.6))
    ax_s, ax_l = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1.0]})
    # the surface never changes: one filled contour, drawn once
    cs = ax_s.contourf(w, b, np.log10(floored(surface, 1e-12)), levels=14, cmap="viridis")
    cbar = fig.colorbar(cs, ax=ax_s, pad=0.02)
    cbar.set_label("log10 loss L(w, b)", fontsize=9)
    cbar.ax.tick_params(labelsize=8)
    # data above the spines (zorder 3+), under opaque legends in a fixed place (overlays)
    (raw_path,) = ax_s.plot([], [], "-o", color="C3", ms=3, lw=1.4, zorder=3,
                            label="no clipping")
    (clip_path,) = ax_s.plot([], [], "-o", color="C6", ms=3, lw=1.4, zorder=3.1,
                             label="with clipping")
    clip_marks = ax_s.scatter(np.empty(0), np.empty(0), s=36, facecolors="none",
                              edgecolors="C1", linewidths=1.4, zorder=4, label="clipped step")
    (start,) = ax_s.plot([], [], "*", color="k", ms=12, zorder=4.1, label="start")
    ax_s.set_xlim(w[0], w[-1])
    ax_s.set_ylim(b[0], b[-1])
    ax_s.set_xlabel("recurrent weight w")
    ax_s.set_ylabel("bias b")
    leg_s = overlay_legend(ax_s, "lower left")
    title_s = ax_s.set_title(" ", fontsize=10)

    (raw_loss,) = ax_l.plot([], [], color="C3", lw=1.4, zorder=3, label="no clipping")
    (clip_loss,) = ax_l.plot([], [], color="C6", lw=1.4, zorder=3.1, label="with clipping")
    clip_loss_marks = ax_l.scatter(np.empty(0), np.empty(0), s=20, color="C1", zorder=3.2,
                                   label="clipped step")
    ax_l.set_yscale("log")
    ax_l.set_xlabel("gradient-descent step")
    ax_l.set_ylabel("loss L(w, b) (log scale)")
    leg_l = overlay_legend(ax_l, "upper right")
    title_l = ax_l.set_title(" ", fontsize=10)
    readout = fig.suptitle("", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.86, wspace=0.18)
    lighten_axes(ax_s)
    lighten_axes(ax_l)
    ax_l.set_xlim(-0.5, steps + 0.5)
    y_l = StickyAxis(ax_l, "y", "log")

    def compute(threshold: float, lr: float, clip_mode: str) -> tuple[DescentPath, DescentPath]:
        return cliff_runs(threshold, lr, steps, clip_mode, halflife)

    def draw(threshold: float, lr: float, clip_mode: str) -> str:
        run_raw, run_clip = compute(threshold, lr, clip_mode)
        raw, clp = run_raw.params, run_clip.params
        raw_path.set_data(raw[:, 0], raw[:, 1])
        clip_path.set_data(clp[:, 0], clp[:, 1])
        ev = np.asarray(run_clip.clipped, dtype=bool)       # (steps,): step s starts at clp[s]
        clip_marks.set_offsets(clp[:-1][ev])
        start.set_data([clp[0, 0]], [clp[0, 1]])
        s = np.arange(len(run_raw.loss), dtype=np.float64)
        lr_, lc_ = floored(run_raw.loss), floored(run_clip.loss)
        raw_loss.set_data(s, lr_)
        clip_loss.set_data(s, lc_)
        clip_loss_marks.set_offsets(np.column_stack([s[:-1][ev], lc_[:-1][ev]]))
        y_l.fit(lr_, lc_)
        if _inside(raw, w, b):
            title_s.set_text("both runs stay on the map")
        else:
            far = raw[np.argmax(np.abs(raw - raw[0]).sum(axis=1))]
            title_s.set_text(f"without clipping a step off the cliff throws (w, b) to "
                             f"({far[0]:.3g}, {far[1]:.3g})")
        title_l.set_text(clipping_finding(run_raw, run_clip))
        return clipping_readout(run_raw, run_clip, threshold, lr)

    animated = [raw_path, clip_path, clip_marks, start, title_s,
                raw_loss, clip_loss, clip_loss_marks, title_l]
    return Explorer("clipping_explorer", controls, fig, draw, readout, animated,
                    overlays=[leg_s, leg_l], warm=compute)
