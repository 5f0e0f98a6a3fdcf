"""The chunk explorer of notebook 05: its frames against a count made directly from the data.

For k = 1, 8 and 32 the figure must shade the chunks of k steps and draw a chunk boundary before
every k-th step, and draw each cue-target arrow as kept (solid) or cut (dotted). The reference
is computed here from the sequence alone, another way than the library: a pair is cut when some
multiple of k lies in (cue, target]. Warnings are errors.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnn_core.analysis.explore import chunk_cuts  # noqa: E402
from rnn_core.data import lag_recall  # noqa: E402
from rnn_core.widgets import chunk_explorer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")

STEPS = 32


def _sequence(lag: int) -> np.ndarray:
    return lag_recall(4, 64, lag, np.random.default_rng(3)).x[1]


def _pairs_by_hand(x: np.ndarray, lag: int, k: int) -> tuple[set, set]:
    """(kept, cut) cue steps of the pairs inside the first STEPS steps, from the data alone."""
    kept, cut = set(), set()
    for c in range(STEPS):
        if x[c] == 0 or c + lag >= STEPS:
            continue
        crossed = any(c < b <= c + lag for b in range(k, STEPS, k))
        (cut if crossed else kept).add(c)
    return kept, cut


def _segment_starts(line) -> set:
    """The x where each segment of a NaN-separated line starts."""
    x = np.asarray(line.get_xdata(), dtype=float)
    return {int(v) for v in x[0::3]} if x.size else set()


@pytest.mark.parametrize("lag", [8, 3])
@pytest.mark.parametrize("k", [1, 8, 32])
def test_frames_show_the_chunks_and_the_cut_arrows(k, lag):
    x = _sequence(lag)
    cosines = np.linspace(0.1, 1.0, 64)
    ex = chunk_explorer(x, lag, cosines, k=8 if k != 8 else 1)
    ex.update(k=k)
    ax = ex.fig.axes[0]
    (shade,) = ax.images
    bounds, cues, targets, kept_line, kept_head, cut_line, cut_head, _box = ax.get_lines()
    # chunks: steps 0..k-1 in chunk 0, k..2k-1 in chunk 1, ...; shaded in turn
    by_hand = np.concatenate([np.full(k, i % 2) for i in range(-(-STEPS // k))])[:STEPS]
    np.testing.assert_array_equal(np.asarray(shade.get_array())[0], by_hand)
    b = np.asarray(bounds.get_xdata(), dtype=float)
    np.testing.assert_array_equal(b[0::3], np.arange(k, STEPS, k) - 0.5)
    np.testing.assert_array_equal(b[1::3], np.arange(k, STEPS, k) - 0.5)
    # arrows: kept and cut as counted from the data
    kept, cut = _pairs_by_hand(x, lag, k)
    assert kept | cut, "the window holds cue-target pairs"
    assert _segment_starts(kept_line) == kept and _segment_starts(cut_line) == cut
    np.testing.assert_array_equal(np.asarray(kept_line.get_xdata())[1::3] + 0.3,
                                  sorted(c + lag for c in kept))
    assert len(kept_head.get_xdata()) == len(kept) and len(cut_head.get_xdata()) == len(cut)
    np.testing.assert_array_equal(cues.get_xdata(), sorted(kept | cut))
    np.testing.assert_array_equal(targets.get_xdata(), sorted(c + lag for c in kept | cut))
    if k <= lag:
        assert not kept                  # no chunk holds a cue together with its target
    if k == STEPS:
        assert not cut                   # one chunk holds the whole window
    n = len(kept) + len(cut)
    assert ex.readout.startswith(f"k = {k}: {-(-STEPS // k)} chunk")
    assert f"{len(kept)} of {n} cue-target pairs inside one chunk, {len(cut)} cut" in ex.readout
    assert f"cos(truncated, full gradient) = {cosines[k - 1]:.2f}" in ex.readout
    assert ax.get_xlim() == (-0.5, STEPS - 0.5)


def test_a_frame_for_the_browser_changes_only_the_moving_parts():
    ex = chunk_explorer(_sequence(3), 3, k=8)
    view = ex.widget
    bg8 = ex.backgrounds.get()
    msg, _ = view.frame_message([8])              # k = 9: a prefetch, the limits never move
    assert ex.backgrounds.get() == bg8 and ex.values == {"k": 8}
    assert "k = 9:" in msg["readout"] and msg["exact"]
    assert "cos" not in ex.readout       # no cosines given: none shown


def test_the_library_agrees_with_the_count_at_every_k():
    x = _sequence(5)
    for k in range(1, STEPS + 1):
        cuts = chunk_cuts(x, 5, k)
        kept, cut = _pairs_by_hand(x, 5, k)
        assert set(cuts.cues[cuts.kept].tolist()) == kept, k
        assert set(cuts.cues[~cuts.kept].tolist()) == cut, k
        assert not cuts.chunk.flags.writeable


@pytest.mark.parametrize("bad", [0, 33, -1])
def test_bad_k_raises_one_line_naming_k(bad):
    x = _sequence(8)
    for call in (lambda: chunk_explorer(x, 8, k=bad), lambda: chunk_cuts(x, 8, bad),
                 lambda: chunk_explorer(x, 8).update(k=bad)):
        with pytest.raises(ValueError) as err:
            call()
        msg = str(err.value)
        assert "k must be" in msg and str(bad) in msg and "\n" not in msg
    with pytest.raises(TypeError, match=r"chunk_explorer: k must be an integer, got float"):
        chunk_explorer(x, 8, k=2.5)


def test_bad_sequence_and_cosines_raise_one_line():
    x = _sequence(8)
    with pytest.raises(ValueError, match=r"chunk_cuts: x must have at least steps=32 entries"):
        chunk_explorer(x[:20], 8)
    with pytest.raises(TypeError, match=r"chunk_cuts: x must be an integer array"):
        chunk_explorer(x.astype(float), 8)
    with pytest.raises(ValueError, match=r"chunk_explorer: cosines contains NaN"):
        chunk_explorer(x, 8, np.array([0.5, np.nan]))
