"""The explorers' compute functions: finite at extremes, deterministic, cached = uncached."""

import numpy as np
import pytest

from rnn_core.analysis import explore
from rnn_core.analysis.explore import clipping_flow, lstm_highway, vanilla_flow


def _arrays(r):
    return {k: v for k, v in vars(r).items() if isinstance(v, np.ndarray)}


def _all_finite(r):
    return all(np.all(np.isfinite(v)) for v in _arrays(r).values())


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"scale": 3.0, "T": 1000},
        {"scale": 0.01, "T": 1000},
        {"init": "identity", "activation": "linear", "scale": 1.5, "T": 1000},
        {"init": "gaussian0.01", "activation": "sigmoid", "input_scale": 0.0},
        {"init": "glorot", "input_scale": 10.0, "scale": 2.0},
    ],
)
def test_vanilla_flow_finite_at_extremes(kw):
    r = vanilla_flow(**kw)
    T = kw.get("T", 100)
    assert r.k.shape == r.grad_norm.shape == r.bound.shape == (T + 1,)
    assert r.log_sv.shape == (r.gaps.size, 8) and r.eig_W.shape == (64,)
    assert _all_finite(r)
    assert np.all(r.grad_norm > 0) and np.all(r.bound > 0)
    assert np.all(r.log10_grad_norm <= r.log10_bound + 1e-9)  # Pascanu bound holds
    assert not r.grad_norm.flags.writeable


def test_vanilla_flow_scale_sets_lambda1_and_regime():
    lo, hi = vanilla_flow(scale=0.5), vanilla_flow(scale=2.0)
    assert lo.lambda1 == pytest.approx(0.5) and hi.lambda1 == pytest.approx(2.0)
    assert lo.regime == "vanishing guaranteed" and hi.regime == "explosion possible"
    assert lo.log10_grad_norm[0] < -20


def test_explore_deterministic_and_cached_equals_uncached():
    a = vanilla_flow(scale=1.2, T=60, seed=3)
    b = vanilla_flow(scale=1.2, T=60, seed=3)
    assert a is b  # cache hit
    explore._vanilla_flow.cache_clear()
    explore._weights.cache_clear()
    explore._inputs.cache_clear()
    c = vanilla_flow(scale=1.2, T=60, seed=3)
    for k, v in _arrays(a).items():
        assert np.array_equal(v, getattr(c, k)), k
    assert not np.array_equal(vanilla_flow(scale=1.2, T=60, seed=4).grad_norm, a.grad_norm)


def test_clipping_flow():
    r = clipping_flow()
    assert r.surface.shape == (r.b_grid.size, r.w_grid.size)
    assert _all_finite(r) and r.clip_events.any()
    assert r.loss_clipped[-1] < r.loss_raw[-1]
    r2 = clipping_flow(threshold=0.1, mode="value")
    assert r2.surface is r.surface  # the surface is cached
    assert np.array_equal(r2.path_raw, r.path_raw)
    assert not np.array_equal(r2.path_clipped, r.path_clipped)


@pytest.mark.parametrize("fb,T", [(1.0, 100), (20.0, 1000), (-20.0, 1000)])
def test_lstm_highway_finite(fb, T):
    r = lstm_highway(forget_bias=fb, T=T)
    assert r.k.shape == r.direct.shape == r.vanilla_grad.shape == (T + 1,)
    assert _all_finite(r)
    assert np.all(r.log10_direct[:-1] <= 1e-12)  # product of gates < 1
