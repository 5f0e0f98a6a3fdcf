"""Initialisers: spectra, variances, determinism, errors."""

import numpy as np
import pytest

from rnn_core import glorot, identity, init_matrix, orthogonal, small_gaussian


def test_orthogonal_singular_values_all_gain():
    for gain in (1.0, 0.5):
        Q = orthogonal(64, np.random.default_rng(0), gain=gain)
        s = np.linalg.svd(Q, compute_uv=False)
        np.testing.assert_allclose(s, gain, atol=1e-12)
        np.testing.assert_allclose(Q.T @ Q, gain**2 * np.eye(64), atol=1e-12)


def test_orthogonal_sign_fix_gives_haar_mean_trace_zero():
    # for Haar-distributed Q, E[trace Q] = 0 and E[Q_11] = 0; without the sign fix of
    # numpy's QR the diagonal is biased (Q_11 > 0 more often).
    rng = np.random.default_rng(1)
    q11 = np.array([orthogonal(4, rng)[0, 0] for _ in range(2000)])
    assert abs(q11.mean()) < 0.05


def test_glorot_variance():
    W = glorot((400, 600), 2)
    assert W.var() == pytest.approx(2.0 / 1000, rel=0.02)
    assert abs(W.mean()) < 1e-3


def test_small_gaussian_std_and_seed():
    W = small_gaussian((300, 300), 3)
    assert W.std() == pytest.approx(0.01, rel=0.02)
    np.testing.assert_array_equal(W, small_gaussian((300, 300), np.random.default_rng(3)))
    assert not np.array_equal(W, small_gaussian((300, 300), 4))


def test_identity():
    np.testing.assert_array_equal(identity(3, gain=0.5), 0.5 * np.eye(3))


def test_init_matrix_dispatch():
    np.testing.assert_array_equal(init_matrix("glorot", (5, 7), 1), glorot((5, 7), 1))
    np.testing.assert_array_equal(
        init_matrix("gaussian0.01", (5, 7), 1, scale=2.0), 2.0 * small_gaussian((5, 7), 1)
    )
    Wh = init_matrix("orthogonal", (8, 32), 0)  # one orthogonal block per LSTM gate
    for k in range(4):
        block = Wh[:, 8 * k : 8 * (k + 1)]
        np.testing.assert_allclose(block @ block.T, np.eye(8), atol=1e-12)
    np.testing.assert_array_equal(init_matrix("orthogonal", (8, 8), 5), orthogonal(8, 5))
    np.testing.assert_array_equal(init_matrix("identity", (3, 3), 0, scale=0.9), 0.9 * np.eye(3))


def test_init_errors():
    with pytest.raises(ValueError, match=r"init_matrix: unknown initialiser 'xavier'"):
        init_matrix("xavier", (3, 3), 0)
    with pytest.raises(ValueError, match=r"init_matrix: 'orthogonal' needs a shape \(n, k\*n\)"):
        init_matrix("orthogonal", (3, 4), 0)
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        glorot((3, 3), None)
    with pytest.raises(ValueError, match=r"orthogonal: n must be >= 1"):
        orthogonal(0, 0)
