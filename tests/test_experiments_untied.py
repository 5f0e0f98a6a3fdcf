"""The shared-vs-untied experiment: data, the untied model (gradients, limits), the comparison."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.experiments.untied import (
    UntiedRNNClassifier,
    accuracy_by_length,
    compare_shared_untied,
    param_counts,
    sum_sign_task,
)
from rnn_core.gradcheck import eval_numerical_gradient, rel_error
from rnn_core.models import SequenceClassifier


def test_sum_sign_task_labels_lengths_and_padding():
    d = sum_sign_task(300, 0, min_len=3, max_len=7, pad_to=9)
    assert d.x.shape == (300, 9, 1) and d.mask.shape == (300, 9) and d.y.shape == (300,)
    assert d.lengths.min() >= 3 and d.lengths.max() <= 7
    assert set(np.unique(d.lengths)) == {3, 4, 5, 6, 7}
    np.testing.assert_array_equal(d.mask.sum(axis=1), d.lengths)
    assert np.all(d.x[~d.mask] == 0.0)
    assert np.all(np.abs(d.x) <= 1.0)
    np.testing.assert_array_equal(d.y, (d.x[:, :, 0].sum(axis=1) > 0).astype(int))
    assert 0.4 < d.y.mean() < 0.6


def test_sum_sign_task_is_deterministic_and_checks_arguments():
    a, b = sum_sign_task(20, 5), sum_sign_task(20, 5)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, sum_sign_task(20, 6).x)
    with pytest.raises(ValueError, match="sum_sign_task: max_len"):
        sum_sign_task(5, 0, min_len=4, max_len=3)
    with pytest.raises(ValueError, match="sum_sign_task: pad_to"):
        sum_sign_task(5, 0, max_len=4, pad_to=3)


@pytest.mark.parametrize("masked", [False, True])
def test_untied_gradients_match_numeric(masked):
    rng = np.random.default_rng(1)
    model = UntiedRNNClassifier(2, 4, 3, max_len=5, rng=2)
    for p in model.params.values():  # nonzero biases so every entry matters
        p += 0.1 * rng.standard_normal(p.shape)
    x = rng.standard_normal((3, 4, 2))
    y = np.array([0, 2, 1])
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], bool) if masked else None
    _, grads = model.loss(x, y, mask)
    assert set(grads) == set(model.params)
    for name, p in model.params.items():
        num = eval_numerical_gradient(lambda _p: model.loss(x, y, mask)[0], p)
        assert rel_error(grads[name], num) < 1e-7, name
    # step 5 has no input (T = 4): its weights get exactly zero gradient
    assert np.all(grads["Wh"][4] == 0) and np.any(grads["Wh"][3] != 0)
    if masked:  # sequence 3 stops after step 1: steps 2.. get nothing from it
        _, g_one = model.loss(x[2:], y[2:], mask[2:])
        assert np.all(g_one["Wx"][1:] == 0) and np.any(g_one["Wx"][0] != 0)


def test_untied_masked_equals_unpadded():
    rng = np.random.default_rng(3)
    model = UntiedRNNClassifier(1, 5, 2, max_len=6, rng=0)
    x = rng.standard_normal((1, 6, 1))
    mask = np.array([[1, 1, 1, 0, 0, 0]], bool)
    loss_pad, g_pad = model.loss(x, np.array([1]), mask)
    loss_cut, g_cut = model.loss(x[:, :3], np.array([1]))
    assert loss_pad == pytest.approx(loss_cut, rel=1e-12)
    np.testing.assert_allclose(g_pad["Wh"], g_cut["Wh"], rtol=1e-12, atol=1e-15)


def test_untied_cannot_run_past_max_len_and_checks_arguments():
    model = UntiedRNNClassifier(1, 3, 2, max_len=4, rng=0)
    x = np.zeros((2, 5, 1))
    with pytest.raises(ValueError, match="UntiedRNNClassifier.predict: x has T=5 .* max_len=4"):
        model.predict(x)
    with pytest.raises(ValueError, match="UntiedRNNClassifier.loss: x has T=5"):
        model.loss(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="y must hold class labels"):
        model.loss(x[:, :4], np.array([0, 2]))
    with pytest.raises(TypeError, match="mask must be a bool"):
        model.loss(x[:, :4], np.array([0, 1]), np.full((2, 4), 2))
    assert model.predict(x[:, :4]).shape == (2,)


def test_param_counts_match_the_models():
    shared_n, untied_n = param_counts(3, 6, 2, T=7)
    shared = SequenceClassifier(3, 6, 2, cell="rnn", rng=0)
    untied = UntiedRNNClassifier(3, 6, 2, max_len=7, rng=0)
    assert shared_n == sum(p.size for p in shared.params.values())
    assert untied_n == untied.num_params
    # the untied count grows linearly with T, the shared one does not depend on it
    cell = 3 * 6 + 6 * 6 + 6
    assert param_counts(3, 6, 2, T=14)[1] - untied_n == 7 * cell
    assert param_counts(3, 6, 2, T=14)[0] == shared_n


def test_accuracy_by_length_marks_lengths_the_untied_model_cannot_run():
    untied = UntiedRNNClassifier(1, 3, 2, max_len=3, rng=0)
    acc = accuracy_by_length(untied, np.arange(1, 6), 20, rng=0)
    assert np.all(np.isfinite(acc[:3])) and np.all(np.isnan(acc[3:]))
    assert np.all((acc[:3] >= 0) & (acc[:3] <= 1))


def test_small_comparison_shared_beats_untied():
    r = compare_shared_untied(
        train_max_len=8, test_max_len=12, n_train=100, n_test_per_length=100,
        hidden_dim=4, steps=120, lr=2e-2, rng=0,
    )
    assert r.shared_params < r.untied_params
    assert r.untied_params == param_counts(1, 4, 2, T=8)[1]
    assert np.all(np.isnan(r.untied_acc[8:])) and np.all(np.isfinite(r.shared_acc))
    assert r.shared_loss[-1] < 0.5 * r.shared_loss[0]  # it learnt something
    assert r.mean_acc("shared") > 0.85
    assert r.mean_acc("shared") > r.mean_acc("untied") + 0.03
    assert r.mean_acc("shared", longer=True) > 0.75
    again = compare_shared_untied(
        train_max_len=8, test_max_len=12, n_train=100, n_test_per_length=100,
        hidden_dim=4, steps=120, lr=2e-2, rng=0,
    )
    np.testing.assert_array_equal(r.shared_acc, again.shared_acc)
