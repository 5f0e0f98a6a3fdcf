"""Explorer (2): gradient clipping on Pascanu's cliff.

The one-unit recurrence ``x_t = w sigma(x_{t-1}) + b`` over 50 steps with loss
``(sigma(x_50) - 0.7)^2`` has a loss surface over (w, b) with a sharp wall: next to it the
gradient is huge, and one plain gradient step throws the parameters far away. Controls: the
clipping threshold, the learning rate and the clipping mode (norm or value). Plots, from
:func:`rnn_core.analysis.explore.clipping_flow` (cached): the loss surface (log colour scale,
drawn once) with the two gradient-descent paths from the same start, with and without clipping,
clipped steps marked; and the loss along both runs.
"""

from __future__ import annotations

import numpy as np

from rnn_core.analysis.explore import clipping_flow
from rnn_core.widgets.base import (
    Explorer,
    StickyAxis,
    backend_mode,
    dropdown,
    floored,
    lighten_axes,
    log_slider,
    new_figure,
    overlay_legend,
)

__all__ = ["clipping_explorer", "clipping_readout"]


def clipping_readout(flow, threshold: float, lr: float) -> str:
    """One line: the setting, how many steps were clipped, where each run ended."""
    n = int(np.sum(flow.clip_events))
    steps = len(flow.clip_events)
    return (f"threshold = {threshold:.3g}, lr = {lr:.3g}: {n} of {steps} steps clipped; "
            f"final loss {flow.loss_raw[-1]:.2g} without clipping, "
            f"{flow.loss_clipped[-1]:.2g} with")


def _inside(path: np.ndarray, w: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all((path[:, 0] >= w[0]) & (path[:, 0] <= w[-1])
                       & (path[:, 1] >= b[0]) & (path[:, 1] <= b[-1])))


def clipping_explorer(threshold: float = 0.1, lr: float = 0.5, mode_clip: str = "norm",
                      steps: int = 40, mode: str | None = None) -> Explorer:
    """Gradient descent on the cliff loss with and without clipping, on the loss surface.

    Parameters
    ----------
    threshold : initial clipping threshold, in [0.01, 10] (log slider).
    lr : initial learning rate, in [0.05, 20] (log slider).
    mode_clip : "norm" (rescale the whole gradient) or "value" (clip each entry).
    steps : gradient-descent steps per run (fixed for the explorer).
    mode : display mode, ``"ipympl"``, ``"image"`` or None (pick from the matplotlib backend).

    Returns
    -------
    Explorer with controls ``threshold``, ``lr``, ``clip_mode``.
    """
    mode = mode or backend_mode()
    controls = {
        "threshold": log_slider("clip threshold", threshold, 0.01, 10.0, steps=60),
        "lr": log_slider("learning rate", lr, 0.05, 20.0, steps=52),
        "clip_mode": dropdown("clipping", mode_clip, [("norm (keep direction)", "norm"),
                                                      ("value (per entry)", "value")]),
    }
    flow0 = clipping_flow(threshold=threshold, lr=lr, steps=steps)
    w, b, surface = flow0.w_grid, flow0.b_grid, flow0.surface
    fig = new_figure((11.5, 4.6), mode)
    ax_s, ax_l = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1.0]})
    # the surface never changes: one filled contour, drawn once
    cs = ax_s.contourf(w, b, np.log10(floored(surface, 1e-12)), levels=14, cmap="viridis")
    cbar = fig.colorbar(cs, ax=ax_s, pad=0.02)
    cbar.set_label("log10 loss", fontsize=9)
    cbar.ax.tick_params(labelsize=8)
    # data above the spines (zorder 3+), under opaque legends in a fixed place (blit overlays)
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
    (clip_loss,) = ax_l.plot([], [], color="C0", lw=1.4, zorder=3.1, label="with clipping")
    clip_loss_marks = ax_l.scatter(np.empty(0), np.empty(0), s=20, color="C1", zorder=3.2,
                                   label="clipped step")
    ax_l.set_yscale("log")
    ax_l.set_xlabel("gradient-descent step")
    ax_l.set_ylabel("loss (log scale)")
    leg_l = overlay_legend(ax_l, "upper right")
    title_l = ax_l.set_title(" ", fontsize=10)
    readout = fig.suptitle("", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.86, wspace=0.18)
    lighten_axes(ax_s)
    lighten_axes(ax_l)
    ax_l.set_xlim(-0.5, steps + 0.5)
    y_l = StickyAxis(ax_l, "y", "log")

    def draw(threshold: float, lr: float, clip_mode: str) -> str:
        flow = clipping_flow(threshold=threshold, lr=lr, steps=steps, mode=clip_mode)
        raw, clp = flow.path_raw, flow.path_clipped
        raw_path.set_data(raw[:, 0], raw[:, 1])
        clip_path.set_data(clp[:, 0], clp[:, 1])
        ev = np.asarray(flow.clip_events, dtype=bool)       # (steps,): step s starts at clp[s]
        clip_marks.set_offsets(clp[:-1][ev])
        start.set_data([clp[0, 0]], [clp[0, 1]])
        s = np.arange(len(flow.loss_raw), dtype=np.float64)
        lr_, lc_ = floored(flow.loss_raw), floored(flow.loss_clipped)
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
        better = "clipping ends lower" if lc_[-1] < lr_[-1] else "clipping does not help here"
        title_l.set_text(f"loss along each run: {better}")
        return clipping_readout(flow, threshold, lr)

    animated = [raw_path, clip_path, clip_marks, start, title_s,
                raw_loss, clip_loss, clip_loss_marks, title_l]
    return Explorer("clipping_explorer", controls, fig, draw, readout, mode, animated,
                    overlays=[leg_s, leg_l])
