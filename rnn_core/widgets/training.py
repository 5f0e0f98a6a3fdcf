"""Explorer (4): a small RNN trained with or without gradient-norm clipping.

Controls: learning rate, clipping on/off, clipping threshold. Plots: the minibatch loss per step
and the gradient norm before clipping per step (both on log axes), the threshold as a horizontal
line and every clipped step marked. The compute function is
:func:`rnn_core.analysis.training_trace.training_trace` (``STEPS`` = 100 SGD steps per run,
cached per setting, ~0.1 s on first use on an idle core).
"""

from __future__ import annotations

import numpy as np

from rnn_core.analysis.training_trace import STEPS, TrainingTrace, training_trace
from rnn_core.widgets.axes import StickyAxis, floored, overlay_legend, plain_log_axis
from rnn_core.widgets.backend import new_figure
from rnn_core.widgets.controls import checkbox, log_slider
from rnn_core.widgets.explorer import Explorer

__all__ = ["training_explorer", "training_finding"]


def training_finding(lr: float, clip: bool, threshold: float, steps: int = STEPS) -> str:
    """One line that states what the run shows (used as the figure title and readout)."""
    tr = training_trace(lr=lr, clip=clip, threshold=threshold, steps=steps)
    setting = f"lr = {tr.lr:.3g}, " + (f"clipping at {tr.threshold:.3g}" if tr.clip
                                       else "no clipping")
    if tr.diverged_at is not None:
        return (f"{setting}: a gradient spike to {tr.grad_norm.max():.2g} "
                f"blew training up at step {tr.diverged_at} (red x)")
    tail = float(np.mean(tr.loss[-30:]))
    return (f"{setting}: no blow-up, mean loss of the last 30 steps {tail:.2g}, max gradient "
            f"norm {tr.grad_norm.max():.2g}, {tr.n_clipped} of {len(tr.loss)} steps clipped")


def training_explorer(lr: float = 0.3, clip: bool = True, threshold: float = 1.0,
                      steps: int = STEPS) -> Explorer:
    """Loss and gradient-norm trace of a training run, with clip events marked.

    Parameters
    ----------
    lr : initial learning rate, in [0.01, 2].
    clip : initial state of the clipping checkbox.
    threshold : initial clipping threshold, in [0.05, 20].
    steps : SGD steps per run (fixed for the explorer).

    Returns
    -------
    Explorer with controls ``lr``, ``clip``, ``threshold``.
    """
    controls = {
        "lr": log_slider("learning rate", lr, 0.01, 2.0, steps=46),
        "clip": checkbox("clip the gradient norm", clip),
        "threshold": log_slider("threshold", threshold, 0.05, 20.0, steps=52),
    }
    fig = new_figure((11.0, 4.2))
    ax_loss, ax_g = fig.subplots(1, 2)
    # data above the spines (zorder 3+), under opaque legends in a fixed place (overlays)
    (loss_line,) = ax_loss.plot([], [], color="C0", lw=1.2, zorder=3, label="minibatch loss")
    # no legend entry: the legend is drawn once and most runs do not diverge; the readout names
    # the red x when one does
    (div_loss,) = ax_loss.plot([], [], "x", color="C3", ms=10, mew=2, zorder=3.1)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("SGD step")
    ax_loss.set_ylabel("loss (log scale)")
    leg_loss = overlay_legend(ax_loss, "upper right")
    (g_line,) = ax_g.plot([], [], color="C1", lw=1.0, zorder=3,
                          label="gradient norm before clipping")
    clip_pts = ax_g.scatter(np.empty(0), np.empty(0), s=14, color="C3", zorder=3.1,
                            label="clipped step")
    thr_line = ax_g.axhline(threshold, color="k", ls="--", lw=1, zorder=3.2, label="threshold")
    (div_g,) = ax_g.plot([], [], "x", color="C3", ms=10, mew=2, zorder=3.3)
    ax_g.set_yscale("log")
    ax_g.set_xlabel("SGD step")
    ax_g.set_ylabel("gradient norm before clipping (log scale)")
    leg_g = overlay_legend(ax_g, "upper right")
    title = fig.suptitle("", fontsize=11)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.93, wspace=0.22)
    for ax in (ax_loss, ax_g):
        ax.set_xlim(-0.02 * steps, 1.02 * steps)
        plain_log_axis(ax, "y")        # the browser draws the tick labels: no math text
    y_loss, y_g = StickyAxis(ax_loss, "y", "log"), StickyAxis(ax_g, "y", "log")

    def compute(lr: float, clip: bool, threshold: float) -> TrainingTrace:
        return training_trace(lr=lr, clip=bool(clip), threshold=threshold, steps=steps)

    def draw(lr: float, clip: bool, threshold: float) -> str:
        tr = compute(lr, clip, threshold)
        s = tr.steps.astype(np.float64)
        loss, g = floored(tr.loss), floored(tr.grad_norm)
        loss_line.set_data(s, loss)
        g_line.set_data(s, g)
        clip_pts.set_offsets(np.column_stack([s[tr.clipped], g[tr.clipped]]))
        thr_line.set_ydata([threshold, threshold])
        thr_line.set_visible(bool(clip))
        if tr.diverged_at is None:
            div_loss.set_data([], [])
            div_g.set_data([], [])
        else:
            d = tr.diverged_at
            div_loss.set_data([s[d]], [loss[d]])
            div_g.set_data([s[d]], [g[d]])
        y_loss.fit(loss)
        y_g.fit(g, np.array([threshold]) if clip else g)
        text = training_finding(lr, bool(clip), threshold, steps)
        return text if clip else f"{text} (threshold {threshold:.3g} unused)"

    animated = [loss_line, div_loss, g_line, clip_pts, thr_line, div_g]
    return Explorer("training_explorer", controls, fig, draw, title, animated,
                    overlays=[leg_loss, leg_g], warm=compute)

