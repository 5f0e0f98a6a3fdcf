"""Optimisers against updates computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.optim import SGD, Adagrad, Adam


def _params():
    return {"w": np.array([1.0, -2.0]), "b": np.array([[0.5]])}


G1 = {"w": np.array([0.5, -1.0]), "b": np.array([[2.0]])}
G2 = {"w": np.array([-1.0, 0.25]), "b": np.array([[1.0]])}


def test_sgd_plain():
    p = _params()
    SGD(lr=0.1).step(p, G1)
    np.testing.assert_allclose(p["w"], [1.0 - 0.05, -2.0 + 0.1], rtol=1e-15)
    np.testing.assert_allclose(p["b"], [[0.5 - 0.2]], rtol=1e-15)


def test_sgd_momentum_two_steps():
    p = _params()
    opt = SGD(lr=0.1, momentum=0.9)
    opt.step(p, G1)
    opt.step(p, G2)
    # v1 = -lr g1; v2 = 0.9 v1 - lr g2; p = p0 + v1 + v2
    v1 = -0.1 * np.array([0.5, -1.0])
    v2 = 0.9 * v1 - 0.1 * np.array([-1.0, 0.25])
    np.testing.assert_allclose(p["w"], np.array([1.0, -2.0]) + v1 + v2, rtol=1e-14)
    np.testing.assert_allclose(p["w"], [1.0 - 0.05 - 0.045 + 0.1, -2.0 + 0.1 + 0.09 - 0.025],
                               rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["velocity"], v2, rtol=1e-14)


def test_adagrad_two_steps():
    p = _params()
    opt = Adagrad(lr=0.5, eps=0.0 + 1e-12)
    opt.step(p, G1)
    # first step: g / sqrt(g^2) = sign(g) -> p - lr sign(g)
    np.testing.assert_allclose(p["w"], [0.5, -1.5], rtol=1e-10)
    np.testing.assert_allclose(p["b"], [[0.0]], atol=1e-10)
    opt.step(p, G2)
    # second: G = g1^2 + g2^2, step lr g2 / sqrt(G)
    w_expect = np.array([0.5, -1.5]) - 0.5 * np.array([-1.0, 0.25]) / np.sqrt(
        np.array([0.25 + 1.0, 1.0 + 0.0625])
    )
    np.testing.assert_allclose(p["w"], w_expect, rtol=1e-10)
    np.testing.assert_allclose(p["b"], [[-0.5 * 1.0 / np.sqrt(5.0)]], rtol=1e-10)


def test_adam_two_steps():
    p = _params()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = Adam(lr, b1, b2, eps)
    opt.step(p, G1)
    # first step with bias correction: m_hat = g, v_hat = g^2 -> p - lr g / (|g| + eps)
    g = np.array([0.5, -1.0])
    w1 = np.array([1.0, -2.0]) - lr * g / (np.abs(g) + eps)
    np.testing.assert_allclose(p["w"], w1, rtol=1e-14)
    opt.step(p, G2)
    g2 = np.array([-1.0, 0.25])
    m = b1 * (1 - b1) * g + (1 - b1) * g2
    v = b2 * (1 - b2) * g**2 + (1 - b2) * g2**2
    w2 = w1 - lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + eps)
    np.testing.assert_allclose(p["w"], w2, rtol=1e-13)
    assert opt.t == 2
    np.testing.assert_allclose(opt.state["w"]["m"], m, rtol=1e-14)


def test_lr_can_change_between_steps():
    p = _params()
    opt = SGD(lr=0.1)
    opt.lr = 0.0
    opt.step(p, G1)
    np.testing.assert_array_equal(p["w"], _params()["w"])


@pytest.mark.parametrize("opt", [SGD(0.1, momentum=0.5), Adagrad(0.1), Adam(0.1)])
def test_mismatched_keys_and_shapes(opt):
    p = _params()
    with pytest.raises(KeyError, match=r"grads must have the same keys as params; missing \['b'\]"):
        opt.step(p, {"w": G1["w"]})
    with pytest.raises(KeyError, match=r"unexpected \['z'\]"):
        opt.step(p, {**G1, "z": np.zeros(1)})
    with pytest.raises(ValueError, match=r"grads\['w'\] must have shape \(2\)"):
        opt.step(p, {"w": np.zeros(3), "b": G1["b"]})
    with pytest.raises(ValueError, match=r"grads\['w'\] contains NaN"):
        opt.step(p, {"w": np.array([np.nan, 0.0]), "b": G1["b"]})
    opt.step(p, G1)
    with pytest.raises(KeyError, match="differ from the keys this optimiser has state for"):
        opt.step({"w": p["w"]}, {"w": G1["w"]})


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0"):
        SGD(lr=-1)
    with pytest.raises(ValueError, match=r"SGD: momentum must be in \[0, 1\)"):
        SGD(momentum=1.0)
    with pytest.raises(ValueError, match=r"Adam: beta2 must be in \[0, 1\)"):
        Adam(beta2=1.5)
    with pytest.raises(ValueError, match="Adagrad: eps must be a finite number > 0"):
        Adagrad(eps=0)
    with pytest.raises(TypeError, match="params and grads must be dicts"):
        SGD().step([np.zeros(1)], {})
