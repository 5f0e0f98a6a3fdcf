"""Jacobians, backward-pass norms, stable log-singular values, Newman exponents, Pascanu bound."""

import math

import numpy as np
import pytest

from rnn_core.analysis.backprop import gradient_map, log10_grad_norms_last
from rnn_core.analysis.bounds import (
    REGIMES,
    bound_log10_from_eta,
    pascanu_bound_log10,
    pascanu_eta,
    pascanu_regime,
    regime_from_eta,
)
from rnn_core.analysis.jacobians import (
    lstm_jacobians,
    lstm_trajectory,
    vanilla_jacobians,
    vanilla_trajectory,
)
from rnn_core.analysis.lyapunov import (
    digamma,
    log_singular_values_by_gap,
    lyapunov_exponents,
    newman_exponents,
    product_log_singular_values,
)
from rnn_core.init import init_matrix


def _vanilla(rng, T=12, D=3, H=5, scale=1.0, act="tanh", N=None):
    x = rng.standard_normal((T, D) if N is None else (N, T, D))
    h0 = rng.standard_normal(H if N is None else (N, H)) * 0.5
    Wx = rng.standard_normal((D, H)) / math.sqrt(D)
    Wh = rng.standard_normal((H, H)) * scale / math.sqrt(H)
    b = rng.standard_normal(H) * 0.1
    return x, h0, Wx, Wh, b


@pytest.mark.parametrize("act", ["tanh", "linear", "sigmoid"])
def test_vanilla_jacobian_matches_finite_differences(act):
    rng = np.random.default_rng(0)
    x, h0, Wx, Wh, b = _vanilla(rng, T=3, act=act)
    traj = vanilla_trajectory(x, h0, Wx, Wh, b, act)
    J = vanilla_jacobians(traj, Wh)
    t = 2  # step t maps h[t-1] -> h[t]
    eps = 1e-6
    num = np.empty((5, 5))
    for j in range(5):
        hp, hm = traj.h[t - 1].copy(), traj.h[t - 1].copy()
        hp[j] += eps
        hm[j] -= eps
        fp = vanilla_trajectory(x[t - 1 : t], hp, Wx, Wh, b, act).h[1]
        fm = vanilla_trajectory(x[t - 1 : t], hm, Wx, Wh, b, act).h[1]
        num[:, j] = (fp - fm) / (2 * eps)
    assert np.allclose(J[t - 1], num, rtol=1e-7, atol=1e-9)


def test_vanilla_trajectory_matches_rnn_core_and_batches():
    rnn = pytest.importorskip("rnn_core.rnn")
    rng = np.random.default_rng(1)
    x, h0, Wx, Wh, b = _vanilla(rng, N=3)
    traj = vanilla_trajectory(x, h0, Wx, Wh, b)
    h = h0
    for t in range(x.shape[1]):
        h, _ = rnn.rnn_step_forward(x[:, t], h, Wx, Wh, b)
    assert np.allclose(traj.h[:, -1], h, atol=1e-13)
    one = vanilla_trajectory(x[1], h0[1], Wx, Wh, b)
    assert np.allclose(one.h, traj.h[1])
    assert vanilla_jacobians(traj, Wh).shape == (3, 12, 5, 5)


def _lstm(rng, T=4, D=3, H=4, fb=1.0):
    x = rng.standard_normal((T, D))
    h0, c0 = rng.standard_normal(H) * 0.5, rng.standard_normal(H) * 0.5
    Wx = rng.standard_normal((D, 4 * H)) / math.sqrt(D)
    Wh = rng.standard_normal((H, 4 * H)) / math.sqrt(H)
    b = rng.standard_normal(4 * H) * 0.1
    b[H : 2 * H] += fb
    return x, h0, c0, Wx, Wh, b


def test_lstm_full_jacobian_matches_finite_differences_and_rnn_core():
    rng = np.random.default_rng(2)
    x, h0, c0, Wx, Wh, b = _lstm(rng)
    H = 4
    traj = lstm_trajectory(x, h0, c0, Wx, Wh, b)
    J = lstm_jacobians(traj, Wh)
    t = 3
    s0 = np.concatenate([traj.h[t - 1], traj.c[t - 1]])

    def step(s):
        tr = lstm_trajectory(x[t - 1 : t], s[:H], s[H:], Wx, Wh, b)
        return np.concatenate([tr.h[1], tr.c[1]])

    eps = 1e-6
    num = np.empty((2 * H, 2 * H))
    for j in range(2 * H):
        e = np.zeros(2 * H)
        e[j] = eps
        num[:, j] = (step(s0 + e) - step(s0 - e)) / (2 * eps)
    assert np.allclose(J[t - 1], num, rtol=1e-7, atol=1e-9)
    assert np.allclose(np.diag(J[t - 1][H:, H:]), traj.f[t - 1])  # direct path diag(f_t)
    lstm = pytest.importorskip("rnn_core.lstm")
    nh, nc, _ = lstm.lstm_step_forward(x[None, 0], h0[None], c0[None], Wx, Wh, b)
    assert np.allclose(nh[0], traj.h[1], atol=1e-14) and np.allclose(nc[0], traj.c[1], atol=1e-14)


def test_backward_norms_equal_jacobian_products():
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b = _vanilla(rng, T=15, scale=1.5)
    traj = vanilla_trajectory(x, h0, Wx, Wh, b)
    J = vanilla_jacobians(traj, Wh)
    u = rng.standard_normal(5)
    lg = log10_grad_norms_last(traj, Wh, u)
    P = np.eye(5)
    for k in range(15, -1, -1):  # P = dh_T/dh_k
        assert lg[k] == pytest.approx(math.log10(np.linalg.norm(P.T @ u)), abs=1e-10)
        if k:
            P = P @ J[k - 1]
    dh = rng.standard_normal((15, 5))
    gm = gradient_map(traj, Wh, dh)
    t, k = 9, 4
    Ptk = np.eye(5)
    for s in range(t, k, -1):
        Ptk = Ptk @ J[s - 1]
    assert gm.log10_map[t, k] == pytest.approx(math.log10(np.linalg.norm(Ptk.T @ dh[t - 1])))
    assert np.isneginf(gm.log10_map[3, 7])  # no path from a later step to an earlier loss
    total = np.zeros(5)
    for t in range(k, 16):
        Ptk = np.eye(5)
        for s in range(t, k, -1):
            Ptk = Ptk @ J[s - 1]
        total += Ptk.T @ dh[t - 1] if t >= 1 else 0
    assert gm.log10_total[k] == pytest.approx(math.log10(np.linalg.norm(total)), abs=1e-10)


def test_log_singular_values_agree_with_direct_svd():
    rng = np.random.default_rng(4)
    H = 10
    for S in (1, 5, 20):
        J = np.empty((S, H, H))
        for s in range(S):  # well-conditioned steps: orthogonal times a mild diagonal
            q, _ = np.linalg.qr(rng.standard_normal((H, H)))
            J[s] = q * rng.uniform(0.7, 1.3, H)
        P = np.eye(H)
        for Js in J:
            P = Js @ P
        exact = np.log(np.linalg.svd(P, compute_uv=False))
        for every in (1, 4):
            got = product_log_singular_values(J, reortho_every=every)
            assert np.allclose(got, exact, atol=1e-8, rtol=0)
        by_gap = log_singular_values_by_gap(J, np.array([S]), m=3)
        assert np.allclose(by_gap[0], exact[:3], atol=1e-8)


def test_long_product_is_finite_and_keeps_its_rank():
    rng = np.random.default_rng(5)
    H, S = 6, 10_000
    J = rng.standard_normal((S, H, H)) * (1.5 / math.sqrt(H))
    ls = product_log_singular_values(J)
    assert np.all(np.isfinite(ls))
    # exact invariant: sum of log singular values = log |det P| = sum_s log |det J_s|
    assert ls.sum() == pytest.approx(np.linalg.slogdet(J)[1].sum(), rel=1e-9)
    # no rank collapse: the spread of the exponents is that of the Lyapunov spectrum
    lyap = lyapunov_exponents(J)
    assert np.allclose(ls / S, lyap, atol=5e-3)
    assert np.all(np.diff(ls / S) < -0.02)
    # a naive product has long overflowed / collapsed
    with np.errstate(all="ignore"):
        P = np.eye(H)
        for Js in J[:3000]:
            P = Js @ P
    assert not np.all(np.isfinite(P))


def test_digamma_known_values():
    g = np.euler_gamma
    assert digamma(1.0) == pytest.approx(-g, abs=1e-14)
    assert digamma(0.5) == pytest.approx(-g - 2 * math.log(2), abs=1e-14)
    assert digamma(10.0) == pytest.approx(sum(1 / k for k in range(1, 10)) - g, abs=1e-14)
    assert digamma(1.5) == pytest.approx(2 - g - 2 * math.log(2), abs=1e-14)
    with pytest.raises(ValueError, match="digamma"):
        digamma(0.0)


def test_newman_exponents_match_gaussian_products():
    n = 8
    rng = np.random.default_rng(6)
    J = rng.standard_normal((4000, n, n)) / math.sqrt(n)  # entries N(0, 1/n)
    lyap = lyapunov_exponents(J)
    theory = newman_exponents(n)
    assert np.all(np.abs(lyap - theory) <= 0.05 * np.abs(theory) + 0.01)
    # the top exponent of N(0, 1/n) products is 1/2 [ln(2/n) + psi(n/2)] < 0 for n = 8
    assert theory[0] == pytest.approx(0.5 * (math.log(2 / n) + digamma(n / 2)))


@pytest.mark.parametrize("scale", [0.5, 0.9, 1.5, 3.0])
@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_pascanu_bound_holds(scale, act):
    rng = np.random.default_rng(7)
    x, h0, Wx, Wh, b = _vanilla(rng, T=40, H=8, scale=scale * (4 if act == "sigmoid" else 1))
    traj = vanilla_trajectory(x, h0, Wx, Wh, b, act)
    u = rng.standard_normal(8)
    lg = log10_grad_norms_last(traj, Wh, u)
    bound = pascanu_bound_log10(Wh, 40, act, log10_grad_T=lg[-1])
    assert np.all(lg <= bound + 1e-9)
    eta = pascanu_eta(Wh, act)
    regime = pascanu_regime(Wh, act)
    assert regime == ("vanishing guaranteed" if eta < 1 else "explosion possible")  # no eta = 1
    if eta < 1:
        assert lg[0] < lg[-1]  # vanished


@pytest.mark.parametrize("act,scale", [("tanh", 1.0), ("linear", 1.0), ("sigmoid", 4.0)])
def test_pascanu_regime_eta_exactly_one_cannot_grow(act, scale):
    """Orthogonal Wh with eta = gamma sigma_1 = 1: the bound is 1, the gradient cannot grow."""
    rng = np.random.default_rng(3)
    Wh = init_matrix("orthogonal", (8, 8), rng, scale)
    assert abs(pascanu_eta(Wh, act) - 1.0) < 1e-12
    assert pascanu_regime(Wh, act) == "cannot grow"
    np.testing.assert_allclose(pascanu_bound_log10(Wh, 30, act), 0.0, atol=1e-9)
    x = rng.standard_normal((30, 3))
    traj = vanilla_trajectory(x, np.zeros(8), rng.standard_normal((3, 8)), Wh, np.zeros(8), act)
    lg = log10_grad_norms_last(traj, Wh, rng.standard_normal(8))
    assert np.all(lg <= lg[-1] + 1e-9)                   # never above its upstream norm
    # just off 1 on either side, beyond the tolerance
    assert pascanu_regime(Wh * (1 - 1e-6), act) == "vanishing guaranteed"
    assert pascanu_regime(Wh * (1 + 1e-6), act) == "explosion possible"
    assert pascanu_regime(Wh * (1 + 1e-6), act, tol=1e-3) == "cannot grow"


def test_regime_from_eta_three_way_and_errors():
    assert [regime_from_eta(e) for e in (0.0, 0.999, 1.0, 1.0 + 1e-12, 1.001)] == [
        "vanishing guaranteed", "vanishing guaranteed", "cannot grow", "cannot grow",
        "explosion possible"]
    assert REGIMES == ("vanishing guaranteed", "cannot grow", "explosion possible")
    with pytest.raises(ValueError, match="regime_from_eta: eta"):
        regime_from_eta(float("nan"))
    with pytest.raises(ValueError, match="regime_from_eta: tol"):
        regime_from_eta(1.0, tol=-1.0)
    np.testing.assert_array_equal(bound_log10_from_eta(0.5, 3, 1.0),
                                  1.0 + np.arange(3, -1, -1) * np.log10(0.5))


def test_jacobians_along_known_answer_and_errors():
    from rnn_core.analysis.jacobians import jacobians_along

    Wh = np.array([[1.0, 2.0], [3.0, 4.0]])
    J = jacobians_along(np.array([[1.0, 0.5], [0.0, 2.0]]), Wh)
    np.testing.assert_array_equal(J, [[[1.0, 3.0], [1.0, 2.0]], [[0.0, 0.0], [4.0, 8.0]]])
    with pytest.raises(ValueError, match=r"jacobians_along: Wh must have shape"):
        jacobians_along(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"jacobians_along: dphi must have 2 dimensions"):
        jacobians_along(np.ones(2), Wh)


def test_qr_step_is_one_qr_of_J_Q():
    from rnn_core.analysis.lyapunov import qr_step

    rng = np.random.default_rng(7)
    J, Q = rng.standard_normal((5, 5)), np.linalg.qr(rng.standard_normal((5, 5)))[0]
    Qn, logs = qr_step(J, Q)
    np.testing.assert_allclose(Qn.T @ Qn, np.eye(5), atol=1e-13)
    R = Qn.T @ J @ Q
    np.testing.assert_allclose(np.tril(R, -1), 0, atol=1e-13)
    np.testing.assert_allclose(np.exp(logs), np.abs(np.diag(R)), rtol=1e-12)
    assert logs.sum() == pytest.approx(np.linalg.slogdet(J)[1], rel=1e-12)
    _, logs_d = qr_step(np.diag([2.0, -0.5, 3.0]), np.eye(3))  # column order, not sorted
    np.testing.assert_allclose(logs_d, np.log([2.0, 0.5, 3.0]), rtol=1e-14)
    with pytest.raises(ValueError, match=r"qr_step: Q must have shape \(H=5, H=5\), got \(4, 4\)"):
        qr_step(J, np.eye(4))


def test_exactly_singular_direction_is_floored_not_nan():
    J = np.stack([np.diag([2.0, 0.0, 0.5])] * 3)
    ls = product_log_singular_values(J, reortho_every=1)
    assert np.all(np.isfinite(ls)) and ls[-1] < -700
    np.testing.assert_allclose(ls[:2], np.log([8.0, 0.125]), rtol=1e-12)
    assert np.isfinite(lyapunov_exponents(J)).all()


@pytest.mark.parametrize("N", [None, 3])
def test_walk_back_is_rnn_backward_for_tanh(N):
    from rnn_core.analysis.jacobians import walk_back
    from rnn_core.rnn import rnn_backward, rnn_forward

    rng = np.random.default_rng(8)
    x, h0, Wx, Wh, b = _vanilla(rng, T=6, N=N)
    traj = vanilla_trajectory(x, h0, Wx, Wh, b)
    x3, h03 = (x[None], h0[None]) if N is None else (x, h0)
    h, cache = rnn_forward(x3, h03, Wx, Wh, b)
    np.testing.assert_allclose(traj.h[..., 1:, :].reshape(h.shape), h, rtol=1e-14)
    dh = rng.standard_normal(h.shape)
    ref = rnn_backward(dh, cache)
    dh_traj = dh[0] if N is None else dh
    acc = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    dx = np.empty_like(x)

    def hook(t, grads):
        dx[..., t - 1, :] = grads[0]
        for a, g in zip(acc, grads[2:], strict=True):
            a += g
        return grads[1] + (dh_traj[..., t - 2, :] if t >= 2 else 0.0)

    dh0 = walk_back(traj, dh_traj[..., -1, :], hook)
    np.testing.assert_allclose(dh0.reshape(ref[1].shape), ref[1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dx.reshape(ref[0].shape), ref[0], rtol=1e-10, atol=1e-14)
    for a, r in zip(acc, ref[2:], strict=True):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("act", ["linear", "sigmoid"])
def test_generic_step_backward_matches_numeric_gradients(act):
    from rnn_core.analysis.jacobians import walk_back
    from rnn_core.gradcheck import eval_numerical_gradient, rel_error

    rng = np.random.default_rng(9)
    x, h0, Wx, Wh, b = _vanilla(rng, T=4, N=2, act=act)
    g = rng.standard_normal((2, 5))

    def loss(_):
        return float(np.sum(vanilla_trajectory(x, h0, Wx, Wh, b, act).h[:, -1] * g))

    traj = vanilla_trajectory(x, h0, Wx, Wh, b, act)
    acc = {"Wx": np.zeros_like(Wx), "Wh": np.zeros_like(Wh)}

    def hook(t, grads):
        acc["Wx"] += grads[2]
        acc["Wh"] += grads[3]
        return grads[1]

    dh0 = walk_back(traj, g, hook)
    for name, p in (("Wx", Wx), ("Wh", Wh)):
        assert rel_error(acc[name], eval_numerical_gradient(loss, p)) < 1e-7, name
    assert rel_error(dh0, eval_numerical_gradient(loss, h0)) < 1e-7


def test_generic_activation_refuses_tanh():
    from rnn_core.analysis.jacobians import _generic_activation

    with pytest.raises(ValueError, match="'linear' or 'sigmoid'"):
        _generic_activation("tanh", np.zeros(3))
