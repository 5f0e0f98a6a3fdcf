"""rnn_core.plotting.flow draws what notebooks 06 and 07 computed, labelled as they say."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from rnn_core.analysis.cliff import gradient_descent  # noqa: E402
from rnn_core.plotting.flow import plot_cliff_runs, plot_long_products  # noqa: E402


def _run(scale: float, H: int = 3):
    gaps = np.array([1, 2, 4, 8])
    stable = np.stack([gaps * np.log10(scale), gaps * np.log10(scale) - gaps], axis=1)
    naive = stable.copy()
    naive[-1] = np.nan                     # the naive product has died at the last gap
    return gaps, stable, naive, np.zeros((8, H, H))


def test_long_products_draws_both_panels_with_the_data():
    import matplotlib.pyplot as plt

    fig = plot_long_products({0.9: _run(0.9), 4.0: _run(4.0)})
    ax1, ax2 = fig.axes
    assert "dh_t/dh_0" in ax1.get_ylabel() and ax2.get_ylabel() == "log10 sigma_3 / sigma_1"
    stable_line = ax1.get_lines()[0]
    assert np.allclose(stable_line.get_ydata(), _run(0.9)[1][:, 0])
    ratio = ax2.get_lines()[0].get_ydata()
    assert np.allclose(ratio, -np.array([1, 2, 4, 8]))
    plt.close(fig)


def test_long_products_rejects_wrong_shapes():
    gaps, stable, naive, J = _run(0.9)
    with pytest.raises(ValueError, match="shape"):
        plot_long_products({0.9: (gaps, stable[:, :1], naive, J)})


def test_cliff_runs_marks_the_clip_events():
    import matplotlib.pyplot as plt

    raw = gradient_descent((4.5, -2.0), 0.3, 60, halflife=30)
    clipped = gradient_descent((4.5, -2.0), 0.3, 60, threshold=1.0, halflife=30)
    fig = plot_cliff_runs(raw, clipped, (4.5, -2.0), 1.0)
    maps = [ax for ax in fig.axes if ax.get_xlabel() == "recurrent weight w"]
    assert len(maps) == 2
    events = [ln for ln in maps[0].get_lines() if ln.get_label() == "clip event"][0]
    assert len(events.get_xdata()) == int(clipped.clipped.sum()) >= 1
    plt.close(fig)
