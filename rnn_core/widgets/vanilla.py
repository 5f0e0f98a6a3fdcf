"""Explorer (1): how the gradient flows back through a vanilla RNN.

Controls: weight scale (multiplies the initial Wh; for "orthogonal" it is sigma_1(Wh), the largest
singular value), sequence length T, initialiser, activation, input scale (default 0.1: small inputs,
as in section 6 of notebook 06; larger inputs saturate tanh). Plots, all from
:func:`rnn_core.analysis.explore.vanilla_flow` (cached):

1. ``||dL/dh_k||`` against k on a log axis, with Pascanu's bound ``eta^(T-k) ||dL/dh_T||``;
2. the largest singular values of the Jacobian product ``dh_{t}/dh_0`` against the gap t - 0
   (log axis): straight lines whose slopes are the Lyapunov exponents mu_i;
3. the eigenvalues of Wh in the complex plane, with the unit circle, the circle of radius
   ``1/gamma`` (vanishing is guaranteed when sigma_1(Wh) is inside it) and the circle of radius
   ``sigma_1(Wh)`` (the largest singular value, which bounds every eigenvalue).

The readout states ``sigma_1(Wh)``, ``eta = gamma sigma_1(Wh)`` and the Pascanu regime
("vanishing guaranteed", "cannot grow" at eta = 1, "explosion possible").
"""

from __future__ import annotations

import numpy as np

from rnn_core.analysis.bounds import ETA_TOL
from rnn_core.analysis.explore import VanillaFlow, vanilla_flow
from rnn_core.analysis.jacobians import ACTIVATIONS, GAMMA
from rnn_core.init import INIT_NAMES
from rnn_core.widgets.axes import StickyAxis, lighten_axes, log10_axis, overlay_legend
from rnn_core.widgets.backend import new_figure
from rnn_core.widgets.controls import dropdown, int_slider, log_slider, slider
from rnn_core.widgets.explorer import Drawn, Explorer

__all__ = ["vanilla_flow_explorer", "vanilla_readout"]

_CIRCLE = np.exp(1j * np.linspace(0.0, 2.0 * np.pi, 181))
SCALE_MIN, SCALE_MAX, SCALE_STEPS = 0.01, 10.0**0.5, 125
"""Weight-scale slider: 10^-2 .. 10^0.5 in steps of 0.02 decades; position 100 is exactly 1."""


def vanilla_readout(flow) -> str:
    """The one-line readout for a ``VanillaFlow``: sigma_1(Wh), eta and the regime."""
    return f"sigma_1(Wh) = {_num(flow.sigma1)}, eta = {_num(flow.eta)}: {flow.regime}"


def _num(v: float) -> str:
    """Two decimals, or two significant digits below 0.1 (so eta = 0.005 does not read 0.00).

    A value that is not 1 (beyond the regime tolerance) but would read "1.00" gets six significant
    digits, so "eta = 1.00" always goes with "cannot grow".
    """
    if abs(v) < 0.1 and v != 0:
        return f"{v:.2g}"
    out = f"{v:.2f}"
    if out == "1.00" and abs(v - 1.0) > ETA_TOL:
        out = f"{v:.6g}"
    return out


def _grad_title(flow) -> str:
    change = float(flow.log10_grad_norm[0] - flow.log10_grad_norm[-1])
    T = int(flow.k[-1])
    if abs(change) < 1.0:
        return f"||dL/dh_k|| stays within 10x over {T} steps"
    word = "grows" if change > 0 else "shrinks"
    return f"||dL/dh_k|| {word} by 10^{abs(change):.0f} over {T} steps back"


def vanilla_flow_explorer(scale: float = 1.0, T: int = 200, init: str = "orthogonal",
                          activation: str = "tanh", input_scale: float = 0.1, H: int = 64,
                          seed: int = 0) -> Explorer:
    """Gradient flow through a vanilla RNN: gradient norms, product singular values, spectrum.

    Parameters
    ----------
    scale : initial weight scale, in [0.01, 3.16] (log slider in steps of 0.02 decades, with 1.0
        on the grid, so a student can land on eta = 1 exactly).
    T : initial sequence length, in [2, 1000].
    init : one of ``rnn_core.init.INIT_NAMES``.
    activation : "tanh", "linear" or "sigmoid".
    input_scale : initial input standard deviation, in [0, 3] (default 0.1: tanh stays out of
        saturation; at 1 the gradient vanishes even for sigma_1(Wh) = 1).
    H : hidden size (fixed for the explorer). seed : seed of weights and inputs.

    Returns
    -------
    Explorer with controls ``scale``, ``T``, ``init``, ``activation``, ``input_scale``.
    """
    controls = {
        "scale": log_slider("weight scale", scale, SCALE_MIN, SCALE_MAX, steps=SCALE_STEPS,
                            fmt=".3g"),
        "T": int_slider("sequence length T", T, 2, 1000),
        "init": dropdown("init", init, list(INIT_NAMES)),
        "activation": dropdown("activation", activation, list(ACTIVATIONS)),
        "input_scale": slider("input scale", input_scale, 0.0, 3.0, 0.05),
    }
    fig = new_figure((12.5, 5.2))
    ax_g, ax_sv, ax_eig = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.25, 1.25, 1.0]})
    # Data artists sit above the spines (zorder 3) and below the legends (5). The legends are
    # opaque and fixed in place, so the browser repaints their pixels over the data.
    (g_line,) = ax_g.plot([], [], color="C0", lw=1.8, zorder=3, label="measured ||dL/dh_k||")
    (b_line,) = ax_g.plot([], [], color="C3", lw=1.2, ls="--", zorder=3,
                          label="bound eta^(T-k) ||dL/dh_T||")
    ax_g.set_xlabel("step k")
    ax_g.set_ylabel("||dL/dh_k|| (log scale)")
    # legends below the axes: inside, one covered the bound, which is flat at 1 when eta = 1
    leg_g = overlay_legend(ax_g, "upper center", bbox_to_anchor=(0.5, -0.2), fontsize=10)
    title_g = ax_g.set_title("gradient norm vs step (loss at step T)", fontsize=11)

    (sv1_line,) = ax_sv.plot([], [], color="C0", lw=1.8, zorder=3, label="sigma_1 (largest)")
    (svr_line,) = ax_sv.plot([], [], color="C0", lw=0.8, alpha=0.45, zorder=3,
                             label="sigma_2 ... sigma_H (the others)")
    ax_sv.set_xlabel("gap t - k (steps)")
    ax_sv.set_ylabel("singular values of dh_t/dh_k (log scale)")
    leg_sv = overlay_legend(ax_sv, "upper center", bbox_to_anchor=(0.5, -0.2), fontsize=10)
    title_sv = ax_sv.set_title("singular values of the Jacobian product", fontsize=11)

    # animated, though it never changes: in data coordinates, it moves when the limits do
    (unit_c,) = ax_eig.plot(_CIRCLE.real, _CIRCLE.imag, color="0.5", lw=1, label="|z| = 1")
    eig_pts = ax_eig.scatter(np.empty(0), np.empty(0), s=10, color="C0", zorder=3.2,
                             label="eigenvalues")
    (gamma_c,) = ax_eig.plot([], [], color="C3", lw=1, ls="--", zorder=3,
                             label="|z| = 1/gamma")
    (lam_c,) = ax_eig.plot([], [], color="C2", lw=1, ls=":", zorder=3.1,
                           label="|z| = sigma_1(Wh)")
    ax_eig.set_aspect("equal", adjustable="box")
    ax_eig.set_xlabel("Re")
    ax_eig.set_ylabel("Im")
    leg_eig = overlay_legend(ax_eig, "upper center", bbox_to_anchor=(0.5, -0.2), fontsize=9,
                             ncol=2)
    title_eig = ax_eig.set_title("eigenvalues of Wh", fontsize=11)
    readout = fig.suptitle("", fontsize=12)
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.3, top=0.87, wspace=0.3)
    for ax in (ax_g, ax_sv):
        lighten_axes(ax, nticks=5)
        log10_axis(ax, nticks=5)
    lighten_axes(ax_eig, nticks=4)
    # limits on a coarse grid that move only when the data need it: most steps keep the background
    x_g, y_g = StickyAxis(ax_g, "x", "upper"), StickyAxis(ax_g, "y", "log10")
    x_sv, y_sv = StickyAxis(ax_sv, "x", "upper"), StickyAxis(ax_sv, "y", "log10")
    r_eig = StickyAxis(ax_eig, "x", "symmetric", pad=0.08)

    def compute(scale: float, T: int, init: str, activation: str, input_scale: float
                ) -> VanillaFlow:
        return vanilla_flow(scale=scale, T=int(T), init=init, activation=activation,
                            input_scale=input_scale, H=H, seed=seed)

    def draw(scale: float, T: int, init: str, activation: str, input_scale: float) -> Drawn:
        setting = (f"{init} init x {scale:.3g}, {activation}, T = {int(T)}, "
                   f"input scale {input_scale:.2f}")
        flow = compute(scale, T, init, activation, input_scale)
        k = flow.k.astype(np.float64)
        # log10 values on a linear axis labelled as powers of ten: no float range to leave
        g_line.set_data(k, flow.log10_grad_norm)
        b_line.set_data(k, flow.log10_bound)
        x_g.fit(k[-1:])
        y_g.fit(flow.log10_grad_norm, flow.log10_bound)

        gaps = flow.gaps.astype(np.float64)
        sv = flow.log10_sv                                # (G, m), log10
        sv1_line.set_data(gaps, sv[:, 0])
        # the other singular values as one line with NaN breaks between them (one artist)
        rest = sv[:, 1:]
        xs = np.concatenate([np.append(gaps, np.nan)] * rest.shape[1]) if rest.size else []
        ys = np.concatenate([np.append(c, np.nan) for c in rest.T]) if rest.size else []
        svr_line.set_data(xs, ys)
        x_sv.fit(gaps[-1:])
        y_sv.fit(sv)
        rate = float(flow.log10_sv[-1, 0] / max(gaps[-1], 1))

        eig = flow.eig_W
        eig_pts.set_offsets(np.column_stack([eig.real, eig.imag]))
        r_gamma = 1.0 / GAMMA[activation]
        gamma_c.set_data(r_gamma * _CIRCLE.real, r_gamma * _CIRCLE.imag)
        lam_c.set_data(flow.sigma1 * _CIRCLE.real, flow.sigma1 * _CIRCLE.imag)
        rho = float(np.abs(eig).max()) if eig.size else 0.0
        r_eig.fit(np.array([1.0, r_gamma, flow.sigma1, rho]))
        ax_eig.set_ylim(*ax_eig.get_xlim())
        # The findings go to the readout (an HTML widget above the figure; the static picture's
        # title): re-rendering three changing titles on the canvas cost 20 of a 22 ms repaint.
        findings = {title_g: _grad_title(flow),
                    title_sv: f"sigma_1 of dh_t/dh_0 changes by 10^{rate:+.3f} per step",
                    title_eig: f"Wh: radius {_num(rho)}, sigma_1 {_num(flow.sigma1)}"}
        return Drawn(f"{setting}: {vanilla_readout(flow)}\n" + "; ".join(findings.values()),
                     static_titles=findings)

    animated = [g_line, b_line, sv1_line, svr_line, unit_c, eig_pts, gamma_c, lam_c]
    return Explorer("vanilla_flow_explorer", controls, fig, draw, readout, animated,
                    overlays=[leg_g, leg_sv, leg_eig], warm=compute)
