"""The clipping cliff and the LSTM highway."""

import numpy as np
import pytest

from rnn_core.analysis.cliff import (
    cliff_loss,
    cliff_loss_and_grad,
    cliff_surface,
    clip_by_norm,
    clip_by_value,
    clipping_angles,
    cosine,
    gradient_descent,
)
from rnn_core.analysis.highway import lstm_highway_norms
from rnn_core.analysis.jacobians import lstm_trajectory


@pytest.mark.parametrize("w,b", [(1.0, 0.0), (4.5, -2.0), (8.0, -4.0), (-1.0, 1.5)])
def test_cliff_gradient_matches_numeric(w, b):
    L, dw, db = cliff_loss_and_grad(w, b)
    assert L == pytest.approx(cliff_loss(w, b), rel=1e-14)
    eps = 1e-6
    nw = (cliff_loss(w + eps, b) - cliff_loss(w - eps, b)) / (2 * eps)
    nb = (cliff_loss(w, b + eps) - cliff_loss(w, b - eps)) / (2 * eps)
    for a, n in ((dw, nw), (db, nb)):
        assert abs(a - n) / max(abs(a) + abs(n), 1e-12) < 1e-7


def test_cliff_surface_is_vectorised_and_has_a_wall():
    w, b = np.linspace(-2, 14, 33), np.linspace(-8, 3, 23)
    S = cliff_surface(w, b)
    assert S.shape == (23, 33)
    assert S[5, 7] == pytest.approx(float(cliff_loss(w[7], b[5])))
    assert np.abs(np.diff(S, axis=1)).max() > 0.2  # an abrupt jump between neighbours


def test_clipping_keeps_descent_where_plain_descent_jumps_off_the_cliff():
    start, lr = (4.5, -2.0), 0.5
    raw = gradient_descent(start, lr, 40)
    clip = gradient_descent(start, lr, 40, threshold=1.0)
    assert raw.grad_norm.max() > 10  # it hit the wall
    jump = np.linalg.norm(np.diff(raw.params, axis=0), axis=1).max()
    assert jump > 5  # and was thrown far away
    assert np.all(np.isfinite(clip.params)) and clip.clipped.any()
    assert np.linalg.norm(np.diff(clip.params, axis=0), axis=1).max() <= lr * 1.0 + 1e-12
    assert clip.loss[-1] < clip.loss[0]
    assert raw.loss[-1] > clip.loss[-1] + 0.05


def test_clipping_only_on_the_wall_and_a_decaying_rate_converges():
    start, lr = (4.5, -2.0), 0.3
    raw = gradient_descent(start, lr, 60, halflife=30)
    clip = gradient_descent(start, lr, 60, threshold=1.0, halflife=30)
    np.testing.assert_allclose(clip.lr, 0.3 * 0.5 ** (np.arange(60) / 30))
    assert np.linalg.norm(np.diff(raw.params, axis=0), axis=1).max() > 5  # thrown off the wall
    # threshold 1 bites only where the raw gradient is huge (the wall), everywhere else no-op
    assert 1 <= clip.clipped.sum() <= 2 and clip.grad_norm[clip.clipped].min() > 10
    assert clip.grad_norm[~clip.clipped].max() < 0.5
    # converged: the mean of the last 10 losses, not one lucky step
    assert clip.tail_loss(10) < 1e-6 < 0.05 < raw.tail_loss(10)
    # with a constant rate the same clipped run zigzags across the narrow valley instead
    const = gradient_descent(start, lr, 60, threshold=1.0)
    assert const.tail_loss(10) > 1e3 * clip.tail_loss(10)
    with pytest.raises(ValueError, match="gradient_descent: halflife"):
        gradient_descent(start, lr, 5, halflife=0.0)


def test_norm_clipping_keeps_direction_value_clipping_does_not():
    g = np.array([30.0, -2.0])
    assert cosine(g, clip_by_norm(g, 1.0)) == pytest.approx(1.0, abs=1e-15)
    assert np.linalg.norm(clip_by_norm(g, 1.0)) == pytest.approx(1.0)
    assert cosine(g, clip_by_value(g, 1.0)) < 0.8
    ang = clipping_angles(g, 1.0)
    assert ang["norm"] < 1e-6 and ang["value"] > 30


def test_highway_direct_path_survives_where_vanilla_vanishes():
    from rnn_core.analysis.explore import lstm_highway

    r = lstm_highway(forget_bias=8.0, T=100)
    assert r.direct[0] > 0.5  # prod of f over 100 steps stays near 1
    assert r.log10_vanilla_grad[0] - r.log10_vanilla_grad[-1] < -5  # vanilla: orders of magnitude
    low = lstm_highway(forget_bias=-2.0, T=100)
    assert low.log10_direct[0] < r.log10_direct[0] - 10


def test_highway_norms_match_explicit_products():
    rng = np.random.default_rng(0)
    T, D, H = 6, 3, 4
    x = rng.standard_normal((T, D))
    Wx = rng.standard_normal((D, 4 * H)) / 2
    Wh = rng.standard_normal((H, 4 * H)) / 2
    b = np.zeros(4 * H)
    b[H : 2 * H] = 2.0
    traj = lstm_trajectory(x, np.zeros(H), np.zeros(H), Wx, Wh, b)
    u = rng.standard_normal(H)
    hw = lstm_highway_norms(traj, Wh, u)
    from rnn_core.analysis.jacobians import lstm_jacobians

    J = lstm_jacobians(traj, Wh)
    P = np.eye(2 * H)
    for k in range(T, -1, -1):
        assert hw.log10_full_c[k] == pytest.approx(np.log10(np.linalg.norm(P[H:, H:], 2)))
        g = P.T @ np.concatenate([u, np.zeros(H)])
        assert hw.log10_grad_h[k] == pytest.approx(np.log10(np.linalg.norm(g[:H])))
        assert hw.log10_direct[k] == pytest.approx(np.log10(np.prod(traj.f[k:], axis=0).max()))
        if k:
            P = P @ J[k - 1]
