"""Embedding, affine layers and softmax losses: values, gradients, masks, huge logits, errors."""

import math

import numpy as np
import pytest

from rnn_core import (
    affine_backward,
    affine_forward,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
    softmax_loss,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)


def test_embedding_forward_and_repeated_tokens_backward():
    W = np.arange(12.0).reshape(4, 3)
    x = np.array([[0, 3, 3], [1, 0, 3]])
    out, cache = word_embedding_forward(x, W)
    np.testing.assert_array_equal(out[0, 1], [9.0, 10.0, 11.0])
    dout = np.ones((2, 3, 3))
    dW = word_embedding_backward(dout, cache)
    # token 3 appears three times, 0 twice, 1 once, 2 never
    np.testing.assert_array_equal(dW[:, 0], [2.0, 1.0, 0.0, 3.0])


def test_embedding_backward_numeric():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 4))
    x = rng.integers(0, 6, size=(3, 5))
    out, cache = word_embedding_forward(x, W)
    dout = rng.standard_normal(out.shape)
    num = eval_numerical_gradient_array(lambda _: word_embedding_forward(x, W)[0], W, dout)
    assert rel_error(word_embedding_backward(dout, cache), num) < 1e-7


def test_embedding_errors():
    W = np.zeros((4, 3))
    with pytest.raises(TypeError, match=r"word_embedding_forward: x must be an integer array"):
        word_embedding_forward(np.zeros((2, 3)), W)
    with pytest.raises(ValueError, match=r"word_embedding_forward: x must hold token ids"):
        word_embedding_forward(np.array([[0, 4]]), W)
    with pytest.raises(ValueError, match=r"word_embedding_forward: W must have 2 dimensions"):
        word_embedding_forward(np.array([[0, 1]]), np.zeros(4))


def test_temporal_affine_values_and_gradients():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((4, 5))
    b = rng.standard_normal(5)
    out, cache = temporal_affine_forward(x, w, b)
    manual = sum(x[1, 2, d] * w[d, 3] for d in range(4)) + b[3]
    assert out[1, 2, 3] == pytest.approx(manual, abs=1e-14)
    dout = rng.standard_normal(out.shape)
    grads = temporal_affine_backward(dout, cache)
    for arr, g in zip((x, w, b), grads, strict=True):
        num = eval_numerical_gradient_array(
            lambda _: temporal_affine_forward(x, w, b)[0], arr, dout
        )
        assert rel_error(g, num) < 1e-7


def test_affine_values_and_gradients():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((4, 2))
    b = rng.standard_normal(2)
    out, cache = affine_forward(x, w, b)
    assert out[2, 1] == pytest.approx(sum(x[2, d] * w[d, 1] for d in range(4)) + b[1], abs=1e-14)
    dout = rng.standard_normal(out.shape)
    grads = affine_backward(dout, cache)
    for arr, g in zip((x, w, b), grads, strict=True):
        num = eval_numerical_gradient_array(lambda _: affine_forward(x, w, b)[0], arr, dout)
        assert rel_error(g, num) < 1e-7
    with pytest.raises(ValueError, match=r"affine_forward: w must have shape"):
        affine_forward(x, w[:3], b)


def _direct_loss(x, y, mask):
    """Per-element cross-entropy with plain Python math (no shared code)."""
    N, T, V = x.shape
    total = 0.0
    for n in range(N):
        for t in range(T):
            if mask[n, t]:
                row = [float(v) for v in x[n, t]]
                m = max(row)
                lse = m + math.log(sum(math.exp(v - m) for v in row))
                total += lse - row[y[n, t]]
    return total / N


def test_temporal_softmax_loss_matches_direct_computation():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 5)) * 3
    y = rng.integers(0, 5, size=(3, 4))
    mask = rng.random((3, 4)) > 0.3
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert loss == pytest.approx(_direct_loss(x, y, mask), rel=1e-13)
    num = eval_numerical_gradient(lambda _: temporal_softmax_loss(x, y, mask)[0], x)
    assert rel_error(dx, num) < 1e-7


def test_uniform_logits_give_log_v():
    N, T, V = 2, 3, 7
    loss, _ = temporal_softmax_loss(
        np.zeros((N, T, V)), np.zeros((N, T), int), np.ones((N, T), bool)
    )
    assert loss == pytest.approx(T * math.log(V), rel=1e-14)


def test_masked_steps_are_ignored_whatever_they_hold():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 4, size=(2, 3))
    mask = np.array([[True, False, True], [False, True, True]])
    loss, dx = temporal_softmax_loss(x, y, mask)
    x2, y2 = x.copy(), y.copy()
    x2[~mask] = 1e300  # huge logits and invalid targets at masked steps change nothing
    y2[~mask] = -1
    loss2, dx2 = temporal_softmax_loss(x2, y2, mask)
    assert loss2 == pytest.approx(loss, rel=1e-15)
    np.testing.assert_array_equal(dx2[~mask], 0.0)
    np.testing.assert_allclose(dx2, dx, atol=1e-16)
    loss_int, _ = temporal_softmax_loss(x, y, mask.astype(int))
    assert loss_int == loss


@pytest.mark.parametrize("scale", [1e4, 1e300])
def test_huge_logits_stay_finite(scale):
    x = np.array([[[1.0, -1.0, 0.5], [0.0, 0.25, -0.75]]]) * scale
    y = np.array([[0, 1]])
    mask = np.ones((1, 2), bool)
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    # step 0: target is the max, loss 0; step 1: target is the max, loss 0
    assert loss == pytest.approx(0.0, abs=1e-12)
    y_bad = np.array([[1, 2]])  # targets far below the max: loss = the logit gaps
    loss_bad, dx_bad = temporal_softmax_loss(x, y_bad, mask)
    assert loss_bad == pytest.approx(2.0 * scale + 1.0 * scale, rel=1e-12)
    assert np.all(np.isfinite(dx_bad))


def test_softmax_loss_single_step():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    loss, dx = softmax_loss(x, y)
    want = _direct_loss(x[:, None], y[:, None], np.ones((4, 1), bool))
    assert loss == pytest.approx(want, rel=1e-13)
    assert rel_error(dx, eval_numerical_gradient(lambda _: softmax_loss(x, y)[0], x)) < 1e-7
    big_loss, big_dx = softmax_loss(x * 1e300, y)
    assert np.isfinite(big_loss) and np.all(np.isfinite(big_dx))


def test_loss_errors_name_the_argument():
    x = np.zeros((2, 3, 4))
    y = np.zeros((2, 3), int)
    mask = np.ones((2, 3), bool)
    with pytest.raises(TypeError, match=r"temporal_softmax_loss: y must be an integer array"):
        temporal_softmax_loss(x, y.astype(float), mask)
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: mask must have shape"):
        temporal_softmax_loss(x, y, mask[:, :2])
    with pytest.raises(TypeError, match=r"temporal_softmax_loss: mask must be a bool array"):
        temporal_softmax_loss(x, y, np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: y must hold class ids"):
        temporal_softmax_loss(x, y + 4, mask)
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: x contains NaN"):
        temporal_softmax_loss(bad, y, mask)
    with pytest.raises(ValueError, match=r"softmax_loss: y must have shape"):
        softmax_loss(np.zeros((2, 3)), np.zeros(3, int))


def test_logits_near_float_max_no_overflow_warning():
    # x - max(x) overflows for +-1.7e308; those classes get probability exactly 0, no warning
    # (pytest turns RuntimeWarning into an error in this project).
    x = np.array([[[1.7e308, -1.7e308, 0.0]]])
    loss, dx = temporal_softmax_loss(x, np.array([[0]]), np.ones((1, 1), bool))
    assert loss == 0.0
    np.testing.assert_array_equal(dx, [[[0.0, 0.0, 0.0]]])
    loss2, dx2 = softmax_loss(x[0], np.array([2]))
    assert loss2 == pytest.approx(1.7e308, rel=1e-12)
    np.testing.assert_array_equal(dx2, [[1.0, 0.0, -1.0]])
