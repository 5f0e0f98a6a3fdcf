"""The numeric-gradient utilities themselves."""

import numpy as np
import pytest

from rnn_core import (
    check_layer_gradients,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    random_upstream,
    rel_error,
)
from rnn_core.gradcheck import layer_numerical_gradient


def test_scalar_gradient_of_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    x0 = x.copy()
    g = eval_numerical_gradient(lambda z: float(np.sum(np.sin(z) * z**2)), x)
    want = np.cos(x0) * x0**2 + 2 * x0 * np.sin(x0)
    assert rel_error(g, want) < 1e-9
    np.testing.assert_array_equal(x, x0)  # restored exactly


def test_array_gradient_is_vector_jacobian_product():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    df = rng.standard_normal(3)
    g = eval_numerical_gradient_array(lambda z: A @ np.tanh(z), x, df)
    assert rel_error(g, (A.T @ df) * (1 - np.tanh(x) ** 2)) < 1e-9


def test_non_contiguous_input():
    base = np.arange(12.0).reshape(3, 4) / 10
    view = base[:, ::2]
    g = eval_numerical_gradient(lambda _: float(np.sum(base**2)), view)
    np.testing.assert_allclose(g, 2 * view, rtol=1e-8)


def test_rel_error_definition():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    # max |a - b| / max(max|a|, max|b|)
    assert rel_error(np.array([1.0, 4.0]), np.array([1.5, 4.0])) == pytest.approx(0.5 / 4.0)
    # noise on a true zero entry is judged against the gradient's scale
    assert rel_error(np.array([0.0, 1.0]), np.array([1e-12, 1.0])) < 1e-11
    with pytest.raises(ValueError, match=r"rel_error: a and b must have the same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_wrong_gradient_is_caught():
    x = np.array([0.5, -0.2, 1.0])
    num = eval_numerical_gradient(lambda z: float(np.sum(z**3)), x)
    assert rel_error(3 * x**2, num) < 1e-8
    assert rel_error(2 * x**2, num) > 0.1


def test_check_layer_gradients_and_random_upstream():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2))
    x = rng.standard_normal((4, 3))
    dout = random_upstream((4, 2), 7)
    np.testing.assert_array_equal(dout, random_upstream((4, 2), 7))
    errs = check_layer_gradients(
        lambda x, w: x @ w, {"x": x, "w": w}, {"x": dout @ w.T, "w": x.T @ dout}, dout
    )
    assert set(errs) == {"x", "w"} and max(errs.values()) < 1e-9
    errs = check_layer_gradients(lambda x, w: x @ w, {"x": x, "w": w}, {"w": x.T @ dout * 2}, dout)
    assert errs["w"] > 0.1


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"eval_numerical_gradient: h must be"):
        eval_numerical_gradient(lambda z: 0.0, np.zeros(2), h=0.0)
    with pytest.raises(TypeError, match=r"eval_numerical_gradient: x must be a floating-point"):
        eval_numerical_gradient(lambda z: 0.0, np.zeros(2, dtype=int))


def test_layer_numerical_gradient_several_outputs_and_inputs_left_alone():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    d1, d2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    x0 = x.copy()

    def two_outputs(x, w):
        return x @ w, np.tanh(x @ w), "a cache, ignored"

    num = layer_numerical_gradient(two_outputs, {"x": x, "w": w}, "x", (d1, d2))
    assert rel_error(num, (d1 + d2 * (1 - np.tanh(x @ w) ** 2)) @ w.T) < 1e-8
    assert np.array_equal(x, x0)
    with pytest.raises(KeyError, match="'v' is not one of the inputs"):
        layer_numerical_gradient(two_outputs, {"x": x, "w": w}, "v", d1)
    with pytest.raises(TypeError, match="3 upstream gradients for 1 outputs"):
        layer_numerical_gradient(lambda x, w: x @ w, {"x": x, "w": w}, "x", (d1, d1, d1))
