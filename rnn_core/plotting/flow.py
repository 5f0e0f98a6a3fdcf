"""Figures of the gradient-flow notebooks (06 and 07) whose drawing code would hide the idea.

Each function draws what one notebook cell computed and returns the figure; the numbers it shows
are computed (and asserted) in the notebook, so the notebook keeps the one line that matters and
this module keeps the axes, labels and legends. matplotlib is imported when a function is called,
so ``import rnn_core`` stays numpy-only.

- :func:`plot_long_products`: notebook 06, section 4, the naive against the stable (QR) product.
- :func:`plot_cliff_runs`: notebook 07, section 2, clipped and unclipped descent on the cliff.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

FLOAT64_MAX_LOG10 = 308  # log10 of the largest float64, about 1.8e308


def plot_long_products(runs: Mapping[float, tuple[np.ndarray, np.ndarray, np.ndarray, Any]]) -> Any:
    """Draw the largest singular value and the ratio sigma_H / sigma_1 of dh_t/dh_0 against t.

    Notebook 06, section 4 ("Thousands of steps"): for each run, the stable (QR) curve as a line
    and the naive (multiplied-out) product as open circles; a NaN in ``naive`` (the product was 0,
    inf or NaN) leaves a gap, which is where the naive way has died.

    Parameters
    ----------
    runs : mapping sigma_1(Wh) -> (gaps, stable, naive, _), with ``gaps`` the steps t (G,),
        ``stable`` and ``naive`` the log10 singular values (G, 2): column 0 the largest, column 1
        the smallest. The fourth item is ignored.

    Returns
    -------
    The matplotlib Figure (two panels).
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    H = None
    for i, (s, (gaps, stable, naive, *rest)) in enumerate(runs.items()):
        stable, naive = np.asarray(stable), np.asarray(naive)
        if stable.ndim != 2 or stable.shape[1] != 2 or naive.shape != stable.shape:
            raise ValueError("plot_long_products: runs[s] must hold stable and naive of shape "
                             f"(G, 2), got {stable.shape} and {naive.shape}")
        if rest and rest[0] is not None:
            H = np.shape(rest[0])[-1]                     # the Jacobians (T, H, H)
        stable_kw = dict(color=f"C{i}", label=f"sigma_1(Wh) = {s}: stable (QR)")
        naive_kw = dict(ms=4, mfc="none", color=f"C{i}", label=f"sigma_1(Wh) = {s}: naive")
        ax1.plot(gaps, stable[:, 0], "-", **stable_kw)
        ax1.plot(gaps, naive[:, 0], "o", **naive_kw)
        ax2.plot(gaps, stable[:, 1] - stable[:, 0], "-", **stable_kw)
        ax2.plot(gaps, naive[:, 1] - naive[:, 0], "o", **naive_kw)
    for y in (FLOAT64_MAX_LOG10, -FLOAT64_MAX_LOG10):
        ax1.axhline(y, color="gray", ls=":", lw=1)
    ax1.text(50, FLOAT64_MAX_LOG10 + 22, "float64 limits 1e308 and 1e-308", fontsize=8,
             color="gray")
    ax1.set_xlabel("gap t (steps from h_0 to h_t)")
    ax1.set_ylabel("log10 sigma_1 of dh_t/dh_0")
    ax1.set_title("sigma_1: the naive product overflows / underflows, QR goes on", fontsize=10)
    ax1.legend(fontsize=8, loc="lower left")
    small = f"sigma_{H}" if H else "smallest sigma"
    ax2.set_xscale("log")
    ax2.set_ylim(-120, 5)
    ax2.set_xlabel("gap t (steps from h_0 to h_t, log scale)")
    ax2.set_ylabel(f"log10 {small} / sigma_1")
    ax2.set_title(f"{small}: the naive product loses it to round-off", fontsize=10)
    ax2.legend(fontsize=8, loc="lower left")
    return fig


def plot_cliff_runs(raw: Any, clipped: Any, start: tuple[float, float], threshold: float) -> Any:
    """Draw two gradient-descent runs on the cliff loss: two loss maps and the loss per step.

    Notebook 07, section 2. Left: the whole picture, where one unclipped step on the wall throws
    the run far away; middle: a zoom on the start; right: the loss of both runs per step, with
    the clipped run's clip events marked.

    Parameters
    ----------
    raw, clipped : results of ``rnn_core.analysis.cliff.gradient_descent`` (``params`` (S+1, 2)
        of (w, b), ``loss`` (S+1,), ``clipped`` (S,) bool).
    start : the common starting point (w, b).
    threshold : the clipping threshold c of ``clipped`` (for the legend).

    Returns
    -------
    The matplotlib Figure (three panels).
    """
    import matplotlib.pyplot as plt

    from rnn_core.analysis.cliff import cliff_surface

    fig, (ax_a, ax_b, cax, ax_l) = plt.subplots(
        1, 4, figsize=(14, 3.9), layout="constrained",
        gridspec_kw={"width_ratios": [1, 1, 0.05, 1.1]})
    fig.get_layout_engine().set(wspace=0.04)
    axes = [ax_a, ax_b]
    levels = np.arange(-7.0, 0.01, 0.5)                                  # one colour scale for both
    windows = [(np.linspace(-2, 14, 161), np.linspace(-8, 10, 181)),      # the whole picture
               (np.linspace(4.1, 4.7, 121), np.linspace(-2.4, -1.8, 121))]  # zoom on the start
    events = clipped.params[:-1][clipped.clipped]
    for ax, (w_grid, b_grid) in zip(axes, windows, strict=True):
        surface = cliff_surface(w_grid, b_grid)
        cs = ax.contourf(w_grid, b_grid, np.log10(np.maximum(surface, 1e-12)), levels=levels,
                         cmap="viridis", extend="min")
        ax.plot(raw.params[:, 0], raw.params[:, 1], "-o", ms=3, color="C3", label="no clipping")
        # black with white dots: apart from the vermilion run, and visible on the dark valley too
        ax.plot(clipped.params[:, 0], clipped.params[:, 1], "-o", ms=3, color="k", mfc="w",
                mew=0.8, label=f"clipped at {threshold:g}")
        ax.plot(*start, "*", color="w", ms=14, mec="k", label="start")
        ax.plot(*events.T, "s", ms=9, mfc="none", mec="k", mew=1.5,     # drawn over the star
                label="clip event")
        ax.set_xlim(w_grid[0], w_grid[-1])
        ax.set_ylim(b_grid[0], b_grid[-1])
        ax.set_xlabel("recurrent weight w")
        ax.set_ylabel("bias b")
    fig.colorbar(cs, cax=cax, label="log10 loss (both maps)")
    axes[0].set_title("One step on the wall throws the\nunclipped run far away", fontsize=10)
    axes[1].set_title("Zoom: the clipped run stays and\nsettles in the valley", fontsize=10)
    axes[0].legend(fontsize=7, loc="lower left")
    ax_l.semilogy(raw.loss, color="C3", label="no clipping")
    ax_l.semilogy(clipped.loss, color="k", label=f"clipped at {threshold:g}")
    ev = np.flatnonzero(clipped.clipped)
    ax_l.semilogy(ev, clipped.loss[ev], "s", ms=7, mfc="none", mec="k", label="clip event")
    ax_l.set_xlabel("gradient-descent step")
    ax_l.set_ylabel("loss (log scale)")
    ax_l.set_title("The clipped run converges,\nthe unclipped one is stuck", fontsize=10)
    ax_l.legend(fontsize=8)
    return fig
