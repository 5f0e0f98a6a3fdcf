"""Explorer (3): the LSTM's cell-state highway against a vanilla RNN.

Controls: the forget-gate bias and the sequence length T. Plots, from
:func:`rnn_core.analysis.explore.lstm_highway` (cached), on log axes:

1. ``||dL/dh_k||`` of the vanilla tanh RNN and of the LSTM, same input, loss at the last step;
2. ``||dc_T/dc_k||`` of the LSTM along the direct path (the product of forget gates) and
   through the full (h, c) Jacobian product.

A large forget-gate bias keeps f near 1: the direct path carries the gradient across hundreds
of steps while the vanilla RNN's gradient has long vanished.
"""

from __future__ import annotations

import numpy as np

from rnn_core.analysis.explore import LSTMHighway, lstm_highway
from rnn_core.widgets.axes import StickyAxis, lighten_axes, log10_axis, overlay_legend
from rnn_core.widgets.backend import new_figure
from rnn_core.widgets.controls import int_slider, slider
from rnn_core.widgets.explorer import Explorer

__all__ = ["highway_explorer", "highway_readout"]


def _e(log10: float) -> str:
    return f"1e{int(round(float(log10)))}"


def highway_readout(hw, forget_bias: float) -> str:
    """One line: the bias, the mean forget gate and both gradients at the first step."""
    T = int(hw.k[-1])
    return (f"forget bias = {forget_bias:.2f}, mean f = {hw.mean_forget:.3f}: {T} steps back, "
            f"||dL/dh_0|| is {_e(hw.log10_lstm_grad[0])} for the LSTM, "
            f"{_e(hw.log10_vanilla_grad[0])} for the vanilla RNN")


def highway_explorer(forget_bias: float = 1.0, T: int = 200, H: int = 32, seed: int = 0
                     ) -> Explorer:
    """Vanilla vs LSTM gradient norms and the LSTM's direct cell-state path.

    Parameters
    ----------
    forget_bias : initial forget-gate bias, in [-4, 8].
    T : initial sequence length, in [2, 1000].
    H : hidden size (fixed). seed : seed of weights and inputs.

    Returns
    -------
    Explorer with controls ``forget_bias`` and ``T``.
    """
    controls = {
        "forget_bias": slider("forget-gate bias", forget_bias, -4.0, 8.0, 0.25),
        "T": int_slider("sequence length T", T, 2, 1000),
    }
    fig = new_figure((11.5, 4.3))
    ax_g, ax_c = fig.subplots(1, 2)
    # data above the spines (zorder 3), under opaque legends in a fixed place (overlays)
    (van,) = ax_g.plot([], [], color="C3", lw=1.6, zorder=3, label="vanilla RNN")
    (lstm,) = ax_g.plot([], [], color="C0", lw=1.6, zorder=3, label="LSTM")
    ax_g.set_xlabel("step k")
    ax_g.set_ylabel("||dL/dh_k|| (log scale)")
    leg_g = overlay_legend(ax_g, "lower right")
    title_g = ax_g.set_title(" ", fontsize=10)
    (direct,) = ax_c.plot([], [], color="C2", lw=1.8, zorder=3,
                          label="direct path: max of prod of f")
    (full,) = ax_c.plot([], [], color="C0", lw=1.2, ls="--", zorder=3,
                        label="c-c block of the full (h, c) Jacobian")
    ax_c.set_xlabel("step k")
    ax_c.set_ylabel("||dc_T/dc_k|| (log scale)")
    leg_c = overlay_legend(ax_c, "lower right")
    title_c = ax_c.set_title(" ", fontsize=10)
    readout = fig.suptitle("", fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.86, wspace=0.22)
    for ax in (ax_g, ax_c):
        lighten_axes(ax, nticks=5)
        log10_axis(ax, nticks=5)
    x_g, y_g = StickyAxis(ax_g, "x", "upper"), StickyAxis(ax_g, "y", "log10")
    x_c, y_c = StickyAxis(ax_c, "x", "upper"), StickyAxis(ax_c, "y", "log10")

    def compute(forget_bias: float, T: int) -> LSTMHighway:
        return lstm_highway(forget_bias=forget_bias, T=int(T), H=H, seed=seed)

    def draw(forget_bias: float, T: int) -> str:
        hw = compute(forget_bias, T)
        k = hw.k.astype(np.float64)
        van.set_data(k, hw.log10_vanilla_grad)
        lstm.set_data(k, hw.log10_lstm_grad)
        direct.set_data(k, hw.log10_direct)
        full.set_data(k, hw.log10_full_c)
        x_g.fit(k[-1:])
        x_c.fit(k[-1:])
        y_g.fit(hw.log10_vanilla_grad, hw.log10_lstm_grad)
        y_c.fit(hw.log10_direct, hw.log10_full_c)
        gap = float(hw.log10_lstm_grad[0] - hw.log10_vanilla_grad[0])
        title_g.set_text(f"at k = 0 the LSTM gradient is {_e(gap)} times the vanilla one")
        title_c.set_text(f"||dc_T/dc_0||: {_e(hw.log10_direct[0])} by the forget gates alone, "
                         f"{_e(hw.log10_full_c[0])} in all")
        return highway_readout(hw, forget_bias)

    return Explorer("highway_explorer", controls, fig, draw, readout,
                    animated=[van, lstm, title_g, direct, full, title_c],
                    overlays=[leg_g, leg_c], warm=compute)
