"""Explorer (6): where truncated BPTT's chunks cut a recall sequence (notebook 05, section 4).

Control: the chunk length k, 1 to ``steps`` (32 by default). Draws, from
:func:`rnn_core.analysis.explore.chunk_cuts`, the chunks of k steps shaded in turn over the first
``steps`` steps of one sequence, the cues and their targets, and an arrow from each cue to its
target: solid green when both lie in one chunk (a truncated gradient links them), grey dotted
when a chunk boundary cuts the pair. The 32 positions are a small grid: every frame is computed
once, when the explorer is made.
"""

from __future__ import annotations

import numpy as np

from rnn_core.analysis.explore import chunk_cuts
from rnn_core.widgets.backend import new_figure
from rnn_core.widgets.controls import int_slider
from rnn_core.widgets.explorer import Explorer

__all__ = ["chunk_explorer", "chunk_readout"]

Y_LIM = (0.75, 1.35)
Y_MARK, Y_ARROW = 0.95, 1.13
"""Heights of the cue/target markers and of the arrows, inside ``Y_LIM``."""


def chunk_readout(cuts, cosine: float | None = None) -> str:
    """One line: k, the number of chunks, how many pairs stay inside a chunk, the cosine."""
    n, kept = len(cuts.kept), int(cuts.kept.sum())
    chunks = len(cuts.starts)
    text = (f"k = {cuts.k}: {chunks} chunk{'s' * (chunks > 1)} in the first {cuts.steps} steps; "
            f"{kept} of {n} cue-target pairs inside one chunk, {n - kept} cut by a boundary")
    if cosine is not None:
        text += f"; cos(truncated, full gradient) = {cosine:.2f}"
    return text


def _segments(x0: np.ndarray, x1: np.ndarray, y0: float, y1: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """x, y of one line drawing every segment (x0[i], y0) -> (x1[i], y1), NaN between them."""
    xs = np.full((len(x0), 3), np.nan)
    xs[:, 0], xs[:, 1] = x0, x1
    ys = np.full((len(x0), 3), np.nan)
    ys[:, 0], ys[:, 1] = y0, y1
    return xs.ravel(), ys.ravel()


def chunk_explorer(x: np.ndarray, lag: int, cosines: np.ndarray | None = None, k: int = 8,
                   steps: int = 32) -> Explorer:
    """Chunks of k steps over one recall sequence, and the cue-target pairs they cut, with a slider.

    Parameters
    ----------
    x : one input sequence of the recall task, int (T,) with T >= ``steps`` (``batch.x[0]``).
    lag : the task's lag (a cue's target is ``lag`` steps later).
    cosines : optional, float (K,): ``cosines[k - 1]`` is the cosine between the truncated
        gradient with chunks of k and the full one (notebook 05, section 4); shown in the readout
        for k <= K.
    k : initial chunk length, in [1, steps]. steps : the window shown (>= 2).

    Returns
    -------
    Explorer with the control ``k``.
    """
    from matplotlib.colors import ListedColormap, to_rgba
    from matplotlib.lines import Line2D

    from rnn_core._validate import check_array, check_int

    fn = "chunk_explorer"
    steps = check_int(fn, "steps", steps, minimum=2)
    k = check_int(fn, "k", k, minimum=1)
    if k > steps:
        raise ValueError(f"{fn}: k must be in [1, steps={steps}], got {k}")
    if cosines is not None:
        cosines = check_array(fn, "cosines", cosines, ("K",))
    frames = [chunk_cuts(x, lag, kk, steps) for kk in range(1, steps + 1)]
    cues, targets = frames[0].cues, frames[0].targets

    controls = {"k": int_slider("chunk length k", k, 1, steps)}
    fig = new_figure((12.0, 3.0))
    ax = fig.add_axes((0.03, 0.24, 0.72, 0.5))
    # light tints of two palette colours, opaque (the browser paints them over the background)
    tints = [tuple(0.8 + 0.2 * np.array(to_rgba(c)[:3])) for c in ("C0", "C1")]
    shade = ax.imshow(np.zeros((1, steps)), cmap=ListedColormap(tints), vmin=0, vmax=1,
                      aspect="auto", interpolation="nearest", zorder=0,
                      extent=(-0.5, steps - 0.5, *Y_LIM))
    (bounds,) = ax.plot([], [], color="0.35", lw=1.0, ls="--", zorder=1)
    # the markers do not change with k, but they lie over the shading, which does
    (cue_marks,) = ax.plot(cues, np.full(len(cues), Y_MARK), "v", color="k", ms=8, zorder=2)
    (target_marks,) = ax.plot(targets, np.full(len(targets), Y_MARK), "^", color="C3", ms=8,
                              zorder=2)
    (kept_line,) = ax.plot([], [], color="C2", lw=2.0, zorder=3)
    (kept_head,) = ax.plot([], [], ">", color="C2", ms=7, zorder=3)
    (cut_line,) = ax.plot([], [], color="0.45", lw=1.6, ls=":", zorder=3)
    (cut_head,) = ax.plot([], [], ">", color="0.45", ms=7, zorder=3)
    # the shading reaches the edges of the axes and is painted over the background, spines
    # included: the frame is drawn as a line over it instead
    for spine in ax.spines.values():
        spine.set_visible(False)
    (frame,) = ax.plot([0, 1, 1, 0, 0], [0, 0, 1, 1, 0], color="k", lw=0.8, zorder=4,
                       transform=ax.transAxes, clip_on=False)
    ax.set_xlim(-0.5, steps - 0.5)
    ax.set_ylim(*Y_LIM)
    ax.set_yticks([])
    ax.tick_params(labelsize=9)
    ax.set_xlabel(f"time step (the first {steps} of one sequence)", fontsize=10)
    ax.set_title(f"Chunks of k steps, shaded in turn; an arrow from each cue to its target "
                 f"{lag} steps later", fontsize=10)
    handles = [
        Line2D([], [], marker="v", color="k", ls="none", ms=8, label="cue"),
        Line2D([], [], marker="^", color="C3", ls="none", ms=8, label="its target"),
        Line2D([], [], marker=">", color="C2", lw=2.0, ms=7, label="inside one chunk (kept)"),
        Line2D([], [], marker=">", color="0.45", lw=1.6, ls=":", ms=7,
               label="cut by a chunk boundary"),
        Line2D([], [], color="0.35", lw=1.0, ls="--", label="chunk boundary"),
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9,
              frameon=False)
    readout = fig.suptitle("", fontsize=10)

    def draw(k: int) -> str:
        cuts = frames[int(k) - 1]
        shade.set_data((cuts.chunk % 2)[None, :].astype(np.float64))
        b = cuts.starts[1:] - 0.5
        bounds.set_data(*_segments(b, b, *Y_LIM))
        for line, head, which in ((kept_line, kept_head, cuts.kept),
                                  (cut_line, cut_head, ~cuts.kept)):
            # the line stops short of the head, which points at the target
            line.set_data(*_segments(cuts.cues[which], cuts.targets[which] - 0.3, Y_ARROW,
                                     Y_ARROW))
            head.set_data(cuts.targets[which] - 0.3, np.full(int(which.sum()), Y_ARROW))
        cos = None if cosines is None or cuts.k > len(cosines) else float(cosines[cuts.k - 1])
        return chunk_readout(cuts, cos)

    return Explorer(fn, controls, fig, draw, readout,
                    animated=[shade, bounds, cue_marks, target_marks, kept_line, kept_head,
                              cut_line, cut_head, frame])
