"""The explorers' compute functions: finite at extremes, deterministic, cached = uncached."""

import numpy as np
import pytest

from rnn_core.analysis import explore
from rnn_core.analysis.explore import cliff_grid, cliff_runs, lstm_highway, vanilla_flow


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
    assert r.regime in ("vanishing guaranteed", "cannot grow", "explosion possible")
    assert r.k.shape == r.grad_norm.shape == r.bound.shape == (T + 1,)
    assert r.log_sv.shape == (r.gaps.size, 8) and r.eig_W.shape == (64,)
    assert _all_finite(r)
    assert np.all(r.grad_norm > 0) and np.all(r.bound > 0)
    assert np.all(r.log10_grad_norm <= r.log10_bound + 1e-9)  # Pascanu bound holds
    assert not r.grad_norm.flags.writeable


def test_vanilla_flow_scale_sets_sigma1_and_regime():
    lo, one, hi = vanilla_flow(scale=0.5), vanilla_flow(scale=1.0), vanilla_flow(scale=2.0)
    assert lo.sigma1 == pytest.approx(0.5) and hi.sigma1 == pytest.approx(2.0)
    assert lo.regime == "vanishing guaranteed" and hi.regime == "explosion possible"
    assert one.regime == "cannot grow"                   # orthogonal, scale 1: eta = 1
    assert lo.log10_grad_norm[0] < -20
    # sigmoid (gamma = 1/4) with orthogonal scale 4: eta = 1 again
    assert vanilla_flow(scale=4.0, activation="sigmoid", T=20).regime == "cannot grow"


@pytest.mark.parametrize(
    "kw",
    [{"scale": 0.7}, {"scale": 1.0, "T": 50, "input_scale": 1.0},
     {"scale": 2.5, "init": "glorot", "activation": "sigmoid", "T": 80, "seed": 2}],
)
def test_vanilla_flow_matches_direct_computation(kw):
    """Cached singular values and the streamed product give what the public functions give."""
    from rnn_core.analysis.backprop import log10_grad_norms_last
    from rnn_core.analysis.bounds import pascanu_bound_log10, pascanu_eta, pascanu_regime
    from rnn_core.analysis.jacobians import vanilla_jacobians, vanilla_trajectory
    from rnn_core.analysis.lyapunov import log_singular_values_by_gap
    from rnn_core.init import init_matrix

    r = vanilla_flow(**kw)
    T, H, act = kw.get("T", 100), 64, kw.get("activation", "tanh")
    seed, init = kw.get("seed", 0), kw.get("init", "orthogonal")
    rng = np.random.default_rng([seed, H])                 # the explorer's weights, rebuilt
    Wh = kw["scale"] * init_matrix(init, (H, H), rng)
    Wx = rng.standard_normal((explore.D_INPUT, H)) / np.sqrt(explore.D_INPUT)
    u = rng.standard_normal(H)
    x = kw.get("input_scale", 0.1) * np.random.default_rng([seed, T, 7]).standard_normal(
        (T, explore.D_INPUT))
    traj = vanilla_trajectory(x, np.zeros(H), Wx, Wh, np.zeros(H), act)
    lg = log10_grad_norms_last(traj, Wh, u / np.linalg.norm(u))
    np.testing.assert_array_equal(r.log10_grad_norm, lg)
    assert r.eta == pytest.approx(pascanu_eta(Wh, act), rel=1e-12)
    assert r.sigma1 == pytest.approx(np.linalg.norm(Wh, 2), rel=1e-12)
    assert r.regime == pascanu_regime(Wh, act)
    np.testing.assert_allclose(r.log10_bound, pascanu_bound_log10(Wh, T, act, lg[-1]),
                               rtol=1e-12, atol=1e-9)
    direct = log_singular_values_by_gap(vanilla_jacobians(traj, Wh), r.gaps, m=8,
                                        reortho_every=8)
    np.testing.assert_array_equal(r.log_sv, direct)        # the same product, bit for bit


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


def test_cliff_runs_start_together_and_clipping_changes_only_the_clipped_run():
    raw, clipped = cliff_runs(threshold=1.0, lr=0.3)
    assert np.all(np.isfinite(raw.loss)) and np.all(np.isfinite(clipped.loss))
    assert clipped.clipped.any() and np.array_equal(raw.params[0], clipped.params[0])
    raw2, clipped2 = cliff_runs(threshold=0.1, lr=0.3, mode="value")
    assert np.array_equal(raw2.params, raw.params)
    assert not np.array_equal(clipped2.params, clipped.params)
    w, b, surface = cliff_grid()
    assert surface.shape == (b.size, w.size) and cliff_grid()[2] is surface   # cached


def _doubled_backward(dh, cache):
    """rnn_backward with every gradient doubled: a student's edit. It runs with the globals
    of rnn_core.rnn, so it finds the original under a name the test puts there."""
    import rnn_core.rnn as module

    return tuple(2.0 * g for g in module._original_backward(dh, cache))


def test_caches_are_keyed_on_the_exercise_code(monkeypatch):
    """A cached result computed with one version of a Layer A function is not served after the
    student edits it (autoreload swaps ``__code__`` in place): the key holds the code, and the
    original code gets its old result back."""
    import types

    import rnn_core.rnn as rnn

    fn = rnn.rnn_backward  # the analysis steps back through it one time step at a time
    original = types.FunctionType(fn.__code__, fn.__globals__, "original", fn.__defaults__,
                                  fn.__closure__)
    monkeypatch.setattr(rnn, "_original_backward", original, raising=False)
    before = vanilla_flow(scale=1.0, T=30)
    assert vanilla_flow(scale=1.0, T=30) is before                 # cached
    monkeypatch.setattr(fn, "__code__", _doubled_backward.__code__)
    edited = vanilla_flow(scale=1.0, T=30)
    assert edited is not before
    # each step back doubles the gradient: log10 2 more per step
    np.testing.assert_allclose(edited.log10_grad_norm - before.log10_grad_norm,
                               np.log10(2.0) * np.arange(30, -1, -1), atol=1e-9)
    monkeypatch.undo()
    assert vanilla_flow(scale=1.0, T=30) is before                 # the original code's entry


@pytest.mark.parametrize("fb,T", [(1.0, 100), (20.0, 1000), (-20.0, 1000)])
def test_lstm_highway_finite(fb, T):
    r = lstm_highway(forget_bias=fb, T=T)
    assert r.k.shape == r.direct.shape == r.vanilla_grad.shape == (T + 1,)
    assert _all_finite(r)
    assert np.all(r.log10_direct[:-1] <= 1e-12)  # product of gates < 1
