"""Diagrams drawn by code: the four RNN wirings (notebook 00) and the LSTM cell (notebook 08).

Both use one visual language, so a student recognises the LSTM cell as one green box of a wiring
opened up: red boxes are inputs, green boxes hidden states, blue boxes outputs, black arrows the
recurrence, and the LSTM's cell state is the yellow line on top (colah's "highway").

Every drawing function takes a matplotlib ``Axes`` and returns a dict naming the artists it drew, so
a test (or a curious student) can check that the picture says what the prose says.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

INPUT = "#f4b6b6"
HIDDEN = "#b7e1b0"
DECODER = "#d9efb0"
OUTPUT = "#b6cdf4"
CELL = "#f6d365"
GATE = "#f9e79f"
HANDOVER = "tab:purple"
FEEDBACK = "tab:blue"

_BOX = dict(boxstyle="round,pad=0.3", lw=1)


def _arrow(ax, start, end, **style) -> Any:
    props = {"arrowstyle": "->", **style}
    return ax.annotate("", end, start, arrowprops=props)


def _indices(name: str, values: Iterable[int], n: int) -> list[int]:
    out = sorted(set(int(v) for v in values))
    if any(v < 0 or v >= n for v in out):
        raise ValueError(f"draw_wiring: {name} must be steps in 0..{n - 1}, got {out}")
    return out


def draw_wiring(
    ax,
    title: str,
    n: int,
    ins: Iterable[int],
    outs: Iterable[int],
    *,
    split: int | None = None,
    reuse: bool = False,
    feedback: bool = False,
) -> dict[str, list]:
    """Draw one wiring unrolled over ``n`` steps: x (red) below, h (green) middle, y (blue) above.

    Parameters
    ----------
    ax : matplotlib Axes to draw into (its axis lines are turned off).
    title : the panel title.
    n : number of time steps drawn.
    ins, outs : the steps (0-based) that read an input x / emit an output y.
    split : seq2seq only, the first decoder step; the arrow into it (the handed-over state) is
        purple and the decoder's h boxes are a lighter green (its own weights).
    reuse : dashed grey arrows re-add the first input to every later step (as ``Captioner`` does).
    feedback : a generating decoder (notebooks 01, 03, 04): every decoder step without an outside
        input gets an input box in the output colour, "S" (<START>) at the first decoder step and
        "x" after it, fed by a dotted blue arrow from the previous step's output.

    Returns
    -------
    dict with lists of the drawn artists: ``"h"``, ``"x"``, ``"y"`` (text boxes), ``"recurrence"``,
    ``"handover"``, ``"reuse"``, ``"feedback"`` (arrows).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"draw_wiring: n must be a positive int, got {n!r}")
    ins = _indices("ins", ins, n)
    outs = _indices("outs", outs, n)
    if split is not None and not 0 < split < n:
        raise ValueError(f"draw_wiring: split must be a step in 1..{n - 1}, got {split!r}")
    drawn: dict[str, list] = {
        k: [] for k in ("h", "x", "y", "recurrence", "handover", "reuse", "feedback")
    }
    first_dec = 0 if split is None else split
    for t in range(n):
        fc = DECODER if split is not None and t >= split else HIDDEN
        drawn["h"].append(ax.text(t, 1, "h", ha="center", va="center", bbox={**_BOX, "fc": fc}))
        if t in ins:
            drawn["x"].append(
                ax.text(t, 0, "x", ha="center", va="center", bbox={**_BOX, "fc": INPUT})
            )
            _arrow(ax, (t, 0.2), (t, 0.8))
        if t in outs:
            drawn["y"].append(
                ax.text(t, 2, "y", ha="center", va="center", bbox={**_BOX, "fc": OUTPUT})
            )
            _arrow(ax, (t, 1.2), (t, 1.8))
        if reuse and t > 0:
            drawn["reuse"].append(_arrow(ax, (0.15, 0.15), (t - 0.1, 0.8), ls="--", color="0.5"))
        if feedback and t >= first_dec and t not in ins:
            # a generating decoder reads <START> ("S") first, then its previous output
            fed = t > first_dec and (t - 1) in outs
            label = "x" if fed else "S"
            drawn["x"].append(
                ax.text(t, 0, label, ha="center", va="center", bbox={**_BOX, "fc": OUTPUT})
            )
            _arrow(ax, (t, 0.2), (t, 0.8))
            if fed:
                drawn["feedback"].append(
                    _arrow(ax, (t - 0.85, 1.82), (t - 0.15, 0.18), ls=":", color=FEEDBACK)
                )
        if t > 0:
            handover = split is not None and t == split
            arrow = _arrow(ax, (t - 0.8, 1), (t - 0.2, 1), color=HANDOVER if handover else "k")
            drawn["handover" if handover else "recurrence"].append(arrow)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(-0.5, 2.5)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    return drawn


def draw_wirings(fig=None):
    """The four wirings of notebook 00 side by side; returns the figure (new if ``fig`` is None)."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(13, 2.8))
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [4, 4, 4, 6]})
    draw_wiring(axes[0], "many-to-many (LanguageModel)", 4, range(4), range(4))
    draw_wiring(axes[1], "many-to-one (SequenceClassifier)", 4, range(4), [3])
    draw_wiring(axes[2], "one-to-many (Captioner)", 4, [0], range(4), reuse=True, feedback=True)
    draw_wiring(
        axes[3], "seq2seq: encoder | decoder", 6, range(3), range(3, 6), split=3, feedback=True
    )
    fig.suptitle("One recurrence h_t = f_W(h_{t-1}, x_t), four ways to wire inputs and outputs")
    fig.tight_layout()
    return fig


def _node(ax, xy, label, fc, *, shape="round", size=11) -> Any:
    return ax.text(
        *xy,
        label,
        ha="center",
        va="center",
        fontsize=size,
        bbox=dict(boxstyle=f"{shape},pad=0.3", fc=fc, lw=1),
    )


def draw_lstm_cell(ax) -> dict[str, Any]:
    """Draw one LSTM step, colah-style: the cell state runs along the top as a highway.

    ``c_{t-1}`` enters at the top left, is multiplied by the forget gate ``f`` (x), gets ``i * g``
    added (+) and leaves as ``c_t``: that top line has no weight matrix and no squashing on it.
    Below it the three gates and the candidate ``g`` read ``[x_t, h_{t-1}]``: ``h_{t-1}`` enters
    at the bottom left, ``x_t`` joins it from below, and that line ends at the last gate it feeds
    (``o``). ``i``, ``f``, ``o`` are sigmoids, ``g`` a tanh; each is drawn where it acts, a note
    under the line gives the order ``rnn_core.lstm`` stacks their blocks in (i, f, o, g along 4H),
    and a label under the cell says that each box reads its block of ``[x_t, h_{t-1}] W + b``.
    ``h_t = o * tanh(c_t)`` leaves the output multiply on its own line, at the gates' height
    (never on the ``h_{t-1}`` line): to the right, towards the next step, and up as the step's
    output. Colours follow :func:`draw_wiring`: x red, h green, the cell state yellow.

    Returns
    -------
    dict: ``"gates"`` maps "i", "f", "o", "g" to their boxes; ``"ops"`` maps "forget", "input",
    "output" (the x nodes), "add" (+) and "tanh_c" to theirs; ``"highway"`` is the cell-state line;
    ``"wires"`` maps "x_h" (the ``[x_t, h_{t-1}]`` line) and "h_t" (``h_t``'s line out of the
    output multiply, up to where it splits) to their lines; ``"order"`` is the note on the blocks'
    order in the code; ``"weights"`` is the label saying that each box reads its block of
    ``a = [x_t, h_{t-1}] W + b``; ``"inputs"`` / ``"outputs"`` map the names to their labels
    (``"inputs"["x_h"]`` labels the joined line).
    """
    import matplotlib.patches as mpatches

    top, mid, low = 3.0, 1.4, 0.0
    gx = {"f": 1.0, "i": 2.0, "g": 3.0, "o": 4.2}
    out_x, split_x = 5.3, 6.3  # the output multiply; where h_t splits (right, and up)
    frame = mpatches.FancyBboxPatch(
        (0.3, -0.5), 5.4, 4.2, boxstyle="round,pad=0.1", fc=HIDDEN, alpha=0.25, ec="0.4"
    )
    ax.add_patch(frame)
    # every line sets ls="-": the course's style cycles dashes with the colours (rnn_core.style)
    highway = ax.plot(
        [-0.6, 6.6], [top, top], ls="-", color=CELL, lw=5, solid_capstyle="round", zorder=1
    )[0]
    ops = {
        "forget": _node(ax, (gx["f"], top), r"$\times$", "white", shape="circle"),
        "add": _node(ax, (gx["g"], top), "+", "white", shape="circle"),
        "input": _node(ax, (gx["g"], 2.2), r"$\times$", "white", shape="circle"),
        "tanh_c": _node(ax, (out_x, 2.2), "tanh", "white", size=9),
        "output": _node(ax, (out_x, mid), r"$\times$", "white", shape="circle"),
    }
    gates = {
        "f": _node(ax, (gx["f"], mid), r"$\sigma$  f", GATE, shape="square"),
        "i": _node(ax, (gx["i"], mid), r"$\sigma$  i", GATE, shape="square"),
        "g": _node(ax, (gx["g"], mid), "tanh  g", GATE, shape="square"),
        "o": _node(ax, (gx["o"], mid), r"$\sigma$  o", GATE, shape="square"),
    }
    # [x_t, h_{t-1}] runs along the bottom and ends at the last gate it feeds
    x_h = ax.plot([-0.6, max(gx.values())], [low, low], ls="-", color="k", lw=1.2, zorder=1)[0]
    for x in gx.values():
        _arrow(ax, (x, low), (x, mid - 0.3))
    _arrow(ax, (gx["f"], mid + 0.3), (gx["f"], top - 0.25))  # f -> forget x
    _arrow(ax, (gx["i"], mid + 0.3), (gx["g"] - 0.25, 2.2))  # i -> input x
    _arrow(ax, (gx["g"], mid + 0.3), (gx["g"], 2.0))  # g -> input x
    _arrow(ax, (gx["g"], 2.4), (gx["g"], top - 0.25))  # i*g -> +
    _arrow(ax, (out_x, top), (out_x, 2.45))  # c_t -> tanh
    _arrow(ax, (out_x, 1.95), (out_x, mid + 0.25))  # tanh -> output x
    _arrow(ax, (gx["o"] + 0.35, mid), (out_x - 0.25, mid))  # o -> output x
    # h_t: its own line at the gates' height, well clear of the [x_t, h_{t-1}] line below
    h_t = ax.plot([out_x + 0.25, split_x], [mid, mid], ls="-", color="k", lw=1.2)[0]
    ax.plot([split_x], [mid], "ko", ms=4)  # one value, two copies
    _arrow(ax, (split_x, mid), (6.65, mid))  # to the next step
    _arrow(ax, (split_x, mid), (split_x, 3.8))  # ... and up as the output
    inputs = {
        "c_prev": ax.text(-0.75, top, r"$c_{t-1}$", ha="right", va="center", fontsize=11),
        "h_prev": _node(ax, (-0.9, low), r"$h_{t-1}$", HIDDEN),
        "x": _node(ax, (0.2, -1.0), r"$x_t$", INPUT),
        "x_h": ax.text(0.35, low - 0.12, r"$[x_t,\ h_{t-1}]$", ha="left", va="top", fontsize=10),
    }
    _arrow(ax, (0.2, -0.75), (0.2, low))
    order = ax.text(
        5.6,
        low - 0.14,
        "block order in the code: i, f, o, g",
        ha="right",
        va="top",
        fontsize=8,
        color="0.3",
    )
    # the weights: each box gets its H-column block of one product (notebook 08, section 1)
    weights = ax.text(
        3.2,
        -0.85,
        r"each box: its block of $a = [x_t,\ h_{t-1}]\, W + b$, $W$: $(D{+}H) \times 4H$",
        ha="center",
        va="top",
        fontsize=9,
        color="0.3",
    )
    outputs = {
        "c": ax.text(6.75, top, r"$c_t$", ha="left", va="center", fontsize=11),
        "h": _node(ax, (6.95, mid), r"$h_t$", HIDDEN),
        "h_up": _node(ax, (split_x, 4.05), r"$h_t$", HIDDEN),
    }
    ax.text(
        3.0,
        top + 0.55,
        "cell state: only $\\times f$ and $+\\, i g$, no weight matrix, no squashing",
        ha="center",
        va="bottom",
        fontsize=9,
        color="0.3",
    )
    ax.set_xlim(-1.6, 7.4)
    ax.set_ylim(-1.5, 4.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        r"One LSTM step: $c_t = f \odot c_{t-1} + i \odot g$,  $h_t = o \odot \tanh(c_t)$",
        fontsize=10,
    )
    return {
        "gates": gates,
        "ops": ops,
        "highway": highway,
        "wires": {"x_h": x_h, "h_t": h_t},
        "order": order,
        "weights": weights,
        "inputs": inputs,
        "outputs": outputs,
    }
