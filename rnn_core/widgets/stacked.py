"""Explorer (5): where the gradient goes in a stack of RNN layers, vanilla against LSTM.

Controls: the number of layers and the weight scale. Plots, from
:func:`rnn_core.analysis.explore.stack_gradient_maps` (cached): heat maps of
``log10 ||dL/dh^(l)_t||`` over layers x time for a vanilla and an LSTM stack on the same inputs
(notebook 09). Also importable as ``rnn_core.experiments.stacked.stack_gradient_explorer``.
"""

from __future__ import annotations

import numpy as np

from rnn_core.analysis.explore import StackGradientMaps, stack_gradient_maps
from rnn_core.widgets.backend import new_figure
from rnn_core.widgets.controls import int_slider, log_slider
from rnn_core.widgets.explorer import Explorer

__all__ = ["stack_gradient_explorer"]


def stack_gradient_explorer(
    num_layers: int = 3, weight_scale: float = 1.0, T: int = 60, seed: int = 0
) -> Explorer:
    """Heat maps of ||dL/dh^(l)_t|| over layers x time, vanilla RNN | LSTM, with sliders.

    Controls: the number of layers (1-6) and the weight scale (0.25-4, multiplies every weight
    matrix). Colour: log10 of the norm, the same fixed scale in both panels.

    Parameters
    ----------
    num_layers, weight_scale : initial slider values. T : steps (fixed). seed : int.

    Returns
    -------
    Explorer with controls ``num_layers`` and ``weight_scale``.
    """
    controls = {
        "num_layers": int_slider("layers", num_layers, 1, 6),
        "weight_scale": log_slider("weight scale", weight_scale, 0.25, 4.0, steps=24),
    }
    fig = new_figure((11.0, 3.8))
    axes = fig.subplots(1, 2, sharey=True)
    vmin, vmax = -8.0, 2.0
    images, titles = [], []
    for ax, name in zip(axes, ("vanilla RNN", "LSTM"), strict=True):
        im = ax.imshow(np.zeros((1, 1)), aspect="auto", origin="lower", cmap="viridis",
                       vmin=vmin, vmax=vmax, interpolation="nearest")
        images.append(im)
        titles.append(ax.set_title(name, fontsize=10))
        ax.set_xlabel("time step t (loss at the last step, top layer)", fontsize=10)
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel("layer", fontsize=10)
    cbar = fig.colorbar(images[1], ax=list(axes), fraction=0.04, pad=0.02)
    cbar.ax.tick_params(labelsize=9)
    cbar.set_label(f"log10 ||dL/dh|| (clipped to [{vmin:g}, {vmax:g}])", fontsize=9)
    readout = fig.suptitle("", fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.86, bottom=0.16, top=0.83, wspace=0.08)

    def compute(num_layers: int, weight_scale: float) -> StackGradientMaps:
        return stack_gradient_maps(int(num_layers), float(weight_scale), T, seed)

    def draw(num_layers: int, weight_scale: float) -> str:
        m = compute(num_layers, weight_scale)
        L = int(num_layers)
        for im, data, title, name in zip(images, (m.rnn, m.lstm), titles,
                                         ("vanilla RNN", "LSTM"), strict=True):
            im.set_data(data)
            im.set_extent((0.5, T + 0.5, 0.5, L + 0.5))
            title.set_text(f"{name}: x 1e{float(data[0, 0] - data[-1, -1]):+.1f} "
                           f"from the loss to layer 1, t = 1")
        for ax in axes:
            ax.set_xlim(0.5, T + 0.5)
            ax.set_ylim(0.5, L + 0.5)
            ax.set_yticks(range(1, L + 1))
        return (f"{L} layer{'s' * (L > 1)}, weight scale {float(weight_scale):.2f}: "
                f"||dL/dh|| at layer 1, t = 1 is 1e{m.rnn[0, 0]:.1f} (vanilla), "
                f"1e{m.lstm[0, 0]:.1f} (LSTM)")

    return Explorer("stack_gradient_explorer", controls, fig, draw, readout,
                    animated=[*images, *titles], warm=compute)
