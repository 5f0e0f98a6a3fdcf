"""Headless tests of the explorers: set slider values, check the figure follows the compute code.

matplotlib's Agg backend is selected before anything else imports pyplot. Every explorer is
checked the same way: the figure object survives updates (built once), the artists' data equal
what the compute function returns for the new values, the readout shows the new value, and
extreme settings give finite data. Warnings are errors here (pytest's filterwarnings plus the
module-level mark), so overflow or NaN warnings fail the test.
"""

from __future__ import annotations

import base64
import contextlib
import pathlib
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnn_core.analysis.training_trace import (  # noqa: E402
    DIVERGED,
    STEPS,
    bit_memory_loss,
    training_trace,
)
from rnn_core.gradcheck import eval_numerical_gradient, rel_error  # noqa: E402
from rnn_core.widgets import axes  # noqa: E402

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


# ------------------------------------------------------------------------------ browser frames


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


def _stacked():
    from rnn_core.widgets.stacked import stack_gradient_explorer

    return stack_gradient_explorer(num_layers=2, weight_scale=1.0, T=60)


def _chunks():
    from rnn_core.data import lag_recall
    from rnn_core.widgets.chunks import chunk_explorer

    return chunk_explorer(lag_recall(4, 64, 8, np.random.default_rng(3)).x[1], 8, k=8)


ALL = pytest.mark.parametrize(
    "make", [_vanilla, _clipping, _highway, _training, _stacked, _chunks],
    ids=["vanilla", "clipping", "highway", "training", "stacked", "chunks"])


def _xy(msg, buffers, i):
    """The pixel coordinates of artist ``i`` of a frame message, as an (n, 2) array."""
    a = msg["artists"][i]
    return np.frombuffer(buffers[a["xy"]], dtype=np.float32).reshape(-1, 2)


def _expected_pixels(fig, transform, xy):
    px = transform.transform(np.asarray(xy, dtype=float))
    px[:, 1] = fig.canvas.get_renderer().height - px[:, 1]      # rows from the top, as Agg
    return px


def test_frame_puts_data_at_the_pixels_matplotlib_draws_them():
    """Each animated artist becomes pixel coordinates (y from the top) equal to what its own
    transform gives, with its style, clipped to its axes; in the order a full render paints."""
    ex = _vanilla()
    ex.update(scale=1.5, T=150)
    msg, buffers = ex.widget.frame_message()
    n0 = len(ex.decorations.get()[0])       # ticks and axis labels come first
    msg = {**msg, "artists": msg["artists"][n0:]}
    fig = ex.fig
    ax_g, ax_sv, ax_eig = fig.axes[:3]
    g_line, b_line = ax_g.get_lines()[:2]
    # a point at known data coordinates: step k = 0 of the measured gradient norm
    k0 = np.array([[0.0, g_line.get_ydata()[0]]])
    (x0, y0), = _expected_pixels(fig, ax_g.transData, k0)
    got = _xy(msg, buffers, 0)
    assert got.shape == (151, 2)
    np.testing.assert_allclose(got[0], [x0, y0], atol=1e-3)
    np.testing.assert_allclose(got, _expected_pixels(fig, ax_g.transData, g_line.get_xydata()),
                               atol=1e-3)
    a0, a1 = msg["artists"][:2]
    assert a0["color"] == [0.1216, 0.4667, 0.7059, 1.0] and a0["lw"] == 1.8 and a0["dash"] == []
    assert a1["dash"] and a1["color"][:3] == [0.8392, 0.1529, 0.1569]     # C3, dashed
    # clipped to the axes' box, y from the top
    bx = ax_g.bbox
    # e.g. 4.3 in at 72 dpi is 309.6 px: Agg renders 309 whole rows, counted from the top
    rows = int(fig.bbox.height)
    np.testing.assert_allclose(a0["clip"], [bx.x0, rows - bx.y1, bx.width,
                                            bx.height], atol=0.01)
    # NaN line breaks survive (the other singular values are one line)
    rest = _xy(msg, buffers, 3)
    assert np.isnan(rest).any() and np.isfinite(rest[~np.isnan(rest).any(axis=1)]).all()
    # the eigenvalue scatter: offsets through its offset transform, a filled marker path
    eig = [a for a in msg["artists"] if a.get("marker") and a.get("color") is None]
    assert len(eig) == 1
    pts = ax_eig.collections[0]
    np.testing.assert_allclose(
        _xy(msg, buffers, msg["artists"].index(eig[0])),
        _expected_pixels(fig, pts.get_offset_transform(), pts.get_offsets()), atol=1e-3)
    assert eig[0]["marker"]["filled"] and eig[0]["marker"]["face"][3] == 1.0
    # the order is the full render's: axes by axes, zorder within
    from rnn_core.widgets.frames import draw_order

    shown = [a for a in draw_order(fig, ex.animated) if a.get_visible()]
    assert [a["z"] for a in msg["artists"]] == [float(a.get_zorder()) for a in shown]


def test_frame_images_and_texts_follow_cmap_norm_and_text_layout():
    ex = _stacked()
    ex.update(num_layers=3)
    msg, buffers = ex.widget.frame_message()
    n0 = len(ex.decorations.get()[0])       # ticks and axis labels come first
    images = [a for a in msg["artists"] if a["kind"] == "image"]
    texts = [a for a in msg["artists"][n0:] if a["kind"] == "text"]
    assert len(images) == 2 and len(texts) == 2
    im = ex.fig.axes[0].get_images()[0]
    rgba = np.frombuffer(buffers[images[0]["rgba"]], dtype=np.uint8).reshape(
        images[0]["h"], images[0]["w"], 4)
    # top row of the picture is the top layer (origin "lower"), coloured by cmap(norm(value))
    want = np.asarray(im.cmap(im.norm(im.get_array()), bytes=True))[::-1]
    np.testing.assert_array_equal(rgba, want)
    assert rgba.shape[:2] == (3, 60)
    # the extent (0.5 .. T + 0.5, 0.5 .. L + 0.5) in pixels is the axes' box (limits = extent)
    bx = ex.fig.axes[0].bbox
    # 3.8 in at 72 dpi: 273 rows
    assert ex.fig.canvas.get_width_height(physical=True)[1] == 273
    np.testing.assert_allclose(images[0]["box"], [bx.x0, 273 - bx.y1,
                                                  bx.width, bx.height], atol=0.01)
    title = ex.fig.axes[0].title
    assert texts[0]["s"] == title.get_text() and texts[0]["ha"] == "center"
    assert texts[0]["size"] == pytest.approx(title.get_fontsize())      # 72 dpi: 1 pt = 1 px


def _check_frame(view, msg, buffers, where) -> None:
    """Every item of a frame drawable: finite points (NaN breaks allowed), texts inside the
    canvas' height, finite clip boxes, legends' boxes inside the canvas, the PNG a PNG."""
    w, h = view.spec["width"], view.spec["height"]
    for a in msg["artists"]:
        if a["kind"] == "line":
            xy = np.frombuffer(buffers[a["xy"]], dtype=np.float32).reshape(-1, 2)
            both = np.isnan(xy).all(axis=1)               # a break is NaN in x and y
            assert np.isfinite(xy[~both]).all(), where
        elif a["kind"] == "text":
            assert np.isfinite([a["x"], a["y"]]).all() and 0 <= a["y"] <= h, (where, a)
        for v in a.get("clip") or []:
            assert np.isfinite(v), where
    for x, y, bw, bh in msg["overlays"]:
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > 10 and bh > 10
    if "png" in msg:
        assert buffers[msg["png"]].startswith(PNG_MAGIC)


@ALL
def test_frames_of_every_explorer_are_finite_and_serialisable(make):
    import json

    ex = make()
    view = ex.widget
    ends = [len(c.grid) - 1 for c in ex.controls.values()]
    for idx in (ex.index(), [0] * len(ex.controls), ends):
        msg, buffers = view.frame_message(idx)
        json.dumps(msg)                                   # plain JSON besides the buffers
        assert all(isinstance(b, bytes) for b in buffers)
        assert msg["artists"] and msg["idx"] == idx and msg["exact"]
        _check_frame(view, msg, buffers, (make.__name__, idx))
    # a prefetch leaves the explorer where it was: values and artists of the current values
    assert ex.values == make().values


def test_background_stays_while_the_limits_move_and_the_ticks_follow_them():
    """The background holds nothing that depends on the limits: one PNG over a walk through the
    sliders. The ticks, tick labels and axis labels come with every frame, laid out as
    matplotlib's own draw lays them out, and are laid out again exactly when the limits move."""
    from matplotlib.text import Text

    ex = _vanilla()
    view = ex.widget
    first, _ = view.frame_message()
    renders, layouts = ex.backgrounds.renders, ex.decorations.layouts
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes]
    first_key = tuple(limits)
    ex.update(T=199)                                        # a small step: limits stay
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes] == limits
    view.frame_message()
    assert ex.decorations.layouts == layouts                # the cached layout
    seen: dict = {}
    for T, scale in ((900, 1.0), (200, 1.0), (210, 1.0), (900, 1.0), (200, 0.5), (200, 3.0)):
        ex.update(T=T, scale=scale)
        msg, bufs = view.frame_message()
        assert msg["bg"] == first["bg"] and ("png" not in msg or msg["png"] == len(bufs) - 1)
        key = tuple((ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes)
        items = ex.decorations.get()[0]
        assert seen.setdefault(key, items) is items        # same limits: the same layout
        # the frame's texts at its head are matplotlib's tick labels and axis labels, where
        # its full render puts them
        texts = [a for a in msg["artists"][:len(items)] if a["kind"] == "text"]
        ex.fig.canvas.draw()
        h = ex.fig.canvas.get_width_height(physical=True)[1]
        want = [t for ax in ex.fig.axes for axis in (ax.xaxis, ax.yaxis)
                for t in (*[tk.label1 for tk in axis._update_ticks()], axis.label)
                if isinstance(t, Text) and t.get_visible() and t.get_text()]
        assert [a["s"] for a in texts] == [t.get_text() for t in want]
        for a, t in zip(texts, want, strict=True):
            e = t.get_window_extent()
            assert (e.x0 - 1 <= a["x"] <= e.x1 + 1 and h - e.y1 - 1 <= a["y"] <= h - e.y0 + 1), (
                t.get_text(), a["x"], a["y"], e)
    # each set of limits laid out once (the first one before the walk)
    assert len(seen) >= 3
    assert ex.decorations.layouts == layouts + len(seen) - (first_key in seen)
    assert ex.backgrounds.renders == renders            # never rendered again
    labels = {a["s"] for a in msg["artists"] if a["kind"] == "text"}
    assert {"step k", "||dL/dh_k|| (log scale)"} <= labels
    # the background holds no readout title: it differs from the static picture
    assert ex.backgrounds.get()[1] != ex.static_png()


def test_ticks_are_laid_out_per_axes_and_equal_a_fresh_layout():
    """A new set of limits lays out only the axes whose limits (or ticks) moved; what the frame
    gets always equals every axes laid out afresh, over a walk through the vanilla explorer's
    sliders and when an aligned label's sibling axes changes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from rnn_core.widgets.frames import Decorations

    ex = _vanilla()
    deco = ex.decorations
    rng = np.random.default_rng(0)
    for _ in range(12):
        ex.update(scale=float(10 ** rng.uniform(-2, 0.5)), T=int(rng.integers(2, 1000)))
        ex.fig.canvas.draw()
        assert deco.get() == deco._lay_out()

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1)
    for ax in (top, bottom):
        ax.plot([0, 1], [0, 1])
        ax.set_ylabel("value")
    fig.align_ylabels()
    deco = Decorations(fig)
    deco.get()
    n = deco.axes_laid_out
    top.set_xlim(0, 2)                       # x only: the labels of bottom do not care
    deco.get()
    assert deco.axes_laid_out == n + 1
    label_x = [a["x"] for a in deco.get()[0] if a.get("s") == "value"]
    bottom.set_ylim(0, 100000)               # wider tick labels below: both y labels move left
    items, buffers = deco.get()
    assert deco.axes_laid_out == n + 3 and (items, buffers) == deco._lay_out()
    moved = [a["x"] for a in items if a.get("s") == "value"]
    assert len(moved) == 2 and all(m < x for m, x in zip(moved, label_x, strict=True))


def test_a_static_artist_in_data_coordinates_ties_the_background_to_its_axes_limits():
    """A filled contour (clipping explorer) is in the background: its axes' limits are in the
    background's key; an explorer with none (training) has a key without limits."""
    from rnn_core.widgets.frames import static_data_axes

    clip = _clipping()
    assert static_data_axes(clip.fig, clip.animated) == [clip.fig.axes[0], clip.fig.axes[2]]
    key = clip.backgrounds.key()
    clip.fig.axes[0].set_xlim(-5, 5)
    assert clip.backgrounds.key() != key
    tr = _training()
    assert static_data_axes(tr.fig, tr.animated) == []
    key = tr.backgrounds.key()
    tr.fig.axes[0].set_ylim(1e-9, 1e3)
    assert tr.backgrounds.key() == key


def test_a_background_render_puts_every_locator_back_also_on_shared_axes():
    """The stacked explorer's two panels share their y axis (one Ticker): after the background
    is rendered without ticks, both have their tick positions again, and the frame draws the
    layer numbers."""
    ex = _stacked()
    before = [(ax.xaxis.major.locator, ax.yaxis.major.locator) for ax in ex.fig.axes]
    ex.backgrounds._render(1.0)
    assert [(ax.xaxis.major.locator, ax.yaxis.major.locator) for ax in ex.fig.axes] == before
    msg, _ = ex.widget.frame_message()
    texts = {a["s"] for a in msg["artists"] if a["kind"] == "text"}
    assert {"1", "2", "layer"} <= texts


def test_math_text_in_a_browser_drawn_label_is_refused_by_name():
    ex = _training()
    ex.fig.axes[0].set_xlabel("$\\alpha$ step")
    with pytest.raises(TypeError, match="math text"):
        ex.widget.frame_message()


def test_background_leaves_out_the_animated_artists():
    import io

    from PIL import Image

    ex = _highway()
    png = ex.backgrounds.get()[1]
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    # the vanilla curve's colour (C3) appears in the legend only, not along the curve
    ax = ex.fig.axes[0]
    van = ax.get_lines()[0]
    px = _expected_pixels(ex.fig, van.get_transform(), van.get_xydata())
    mid = px[len(px) // 2].round().astype(int)
    patch = img[mid[1] - 1:mid[1] + 2, mid[0] - 1:mid[0] + 2]
    assert (patch > 200).all(), "the data line is painted into the background"


def _sent(view, monkeypatch):
    out = []
    monkeypatch.setattr(view, "send", lambda msg, buffers=None: out.append((msg, buffers)))
    return out


def test_browser_messages_move_the_explorer_and_prefetch_leaves_it(monkeypatch):
    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    g_line = ex.fig.axes[0].get_lines()[0]
    view._on_msg(view, {"type": "hello", "dpr": 2}, [])
    assert sent[-1][0]["push"] and sent[-1][0]["scale"] == 2.0 and "png" in sent[-1][0]
    here = ex.index()
    ahead = list(here)
    ahead[1] += 1                                            # T one step on
    before = g_line.get_ydata().copy()
    view._on_msg(view, {"type": "want", "idx": ahead, "current": False}, [])
    msg = sent[-1][0]
    assert msg["idx"] == ahead and not msg["push"] and "T = 201" in msg["readout"]
    assert ex.values["T"] == 200 and ex.index() == here      # a prefetch moves nothing
    np.testing.assert_array_equal(g_line.get_ydata(), before)
    view._on_msg(view, {"type": "want", "idx": ahead, "current": True}, [])
    assert ex.values["T"] == 201 and "T = 201" in ex.readout and sent[-1][0]["idx"] == ahead
    assert g_line.get_ydata().shape == (202,)
    # a background goes once per view; a new view ("hello") gets it again
    assert all("png" not in m for m, _ in sent[1:] if m["bg"] == sent[0][0]["bg"])
    # Python-side updates push the frame, marked as moving the controls
    ex.update(T=150)
    assert sent[-1][0]["push"] and sent[-1][0]["idx"][1] == 148


def test_every_frame_says_what_it_cost_the_kernel(monkeypatch):
    """Each frame carries the kernel's ms (draw, background, serialise; restore after a
    prefetch) and the view keeps one entry per request, for the e2e harness's time note."""
    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    view._on_msg(view, {"type": "hello", "dpr": 1}, [])
    here = ex.index()
    far = list(here)
    far[0] = len(ex.controls["scale"].grid) - 1             # the largest scale: new limits
    view._on_msg(view, {"type": "want", "idx": far, "current": False}, [])
    view._on_msg(view, {"type": "want", "idx": here, "current": False}, [])
    view._on_msg(view, {"type": "want", "idx": far, "current": True}, [])
    kinds = [t["kind"] for t in view.timings]
    assert kinds == ["push", "prefetch", "prefetch", "current"]
    first, ahead, back, moved = view.timings
    assert first["bg_new"] and not ahead["bg_new"] and not back["bg_new"] and not moved["bg_new"]
    assert first["deco_new"] and ahead["deco_new"] and not back["deco_new"]
    assert not moved["deco_new"] and "restore" in ahead and "restore" not in moved
    assert all(t["draw"] > 0 and t["frame"] > 0 and t["bytes"] > 0 for t in view.timings)
    assert [m["t"]["bg_new"] for m, _ in sent] == [t["bg_new"] for t in view.timings]


def test_bad_positions_from_the_browser_raise_one_line_naming_the_control():
    ex = _clipping()
    view = ex.widget
    with pytest.raises(ValueError, match=r"clipping_explorer: position of lr must be an integer "
                                         r"in \[0, 52\], got 53$"):
        view._on_msg(view, {"type": "want", "idx": [0, 53, 0], "current": True}, [])
    with pytest.raises(ValueError, match=r"idx must be a list of 3 grid positions "
                                         r"\(threshold, lr, clip_mode\), got \[0\]"):
        view._on_msg(view, {"type": "want", "idx": [0], "current": False}, [])
    with pytest.raises(ValueError, match="position of clip_mode must be an integer"):
        ex.check_index([0, 0, True])


def test_an_edited_exercise_flushes_the_browser_frames(monkeypatch):
    """D1 in the browser: frames computed by replaced exercise code are dropped. After a cell run
    that changed a Layer A function, the view sends a "code" message (the browser drops every
    frame it holds) and every later frame carries the new code number (a frame with an older
    number is ignored). An unchanged code sends nothing."""
    import rnn_core.rnn as rnn

    ex = _vanilla()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    assert not view.check_code() and sent == []
    old = view.frame_message()[0]
    assert old["code"] == 0
    real = rnn.rnn_step_forward

    def edited(*args, **kwargs):                 # a student's new version of the exercise
        return real(*args, **kwargs)

    monkeypatch.setattr(rnn, "rnn_step_forward", edited)
    assert view.check_code()
    assert sent == [({"type": "code", "code": 1}, None)]
    assert not view.check_code()                 # once per change
    view._on_msg(view, {"type": "want", "idx": ex.index(), "current": False}, [])
    assert sent[-1][0]["type"] == "frame" and sent[-1][0]["code"] == 1
    monkeypatch.setattr(rnn, "rnn_step_forward", real)   # changed back: a new generation again
    assert view.check_code() and view.code_gen == 2


def test_the_view_spec_names_every_control_and_its_grid():
    ex = _training()
    spec = ex.widget.spec
    assert [c["name"] for c in spec["controls"]] == ["lr", "clip", "threshold"]
    lr, clip, thr = spec["controls"]
    assert lr["kind"] == "range" and lr["log"] and lr["label"] == "learning rate"
    assert len(lr["values"]) == 47 and lr["values"][0] == pytest.approx(0.01)
    assert lr["labels"][0] == "0.01" and len(lr["labels"]) == 47
    assert clip == {"name": "clip", "kind": "checkbox", "label": "clip the gradient norm",
                    "labels": ["off", "on"]}
    assert (spec["width"], spec["height"]) == (792, 302)
    assert not spec["prefetch_all"]                          # 47 x 2 x 53 positions
    assert _stacked().widget.spec["prefetch_all"]            # 6 x 25: fetched whole
    lr_at, thr_at = ex.controls["lr"].index_of(0.1), ex.controls["threshold"].index_of(1.0)
    assert ex.index() == [lr_at, 1, thr_at]


def test_js_module_ships_with_the_package_and_fetches_nothing():
    import pathlib
    import tomllib

    import rnn_core.widgets.web as web
    from rnn_core.widgets.web import ExplorerView

    js = pathlib.Path(web.__file__).parent / "static" / "explorer.js"
    text = js.read_text()
    assert str(ExplorerView._esm) == text       # anywidget serves the file's contents
    assert "export default { render }" in text
    # no import, no URL: the module is self-contained and loads nothing at run time
    assert not [line for line in text.splitlines() if line.lstrip().startswith("import ")]
    assert "http" not in text and "fetch(" not in text
    pyproject = tomllib.loads((pathlib.Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "widgets/static/*.js" in pyproject["tool"]["setuptools"]["package-data"]["rnn_core"]


def test_readout_follows_every_slider():
    ex = _vanilla()
    view = ex.widget
    ex.update(scale=1.05)
    assert "x 1.05" in view.frame_message()[0]["readout"] and "sigma_1(Wh) = 1.05" in ex.readout
    ex.update(T=210, input_scale=0.5)
    assert "T = 210" in ex.readout and "input scale 0.50" in view.frame_message()[0]["readout"]
    ex.update(init="identity", activation="linear")
    assert "identity init" in ex.readout and "linear" in ex.readout
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
    assert clipped.diverged_at is None and len(clipped.loss) == STEPS == 100
    assert clipped.loss[-30:].mean() < 0.1 * clipped.loss[:30].mean()
    # the flags mark exactly the steps whose pre-clipping norm exceeded the threshold
    np.testing.assert_array_equal(clipped.clipped, clipped.grad_norm > 1.0)
    assert 0 < clipped.n_clipped < STEPS
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
    with pytest.raises(ValueError, match="training_explorer.update: clip must be True or False"):
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


def test_display_bundle_holds_the_view_the_static_png_and_the_summary():
    from rnn_core.widgets.training import training_explorer
    from rnn_core.widgets.web import ExplorerView

    ex = training_explorer()
    png = _check_bundle(ex)
    assert isinstance(ex.widget, ExplorerView)
    # the static picture carries the readout as its title; the background does not
    assert png != ex.backgrounds.get()[1] and not ex.fig._suptitle.get_visible()
    ex.controls["clip"].value = not ex.controls["clip"].value     # as the checkbox would
    assert base64.b64decode(ex._repr_mimebundle_()["image/png"]) != png


def test_explorer_figures_stay_out_of_pyplot_whatever_the_backend():
    import matplotlib.pyplot as plt

    from rnn_core.widgets.training import training_explorer

    before = plt.get_fignums()
    ex = training_explorer()
    assert plt.get_fignums() == before     # the explorer's figure is not pyplot's
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    assert isinstance(ex.fig.canvas, FigureCanvasAgg)


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
    assert "||dL/dh_k|| grows by 10^" in ex.readout
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


@ALL
def test_every_corner_of_every_explorer_is_finite_and_warning_free(make):
    """Every combination of slider ends and dropdown/checkbox values (not one control at a time:
    the linear RNN overflowed only at largest scale AND longest T AND largest input scale).
    Warnings are errors in this module; the figure renders and holds finite data, and so does the
    browser's frame (ticks and axis labels laid out at every corner)."""
    import itertools

    ex = make()
    names = list(ex.controls)
    combos = list(itertools.product(*(_control_ends(ex.controls[k]) for k in names)))
    assert len(combos) >= 2 ** len(names)
    for combo in combos:
        values = dict(zip(names, combo, strict=True))
        ex.update(**values)
        _finite_artists(ex.fig)
        assert "nan" not in ex.readout.lower() and "inf" not in ex.readout.split(), values
        ex.fig.canvas.draw()
        msg, buffers = ex.widget.frame_message()         # what the browser draws there, ticks too
        _check_frame(ex.widget, msg, buffers, values)


# ------------------------------------------------------------------------------ the browser side


def _chromium_page():
    """Playwright for Debian's headless Chromium (as the e2e tests use), or skip; under
    ``RNN_REQUIRE_BROWSER=1`` (make e2e, after installing both) a missing browser fails."""
    import os
    import pathlib

    required = os.environ.get("RNN_REQUIRE_BROWSER") == "1"
    try:
        from playwright import sync_api
    except ImportError:
        if required:
            raise
        pytest.skip("playwright is not installed (make e2e installs it)")
    if not pathlib.Path("/usr/bin/chromium").exists():
        if required:
            pytest.fail("/usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing")
    return sync_api


_FAKE_MODEL_JS = r"""async ([src, spec]) => {
    // the anywidget model, as far as explorer.js uses it: get, on, send
    window.sent = [];
    window.handlers = [];
    const model = {get: () => spec, on: (ev, f) => window.handlers.push(f),
                   send: (m) => window.sent.push(m)};
    const url = URL.createObjectURL(new Blob([src], {type: 'text/javascript'}));
    const mod = (await import(url)).default;
    const el = document.createElement('div');
    document.body.appendChild(el);
    mod.render({model, el});
    window.deliver = async (msg, b64) => {
        const bytes = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
        const bufs = b64.map(s => new DataView(bytes(s).buffer));
        window.handlers.forEach(h => h(msg, bufs));
        for (let i = 0; i < 3; i++) await new Promise(r => requestAnimationFrame(r));
    };
    window.pixels = () => {
        const c = el.querySelector('canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let x = 0x811c9dc5;
        for (let i = 0; i < d.length; i += 4) x = Math.imul(x ^ (d[i] + 256 * d[i + 1]), 16777619);
        return x >>> 0;
    };
}"""


@contextlib.contextmanager
def _explorer_page(view):
    """A blank Chromium page with explorer.js running on a stand-in model of ``view``."""
    sync_api = _chromium_page()
    src = (pathlib.Path(__file__).parents[1] / "rnn_core/widgets/static/explorer.js").read_text()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--headless", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto("about:blank")
            page.evaluate(_FAKE_MODEL_JS, [src, view.spec])
            yield page
        finally:
            browser.close()


def _deliver(page, msg, buffers=()):
    """Hand explorer.js a message from the kernel, with its buffers (base64 into the page)."""
    page.evaluate("([m, b]) => window.deliver(m, b)",
                  [msg, [base64.b64encode(b).decode() for b in buffers]])


def _answer(page, view, idx=None, push=False):
    """Deliver the kernel's frame of ``idx`` (None: the current values)."""
    _deliver(page, *view.frame_message(idx, push))


def _wants_since(page, n):
    """The frame requests the page sent after its first ``n`` messages."""
    return [m for m in page.evaluate("window.sent")[n:] if m["type"] == "want"]


@pytest.mark.browser
def test_browser_module_keeps_frames_and_drops_them_when_the_code_changes():
    """explorer.js in Chromium with a stand-in model and real frames from the kernel side: a
    frame it holds is painted with no request; after a "code" message (an edited exercise) it
    asks again for every position, and a frame computed by the old code is not kept."""
    from rnn_core.widgets.highway import highway_explorer

    ex = highway_explorer(forget_bias=1.0, T=200)
    view = ex.widget

    with _explorer_page(view) as page:
        assert page.evaluate("window.sent")[0]["type"] == "hello"
        here = ex.index()
        msg, bufs = view.frame_message(push=True)
        _deliver(page, msg, bufs)
        # painted once its background has been decoded (asynchronously: slower under load)
        page.wait_for_function("document.querySelector('.rnn-explorer').dataset.waiting === '0'")
        first = page.evaluate("window.pixels()")
        want = page.evaluate("window.sent")[-1]
        assert want["type"] == "want" and not want["current"]        # prefetching
        ahead = list(here)
        ahead[0] += 1
        msg2, bufs2 = view.frame_message(ahead)                       # the prefetched frame
        _deliver(page, msg2, bufs2)
        assert page.evaluate("window.pixels()") == first              # not shown yet
        n_sent = len(page.evaluate("window.sent"))
        slider = page.locator('input[type="range"]').first
        slider.focus()
        page.keyboard.press("ArrowRight")                             # to the held frame
        page.evaluate("() => new Promise(r => requestAnimationFrame(r))")
        moved = page.evaluate("window.pixels()")
        assert moved != first
        assert "forget bias = 1.25" in page.locator(".rnn-explorer-readout").inner_text()
        assert not [m for m in page.evaluate("window.sent")[n_sent:] if m.get("current")]
        page.keyboard.press("ArrowLeft")                              # back: held too
        page.evaluate("() => new Promise(r => requestAnimationFrame(r))")
        assert page.evaluate("window.pixels()") == first
        assert not [m for m in page.evaluate("window.sent")[n_sent:] if m.get("current")]
        # an edited exercise: the browser drops every frame it holds and asks again for
        # the position it shows
        n_sent = len(page.evaluate("window.sent"))
        _deliver(page, {"type": "code", "code": 1})
        asked = _wants_since(page, n_sent)
        assert asked == [{"type": "want", "idx": here, "current": True}]
        _deliver(page, {**msg, "push": False, "code": 1}, bufs)
        pending = page.evaluate("window.sent")[-1]       # a prefetch now in flight
        assert pending["type"] == "want" and not pending["current"]
        assert pending["idx"] != ahead
        n_sent = len(page.evaluate("window.sent"))
        page.keyboard.press("ArrowRight")         # held before the edit: not any more
        page.evaluate("() => new Promise(r => requestAnimationFrame(r))")
        assert page.evaluate("window.pixels()") == first     # nothing to paint yet
        # asked at once, with the look-ahead request still out (the kernel answers the
        # student's first: lookahead.py)
        asked = _wants_since(page, n_sent)
        assert asked == [{"type": "want", "idx": ahead, "current": True}]
        # the answer to the look-ahead request comes from the old code (code 0): neither
        # painted nor kept, and nothing more is asked while the student's request is out
        n_sent = len(page.evaluate("window.sent"))
        late, late_bufs = view.frame_message(pending["idx"])
        assert late["code"] == 0
        _deliver(page, late, late_bufs)
        assert page.evaluate("window.pixels()") == first
        assert page.evaluate("window.sent")[n_sent:] == []
        # the new code's frame is painted
        _deliver(page, {**msg2, "code": 1}, bufs2)
        assert page.evaluate("window.pixels()") == moved


def _tiny_explorer(warm=None):
    """Two sliders and a dropdown over one line: frames in a millisecond (order tests)."""
    from matplotlib.figure import Figure

    from rnn_core.widgets import Explorer
    from rnn_core.widgets.controls import dropdown, int_slider

    fig = Figure(figsize=(3, 2), dpi=72)
    ax = fig.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    ax.set_ylim(-1, 30)

    def draw(a, b, c):
        line.set_ydata([b, a + {"x": 0, "y": 1, "z": 2}[c]])
        return f"a = {a}, b = {b}, c = {c}"

    controls = {"a": int_slider("a", 4, 0, 20), "b": int_slider("b", 2, 0, 6),
                "c": dropdown("c", "x", ["x", "y", "z"])}
    return Explorer("tiny", controls, fig, draw, None, [line], warm=warm)


@pytest.mark.browser
def test_the_browser_fetches_near_then_the_slider_in_use_then_the_others():
    """The order of the look-ahead: what the next key press reaches first (before any move, one
    step of every slider; after one, the next two steps of the slider moved and one back: then
    the page says "held"). Before any move: every option of the dropdown, and no slider range.
    After a move: the whole range of the slider moved, nearest first, the way it moved first;
    then one step of every other slider, every option, the other slider's range; each position
    once. A move to a position not held is asked for next, ahead of the look-ahead."""
    ex = _tiny_explorer()
    view = ex.widget

    with _explorer_page(view) as page:
        _answer(page, view, push=True)

        def drain():
            asked, near_held_after = [], None
            for _ in range(200):
                want = page.evaluate("window.sent")[-1]
                if want["type"] != "want" or (asked and want["idx"] == asked[-1]):
                    break
                asked.append(want["idx"])
                _answer(page, view, want["idx"])
                if near_held_after is None and page.evaluate(
                        "document.querySelector('.rnn-explorer').dataset.near") == "held":
                    near_held_after = len(asked)
            return asked, near_held_after

        # shown, not moved yet: one key press away and the options, no slider ranges (the
        # explorers of a notebook share the kernel; only the one in use looks further)
        shown, near_held_after = drain()
        assert shown == [[5, 2, 0], [3, 2, 0], [4, 3, 0], [4, 1, 0], [4, 2, 1], [4, 2, 2]]
        assert near_held_after == 4
        page.locator('input[type="range"]').first.focus()
        page.keyboard.press("ArrowRight")        # a = 5 (held), a moved up: now in use
        asked, near_held_after = drain()
        assert asked[:2] == [[6, 2, 0], [7, 2, 0]]
        assert near_held_after == 2           # a's next two ([4, 2, 0], one back, is held)
        end_a = next(i for i, q in enumerate(asked) if q[1:] != [2, 0])
        along_a = asked[2:end_a]                                       # a's range
        dist = [abs(q[0] - 5) for q in along_a]
        assert dist == sorted(dist) and along_a[:3] == [[8, 2, 0], [2, 2, 0], [9, 2, 0]]  # up first
        assert asked[end_a:end_a + 2] == [[5, 3, 0], [5, 1, 0]]        # one step of b
        assert asked[end_a + 2:end_a + 4] == [[5, 2, 1], [5, 2, 2]]    # the options
        along_b = asked[end_a + 4:]
        assert along_b and all(q[0] == 5 and q[2] == 0 for q in along_b)   # then b's range
        asked = [[5, 2, 0], *asked]
        held = {tuple(q) for q in asked + shown} | {(4, 2, 0)}
        assert {q[0] for q in held if q[1:] == (2, 0)} == set(range(21))   # all of a
        assert {q[1] for q in held if q[0] == 5 and q[2] == 0} == set(range(7))
        assert len(asked) == len({tuple(q) for q in asked})            # each once
        # a move to a position not held: asked for next, as the current one
        n_sent = len(page.evaluate("window.sent"))
        page.locator('input[type="range"]').nth(1).focus()
        page.keyboard.press("ArrowRight")                  # b = 3 at a = 5: held
        page.keyboard.press("ArrowRight")                  # b = 4 at a = 5: held
        page.evaluate("() => new Promise(r => requestAnimationFrame(r))")
        wants = _wants_since(page, n_sent)
        assert wants and not wants[0]["current"]           # held: a look-ahead, no request
        out = wants[-1]["idx"]                             # a look-ahead request out
        n_sent = len(page.evaluate("window.sent"))
        select = page.locator("select")
        select.select_option("1")                          # c = y at (5, 4): asked at once,
        wants = _wants_since(page, n_sent)
        assert wants == [{"type": "want", "idx": [5, 4, 1], "current": True}]   # look-ahead out
        n_sent = len(page.evaluate("window.sent"))
        _answer(page, view, out)                           # the look-ahead ends: nothing new
        assert page.evaluate("window.sent")[n_sent:] == []  # while the student's is out
        _answer(page, view, [5, 4, 1])                     # answered: the look-ahead goes on
        assert not page.evaluate("window.sent")[-1]["current"]


@pytest.mark.browser
def test_two_lookahead_requests_out_and_a_dropped_one_asked_again():
    """With a look-ahead thread in the kernel (a ``warm``), the browser keeps two look-ahead
    requests out. A move to the oldest (the one the kernel computes) waits for its frame; a move
    to the newer one asks at once (the kernel answers it first and drops the queued one); a
    "dropped" answer frees its place for the next look-ahead request."""
    ex = _tiny_explorer(warm=lambda **values: None)
    view = ex.widget
    assert view.spec["ahead"] == 2

    with _explorer_page(view) as page:
        n = len(page.evaluate("window.sent"))
        _answer(page, view, push=True)
        shown = page.evaluate("window.pixels()")
        assert _wants_since(page, n) == [{"type": "want", "idx": [5, 2, 0], "current": False},
                                  {"type": "want", "idx": [3, 2, 0], "current": False}]
        n = len(page.evaluate("window.sent"))
        _answer(page, view, [5, 2, 0])                     # one answered: one more out
        assert _wants_since(page, n) == [{"type": "want", "idx": [4, 3, 0], "current": False}]
        # out: [3, 2, 0] (oldest), [4, 3, 0]; b one up is the newer: asked at once
        n = len(page.evaluate("window.sent"))
        page.locator('input[type="range"]').nth(1).focus()
        page.keyboard.press("ArrowRight")
        assert _wants_since(page, n) == [{"type": "want", "idx": [4, 3, 0], "current": True}]
        _answer(page, view, [4, 3, 0])                     # the student's frame
        assert page.evaluate("window.pixels()") != shown
        assert _wants_since(page, n + 1) == []             # both places still taken
        _deliver(page, {"type": "dropped", "idx": [4, 3, 0], "code": 0})
        more = _wants_since(page, n + 1)                   # its place goes to the next
        assert len(more) == 1 and not more[0]["current"] and more[0]["idx"] != [3, 2, 0]
        # back to the start (held), then a one down: the oldest request out, not asked again
        page.keyboard.press("ArrowLeft")
        page.evaluate("() => new Promise(r => requestAnimationFrame(r))")
        assert page.evaluate("window.pixels()") == shown
        n = len(page.evaluate("window.sent"))
        page.locator('input[type="range"]').first.focus()
        page.keyboard.press("ArrowLeft")
        assert [w for w in _wants_since(page, n) if w["current"]] == []
        _answer(page, view, [3, 2, 0])                     # its frame answers the student
        page.evaluate("() => new Promise(r => requestAnimationFrame(r))")
        assert page.evaluate("window.pixels()") != shown
        assert "a = 3" in page.locator(".rnn-explorer-readout").inner_text()


@pytest.mark.browser
def test_a_dropped_lookahead_is_asked_again_first_when_the_student_is_back():
    """The student moves away (the kernel drops the queued look-ahead request) and back before
    the answers come: the dropped position is a near neighbour again, and is the next request,
    not one at the end of the slider ranges."""
    ex = _tiny_explorer(warm=lambda **values: None)
    view = ex.widget

    def type_a(page, text):
        field = page.locator(".rnn-explorer-number").first
        field.fill(text)
        field.press("Enter")

    with _explorer_page(view) as page:
        _answer(page, view, push=True)
        _answer(page, view, [5, 2, 0])
        _answer(page, view, [3, 2, 0])                     # out now: [4, 3, 0], [4, 1, 0]
        page.locator('input[type="range"]').first.focus()
        page.keyboard.press("ArrowRight")                  # a = 5, held: in use, moving up
        n = len(page.evaluate("window.sent"))
        _answer(page, view, [4, 3, 0])
        _answer(page, view, [4, 1, 0])
        assert [w["idx"] for w in _wants_since(page, n)] == [[6, 2, 0], [7, 2, 0]]  # a's next two
        n = len(page.evaluate("window.sent"))
        type_a(page, "1")                                  # away: not held, asked at once
        assert _wants_since(page, n) == [{"type": "want", "idx": [1, 2, 0], "current": True}]
        type_a(page, "5")                                  # and back (held), before answers
        _answer(page, view, [1, 2, 0])
        n = len(page.evaluate("window.sent"))
        _deliver(page, {"type": "dropped", "idx": [7, 2, 0], "code": 0})
        assert _wants_since(page, n) == [{"type": "want", "idx": [7, 2, 0], "current": False}]


def test_a_position_that_cannot_be_drawn_answers_with_its_error(monkeypatch):
    """In the student release the explorers run on the student's code: an exercise not written
    yet raises. The browser must get an answer (it waits for one before asking again), with the
    message to show, not silence."""
    ex = _highway()
    view = ex.widget
    sent = _sent(view, monkeypatch)
    real = ex._draw

    def draw(forget_bias, T):
        if T == 300:
            raise NotImplementedError("Exercise lstm_step_forward: write it in rnn_core/lstm.py")
        return real(forget_bias=forget_bias, T=T)

    monkeypatch.setattr(ex, "_draw", draw)
    idx = ex.index()
    bad = [idx[0], ex.controls["T"].index_of(300)]
    view._on_msg(view, {"type": "want", "idx": bad, "current": False}, [])
    assert sent[-1] == ({"type": "error", "idx": bad, "code": 0, "message":
                         "NotImplementedError: Exercise lstm_step_forward: write it in "
                         "rnn_core/lstm.py"}, None)
    assert ex.values["T"] == 200                  # a failed prefetch leaves the explorer
    view._on_msg(view, {"type": "want", "idx": idx, "current": False}, [])
    assert sent[-1][0]["type"] == "frame"         # and the next request is answered


def test_an_explorer_on_a_bare_figure_gets_an_agg_canvas():
    from matplotlib.figure import Figure

    from rnn_core.widgets import Explorer
    from rnn_core.widgets.controls import int_slider

    fig = Figure(figsize=(3, 2), dpi=72)
    (line,) = fig.subplots().plot([0, 1], [0, 1])
    ex = Explorer("tiny", {"k": int_slider("k", 1, 1, 3)}, fig,
                  lambda k: (line.set_ydata([0, k]), f"k = {k}")[1], None, [line])
    msg, buffers = ex.widget.frame_message([2])
    assert msg["readout"] == "k = 3" and ex.backgrounds.get()[1].startswith(PNG_MAGIC)
    assert ex.widget.spec["index"] == [0] and ex.values == {"k": 1}


@pytest.mark.browser
@ALL
def test_the_browser_canvas_shows_what_matplotlib_renders(make):
    """explorer.js in Chromium paints a frame over its background: the picture matches
    matplotlib's own full render of the same state, but for anti-aliasing and font hinting
    (a few pixels in a hundred), while the background alone (the data, ticks and axis labels
    missing) is far off."""
    import io

    from PIL import Image

    ex = make()
    if make is _vanilla:
        ex.update(scale=1.5, T=150)
    view = ex.widget
    msg, bufs = view.frame_message(push=True)

    def rgb(png: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)

    with _explorer_page(view) as page:
        _deliver(page, msg, bufs)
        page.wait_for_function("document.querySelector('.rnn-explorer').dataset.frame")
        url = page.evaluate("document.querySelector('canvas').toDataURL('image/png')")
    shown = rgb(base64.b64decode(url.split(",", 1)[1]))
    full = io.BytesIO()
    ex.fig.savefig(full, format="png", dpi=ex.fig.dpi)        # readout title hidden, as live
    ref = rgb(full.getvalue())
    bg = rgb(ex.backgrounds.get()[1])
    assert shown.shape == ref.shape == bg.shape
    off = np.abs(shown - ref).max(axis=2) > 64
    data = np.abs(bg - ref).max(axis=2) > 64
    # the texts (titles, tick and axis labels) are the browser's glyphs: a long label drawn a
    # pixel wider shifts every glyph after it
    assert off.mean() < 0.03, off.mean()
    # away from the texts (the browser's glyphs are anti-aliased differently), the data are
    # where matplotlib draws them: few pixels off, against many without the data
    from matplotlib.text import Text

    keep = np.ones_like(off, dtype=bool)
    renderer = ex.fig.canvas.get_renderer()
    decorations = [t for ax in ex.fig.axes for axis in (ax.xaxis, ax.yaxis)
                   for t in (*axis.get_ticklabels(), axis.label, axis.offsetText)]
    for t in (*ex.animated, *decorations):
        if isinstance(t, Text) and t.get_visible() and t.get_text():
            e = t.get_window_extent(renderer)
            h = shown.shape[0]
            rows = slice(max(int(h - e.y1) - 2, 0), int(h - e.y0) + 3)
            keep[rows, max(int(e.x0) - 2, 0):int(e.x1) + 3] = 0
    assert off[keep].mean() < 0.3 * data[keep].mean(), (off[keep].mean(), data[keep].mean())
@pytest.mark.browser
def test_focus_and_presses_inside_the_explorer_do_not_reach_the_notebook():
    """JupyterLab's notebook makes a cell active on a bubbling focusin or mousedown and re-renders
    in the frame that shows the first step: neither leaves the explorer, while the control itself
    still gets the focus, the press and the key."""
    ex = _tiny_explorer()
    with _explorer_page(ex.widget) as page:
        page.evaluate("""() => {
            window.above = [];
            for (const t of ['focusin', 'mousedown', 'keydown'])
                document.body.addEventListener(t, () => window.above.push(t));
        }""")
        slider = page.locator('input[type="range"]').first
        slider.click()
        slider.press("ArrowRight")
        assert page.evaluate("document.activeElement.type") == "range"
        # keys still bubble (JupyterLab's shortcuts skip them by data-lm-suppress-shortcuts)
        assert page.evaluate("window.above") == ["keydown"]
        page.evaluate("document.body.dispatchEvent(new FocusEvent('focusin', {bubbles: true}))")
        assert page.evaluate("window.above") == ["keydown", "focusin"]   # the listener works


@pytest.mark.browser
def test_the_e2e_pixel_hash_follows_every_way_a_canvas_changes():
    """The e2e harness hashes a canvas's pixels again only after a draw on it (its page script
    counts the context's calls and width/height resets): after each way of changing a canvas,
    the hash it keeps equals a fresh hash of the pixels, and differs from the one before. Its
    check of kept hashes against the pixels, run at every pause, counts a stale one."""
    sys.path.insert(0, str(pathlib.Path(__file__).parent / "e2e"))
    import e2e_harness

    sync_api = _chromium_page()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--headless", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.add_init_script(e2e_harness.PAGE_JS)
            page.goto("about:blank")
            seen = page.evaluate("""async () => {
                const c = document.createElement('canvas');
                c.width = 60; c.height = 40;
                c.className = 'rnn-explorer-canvas';
                const cell = document.createElement('div');
                cell.innerHTML = '<div class="rnn-explorer"></div>';
                cell.firstChild.appendChild(c);
                document.body.appendChild(cell);
                const ctx = c.getContext('2d'), e = window.__e2e, seen = [];
                const check = (what) => seen.push([what, e.hashes(cell)[0], e.pixelHash(c)]);
                check('blank');
                ctx.fillStyle = '#f00'; ctx.fillRect(0, 0, 10, 10); check('fillRect');
                ctx.beginPath(); ctx.moveTo(0, 0); ctx.lineTo(60, 40); ctx.stroke();
                check('stroke');
                ctx.fillStyle = '#000'; ctx.font = '20px sans-serif'; ctx.fillText('a', 20, 30);
                check('fillText');
                const img = ctx.createImageData(5, 5);
                img.data.fill(255);
                ctx.putImageData(img, 30, 5);
                check('putImageData');
                const bmp = await createImageBitmap(
                    new ImageData(new Uint8ClampedArray(4 * 4 * 4).fill(128), 4, 4));
                ctx.drawImage(bmp, 40, 20); check('drawImage');
                ctx.clearRect(0, 0, 5, 5); check('clearRect');
                c.width = 60; check('width reset');
                e.verify(cell);
                const clean = e.stale;
                c.__e2eHash += 1;               // a kept hash that no longer matches the pixels
                e.verify(cell);
                return {seen, clean, stale: e.stale};
            }""")
        finally:
            browser.close()
    rows = seen["seen"]
    assert [r[0] for r in rows][-1] == "width reset" and len(rows) == 8
    assert all(kept == fresh for _, kept, fresh in rows), rows
    assert all(a[1] != b[1] for a, b in zip(rows, rows[1:], strict=False)), rows
    assert seen["clean"] == 0 and seen["stale"] == 1

def test_every_test_that_opens_chromium_is_marked_browser():
    """make e2e runs this file's browser tests by their marker (-m browser), where they may not
    skip: a test that opens Chromium without the marker would skip everywhere, unnoticed."""
    import ast
    import pathlib

    tree = ast.parse(pathlib.Path(__file__).read_text())
    unmarked = []
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
            continue
        calls = {n.func.id for n in ast.walk(node)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        marked = any(ast.unparse(d) == "pytest.mark.browser" for d in node.decorator_list)
        if calls & {"_chromium_page", "_explorer_page"} and not marked:
            unmarked.append(node.name)
    assert not unmarked, f"open Chromium without @pytest.mark.browser: {unmarked}"
