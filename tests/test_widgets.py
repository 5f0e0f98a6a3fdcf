"""Headless tests of the explorers: set slider values, check the figure follows the compute code.

matplotlib's Agg backend is selected before anything else imports pyplot. Every explorer is
checked the same way: the figure object survives updates (built once), the artists' data equal
what the compute function returns for the new values, the readout shows the new value, and
extreme settings give finite data. Warnings are errors here (pytest's filterwarnings plus the
module-level mark), so overflow or NaN warnings fail the test.
"""

from __future__ import annotations

import base64
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnn_core.analysis.training_trace import DIVERGED, bit_memory_loss, training_trace  # noqa: E402
from rnn_core.gradcheck import eval_numerical_gradient, rel_error  # noqa: E402
from rnn_core.widgets import axes, backend  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _finite_artists(fig) -> None:
    """Every line and scatter in the figure holds finite data. The one NaN allowed is a line
    break (x and y both NaN), which joins several curves into one artist."""
    for ax in fig.axes:
        for line in ax.get_lines():
            x, y = (np.asarray(v, dtype=float) for v in line.get_data())
            brk = np.isnan(x) & np.isnan(y)
            assert np.all(np.isfinite(x[~brk])) and np.all(np.isfinite(y[~brk])), line.get_label()
        for coll in ax.collections:
            off = np.asarray(coll.get_offsets(), dtype=float)
            assert np.all(np.isfinite(off)), coll.get_label()
        lo, hi = ax.get_ylim()
        assert np.isfinite(lo) and np.isfinite(hi) and hi > lo
        if ax.get_yscale() == "log":
            assert lo > 0


# ------------------------------------------------------------------------------ base helpers


def test_import_rnn_core_stays_numpy_only():
    import subprocess

    code = (
        "import sys, rnn_core, rnn_core.analysis.training_trace; "
        "bad = [m for m in ('matplotlib', 'ipywidgets', 'ipympl') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_floored_has_no_warnings_at_extremes():
    v = axes.floored(np.array([0.0, -1.0, np.inf, np.nan, 2.5]))
    np.testing.assert_array_equal(v, [axes.TINY, axes.TINY, axes.HUGE, axes.TINY, 2.5])


def test_decade_range_keeps_limits_for_small_changes_and_refits_for_big_ones():
    lim = axes.decade_range(-40.2, 0.0)
    assert lim[0] <= -40.5 and lim[1] >= 0.3 and lim == tuple(map(float, map(round, lim)))
    assert lim[1] - lim[0] <= 1.6 * 40.2                        # data fill most of the axis
    assert axes.decade_range(-39.0, -1.0, lim) == lim            # inside, not squashed: kept
    top = lim[1] + 5.0
    up = axes.decade_range(-40.0, top, lim)                      # left at the top: refit ...
    assert up[1] >= top + 0.5 * (top + 40) and up[0] <= -40.3   # ... with headroom upwards
    assert axes.decade_range(-40.0, top + 10.0, up) == up        # the next steps fit in
    squashed = axes.decade_range(-1.0, 0.0, up)                  # fills < 1/3: refit tightly
    assert squashed[0] <= -1.3 and squashed[1] >= 0.3 and squashed[1] - squashed[0] <= 4
    # a flat curve still gets min_span decades; NaN/inf data give finite limits
    lo, hi = axes.decade_range(3.0, 3.0)
    assert hi - lo >= 2.0 and lo < 3.0 < hi
    assert all(np.isfinite(axes.decade_range(np.nan, np.inf)))


def test_nice_numbers_and_sticky_axes():
    assert [axes.nice_ceil(x) for x in (200, 210, 251, 0.9, 1.08)] == [200, 250, 300, 1.0, 1.2]
    assert [axes.nice_step(x) for x in (0.3, 1.0, 7.0, 12.5, 60.0)] == [1, 1, 5, 10, 50]
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    x = axes.StickyAxis(ax, "x", "upper")
    assert x.fit(np.array([200.0])) and ax.get_xlim() == (0.0, 200.0)
    assert x.fit(np.array([210.0])) and ax.get_xlim() == (0.0, 250.0)
    assert not x.fit(np.array([240.0]))                          # still fits: unchanged
    assert x.fit(np.array([100.0])) and ax.get_xlim() == (0.0, 100.0)   # would fill < 2/3
    ax.set_yscale("log")
    y = axes.StickyAxis(ax, "y", "log")
    y.fit(np.array([1e-3, 0.5, 0.0, np.nan]))                    # zeros and NaN ignored
    lo, hi = ax.get_ylim()
    assert lo <= 1e-3 / 10**0.3 and hi >= 0.5 * 10**0.3 and lo > 0
    with pytest.raises(ValueError, match="StickyAxis: kind"):
        axes.StickyAxis(ax, "y", "loglog")


# ------------------------------------------------------------------------------ blitting


def _full_render(fig) -> np.ndarray:
    """The figure rendered from scratch with every artist in its z-order (what savefig draws,
    animated artists included), as an (h, w, 4) uint8 array."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=fig.dpi)
    w, h = fig.canvas.get_width_height(physical=True)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8).reshape(h, w, 4)


def _assert_same_picture(ex) -> None:
    shown = np.asarray(ex.fig.canvas.buffer_rgba()).astype(np.int16)
    ref = _full_render(ex.fig).astype(np.int16)
    diff = np.abs(shown - ref).max(axis=2)
    # identical at 72 dpi; at other dpi a line may show through a legend's snapped frame edge
    # in a few pixels. A stale background or stale limits differ in thousands of pixels.
    assert np.count_nonzero(diff) <= 12, np.argwhere(diff).tolist()


def _vanilla():
    from rnn_core.widgets.vanilla import vanilla_flow_explorer

    return vanilla_flow_explorer(scale=1.0, T=200)


def _clipping():
    from rnn_core.widgets.clipping import clipping_explorer

    return clipping_explorer()


def _highway():
    from rnn_core.widgets.highway import highway_explorer

    return highway_explorer(forget_bias=1.0, T=200)


def _training():
    from rnn_core.widgets.training import training_explorer

    return training_explorer(lr=0.1, clip=True, threshold=1.0)


@pytest.mark.parametrize(
    ("make", "small", "big", "leaves"),
    [(_vanilla, [{"scale": 1.05}, {"scale": 1.1}, {"T": 210}], {"scale": 2.9, "T": 900}, True),
     # the converging clipped run reaches 1e-15; a run thrown off the cliff does not: new limits
     (_clipping, [{"threshold": 1.1}, {"threshold": 1.2}], {"lr": 15.0, "threshold": 5.0},
      True),
     (_highway, [{"forget_bias": 1.25}, {"forget_bias": 1.5}], {"forget_bias": 7.0, "T": 900},
      True),
     (_training, [{"threshold": 1.1}, {"threshold": 1.2}], {"lr": 2.0, "clip": False}, True)],
)
def test_blitted_updates_show_the_same_pixels_as_a_full_render(make, small, big, leaves):
    ex = make()
    ex.render()
    assert ex.last_render == "full"                 # the first paint takes the background
    kinds = []
    for values in small:
        ex.update(**values)
        kinds.append(ex.render())
        _assert_same_picture(ex)
    assert "blit" in kinds                          # small steps keep the limits: blitted
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes]
    ex.update(**big)
    # data that leave the limits get new limits, and a full redraw
    assert ex.render() == ("full" if leaves else "blit")
    assert (limits != [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes]) == leaves
    _assert_same_picture(ex)
    _finite_artists(ex.fig)
    for ax in ex.fig.axes:                          # every curve inside its axes
        if ax.get_xlabel() == "recurrent weight w":
            continue        # the cliff map is fixed; its title says where a path flew off to
        lo, hi = ax.get_ylim()
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            y = y[np.isfinite(y)]
            if y.size and line.get_visible():
                assert lo <= y.min() and y.max() <= hi, line.get_label()
    # a full draw from outside (the frontend) takes a new background: still right
    ex.fig.canvas.draw()
    _assert_same_picture(ex)
    ex.update(**small[0])
    ex.render()
    _assert_same_picture(ex)
    # a new pixel size (a resize, a HiDPI screen) makes the next update a full draw
    ex.fig.set_dpi(ex.fig.dpi * 2)
    ex.update(**small[-1])
    assert ex.render() == "full"
    _assert_same_picture(ex)


def test_readout_widget_follows_every_slider():
    ex = _vanilla()
    ex.update(scale=1.05)
    assert "x 1.05" in ex.readout_widget.value and "sigma_1(Wh) = 1.05" in ex.readout
    ex.update(T=210, input_scale=0.5)
    assert "T = 210" in ex.readout_widget.value and "input scale 0.50" in ex.readout_widget.value
    ex.update(init="identity", activation="linear")
    assert "identity init" in ex.readout_widget.value and "linear" in ex.readout_widget.value
    assert ex.readout_widget in ex.widget.children
    assert ex.fig._suptitle.get_text() == ex.readout and not ex.fig._suptitle.get_visible()
    png = ex.static_png()                            # the static picture carries the readout
    assert png.startswith(PNG_MAGIC) and not ex.fig._suptitle.get_visible()


# ------------------------------------------------------------------------------ training trace


def test_bit_memory_loss_gradient_matches_numeric():
    rng = np.random.default_rng(3)
    N, T, D, H = 4, 6, 2, 5
    params = [rng.normal(0, 0.5, (D, H)), rng.normal(0, 0.4, (H, H)), rng.normal(0, 0.1, H),
              rng.normal(0, 0.5, H), rng.normal(0, 0.1, 1)]
    x = rng.normal(size=(N, T, D))
    bits = rng.choice([-1.0, 1.0], size=N)
    _, grads = bit_memory_loss(params, x, bits)
    for p, g in zip(params, grads, strict=True):
        num = eval_numerical_gradient(lambda _p: bit_memory_loss(params, x, bits)[0], p)
        assert rel_error(g, num) < 1e-7


def test_training_trace_clipping_tames_the_spike():
    free = training_trace(lr=0.3, clip=False, threshold=1.0)
    clipped = training_trace(lr=0.3, clip=True, threshold=1.0)
    # without clipping one gradient spike blows the run up; with clipping it trains
    assert free.diverged_at is not None and free.grad_norm[-1] > DIVERGED
    assert clipped.diverged_at is None and len(clipped.loss) == 300
    assert clipped.loss[-30:].mean() < 0.1 * clipped.loss[:30].mean()
    # the flags mark exactly the steps whose pre-clipping norm exceeded the threshold
    np.testing.assert_array_equal(clipped.clipped, clipped.grad_norm > 1.0)
    assert 0 < clipped.n_clipped < 300
    assert not free.clipped.any()
    # same seed, same run (and the cache hands back the same object)
    assert training_trace(lr=0.3, clip=True, threshold=1.0) is clipped


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [({"lr": -1.0}, ValueError, "training_trace: lr"),
     ({"threshold": 0.0}, ValueError, "training_trace: threshold"),
     ({"steps": 0}, ValueError, "training_trace: steps"),
     ({"clip": "yes"}, TypeError, "training_trace: clip")],
)
def test_training_trace_rejects_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        training_trace(**kwargs)


# ------------------------------------------------------------------------------ explorer (1)


def test_vanilla_explorer_follows_the_sliders():
    from rnn_core.analysis.explore import vanilla_flow
    from rnn_core.widgets.vanilla import vanilla_flow_explorer

    ex = vanilla_flow_explorer(scale=1.0, T=100)
    fig = ex.fig
    ax_g, ax_sv, ax_eig = fig.axes[:3]
    g_line, b_line = ax_g.get_lines()[:2]
    before = g_line.get_ydata().copy()
    ex.controls["scale"].value = 1.5        # as the slider would
    ex.controls["T"].value = 150
    ex.controls["activation"].value = "linear"
    assert ex.fig is fig and fig.axes[:3] == [ax_g, ax_sv, ax_eig]
    assert ex.values["scale"] == pytest.approx(1.5, rel=0.03)   # the log slider's grid
    flow = vanilla_flow(scale=ex.values["scale"], T=150, init="orthogonal",
                        activation="linear", input_scale=0.1, H=64, seed=0)
    assert g_line.get_ydata().shape == (151,) != before.shape
    np.testing.assert_allclose(g_line.get_xdata(), flow.k)
    np.testing.assert_allclose(g_line.get_ydata(), flow.log10_grad_norm)
    np.testing.assert_allclose(b_line.get_ydata(), flow.log10_bound)
    sv1, rest = ax_sv.get_lines()[:2]
    np.testing.assert_allclose(sv1.get_xdata(), flow.gaps)
    np.testing.assert_allclose(sv1.get_ydata(), flow.log10_sv[:, 0])
    ys = rest.get_ydata()
    np.testing.assert_allclose(ys[np.isfinite(ys)], flow.log10_sv[:, 1:].T.ravel())
    eig = ax_eig.collections[0].get_offsets()
    np.testing.assert_allclose(eig[:, 0] + 1j * eig[:, 1], flow.eig_W)
    assert f"sigma_1(Wh) = {flow.sigma1:.2f}" in ex.readout and flow.regime in ex.readout
    assert "explosion possible" in ex.readout          # linear, sigma_1 = 1.5 > 1/gamma = 1
    assert fig._suptitle.get_text() == ex.readout
    assert ex.readout.replace("\n", "<br>") in ex.readout_widget.value
    # a small scale flips the regime, and the gradient vanishes
    ex.update(scale=0.5, activation="tanh")
    assert "sigma_1(Wh) = 0.50" in ex.readout and "vanishing guaranteed" in ex.readout
    assert g_line.get_ydata()[0] < g_line.get_ydata()[-1] - 10


def test_vanilla_explorer_default_is_eta_one_and_small_inputs():
    """The default (orthogonal, scale 1, tanh, input scale 0.1) is the eta = 1 case: the readout
    says "cannot grow", and the gradient indeed stays within 10 decades over 200 steps (notebook
    06, section 6). Input scale 1 saturates tanh and the same weights lose far more."""
    from rnn_core.analysis.explore import vanilla_flow
    from rnn_core.widgets.vanilla import SCALE_MAX, SCALE_MIN, SCALE_STEPS, vanilla_flow_explorer

    ex = vanilla_flow_explorer(T=200)
    assert ex.values["input_scale"] == pytest.approx(0.1) and ex.values["scale"] == 1.0
    assert "sigma_1(Wh) = 1.00, eta = 1.00: cannot grow" in ex.readout
    y = ex.fig.axes[0].get_lines()[0].get_ydata()
    assert y[-1] - 10 < y[0] <= y[-1] + 1e-9             # within 10 decades, never above
    saturated = vanilla_flow(scale=1.0, T=200, input_scale=1.0)
    assert saturated.log10_grad_norm[0] < y[0] - 10
    # 1.0 is a grid point of the log slider (position 100 of 125), so a student can land on it
    lo, hi = np.log10(SCALE_MIN), np.log10(SCALE_MAX)
    pos = (0.0 - lo) / ((hi - lo) / SCALE_STEPS)
    assert abs(pos - round(pos)) < 1e-9 and 0 < pos < SCALE_STEPS
    # near but not at 1 the readout does not round eta to 1.00
    ex.update(scale=1.002)
    assert "eta = 1.002" in ex.readout and "explosion possible" in ex.readout


@pytest.mark.parametrize(
    "values",
    [{"scale": 3.0, "T": 1000}, {"scale": 0.01, "T": 1000},
     {"scale": 3.0, "T": 300, "activation": "linear", "init": "identity", "input_scale": 3.0},
     {"scale": 0.01, "T": 2, "activation": "sigmoid", "init": "gaussian0.01",
      "input_scale": 0.0}],
)
def test_vanilla_explorer_extremes_are_finite_and_readable(values):
    from rnn_core.widgets.vanilla import vanilla_flow_explorer

    ex = vanilla_flow_explorer(T=50)
    ex.update(**values)
    _finite_artists(ex.fig)
    ax_g = ex.fig.axes[0]
    lo, hi = ax_g.get_ylim()
    y = ax_g.get_lines()[0].get_ydata()
    assert lo <= y.min() and y.max() <= hi              # the whole curve is in view
    ex.fig.canvas.draw()                                # renders without warnings


def test_vanilla_flow_linear_corner_does_not_overflow():
    """The linear RNN at the sliders' corner (largest scale, T = 1000, input scale 3) used to
    overflow in its forward pass. Its gradient norms must equal the closed form: for phi' = 1,
    dL/dh_{k-1} = dL/dh_k Wh^T, computed here with a renormalised power iteration."""
    from rnn_core.analysis.explore import _weights, vanilla_flow
    from rnn_core.widgets.vanilla import SCALE_MAX

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow = vanilla_flow(scale=SCALE_MAX, T=1000, init="glorot", activation="linear",
                            input_scale=3.0)
    W0, _, u = _weights("glorot", 64, 0)
    Wh = SCALE_MAX * W0
    g, log10 = u.copy(), [0.0]
    for _ in range(1000):
        g = g @ Wh.T
        n = np.linalg.norm(g)
        log10.append(log10[-1] + np.log10(n))
        g /= n
    np.testing.assert_allclose(flow.log10_grad_norm, log10[::-1], rtol=0, atol=1e-9)
    assert np.all(np.isfinite(flow.log10_sv))

def test_clipping_explorer_follows_the_sliders():
    from rnn_core.widgets.clipping import cliff_runs, clipping_explorer

    ex = clipping_explorer(threshold=1.0, lr=0.5)
    fig = ex.fig
    ax_s, ax_l = fig.axes[:2]
    contour = ax_s.collections[0]
    raw_path, clip_path = ax_s.get_lines()[:2]
    before = clip_path.get_xydata().copy()
    ex.controls["threshold"].value = 0.1
    ex.controls["lr"].value = 2.0
    assert ex.fig is fig and ax_s.collections[0] is contour   # surface drawn once
    thr, lr = ex.values["threshold"], ex.values["lr"]
    raw, clp = cliff_runs(thr, lr, steps=60, mode="norm", halflife=30.0)
    assert not np.array_equal(clip_path.get_xydata(), before)
    np.testing.assert_allclose(raw_path.get_xydata(), raw.params)
    np.testing.assert_allclose(clip_path.get_xydata(), clp.params)
    marks = ax_s.collections[1].get_offsets()
    np.testing.assert_allclose(marks, clp.params[:-1][clp.clipped])
    raw_loss, clip_loss = ax_l.get_lines()[:2]
    np.testing.assert_allclose(raw_loss.get_ydata(), axes.floored(raw.loss))
    np.testing.assert_allclose(clip_loss.get_ydata(), axes.floored(clp.loss))
    assert f"threshold = {thr:.3g}" in ex.readout and f"lr = {lr:.3g}" in ex.readout
    assert f"{int(clp.clipped.sum())} of 60 steps clipped" in ex.readout
    # value clipping: a different path from the same start
    ex.update(clip_mode="value")
    vclp = cliff_runs(thr, lr, steps=60, mode="value", halflife=30.0)[1]
    np.testing.assert_allclose(clip_path.get_xydata(), vclp.params)
    with pytest.raises(ValueError, match="clipping_explorer.update: clip_mode must be one of"):
        ex.update(clip_mode="sideways")


def test_clipping_explorer_default_title_matches_the_data():
    from rnn_core.widgets.clipping import TAIL, cliff_runs, clipping_explorer

    ex = clipping_explorer()
    thr, lr = ex.values["threshold"], ex.values["lr"]
    raw, clp = cliff_runs(thr, lr)
    title = ex.fig.axes[1].get_title()
    assert title.startswith("clipping ends lower")
    # the claim is true on the data: the clipped run converges, the plain one is thrown away
    assert clp.tail_loss(TAIL) < raw.tail_loss(TAIL) / 1000
    assert clp.tail_loss(TAIL) < 1e-6 and clp.loss[-1] < clp.loss[0] / 1000
    assert raw.tail_loss(TAIL) > raw.loss[0]
    # clipping bites only on the wall: few events, each at a huge raw gradient
    assert 1 <= clp.clipped.sum() <= 2 and clp.grad_norm[clp.clipped].min() > 10
    # ... and a threshold too loose to bite lets the run fly off: the title says so
    ex.update(threshold=5.0)
    assert not ex.fig.axes[1].get_title().startswith("clipping ends lower")


def test_clipping_explorer_extremes_are_finite():
    from rnn_core.widgets.clipping import clipping_explorer

    ex = clipping_explorer()
    for thr, lr in ((10.0, 20.0), (0.01, 20.0), (0.01, 0.05), (10.0, 0.05)):
        ex.update(threshold=thr, lr=lr)
        _finite_artists(ex.fig)
        ex.fig.canvas.draw()


# ------------------------------------------------------------------------------ explorer (3)


def test_highway_explorer_follows_the_sliders():
    from rnn_core.analysis.explore import lstm_highway
    from rnn_core.widgets.highway import highway_explorer

    ex = highway_explorer(forget_bias=0.0, T=100)
    fig = ex.fig
    ax_g, ax_c = fig.axes[:2]
    van, lstm = ax_g.get_lines()[:2]
    direct, full = ax_c.get_lines()[:2]
    before = direct.get_ydata().copy()
    ex.controls["forget_bias"].value = 4.0
    ex.controls["T"].value = 120
    assert ex.fig is fig
    hw = lstm_highway(forget_bias=4.0, T=120, H=32, seed=0)
    assert direct.get_ydata().shape != before.shape
    np.testing.assert_allclose(van.get_ydata(), hw.log10_vanilla_grad)
    np.testing.assert_allclose(lstm.get_ydata(), hw.log10_lstm_grad)
    np.testing.assert_allclose(direct.get_ydata(), hw.log10_direct)
    np.testing.assert_allclose(full.get_ydata(), hw.log10_full_c)
    np.testing.assert_allclose(direct.get_xdata(), hw.k)
    assert "forget bias = 4.00" in ex.readout and f"mean f = {hw.mean_forget:.3f}" in ex.readout
    # with f near 1 the LSTM keeps far more gradient than the vanilla RNN
    assert lstm.get_ydata()[0] > van.get_ydata()[0] + 5


def test_highway_explorer_extremes_are_finite():
    from rnn_core.widgets.highway import highway_explorer

    ex = highway_explorer(T=50)
    for fb, T in ((8.0, 1000), (-4.0, 1000), (-4.0, 2)):
        ex.update(forget_bias=fb, T=T)
        _finite_artists(ex.fig)
        for ax in ex.fig.axes[:2]:
            lo, hi = ax.get_ylim()
            for line in ax.get_lines():
                assert lo <= line.get_ydata().min() and line.get_ydata().max() <= hi
        ex.fig.canvas.draw()


# ------------------------------------------------------------------------------ explorer (4)


def test_training_explorer_follows_the_controls():
    from rnn_core.widgets.training import training_explorer

    ex = training_explorer(lr=0.1, clip=True, threshold=1.0)
    fig = ex.fig
    ax_loss, ax_g = fig.axes[:2]
    before = ax_loss.get_lines()[0].get_ydata().copy()
    ex.controls["lr"].value = 0.3          # as the slider would
    ex.controls["clip"].value = False
    assert ex.fig is fig and fig.axes[:2] == [ax_loss, ax_g]
    tr = training_trace(lr=ex.values["lr"], clip=False, threshold=1.0)
    assert tr.diverged_at is not None
    loss_line, div_marker = ax_loss.get_lines()[:2]
    assert loss_line.get_ydata().shape != before.shape
    np.testing.assert_allclose(loss_line.get_ydata(), tr.loss)
    np.testing.assert_allclose(ax_g.get_lines()[0].get_ydata(), tr.grad_norm)
    np.testing.assert_allclose(div_marker.get_xdata(), [tr.diverged_at])
    assert f"step {tr.diverged_at}" in ex.readout and "no clipping" in ex.readout
    assert fig._suptitle.get_text() == ex.readout
    # clip back on: the clipped steps are marked at their pre-clipping norms
    ex.update(clip=True, threshold=0.5)
    tr = training_trace(lr=ex.values["lr"], clip=True, threshold=0.5)
    assert ex.controls["threshold"].value == pytest.approx(0.5)
    pts = ax_g.collections[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], tr.steps[tr.clipped])
    np.testing.assert_allclose(pts[:, 1], tr.grad_norm[tr.clipped])
    assert "clipping at 0.5" in ex.readout
    _finite_artists(fig)


def test_training_explorer_extremes_are_finite():
    from rnn_core.widgets.training import training_explorer

    ex = training_explorer()
    for lr, clip in ((2.0, False), (2.0, True), (0.01, False)):
        ex.update(lr=lr, clip=clip)
        _finite_artists(ex.fig)
        ex.fig.canvas.draw()


def test_update_rejects_unknown_names_and_out_of_range_values():
    from rnn_core.widgets.training import training_explorer

    ex = training_explorer()
    with pytest.raises(TypeError, match="training_explorer.update: unknown control 'lrr'"):
        ex.update(lrr=0.1)
    with pytest.raises(ValueError, match=r"training_explorer.update: lr must be in \[0.01, 2\]"):
        ex.update(lr=5.0)
    # a bad value after a good one: the good one is applied and drawn, the error still raised
    with pytest.raises(ValueError, match="training_explorer.update: clip must be a valid value"):
        ex.update(lr=0.05, clip="sometimes")
    assert ex.readout.startswith("lr = 0.05")


# ------------------------------------------------------------------------------ display paths


def _check_bundle(ex):
    bundle = ex._repr_mimebundle_()
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id
    assert ex.readout in bundle["text/plain"]
    return png


def test_static_fallback_without_ipympl_gives_an_image():
    import ipywidgets

    from rnn_core.widgets.training import training_explorer

    ex = training_explorer()
    assert ex.mode == "image"                  # Agg backend: no ipympl
    png = _check_bundle(ex)
    image = ex.widget.children[-1]
    assert isinstance(image, ipywidgets.Image)
    # the live image is what the (blitted) canvas holds; the static PNG adds the readout title
    assert bytes(image.value) == backend.canvas_png(ex.fig.canvas) != png
    assert not ex.fig._suptitle.get_visible()
    # once displayed, a slider change repaints the image widget in place
    before = bytes(image.value)
    ex.controls["clip"].value = not ex.controls["clip"].value
    assert bytes(image.value) != before and bytes(image.value).startswith(PNG_MAGIC)
    assert bytes(image.value) == backend.canvas_png(ex.fig.canvas)
    assert ex.readout.replace("\n", "<br>") in ex.readout_widget.value


def test_ipympl_mode_builds_a_canvas_widget_without_warnings():
    pytest.importorskip("ipympl")
    import ipywidgets

    from rnn_core.widgets.training import training_explorer

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prev = matplotlib.get_backend()
        matplotlib.use("module://ipympl.backend_nbagg")
        try:
            assert backend.backend_mode() == "ipympl"
            import matplotlib.pyplot as plt

            before = plt.get_fignums()
            ex = training_explorer()
            assert plt.get_fignums() == before     # the explorer's figure is not pyplot's
            assert ex.mode == "ipympl"
            canvas = ex.widget.children[-1]
            assert isinstance(canvas, ipywidgets.DOMWidget) and canvas is ex.fig.canvas
            _check_bundle(ex)
            ex.update(lr=0.05)
            assert "lr = 0.05" in ex.readout and "lr = 0.05" in ex.readout_widget.value
            # a small step repaints by blitting: the webagg canvas sends a diff frame
            ex.update(lr=0.06)
            assert ex.last_render == "blit"
            assert ex.fig.canvas.get_diff_image() is None   # already sent by blit()
        finally:
            import matplotlib.pyplot as plt

            plt.close("all")
            matplotlib.use(prev)


@pytest.mark.slow
def test_explorers_in_a_kernel_without_frontend_show_images_and_no_warnings():
    """What nbval and nbconvert --execute do: a real kernel, no widget frontend. Both backends."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from nbformat.v4 import new_code_cell, new_notebook

    make = ("from rnn_core.widgets import vanilla_flow_explorer, training_explorer\n"
            "ex = vanilla_flow_explorer(T=50)\nex")
    nb = new_notebook(cells=[
        new_code_cell("import warnings\nwarnings.simplefilter('always')\n%matplotlib inline"),
        new_code_cell(make),
        new_code_cell("ex.update(scale=1.5)\nprint(ex.readout)"),
        new_code_cell("%matplotlib widget"),
        new_code_cell(make),
        new_code_cell("training_explorer()"),
    ])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    shown = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            if out["output_type"] == "stream":
                assert out["name"] == "stdout", out["text"]      # nothing on stderr
            if "data" in out and "image/png" in out["data"]:
                assert "application/vnd.jupyter.widget-view+json" in out["data"]
                shown.append(out)
    assert len(shown) == 3                  # one picture per explorer, no duplicate figures
    assert "sigma_1(Wh) = 1.50" in nb.cells[2]["outputs"][0]["text"]
    assert nbformat.validate(nb) is None


def test_vanilla_findings_live_in_the_readout_and_in_the_static_titles(monkeypatch):
    # Live, the changing findings are in the readout widget (not re-rendered on the canvas at
    # every step); the static picture writes them into the panel titles and restores them after.
    ex = _vanilla()
    ex.update(scale=1.5)
    live_titles = [ax.get_title() for ax in ex.fig.axes[:3]]
    assert live_titles[0] == "gradient norm vs step (loss at step T)"
    assert "||dL/dh_k|| grows by 10^" in ex.readout_widget.value
    seen = []
    import rnn_core.widgets.explorer as explorer

    real = explorer.figure_png

    def spy(fig, dpi=None):
        seen.append([ax.get_title() for ax in fig.axes[:3]] + [fig._suptitle.get_text()])
        return real(fig, dpi)

    monkeypatch.setattr(explorer, "figure_png", spy)
    ex.static_png()
    assert seen[0][0].startswith("||dL/dh_k|| grows by 10^") and "\n" not in seen[0][3]
    assert [ax.get_title() for ax in ex.fig.axes[:3]] == live_titles
    assert ex.fig._suptitle.get_text() == ex.readout


def test_decade_range_settles_when_a_slider_goes_back_and_forth():
    from rnn_core.widgets.axes import decade_range

    lims, seen = None, []
    for i in range(8):
        lo, hi = ((-6.0, 0.0), (-2.0, 4.0))[i % 2]
        lims = decade_range(lo, hi, lims)
        assert lims[0] <= lo and hi <= lims[1]           # the data are always inside
        seen.append(lims)
    assert seen[-1] == seen[-2] == seen[-3]              # settled: no redraw at every step


# ------------------------------------------------------------------------------ corners


def _stacked():
    from rnn_core.widgets.stacked import stack_gradient_explorer

    return stack_gradient_explorer(num_layers=2, weight_scale=1.0, T=60)


def _control_ends(control) -> list:
    """Both ends of a slider (in values, not exponents), every option of a dropdown, both states
    of a checkbox."""
    if hasattr(control, "options"):
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    if isinstance(control.value, bool):
        return [False, True]
    if hasattr(control, "base"):
        return [control.base**control.min, control.base**control.max]
    return [control.min, control.max]


@pytest.mark.parametrize("make", [_vanilla, _clipping, _highway, _training, _stacked],
                         ids=["vanilla", "clipping", "highway", "training", "stacked"])
def test_every_corner_of_every_explorer_is_finite_and_warning_free(make):
    """Every combination of slider ends and dropdown/checkbox values (not one control at a time:
    the linear RNN overflowed only at largest scale AND longest T AND largest input scale).
    Warnings are errors in this module; the figure renders and holds finite data."""
    import itertools

    ex = make()
    names = list(ex.controls)
    combos = list(itertools.product(*(_control_ends(ex.controls[k]) for k in names)))
    assert len(combos) >= 4
    for combo in combos:
        values = dict(zip(names, combo, strict=True))
        ex.update(**values)
        _finite_artists(ex.fig)
        assert "nan" not in ex.readout.lower() and "inf" not in ex.readout.split(), values
        ex.fig.canvas.draw()
