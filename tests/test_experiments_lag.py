"""The marked-recall lag task and its training helper."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.experiments.lag import marked_recall, train_lag_classifier


def test_marked_recall_layout():
    x, y, task = marked_recall(50, 6, 0, num_symbols=4, extra=3)
    N, T, D = x.shape
    assert (N, T, D) == (50, 9, 6)
    np.testing.assert_array_equal(x[:, :, :5].sum(axis=2), 1.0)  # one symbol per step
    assert np.all(x[:, :, 0] == 0)  # random filler: the blank never appears
    np.testing.assert_array_equal(x[:, :, 5].sum(axis=1), 1.0)  # one marker
    assert np.all(x[:, T - 1 - 6, 5] == 1.0)
    marked = np.argmax(x[:, T - 1 - 6, :5], axis=1)
    np.testing.assert_array_equal(y, marked - 1)
    np.testing.assert_array_equal(task.x[:, T - 1 - 6], marked)
    assert y.min() >= 0 and y.max() <= 3
    a, b = marked_recall(5, 4, 1)[0], marked_recall(5, 4, 1)[0]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="marked_recall: lag"):
        marked_recall(5, 0, 1)


def test_short_lag_is_learnt_and_runs_are_deterministic():
    a = train_lag_classifier("lstm", 3, steps=120, extra=2, n_test=200, rng=0, lr=3e-2)
    b = train_lag_classifier("lstm", 3, steps=120, extra=2, n_test=200, rng=0, lr=3e-2)
    assert a.accuracy == b.accuracy
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.accuracy > 0.9  # chance is 0.25
    assert a.loss.shape == (120,)
    assert a.model.cell == "lstm"


def test_forget_bias_is_set_and_checked():
    r = train_lag_classifier("lstm", 3, steps=0, extra=2, n_test=20, forget_bias=2.5)
    np.testing.assert_array_equal(r.model.params["b0"][16:32], 2.5)
    assert np.all(r.model.params["b0"][:16] == 0)
    v = train_lag_classifier("rnn", 3, steps=0, extra=2, n_test=20)
    assert v.model.params["b0"].shape == (16,)
    with pytest.raises(TypeError, match="train_lag_classifier: rng must be an int seed"):
        train_lag_classifier("rnn", 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="train_lag_classifier: forget_bias"):
        train_lag_classifier("lstm", 3, forget_bias=float("nan"))
