"""LSTM: forward values by hand, backward against numeric gradients, cell states, input checks.

Every sequence test runs twice: on the readable loop over the step functions (what the student
release runs) and on the tuned kernel of ``rnn_core/_kernels`` (what the course source runs).
"""

import math

import numpy as np
import pytest

import rnn_core.lstm as lstm_module
from rnn_core import (
    eval_numerical_gradient_array,
    lstm_backward,
    lstm_backward_with_cells,
    lstm_forward,
    lstm_forward_with_cells,
    lstm_step_backward,
    lstm_step_forward,
    rel_error,
    sigmoid,
)
from rnn_core._kernels import lstm_sequence


@pytest.fixture(params=["loop", "kernel"], autouse=True)
def sequence_path(request, monkeypatch):
    """Run the test on the loop over the step functions, then on the tuned kernel."""
    if request.param == "loop":
        monkeypatch.setattr(lstm_module, "_kernel", None)
    return request.param


def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def _params(rng, N=3, T=4, D=5, H=4):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, 4 * H)) * 0.5
    Wh = rng.standard_normal((H, 4 * H)) * 0.5
    b = rng.standard_normal(4 * H) * 0.1
    return x, h0, Wx, Wh, b


def test_sigmoid_values_and_extremes():
    a = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    want = [0.0, _sig(-3.0), 0.5, _sig(2.0), 1.0]
    np.testing.assert_allclose(sigmoid(a), want, rtol=1e-15, atol=1e-300)


def test_step_forward_by_hand_h1():
    # H=1, D=1: the four gates i, f, o, g sit in columns 0..3
    x = np.array([[2.0]])
    prev_h = np.array([[-0.5]])
    prev_c = np.array([[0.3]])
    Wx = np.array([[0.1, 0.2, 0.3, 0.4]])
    Wh = np.array([[-0.2, 0.5, 0.1, -0.3]])
    b = np.array([0.0, 1.0, -0.5, 0.2])
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    a = [2.0 * Wx[0, k] + (-0.5) * Wh[0, k] + b[k] for k in range(4)]
    i, f, o, g = _sig(a[0]), _sig(a[1]), _sig(a[2]), math.tanh(a[3])
    c = f * 0.3 + i * g
    h = o * math.tanh(c)
    assert next_c[0, 0] == pytest.approx(c, abs=1e-15)
    assert next_h[0, 0] == pytest.approx(h, abs=1e-15)
    assert cache.f[0, 0] == pytest.approx(f, abs=1e-15)
    assert cache.g[0, 0] == pytest.approx(g, abs=1e-15)


def test_sequence_by_hand_h1_c0_zero():
    x = np.array([[[1.0], [-1.0]]])
    h0 = np.array([[0.2]])
    Wx = np.array([[0.3, -0.1, 0.2, 0.5]])
    Wh = np.array([[0.4, 0.3, -0.2, 0.1]])
    b = np.array([0.1, 0.0, 0.0, -0.1])
    h, c, _ = lstm_forward_with_cells(x, h0, Wx, Wh, b)
    hp, cp, hs, cs = 0.2, 0.0, [], []
    for xv in (1.0, -1.0):
        a = [xv * Wx[0, k] + hp * Wh[0, k] + b[k] for k in range(4)]
        cp = _sig(a[1]) * cp + _sig(a[0]) * math.tanh(a[3])
        hp = _sig(a[2]) * math.tanh(cp)
        hs.append(hp)
        cs.append(cp)
    np.testing.assert_allclose(h[0, :, 0], hs, atol=1e-15)
    np.testing.assert_allclose(c[0, :, 0], cs, atol=1e-15)


def test_sequence_equals_steps_and_cache_exposes_states():
    rng = np.random.default_rng(0)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    ph, pc = h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        ph, pc, _ = lstm_step_forward(x[:, t], ph, pc, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], ph, atol=1e-14)
        np.testing.assert_allclose(cache.c[:, t], pc, atol=1e-14)
    np.testing.assert_array_equal(cache.h, h)
    np.testing.assert_array_equal(cache.c_all[:, 0], 0.0)


def test_c0_carries_state_across_chunks():
    rng = np.random.default_rng(1)
    x, h0, Wx, Wh, b = _params(rng, T=6)
    h_full, c_full, _ = lstm_forward_with_cells(x, h0, Wx, Wh, b)
    h1, c1, _ = lstm_forward_with_cells(x[:, :2], h0, Wx, Wh, b)
    h2, _ = lstm_forward(x[:, 2:], h1[:, -1], Wx, Wh, b, c0=c1[:, -1])
    np.testing.assert_allclose(np.concatenate([h1, h2], axis=1), h_full, atol=1e-14)


def test_step_backward_numeric():
    rng = np.random.default_rng(2)
    x, h0, Wx, Wh, b = _params(rng)
    x = x[:, 0].copy()
    c0 = rng.standard_normal(h0.shape)
    nh, nc, cache = lstm_step_forward(x, h0, c0, Wx, Wh, b)
    dnh, dnc = rng.standard_normal(nh.shape), rng.standard_normal(nc.shape)
    grads = lstm_step_backward(dnh, dnc, cache)

    def f(_):
        a, c, _ = lstm_step_forward(x, h0, c0, Wx, Wh, b)
        return np.concatenate([a, c])

    up = np.concatenate([dnh, dnc])
    for arr, g in zip((x, h0, c0, Wx, Wh, b), grads, strict=True):
        assert g.shape == arr.shape
        assert rel_error(g, eval_numerical_gradient_array(f, arr, up)) < 1e-7


def test_backward_numeric():
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    grads = lstm_backward(dh, cache)
    for arr, g in zip((x, h0, Wx, Wh, b), grads, strict=True):
        num = eval_numerical_gradient_array(lambda _: lstm_forward(x, h0, Wx, Wh, b)[0], arr, dh)
        assert g.shape == arr.shape
        assert rel_error(g, num) < 1e-7


def test_backward_with_cells_numeric_including_c0_and_dc():
    rng = np.random.default_rng(4)
    x, h0, Wx, Wh, b = _params(rng)
    c0 = rng.standard_normal(h0.shape)
    h, c, cache = lstm_forward_with_cells(x, h0, Wx, Wh, b, c0)
    dh, dc = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
    grads = lstm_backward_with_cells(dh, cache, dc)

    def f(_):
        hh, cc, _ = lstm_forward_with_cells(x, h0, Wx, Wh, b, c0)
        return np.concatenate([hh, cc])

    up = np.concatenate([dh, dc])
    for arr, g in zip((x, h0, c0, Wx, Wh, b), grads, strict=True):
        assert rel_error(g, eval_numerical_gradient_array(f, arr, up)) < 1e-7
    # without dc, the h-only gradients agree with lstm_backward
    a = lstm_backward_with_cells(dh, cache)
    bb = lstm_backward(dh, cache)
    for p, q in zip((a[0], a[1], a[3], a[4], a[5]), bb, strict=True):
        np.testing.assert_array_equal(p, q)


def test_backward_matches_step_chain():
    rng = np.random.default_rng(5)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dWx, dWh, db = lstm_backward(dh, cache)
    caches, ph, pc = [], h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        ph, pc, sc = lstm_step_forward(x[:, t], ph, pc, Wx, Wh, b)
        caches.append(sc)
    dnh, dnc = np.zeros_like(h0), np.zeros_like(h0)
    sums = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    for t in reversed(range(x.shape[1])):
        dxt, dnh, dnc, a, bb, cc = lstm_step_backward(dh[:, t] + dnh, dnc, caches[t])
        np.testing.assert_allclose(dx[:, t], dxt, atol=1e-13)
        sums = [sums[0] + a, sums[1] + bb, sums[2] + cc]
    np.testing.assert_allclose(dh0, dnh, atol=1e-13)
    for got, want in zip((dWx, dWh, db), sums, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_errors_name_the_argument():
    rng = np.random.default_rng(6)
    x, h0, Wx, Wh, b = _params(rng)
    with pytest.raises(ValueError, match=r"lstm_forward: Wx must have shape"):
        lstm_forward(x, h0, Wx[:, :-1], Wh, b)
    with pytest.raises(ValueError, match=r"lstm_forward: b must have shape"):
        lstm_forward(x, h0, Wx, Wh, b[:-4])
    with pytest.raises(ValueError, match=r"lstm_forward: c0 must have shape"):
        lstm_forward(x, h0, Wx, Wh, b, c0=np.zeros((3, 5)))
    bad = h0.copy()
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"lstm_forward: h0 contains inf"):
        lstm_forward(x, bad, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"lstm_step_forward: prev_c must have shape"):
        lstm_step_forward(x[:, 0], h0, h0[:, :2], Wx, Wh, b)
    _, cache = lstm_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"lstm_backward: dh must have"):
        lstm_backward(np.ones((3, 3, 4)), cache)


def test_cache_gate_views_match_step_caches():
    rng = np.random.default_rng(7)
    x, h0, Wx, Wh, b = _params(rng)
    _, cache = lstm_forward(x, h0, Wx, Wh, b)
    ph, pc = h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        ph, pc, sc = lstm_step_forward(x[:, t], ph, pc, Wx, Wh, b)
        for name in "ifog":
            np.testing.assert_allclose(cache.gate(name)[:, t], getattr(sc, name), atol=1e-14)
    with pytest.raises(ValueError):
        cache.gate("z")


def test_saturated_gates_no_overflow_warning():
    # pre-activations of -1000 and +1000: gates exactly 0 / 1, no RuntimeWarning (an error here)
    x = np.array([[[1.0], [-1.0]]])
    Wx = np.full((1, 4), 1000.0)
    h, c, cache = lstm_forward_with_cells(x, np.zeros((1, 1)), Wx, np.zeros((1, 4)), np.zeros(4))
    np.testing.assert_array_equal(cache.gate("i")[0, :, 0], [1.0, 0.0])
    np.testing.assert_array_equal(cache.gate("g")[0, :, 0], [1.0, -1.0])
    # step 2: i = 0, f = 0, so c_2 = 0 and h_2 = 0
    np.testing.assert_array_equal(c[0, :, 0], [1.0, 0.0])
    assert h[0, 1, 0] == 0.0


@pytest.mark.parametrize("block", [1, 3, 7, 16])
def test_kernel_backward_blocks_of_steps(block, monkeypatch, sequence_path):
    # the kernel sums weight gradients over blocks of steps; any block size, including one that
    # does not divide T, gives the numeric gradient
    if sequence_path == "loop":
        pytest.skip("the loop has no blocks")
    monkeypatch.setattr(lstm_sequence, "BLOCK_STEPS", block)
    rng = np.random.default_rng(8)
    x, h0, Wx, Wh, b = _params(rng, N=2, T=7, D=3, H=2)
    c0 = rng.standard_normal(h0.shape)
    h, c, cache = lstm_forward_with_cells(x, h0, Wx, Wh, b, c0)
    assert isinstance(cache, lstm_sequence.KernelCache)
    dh = rng.standard_normal(h.shape)
    grads = lstm_backward_with_cells(dh, cache)
    for arr, g in zip((x, h0, c0, Wx, Wh, b), grads, strict=True):
        num = eval_numerical_gradient_array(
            lambda _: lstm_forward_with_cells(x, h0, Wx, Wh, b, c0)[0], arr, dh
        )
        assert rel_error(g, num) < 1e-7


@pytest.mark.parametrize("shape", [(3, 9, 5, 4), (1, 1, 2, 3), (4, 20, 3, 6)])
def test_kernel_equals_loop(shape, monkeypatch, sequence_path):
    """The tuned kernel computes what the loop over the step functions computes: every state,
    every gate and every gradient (with upstream dh and dc, and a nonzero c0), in float64."""
    if sequence_path == "loop":
        pytest.skip("compares both paths itself")
    N, T, D, H = shape
    rng = np.random.default_rng(sum(shape))
    x, h0, Wx, Wh, b = _params(rng, N=N, T=T, D=D, H=H)
    c0 = rng.standard_normal(h0.shape)
    dh, dc = rng.standard_normal((N, T, H)), rng.standard_normal((N, T, H))
    h_k, c_k, cache_k = lstm_forward_with_cells(x, h0, Wx, Wh, b, c0)
    grads_k = lstm_backward_with_cells(dh, cache_k, dc)
    monkeypatch.setattr(lstm_module, "_kernel", None)
    h_l, c_l, cache_l = lstm_forward_with_cells(x, h0, Wx, Wh, b, c0)
    grads_l = lstm_backward_with_cells(dh, cache_l, dc)
    assert isinstance(cache_k, lstm_sequence.KernelCache)
    assert isinstance(cache_l, lstm_module.LSTMCache)
    np.testing.assert_allclose(h_k, h_l, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_k, c_l, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cache_k.h_all, cache_l.h_all, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cache_k.c_all, cache_l.c_all, rtol=1e-12, atol=1e-14)
    for name in "ifog":
        np.testing.assert_allclose(cache_k.gate(name), cache_l.gate(name), rtol=1e-12, atol=1e-14)
    for name, gk, gl in zip(("dx", "dh0", "dc0", "dWx", "dWh", "db"), grads_k, grads_l,
                            strict=True):
        assert gk.shape == gl.shape, name
        assert rel_error(gk, gl) < 1e-12, name


def test_loop_runs_on_the_step_functions(monkeypatch, sequence_path):
    """Without the kernel, the sequence functions are the step functions in a loop: a stubbed
    step (as in the student release) stops them with the step's own message."""
    if sequence_path == "kernel":
        pytest.skip("the kernel does not call the steps")
    rng = np.random.default_rng(9)
    x, h0, Wx, Wh, b = _params(rng)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)

    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise lstm_step_backward: stub")

    monkeypatch.setattr(lstm_module.lstm_step_backward, "__code__", stub.__code__)
    with pytest.raises(NotImplementedError, match="lstm_step_backward"):
        lstm_backward(np.ones_like(h), cache)
    monkeypatch.setattr(lstm_module.lstm_step_forward, "__code__", stub.__code__)
    with pytest.raises(NotImplementedError):
        lstm_forward(x, h0, Wx, Wh, b)


def test_the_release_leaves_the_kernel_out(sequence_path):
    """The files the release copies from the package: the kernel is not among them (by default,
    with no course.toml), the loop's module is."""
    if sequence_path == "loop":
        pytest.skip("about files, not paths")
    from pathlib import Path

    from rnn_core.course.config import CourseConfig
    from rnn_core.course.release import _package_files

    root = Path(lstm_module.__file__).parent.parent
    shipped = {p.as_posix() for p in _package_files(root, CourseConfig())}
    assert "rnn_core/lstm.py" in shipped
    assert (root / "rnn_core/_kernels/lstm_sequence.py").is_file()
    assert not [p for p in shipped if p.startswith("rnn_core/_kernels/")]
