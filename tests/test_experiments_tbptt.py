"""Tests for rnn_core.experiments.tbptt: cache memory, truncated gradients, stateful TBPTT."""

import copy

import numpy as np
import pytest

from rnn_core.data import lag_recall
from rnn_core.experiments.tbptt import (
    LagChunkGrid,
    bptt_cache_memory,
    cache_nbytes,
    gradient_cosine,
    lag_chunk_grid,
    recall_accuracy,
    shared_chunk_fraction,
    truncated_gradient,
)
from rnn_core.gradcheck import eval_numerical_gradient, rel_error
from rnn_core.models import LanguageModel


def _lm(cell="rnn", seed=0, V=5):
    return LanguageModel(V, 3, 4, cell=cell, rng=seed)


def _batch(seed=0, N=3, T=9, V=5):
    g = np.random.default_rng(seed)
    x = g.integers(0, V, size=(N, T))
    y = g.integers(0, V, size=(N, T))
    mask = g.random((N, T)) < 0.7
    return x, y, mask


# ------------------------------------------------------------------------------------ memory
def test_cache_nbytes_counts_each_buffer_once():
    a = np.zeros((4, 5))  # 160 bytes
    b = np.ones(3, dtype=np.int32)  # 12 bytes
    nested = {"x": (a, a[1:], [a.T, b]), "y": [b[:2], None, "text", 3]}
    assert cache_nbytes(nested) == 160 + 12
    assert cache_nbytes([]) == 0


def test_bptt_memory_is_linear_with_the_expected_slope():
    N, D, H = 3, 2, 5
    T = np.array([4, 8, 16])
    m = bptt_cache_memory(T, N=N, D=D, H=H, cell="rnn", rng=0)
    slope = np.diff(m) / np.diff(T)
    # per RNN step the cache adds the step's input x_t and its new hidden state h_t, float64
    assert np.allclose(slope, 8 * N * (D + H))
    m_lstm = bptt_cache_memory(T, N=N, D=D, H=H, cell="lstm", rng=0)
    s_lstm = np.diff(m_lstm) / np.diff(T)
    assert s_lstm[0] == s_lstm[1] and s_lstm[0] > slope[0]


def test_bptt_memory_errors():
    with pytest.raises(ValueError, match="bptt_cache_memory: lengths"):
        bptt_cache_memory([0], N=1, D=1, H=1, rng=0)
    with pytest.raises(TypeError, match="bptt_cache_memory: N must be an integer"):
        bptt_cache_memory([2], N=1.5, D=1, H=1, rng=0)


# ---------------------------------------------------------------------------------- chunks
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_truncated_gradient_with_one_chunk_is_the_full_gradient(cell):
    m = _lm(cell)
    x, y, mask = _batch()
    loss_full, g_full = m.loss(x, y, mask)
    for k in (9, 20):
        loss_k, g_k = truncated_gradient(m, x, y, k, mask)
        assert loss_k == pytest.approx(loss_full, rel=1e-12)
        for name in g_full:
            assert rel_error(g_k[name], g_full[name]) < 1e-12
    loss_3, g_3 = truncated_gradient(m, x, y, 3, mask)
    assert loss_3 == pytest.approx(loss_full, rel=1e-12)  # same forward pass
    assert rel_error(g_3["Wh0"], g_full["Wh0"]) > 1e-3  # but a different gradient


def test_truncated_gradient_matches_numeric_gradient_with_a_constant_boundary_state():
    """Numeric check: L(theta) = L_1(theta) + L_2(theta; s), s the boundary state held fixed."""
    m = _lm("rnn", seed=1)
    x, y, mask = _batch(seed=2, T=6)
    k = 3
    _, g_trunc = truncated_gradient(m, x, y, k, mask)
    _, _, s = m.loss_stateful(x[:, :k], y[:, :k], None, mask=mask[:, :k])
    s = copy.deepcopy(s)  # the boundary state at the current parameters, frozen

    def f(_):
        l1 = m.loss(x[:, :k], y[:, :k], mask[:, :k])[0]
        l2 = m.loss(x[:, k:], y[:, k:], mask[:, k:], state=s)[0]
        return l1 + l2

    for name in ("Wh0", "Wx0", "W_embed", "b0"):
        num = eval_numerical_gradient(f, m.params[name])
        assert rel_error(g_trunc[name], num) < 1e-7, name


def test_truncated_gradient_errors():
    m = _lm()
    x, y, mask = _batch()
    # the chunk loop is tbptt_pass's: its checks name it
    with pytest.raises(ValueError, match="tbptt_pass: k must be >= 1"):
        truncated_gradient(m, x, y, 0, mask)
    with pytest.raises(ValueError, match="tbptt_pass: y"):
        truncated_gradient(m, x, y[:, :-1], 2, mask)
    with pytest.raises(TypeError, match="tbptt_pass: mask must be a bool array"):
        truncated_gradient(m, x, y, 2, mask * 0.5)
    with pytest.raises(TypeError, match="truncated_gradient: model must have params"):
        truncated_gradient(object(), x, y, 2, mask)


def test_gradient_cosine():
    g = np.random.default_rng(0)
    a = {"u": g.standard_normal((2, 3)), "v": g.standard_normal(4)}
    assert gradient_cosine(a, a) == pytest.approx(1.0)
    assert gradient_cosine(a, {k: -2 * v for k, v in a.items()}) == pytest.approx(-1.0)
    b = {"u": np.zeros((2, 3)), "v": np.zeros(4)}
    b["u"][0, 0] = 1.0
    c = {"u": np.zeros((2, 3)), "v": np.ones(4)}
    assert gradient_cosine(b, c) == pytest.approx(0.0)
    assert np.isnan(gradient_cosine(a, {"u": np.zeros((2, 3)), "v": np.zeros(4)}))
    with pytest.raises(KeyError, match="gradient_cosine: a and b must have the same keys"):
        gradient_cosine(a, {"u": a["u"]})


# -------------------------------------------------------------------------------- training
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_truncated_gradient_is_the_sum_of_the_chunk_gradients_at_fixed_parameters(cell):
    x, y, mask = _batch(seed=7, T=8)
    m = _lm(cell, 8)
    before = copy.deepcopy(m.params)
    loss, g = truncated_gradient(m, x, y, 3, mask)
    for name in m.params:
        np.testing.assert_array_equal(m.params[name], before[name])  # nothing moved
    state, want, total = None, {k: 0.0 for k in m.params}, 0.0
    for s in (0, 3, 6):
        c = slice(s, s + 3)
        l_c, g_c, state = m.loss_stateful(x[:, c], y[:, c], state, mask=mask[:, c])
        total += l_c
        want = {k: want[k] + g_c[k] for k in want}
    assert loss == pytest.approx(total, rel=1e-14)
    for name in want:
        np.testing.assert_allclose(g[name], want[name], rtol=1e-13, atol=1e-15)


def test_recall_accuracy_counts_only_target_steps():
    task = lag_recall(50, 12, 3, 0)
    m = LanguageModel(task.vocab.size, 3, 4, cell="rnn", rng=0)
    m.params["W_vocab"][:] = 0.0
    m.params["b_vocab"][:] = 0.0
    m.params["b_vocab"][2] = 1.0  # always predicts symbol id 2
    expected = np.mean(task.y[task.mask] == 2)
    assert 0.0 < expected < 1.0
    assert recall_accuracy(m, task) == pytest.approx(expected)


# ------------------------------------------------------------------------------------- grid
@pytest.mark.parametrize("k", [1, 3, 6, 7])
def test_shared_chunk_fraction_counts_cues_whose_target_is_in_the_same_chunk(k):
    starts = np.arange(10 * k)  # ten full chunks of a long stream
    for lag in range(1, 2 * k + 2):
        chunk_starts = np.arange(0, 20 * k, k)
        chunk_of = np.searchsorted(chunk_starts, starts, side="right") - 1
        chunk_of_target = np.searchsorted(chunk_starts, starts + lag, side="right") - 1
        brute = np.mean(chunk_of == chunk_of_target)
        assert shared_chunk_fraction(lag, k) == pytest.approx(brute, abs=1e-15)
        assert (shared_chunk_fraction(lag, k) == 0) == (lag >= k)


def test_shared_chunk_fraction_errors():
    with pytest.raises(ValueError, match="shared_chunk_fraction: lag must be >= 1"):
        shared_chunk_fraction(0, 3)
    with pytest.raises(TypeError, match="shared_chunk_fraction: k must be an integer"):
        shared_chunk_fraction(2, 2.5)


def test_lag_chunk_grid_learns_lag_k_minus_1_but_not_lag_k():
    """The boundary of notebook 05: with k = 6, lag 5 (1 cue position in 6 connected) is learned,
    lag 6 (none connected) is not."""
    grid = lag_chunk_grid((5, 6), (6,), T=24, iterations=100, batch=32, hidden=32, lr=2e-2,
                          n_test=200, rng=0)
    assert grid.accuracy[0, 0] > 0.9
    assert grid.accuracy[1, 0] < 0.5
    assert grid.losses[1, 0, -10:].mean() > grid.losses[0, 0, -10:].mean() + 0.3


def test_lag_chunk_grid_shape_and_determinism():
    kw = dict(T=6, iterations=2, batch=4, hidden=4, embed=2, n_test=8)
    seen = []
    a = lag_chunk_grid((1, 2), (2, 3), rng=0, callback=lambda i, j, acc: seen.append((i, j)), **kw)
    b = lag_chunk_grid((1, 2), (2, 3), rng=0, **kw)
    assert isinstance(a, LagChunkGrid)
    assert a.accuracy.shape == (2, 2) and a.losses.shape == (2, 2, 2)
    assert np.all((a.accuracy >= 0) & (a.accuracy <= 1)) and a.chance == 0.25
    assert np.array_equal(a.accuracy, b.accuracy) and np.array_equal(a.losses, b.losses)
    assert seen == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_lag_chunk_grid_errors():
    with pytest.raises(ValueError, match="lag_chunk_grid: every lag must be < T=5"):
        lag_chunk_grid((5,), (2,), T=5, iterations=1, rng=0)
    with pytest.raises(TypeError, match="lag_chunk_grid: rng must be"):
        lag_chunk_grid((1,), (2,), T=5, iterations=1, rng=None)
