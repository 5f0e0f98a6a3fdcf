"""The diagrams draw what the notebooks say they draw (checked on the returned artists)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnn_core.plotting import diagrams  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_many_to_one_draws_every_input_and_one_output(ax):
    drawn = diagrams.draw_wiring(ax, "m2o", 4, range(4), [3])
    assert len(drawn["h"]) == 4 and len(drawn["x"]) == 4 and len(drawn["y"]) == 1
    assert len(drawn["recurrence"]) == 3 and not drawn["handover"] and not drawn["feedback"]
    assert _texts(ax).count("y") == 1 and ax.get_title() == "m2o"


def test_seq2seq_hands_over_once_and_feeds_back_only_in_the_decoder(ax):
    drawn = diagrams.draw_wiring(ax, "s2s", 6, range(3), range(3, 6), split=3, feedback=True)
    assert len(drawn["handover"]) == 1 and len(drawn["recurrence"]) == 4
    # the decoder reads <START> ("S"), then its previous outputs; the encoder its inputs
    assert [b.get_text() for b in drawn["x"]] == ["x", "x", "x", "S", "x", "x"]
    assert len(drawn["feedback"]) == 2  # y_3 -> step 4, y_4 -> step 5
    enc = {b.get_bbox_patch().get_facecolor() for b in drawn["h"][:3]}
    dec = {b.get_bbox_patch().get_facecolor() for b in drawn["h"][3:]}
    assert len(enc) == 1 and len(dec) == 1 and enc != dec  # the decoder has its own weights


def test_one_to_many_reuses_the_single_input(ax):
    drawn = diagrams.draw_wiring(ax, "o2m", 4, [0], range(4), reuse=True)
    assert len(drawn["x"]) == 1 and len(drawn["reuse"]) == 3 and len(drawn["y"]) == 4


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n": 0}, "n must"),
        ({"ins": [5]}, "ins must"),
        ({"outs": [-1]}, "outs must"),
        ({"split": 4}, "split must"),
    ],
)
def test_bad_arguments_name_themselves(ax, kwargs, word):
    args = {"n": 4, "ins": range(4), "outs": [3], **kwargs}
    with pytest.raises(ValueError, match=word):
        diagrams.draw_wiring(ax, "bad", args.pop("n"), args.pop("ins"), args.pop("outs"), **args)


def test_draw_wirings_has_four_titled_panels():
    fig = diagrams.draw_wirings()
    titles = [a.get_title() for a in fig.axes]
    plt.close(fig)
    assert len(titles) == 4
    assert any("Captioner" in t for t in titles) and any("seq2seq" in t for t in titles)


def test_lstm_cell_puts_the_highway_on_top_of_every_gate(ax):
    drawn = diagrams.draw_lstm_cell(ax)
    assert set(drawn["gates"]) == {"i", "f", "o", "g"}
    ys = drawn["highway"].get_ydata()
    assert ys[0] == ys[-1]  # a straight line
    gate_y = [g.get_position()[1] for g in drawn["gates"].values()]
    assert all(ys[0] > y for y in gate_y)  # the cell state runs above the gates
    # on the highway sit exactly the forget multiply and the add, nothing else
    on_top = [name for name, op in drawn["ops"].items() if op.get_position()[1] == ys[0]]
    assert sorted(on_top) == ["add", "forget"]
    labels = "".join(_texts(ax))
    for name in ("c_{t-1}", "c_t", "h_{t-1}", "x_t", "h_t", "tanh", r"\sigma"):
        assert name in labels, name
    assert drawn["ops"]["forget"].get_position()[0] < drawn["ops"]["add"].get_position()[0]


def test_lstm_cell_h_t_leaves_on_its_own_line_not_the_h_prev_one(ax):
    drawn = diagrams.draw_lstm_cell(ax)
    gate_x = [g.get_position()[0] for g in drawn["gates"].values()]
    line = drawn["wires"]["x_h"]
    lx, ly = line.get_xdata(), line.get_ydata()
    assert ly[0] == ly[-1] and max(lx) == max(gate_x)  # [x_t, h_{t-1}] ends at its last gate
    assert min(lx) < drawn["inputs"]["x"].get_position()[0] < min(gate_x)  # x_t joins before
    out = drawn["ops"]["output"].get_position()
    hx, hy = drawn["wires"]["h_t"].get_xdata(), drawn["wires"]["h_t"].get_ydata()
    assert min(hx) > out[0] and set(hy) == {out[1]}  # from o * tanh(c_t), level, to the right
    assert min(hx) > max(lx) and out[1] > ly[0]  # right of that line's end, above it
    for box in drawn["outputs"]["h"], drawn["outputs"]["h_up"]:
        assert box.get_position()[1] > ly[0]
    # the joined line is labelled, between x_t's junction and the first gate
    label = drawn["inputs"]["x_h"]
    assert label.get_text().replace(r"\ ", " ") == "$[x_t, h_{t-1}]$"
    assert drawn["inputs"]["x"].get_position()[0] < label.get_position()[0] < min(gate_x)


def test_lstm_cell_states_the_gate_order_of_the_code(ax):
    import numpy as np

    from rnn_core.lstm import lstm_step_forward, sigmoid

    drawn = diagrams.draw_lstm_cell(ax)
    order = [name.strip() for name in drawn["order"].get_text().split(":")[1].split(",")]
    assert sorted(order) == ["f", "g", "i", "o"]
    # zero weights: each gate is its bias block through its nonlinearity, so the blocks' order
    # along 4H shows in the cache's named gates
    N, D, H = 1, 2, 3
    b = np.repeat([-1.0, 0.5, 1.5, 2.0], H)
    _, _, cache = lstm_step_forward(
        np.ones((N, D)), np.ones((N, H)), np.ones((N, H)),
        np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), b,
    )  # fmt: skip
    for k, name in enumerate(order):
        squash = np.tanh if name == "g" else sigmoid
        assert np.allclose(getattr(cache, name), squash(b[k * H]))


def test_lstm_cell_wires_stay_solid_under_the_course_style(course_style):
    # rnn_core.style cycles a dash pattern with every colour; a wire that took the cycle's next
    # style would come out dashed (as h_{t-1} and h_t once did), which reads as a different kind
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])  # the cycle's solid style is used: the next line would be dashed
    drawn = diagrams.draw_lstm_cell(ax)
    plt.close(fig)
    for line in (drawn["highway"], *drawn["wires"].values()):
        assert line.get_linestyle() == "-"


def test_lstm_cell_says_where_the_weights_act(ax):
    """The gates' boxes carry no weights of their own in the picture: one label says each reads
    its block of one product, whose W stacks the code's Wx (D, 4H) over Wh (H, 4H)."""
    import numpy as np

    from rnn_core.lstm import lstm_step_forward

    drawn = diagrams.draw_lstm_cell(ax)
    text = drawn["weights"].get_text()
    assert "[x_t,\\ h_{t-1}]" in text and "(D{+}H) \\times 4H" in text
    # the product the label names is the code's pre-activation: [x, h] @ [[Wx], [Wh]] + b
    rng = np.random.default_rng(0)
    N, D, H = 2, 3, 4
    x, h, c = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    Wx, Wh, b = rng.normal(size=(D, 4 * H)), rng.normal(size=(H, 4 * H)), rng.normal(size=4 * H)
    _, _, cache = lstm_step_forward(x, h, c, Wx, Wh, b)
    a = np.concatenate([x, h], axis=1) @ np.vstack([Wx, Wh]) + b
    assert np.allclose(cache.i, 1 / (1 + np.exp(-a[:, :H])))
    assert np.allclose(cache.g, np.tanh(a[:, 3 * H:]))


@pytest.fixture
def course_style():
    """rnn_core.style installed for one test, then matplotlib's own palette and log scale back,
    so that the tests after it (e.g. the explorers' colours) see matplotlib's defaults."""
    import warnings

    import matplotlib as mpl
    from matplotlib import scale

    from rnn_core import style

    with mpl.rc_context():
        style.install()
        yield style
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # its constructor takes axis
        scale.register_scale(scale.LogScale)


def test_log_label_writes_decades_as_the_explorers_do_and_the_rest_in_short_digits():
    from rnn_core.style import log_label, power_of_ten

    cases = {1e-3: "1e-3", 1.0: "1", 100.0: "1e2", 1e-300: "1e-300", 0.002: "0.002", 0.3: "0.3",
             200.0: "200", 1024.0: "1024", 2e-5: "2e-5", 1.5e7: "1.5e7", 3e4: "3e4",
             0.0: "", -1.0: "", float("nan"): ""}
    assert {v: log_label(v) for v in cases} == cases
    assert power_of_ten(-40) == "1e-40" and power_of_ten(0.0) == "1"


@pytest.mark.parametrize("lo, hi", [(1e-8, 1e2), (0.3, 2.0), (0.02, 0.5), (3.0, 4000.0)])
def test_after_install_log_axes_label_the_default_ticks_in_plain_text(lo, hi, course_style):
    """The same ticks carry a label as under matplotlib's own log formatter (math text), each
    written by log_label; no math text is left for the renderer to parse."""
    import warnings

    from matplotlib import ticker

    style = course_style
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # registering the scale warns of nothing
        style.install()
        style.install()  # again, as a re-run set-up cell does
    fig, ax = plt.subplots()
    try:
        ax.semilogy([0, 1], [lo, hi])
        fig.canvas.draw()
        for minor in (False, True):
            locs = ax.yaxis.get_minorticklocs() if minor else ax.yaxis.get_majorticklocs()
            shown = [t.get_text() for t in ax.yaxis.get_ticklabels(minor=minor)]
            ours = ax.yaxis.get_minor_formatter() if minor else ax.yaxis.get_major_formatter()
            default = ticker.LogFormatterSciNotation()  # matplotlib's default, major and minor
            default.set_axis(ax.yaxis)
            default.set_locs(locs)
            expected = [style.log_label(x) if default(x) else "" for x in locs]
            assert [ours(x) for x in locs] == expected
            assert not any("$" in s for s in shown)
        assert any(t.get_text() for t in ax.yaxis.get_ticklabels(which="both"))
    finally:
        plt.close(fig)


def test_a_log_axis_of_another_base_keeps_its_base_after_install(course_style):
    fig, ax = plt.subplots()
    try:
        ax.loglog([1, 16], [1, 2], base=2)
        fig.canvas.draw()
        assert ax.xaxis.get_transform().base == 2
        assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()][:3] == ["0.5", "1", "2"]
    finally:
        plt.close(fig)


@pytest.mark.parametrize("lo, hi", [(0.02, 0.5), (0.3, 2.0), (1e-2, 5.0), (1e-12, 1e2), (1e-5, 1e2),
                                    (1e-300, 1e10)])
def test_after_install_minor_log_ticks_between_decades_only_on_a_short_axis(lo, hi, course_style):
    """Up to style.MINOR_DECADES decades: matplotlib's own minor ticks. Beyond: only decades
    without a major tick, at most 32, and no warning at the float range's ends."""
    import math
    import warnings

    import numpy as np
    from matplotlib import ticker

    style = course_style
    fig, ax = plt.subplots()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ax.semilogy([0, 1], [lo, hi])
            fig.canvas.draw()
        vmin, vmax = ax.get_ylim()
        minor = ax.yaxis.get_minorticklocs()
        majors = ax.yaxis.get_majorticklocs()
        major = set(np.round(np.log10(majors[majors > 0]), 9))
        if math.log10(vmax) - math.log10(vmin) <= style.MINOR_DECADES:
            default = ticker.LogLocator(10.0, None).tick_values(vmin, vmax)
            kept = [x for x in default if round(math.log10(x), 9) not in major]
            assert len(minor) == len(kept) > 0 and np.allclose(minor, kept)
        else:
            e = np.log10(minor)
            assert np.allclose(e, np.round(e)) and not set(np.round(e, 9)) & major
            assert len(minor) <= 32
    finally:
        plt.close(fig)
