"""Stacked RNNs: the per-layer, per-step gradient norms and the depth comparison."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.analysis.backprop import log10_grad_norms_last
from rnn_core.analysis.jacobians import vanilla_trajectory
from rnn_core.experiments.stacked import (
    compare_depths,
    layer_time_grad_norms,
    random_stack_gradients,
    stack_gradient_maps,
)
from rnn_core.gradcheck import eval_numerical_gradient_array, rel_error
from rnn_core.models import RecurrentStack
from rnn_core.widgets import stack_gradient_explorer


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_gradients_equal_the_stacks_backward(cell):
    stack = RecurrentStack(cell, 3, 4, num_layers=3)
    params = stack.init_params(0)
    r = np.random.default_rng(1)
    x, dh = r.standard_normal((2, 5, 3)), r.standard_normal((2, 5, 4))
    res = layer_time_grad_norms(stack, params, x, dh)
    h, cache = stack.forward(params, x)
    ref = stack.backward(dh, cache)
    assert rel_error(res.h_top, h) < 1e-12
    assert rel_error(res.dx, ref.dx) < 1e-10
    assert set(res.grads) == set(stack.param_names())
    for k in stack.param_names():
        assert rel_error(res.grads[k], ref.grads[k]) < 1e-10, k
    assert res.norms.shape == res.from_above.shape == (3, 5)
    np.testing.assert_allclose(res.from_above[-1], np.linalg.norm(dh, axis=(0, 2)))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_norms_are_the_gradient_of_each_hidden_state(cell):
    # dL/dh^(l)_t is the gradient w.r.t. a perturbation added to h^(l)_t after the step: check
    # it numerically by running layer l's input to layer l+1 and its recurrence from h^(l)_t.
    stack = RecurrentStack(cell, 2, 3, num_layers=2)
    params = stack.init_params(3)
    r = np.random.default_rng(4)
    x, dh = r.standard_normal((1, 4, 2)), r.standard_normal((1, 4, 3))
    res = layer_time_grad_norms(stack, params, x, dh)
    # bottom layer, step t = 1: perturbing h^(0)_1 changes the top layer's outputs at t >= 1;
    # write the stack as a function of the bottom layer's states by rerunning it with a hook
    bottom = RecurrentStack(cell, 2, 3, num_layers=1)
    top = RecurrentStack(cell, 3, 3, num_layers=1)
    top_params = {"Wx0": params["Wx1"], "Wh0": params["Wh1"], "b0": params["b1"]}
    h0_seq, _ = bottom.forward(params, x)
    t = 1

    def out(v):
        # v replaces h^(0)_t: both as the top layer's input at t and in the bottom recurrence
        seq = h0_seq.copy()
        seq[:, t] = v
        if t + 1 < x.shape[1]:
            state = ((v, None),) if cell == "rnn" else None
            if cell == "lstm":  # the cell state c^(0)_t is not perturbed
                _, cache_t = bottom.forward(params, x[:, : t + 1])
                state = ((v, cache_t.final_state[0].c),)
            rest, _ = bottom.forward(params, x[:, t + 1 :], state)
            seq[:, t + 1 :] = rest
        return top.forward(top_params, seq)[0]

    v0 = h0_seq[:, t].copy()
    num = eval_numerical_gradient_array(out, v0, dh)
    assert abs(np.linalg.norm(num) - res.norms[0, t]) < 1e-7 * max(1.0, res.norms[0, t])


def test_one_vanilla_layer_matches_the_analysis_backward_pass():
    stack = RecurrentStack("rnn", 3, 5, num_layers=1)
    params = stack.init_params(2)
    x = np.random.default_rng(0).standard_normal((1, 12, 3))
    u = np.random.default_rng(1).standard_normal(5)
    dh = np.zeros((1, 12, 5))
    dh[0, -1] = u
    res = layer_time_grad_norms(stack, params, x, dh)
    traj = vanilla_trajectory(x[0], np.zeros(5), params["Wx0"], params["Wh0"], params["b0"])
    ref = 10 ** log10_grad_norms_last(traj, params["Wh0"], u)  # k = 0..T
    np.testing.assert_allclose(res.norms[0], ref[1:], rtol=1e-10)


def test_default_upstream_and_checks():
    stack = RecurrentStack("lstm", 2, 3, num_layers=2)
    params = stack.init_params(0)
    x = np.ones((2, 3, 2))
    res = layer_time_grad_norms(stack, params, x)
    assert res.from_above[-1, -1] == pytest.approx(np.sqrt(6))
    assert np.all(res.from_above[-1, :-1] == 0)
    with pytest.raises(ValueError, match="layer_time_grad_norms: x"):
        layer_time_grad_norms(stack, params, np.ones((2, 3, 5)))
    with pytest.raises(KeyError, match="params has no entry 'Wx1'"):
        layer_time_grad_norms(stack, {k: v for k, v in params.items() if k != "Wx1"}, x)
    with pytest.raises(TypeError, match="layer_time_grad_norms: stack"):
        layer_time_grad_norms("lstm", params, x)


def test_vanilla_gradient_fades_in_time_and_depth_lstm_keeps_more():
    van = random_stack_gradients("rnn", 3, 60, 0)
    lstm = random_stack_gradients("lstm", 3, 60, 0, forget_bias=3.0)
    assert np.all(np.isfinite(van.norms)) and np.all(van.norms > 0)
    # vanilla: the gradient at the first step of the bottom layer is orders below the top's last
    assert van.norms[0, 0] < 1e-3 * van.norms[-1, -1]
    # the LSTM with an open forget gate keeps far more of it
    ratio_lstm = lstm.norms[0, 0] / lstm.norms[-1, -1]
    ratio_van = van.norms[0, 0] / van.norms[-1, -1]
    assert ratio_lstm > 100 * ratio_van
    big = random_stack_gradients("rnn", 2, 30, 0, weight_scale=3.0)
    assert big.norms[0, 0] > van.norms[0, 0]
    with pytest.raises(ValueError, match="random_stack_gradients: weight_scale"):
        random_stack_gradients("rnn", 2, 5, 0, weight_scale=0.0)


def test_compare_depths_small_and_deterministic():
    r = np.random.default_rng(0)
    ids = (np.arange(3000) % 7 + r.integers(0, 2, 3000)) % 8  # a learnable, noisy cycle
    a = compare_depths(ids[:2500], ids[2500:], 8, depths=(1, 2), hidden_dim=8, embed_dim=4,
                       seq_len=10, batch_size=8, steps=30, lr=2e-2, rng=0)
    b = compare_depths(ids[:2500], ids[2500:], 8, depths=(1, 2), hidden_dim=8, embed_dim=4,
                       seq_len=10, batch_size=8, steps=30, lr=2e-2, rng=0)
    assert [x.num_layers for x in a] == [1, 2]
    assert a[1].num_params > a[0].num_params
    for x, y in zip(a, b, strict=True):
        assert x.val_loss == y.val_loss
        assert x.train_loss.shape == (30,)
        assert x.val_loss < np.log(8)  # learnt something beyond the uniform guess
    with pytest.raises(TypeError, match="compare_depths: rng must be an int seed"):
        compare_depths(ids[:2500], ids[2500:], 8, rng=np.random.default_rng(0))


def test_stack_gradient_maps_cached_and_checked():
    a = stack_gradient_maps(2, 1.0, 20, 0)
    assert a is stack_gradient_maps(2, 1.0, 20, 0)
    assert a.rnn.shape == a.lstm.shape == (2, 20)
    assert not a.rnn.flags.writeable
    ref = random_stack_gradients("rnn", 2, 20, 0)
    np.testing.assert_allclose(a.rnn, np.log10(ref.norms))
    with pytest.raises(ValueError, match="stack_gradient_maps: weight_scale"):
        stack_gradient_maps(2, -1.0, 20, 0)
    tiny = stack_gradient_maps(2, 0.25, 400, 0)  # extreme: finite, floored, no warnings
    assert np.all(np.isfinite(tiny.rnn)) and tiny.rnn.min() >= -300


def test_stack_gradient_explorer_follows_the_sliders():
    pytest.importorskip("ipywidgets")
    ex = stack_gradient_explorer(num_layers=2, weight_scale=1.0, T=30)
    ax_r, ax_l = ex.fig.axes[:2]
    im_r, im_l = ax_r.get_images()[0], ax_l.get_images()[0]
    np.testing.assert_allclose(im_r.get_array(), stack_gradient_maps(2, 1.0, 30, 0).rnn)
    ex.update(num_layers=4, weight_scale=2.0)
    m = stack_gradient_maps(4, ex.values["weight_scale"], 30, 0)
    np.testing.assert_allclose(im_r.get_array(), m.rnn)
    np.testing.assert_allclose(im_l.get_array(), m.lstm)
    assert ax_r.get_ylim() == (0.5, 4.5)
    assert "4 layers" in ex.readout
    ex.fig.canvas.draw()


def test_record_needs_the_per_step_forward():
    stack = RecurrentStack("rnn", 2, 3, num_layers=2)
    params = stack.init_params(0)
    x = np.random.default_rng(0).standard_normal((2, 4, 2))
    _, fast = stack.forward(params, x)
    with pytest.raises(ValueError, match="record=True needs the cache of forward"):
        stack.backward(np.ones((2, 4, 3)), fast, record=True)
    _, steps = stack.forward(params, x, per_step=True)
    g = stack.backward(np.ones((2, 4, 3)), steps, record=True)
    assert g.dh_layers.shape == g.dh_above.shape == (2, 2, 4, 3)
    np.testing.assert_array_equal(g.dh_above[1], np.ones((2, 4, 3)))  # the top layer's upstream
    assert stack.backward(np.ones((2, 4, 3)), steps).dh_layers is None
