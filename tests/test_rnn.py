"""Vanilla RNN: forward values by hand, backward against numeric gradients, input checks."""

import math

import numpy as np
import pytest

from rnn_core import (
    eval_numerical_gradient_array,
    rel_error,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)


def _params(rng, N=3, T=4, D=5, H=6):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, H)) * 0.5
    Wh = rng.standard_normal((H, H)) * 0.5
    b = rng.standard_normal(H) * 0.1
    return x, h0, Wx, Wh, b


def test_step_forward_by_hand_h1():
    x = np.array([[0.5, -1.0]])
    prev_h = np.array([[0.3]])
    Wx = np.array([[0.2], [0.4]])
    Wh = np.array([[-0.7]])
    b = np.array([0.1])
    next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
    expected = math.tanh(0.5 * 0.2 + (-1.0) * 0.4 + 0.3 * (-0.7) + 0.1)
    assert next_h.shape == (1, 1)
    assert next_h[0, 0] == pytest.approx(expected, abs=1e-15)
    assert cache.prev_h is prev_h and cache.next_h is next_h


def test_sequence_forward_by_hand_h2():
    # N=1, T=2, D=1, H=2, written out with plain floats
    x = np.array([[[1.0], [-2.0]]])
    h0 = np.array([[0.1, -0.2]])
    Wx = np.array([[0.5, -0.3]])
    Wh = np.array([[0.2, 0.4], [-0.6, 0.1]])
    b = np.array([0.05, -0.05])
    h, _ = rnn_forward(x, h0, Wx, Wh, b)

    def step(xv, hp):
        return [
            math.tanh(xv * Wx[0, j] + hp[0] * Wh[0, j] + hp[1] * Wh[1, j] + b[j]) for j in range(2)
        ]

    h1 = step(1.0, [0.1, -0.2])
    h2 = step(-2.0, h1)
    np.testing.assert_allclose(h[0], [h1, h2], rtol=0, atol=1e-15)


def test_sequence_equals_steps():
    rng = np.random.default_rng(0)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    prev = h0
    for t in range(x.shape[1]):
        prev, _ = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], prev, rtol=1e-13, atol=1e-14)
    assert cache.h_all.shape == (3, 5, 6)


def test_step_backward_numeric():
    rng = np.random.default_rng(1)
    x, h0, Wx, Wh, b = _params(rng)
    x = x[:, 0].copy()
    next_h, cache = rnn_step_forward(x, h0, Wx, Wh, b)
    dnext = rng.standard_normal(next_h.shape)
    grads = rnn_step_backward(dnext, cache)
    for arr, g in zip((x, h0, Wx, Wh, b), grads, strict=True):
        num = eval_numerical_gradient_array(
            lambda _: rnn_step_forward(x, h0, Wx, Wh, b)[0], arr, dnext
        )
        assert g.shape == arr.shape
        assert rel_error(g, num) < 1e-7


def test_backward_numeric():
    rng = np.random.default_rng(2)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    grads = rnn_backward(dh, cache)
    for arr, g in zip((x, h0, Wx, Wh, b), grads, strict=True):
        num = eval_numerical_gradient_array(lambda _: rnn_forward(x, h0, Wx, Wh, b)[0], arr, dh)
        assert g.shape == arr.shape
        assert rel_error(g, num) < 1e-7


def test_backward_matches_step_backward_chain():
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    caches, prev = [], h0
    for t in range(x.shape[1]):
        prev, c = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        caches.append(c)
    dnext = np.zeros_like(h0)
    acc = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    for t in reversed(range(x.shape[1])):
        dxt, dnext, a, bb, cc = rnn_step_backward(dh[:, t] + dnext, caches[t])
        np.testing.assert_allclose(dx[:, t], dxt, atol=1e-13)
        acc = [acc[0] + a, acc[1] + bb, acc[2] + cc]
    np.testing.assert_allclose(dh0, dnext, atol=1e-13)
    for got, want in zip((dWx, dWh, db), acc, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_forward_output_is_not_the_cache():
    rng = np.random.default_rng(4)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    before = rnn_backward(dh, cache)
    h *= 0.0  # a caller scribbling on the output must not change the backward pass
    after = rnn_backward(dh, cache)
    for p, q in zip(before, after, strict=True):
        np.testing.assert_array_equal(p, q)


def test_errors_name_the_argument():
    rng = np.random.default_rng(5)
    x, h0, Wx, Wh, b = _params(rng)
    with pytest.raises(ValueError, match=r"rnn_forward: Wh must have shape"):
        rnn_forward(x, h0, Wx, Wh[:, :-1], b)
    with pytest.raises(ValueError, match=r"rnn_forward: h0 must have shape"):
        rnn_forward(x, h0[:-1], Wx, Wh, b)
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"rnn_forward: x contains NaN"):
        rnn_forward(bad, h0, Wx, Wh, b)
    with pytest.raises(TypeError, match=r"rnn_step_forward: x must be a floating-point array"):
        rnn_step_forward(np.ones((3, 5), dtype=int), h0, Wx, Wh, b)
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"rnn_backward: dh must have"):
        rnn_backward(np.ones((3, 4, 5)), cache)
    with pytest.raises(TypeError, match=r"rnn_backward: cache must be the RNNCache"):
        rnn_backward(np.ones((3, 4, 6)), (1, 2, 3))
