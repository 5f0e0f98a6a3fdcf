"""The explorers' fast compute against the reference loops it replaced (issue 17).

Each reference below is the plain loop, written out in the test: one Python step per time step,
one call per slider position. The library's versions batch, share prefixes or vectorise; their
arrays must equal these exactly (or to 1e-12 relative where the test says float order differs).
"""

import numpy as np
import pytest

from rnn_core.analysis import explore

_TINY = np.finfo(float).tiny


@pytest.mark.parametrize("fb,T", [(3.0, 200), (-4.0, 300), (8.0, 120)])
def test_highway_full_c_equals_one_norm_per_step(fb, T):
    """log10 ||dc_T/dc_k||: one batched SVD gives the per-step np.linalg.norm(block, 2)."""
    from rnn_core.analysis.jacobians import lstm_jacobians, lstm_trajectory

    r = explore.lstm_highway(forget_bias=fb, T=T)
    H = 32
    Wx, Wh, _, _, _ = explore._lstm_weights(H, 0)
    b = np.zeros(4 * H)
    b[H : 2 * H] = fb
    traj = lstm_trajectory(explore._inputs(T, 1.0, 0), np.zeros(H), np.zeros(H), Wx, Wh, b)
    J = lstm_jacobians(traj, Wh)
    full = np.empty(T + 1)
    P, sP = np.eye(2 * H), 0.0
    for k in range(T, -1, -1):
        full[k] = sP + np.log(max(np.linalg.norm(P[H:, H:], 2), _TINY))
        if k > 0:
            P = P @ J[k - 1]
            n = max(np.abs(P).max(), _TINY)
            P, sP = P / n, sP + np.log(n)
    np.testing.assert_array_equal(r.log10_full_c, full / np.log(10.0))


def _reference_training(lr, clip, threshold, steps=None, T=20, seed=0):
    """The training explorer's run as one loop that draws each minibatch when it needs it."""
    from rnn_core.analysis.training_trace import DIVERGED, STEPS, WH_SCALE, bit_memory_loss
    from rnn_core.clipping import clip_grad_norm, global_norm

    N, D, H = 32, 2, 16
    rng = np.random.default_rng(seed)
    Wx = rng.normal(0.0, 0.5, (D, H))
    q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    params = [Wx, WH_SCALE * q, np.zeros(H), rng.normal(0.0, 1.0 / np.sqrt(H), H), np.zeros(1)]
    losses, norms, flags, diverged_at = [], [], [], None
    for step in range(STEPS if steps is None else steps):
        bits = rng.choice(np.array([-1.0, 1.0]), size=N)
        x = rng.normal(0.0, 0.2, (N, T, D))
        x[:, 0, 0] = bits
        loss, grads = bit_memory_loss(params, x, bits)
        named = dict(zip("Wx Wh b w c".split(), grads, strict=True))
        norm = global_norm(named)
        losses.append(loss)
        norms.append(norm)
        if not np.isfinite(norm) or norm > DIVERGED:
            flags.append(False)
            diverged_at = step
            break
        if clip:
            clip_grad_norm(named, threshold, eps=0.0)
        flags.append(bool(clip and norm > threshold))
        for p, g in zip(params, grads, strict=True):
            p -= lr * g
    return np.array(losses), np.array(norms), np.array(flags), diverged_at


# (lr, clip, threshold): the default; a run without clipping that blows up; a clipped run that
# branches off the unclipped one at step 13; one never clipped (the whole unclipped run); a
# clipped run that still blows up (at step 289).
TRAINING_POSITIONS = [(0.3, True, 1.0), (0.3, False, 1.0), (0.0316227766, True, 3.0),
                      (0.0316227766, True, 20.0), (2.0, True, 20.0)]


def _same_trace(tr, ref, lr, clip, threshold):
    loss, norm, flags, diverged_at = ref
    np.testing.assert_array_equal(tr.loss, loss)
    np.testing.assert_array_equal(tr.grad_norm, norm)
    np.testing.assert_array_equal(tr.clipped, flags)
    assert tr.diverged_at == diverged_at
    assert (tr.lr, tr.clip, tr.threshold) == (lr, clip, threshold if clip else 0.0)
    np.testing.assert_array_equal(tr.steps, np.arange(loss.size))


def test_training_trace_and_its_precompute_equal_the_reference_loop():
    """Minibatches drawn once per (steps, T, seed), and clipped runs that branch off the
    unclipped run at their first clipped step: the same numbers, bit for bit."""
    from rnn_core.analysis import training_trace as tt

    refs = [_reference_training(*p) for p in TRAINING_POSITIONS]
    # what the positions cover (the step numbers come from training, so they differ from one BLAS
    # kernel to another: 41, 45 and 39 for the unclipped divergence on three kernels)
    assert refs[0][2].sum() > 10 and refs[1][3] is not None and 20 < refs[1][3] < 100
    assert 0 < np.argmax(refs[2][2]) and not refs[3][2].any()     # branch late; never clipped
    tt._cached.cache_clear()
    for p, ref in zip(TRAINING_POSITIONS, refs, strict=True):
        _same_trace(tt.training_trace(*p), ref, *p)
    tt._cached.cache_clear()
    got = list(tt.precompute_training(TRAINING_POSITIONS))
    for p, ref, tr in zip(TRAINING_POSITIONS, refs, got, strict=True):
        _same_trace(tr, ref, *p)
        assert tt.training_trace(*p) is tr                  # a later slider move finds it
    tt._cached.cache_clear()


def test_training_precompute_order_and_budget():
    from rnn_core.analysis import training_trace as tt

    lrs, thresholds = [0.1, 0.3, 1.0], [0.5, 1.0, 2.0]
    pos = tt.training_positions(lrs, thresholds, lr=0.3, clip=True, threshold=1.0)
    assert pos[:2] == [(0.3, True, 1.0), (0.3, False, 1.0)]    # the start, then its checkbox
    assert [p[0] for p in pos[2:6]] == [0.1, 0.1, 1.0, 1.0]    # nearest learning rates next
    assert len(pos) == len(set(pos)) == 3 * 3 + 3              # no clipping: one per lr
    assert sum(not c for _, c, _ in pos) == 3
    tt._cached.cache_clear()
    assert list(tt.precompute_training(pos, steps=5, budget_s=0.0)) == []
    assert len(list(tt.precompute_training(pos, steps=5))) == len(pos)
    assert all(tt._cached.cached(a, c, t if c else 0.0, 5, 20, 0) for a, c, t in pos)
    tt._cached.cache_clear()


def test_precomputed_results_are_keyed_on_the_exercise_code(monkeypatch):
    """A trace put into the cache by the precompute is not served after clip_grad_norm changes."""
    from rnn_core import clipping
    from rnn_core.analysis import training_trace as tt

    tt._cached.cache_clear()
    (tr,) = tt.precompute_training([(0.3, True, 1.0)], steps=20)
    assert tt.training_trace(0.3, True, 1.0, steps=20) is tr

    def halves(grads, max_norm, eps=1e-6, error_if_nonfinite=False):
        for g in grads.values():
            g *= 0.5
        return 0.0

    monkeypatch.setattr(clipping.clip_grad_norm, "__code__", halves.__code__)
    edited = tt.training_trace(0.3, True, 1.0, steps=20)
    assert edited is not tr and not np.array_equal(edited.loss, tr.loss)
    monkeypatch.undo()
    assert tt.training_trace(0.3, True, 1.0, steps=20) is tr
    tt._cached.cache_clear()


def test_grid_outward_orders_by_slider_steps():
    g = explore.grid_outward({"a": [1, 2, 3, 4], "b": ["x", "y"]}, {"a": 2.1, "b": "y"})
    assert g[0] == {"a": 2, "b": "y"}
    assert len(g) == 8 and len({tuple(p.items()) for p in g}) == 8
    dist = [abs(p["a"] - 2) + (p["b"] != "y") for p in g]
    assert dist == sorted(dist) and dist[-1] == 3


def test_stack_grid_is_every_position_as_computed_alone():
    """Every (layers, scale) of the grid, each what stack_gradient_maps gives from scratch."""
    from rnn_core.experiments.stacked import random_stack_gradients

    scales = [0.5, 1.0, 2.0]
    explore._maps.cache_clear()
    grid = explore.stack_gradient_maps_grid([1, 2], scales, T=12, start=(2, 1.0))
    assert list(grid)[0] == (2, 1.0) and set(grid) == {(L, s) for L in (1, 2) for s in scales}
    for (L, s), m in grid.items():
        for cell in ("rnn", "lstm"):
            norms = random_stack_gradients(cell, L, 12, 0, weight_scale=s).norms
            with np.errstate(divide="ignore"):
                np.testing.assert_array_equal(getattr(m, cell),
                                              np.maximum(np.log10(norms), -300.0))
        assert explore.stack_gradient_maps(L, s, 12) is m            # cached for the explorer
    assert explore.stack_gradient_maps_grid([1, 2], scales, T=13, budget_s=0.0) == {}
    explore._maps.cache_clear()


def test_precompute_fills_the_caches_the_explorers_read():
    explore._lstm_highway.cache_clear()
    pos = explore.grid_outward({"forget_bias": [0.0, 1.0], "T": [20, 30]},
                               {"forget_bias": 1.0, "T": 20})
    assert explore.precompute("highway", pos) == 4
    assert explore._lstm_highway.cache_info().currsize == 4
    misses = explore._lstm_highway.cache_info().misses
    explore.lstm_highway(forget_bias=0.0, T=30)
    assert explore._lstm_highway.cache_info().misses == misses          # a hit
    assert explore.precompute("highway", [{"forget_bias": 2.0, "T": 20}], budget_s=0.0) == 0
    n = explore.precompute("training", [{"lr": 0.3, "clip": False, "threshold": 1.0,
                                         "steps": 3}])
    assert n == 1
    with pytest.raises(ValueError, match="precompute: name must be one of"):
        explore.precompute("vanila", [])
    with pytest.raises(ValueError, match="precompute: training positions must share"):
        explore.precompute("training", [{"lr": 0.1, "steps": 3}, {"lr": 0.1, "steps": 4}])
    explore._lstm_highway.cache_clear()


@pytest.mark.parametrize("threshold,lr,mode", [(1.0, 0.3, "norm"), (0.05, 5.0, "value"),
                                               (8.0, 0.08, "norm")])
def test_cliff_runs_equal_two_separate_descents(threshold, lr, mode):
    """The unclipped run is cached apart (threshold and mode do not change it): both runs are
    still what gradient_descent gives for the setting."""
    from rnn_core.analysis.cliff import gradient_descent

    explore._cliff_runs.cache_clear()
    raw, clipped = explore.cliff_runs(threshold, lr, mode=mode)
    ref_raw = gradient_descent(explore.CLIFF_START, lr, 60, halflife=30.0)
    ref_clip = gradient_descent(explore.CLIFF_START, lr, 60, threshold=threshold, mode=mode,
                                halflife=30.0)
    for got, ref in ((raw, ref_raw), (clipped, ref_clip)):
        for k, v in vars(ref).items():
            np.testing.assert_array_equal(getattr(got, k), v, err_msg=k)
    other = "value" if mode == "norm" else "norm"
    raw2, clipped2 = explore.cliff_runs(threshold * 1.5, lr, mode=other)
    assert raw2 is raw and not raw.params.flags.writeable


@pytest.mark.parametrize("kw", [{"scale": 1.0, "T": 200}, {"scale": 3.16, "T": 400,
                                                           "input_scale": 3.0},
                                {"scale": 0.01, "T": 300}])
def test_vanilla_grad_norms_equal_a_loop_of_step_backwards(kw):
    """log10 ||dL/dh_k||: one rnn_step_backward per step on a unit vector, norms by
    np.linalg.norm, logs summed: the explorer's walk gives these numbers bit for bit."""
    from rnn_core.rnn import RNNStepCache, rnn_step_backward

    r = explore.vanilla_flow(**kw)
    H, T = 64, kw["T"]
    W0, Wx, u = explore._weights("orthogonal", H, 0)
    Wh = kw["scale"] * W0
    x = explore._inputs(T, kw.get("input_scale", 0.1), 0)
    traj_h = explore.vanilla_trajectory(x, np.zeros(H), Wx, Wh, np.zeros(H)).h
    out = np.empty(T + 1)
    n = max(np.linalg.norm(u[None], axis=-1)[0], _TINY)
    g, s = u[None] / n, np.log(n)
    out[T] = s
    for t in range(T, 0, -1):
        cache = RNNStepCache(x=x[t - 1][None], prev_h=traj_h[t - 1][None], Wx=Wx, Wh=Wh,
                             next_h=traj_h[t][None])
        d = rnn_step_backward(g, cache)[1]
        n = max(np.linalg.norm(d, axis=-1)[0], _TINY)
        g, s = d / n, s + np.log(n)
        out[t - 1] = s
    np.testing.assert_array_equal(r.log10_grad_norm, out / np.log(10.0))


def test_notebook_clear_caches_empties_the_code_keyed_caches():
    """rnn_core.notebook.clear_caches (run when a source file changes) finds these caches."""
    from rnn_core.notebook import clear_caches

    explore.stack_gradient_maps(1, 1.0, T=5)
    assert explore._maps.cache_info().currsize >= 1
    clear_caches()
    assert explore._maps.cache_info().currsize == 0


def test_highway_vanilla_part_is_shared_between_forget_biases():
    """The vanilla RNN's curve does not depend on the forget bias: computed once per T, and
    equal to the walk on that RNN computed here."""
    from rnn_core.analysis.backprop import log10_grad_norms_last

    explore._lstm_highway.cache_clear()
    explore._highway_vanilla.cache_clear()
    a = explore.lstm_highway(forget_bias=1.0, T=150)
    b = explore.lstm_highway(forget_bias=5.0, T=150)
    assert explore._highway_vanilla.cache_info().misses == 1
    np.testing.assert_array_equal(b.log10_vanilla_grad, a.log10_vanilla_grad)
    assert not np.array_equal(a.log10_lstm_grad, b.log10_lstm_grad)
    _, _, vWx, vWh, u = explore._lstm_weights(32, 0)
    traj = explore.vanilla_trajectory(explore._inputs(150, 1.0, 0), np.zeros(32), vWx, vWh,
                                      np.zeros(32))
    np.testing.assert_array_equal(a.log10_vanilla_grad, log10_grad_norms_last(traj, vWh, u))
