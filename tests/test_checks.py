"""rnn_core.checks: the student-facing self-check helpers pass right answers, explain wrong ones."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from rnn_core import checks, gradcheck
from rnn_core.checks import (
    check_backward,
    check_close,
    check_gradient,
    check_shape,
    check_stable,
    check_stored,
    fingerprint,
    stored_call,
)


def _tanh_layer(x, W):
    return np.tanh(x @ W)


def _tanh_layer_grads(x, W, dout):
    da = dout * (1 - np.tanh(x @ W) ** 2)
    return da @ W.T, x.T @ da


def test_check_shape_names_the_transpose():
    check_shape("dWx", np.zeros((3, 4)), (3, 4))
    with pytest.raises(AssertionError, match=r"dWx has shape \(4, 3\) but should .*transpose"):
        check_shape("dWx", np.zeros((4, 3)), (3, 4))
    with pytest.raises(AssertionError, match="dWx is None: did you forget to return it"):
        check_shape("dWx", None, (3, 4))


def test_check_close_reports_size_worst_entry_and_hint():
    a = np.arange(6.0).reshape(2, 3)
    check_close("dWh", a * (1 + 1e-10), a)
    b = a.copy()
    b[1, 2] += 0.5
    with pytest.raises(AssertionError) as err:
        check_close("dWh", b, a, hint="accumulate over all time steps")
    msg = str(err.value)
    assert msg.startswith("dWh is off by 9.1e-02 (relative; worst entry [1, 2]: got 5.5, ")
    assert msg.endswith(": accumulate over all time steps")
    with pytest.raises(AssertionError, match="dWh contains NaN"):
        check_close("dWh", np.full((2, 3), np.nan), a)
    with pytest.raises(AssertionError, match="tuple of 2 items"):
        check_close("dWh", (a, a), a)


def test_check_gradient_uses_the_student_forward():
    rng = np.random.default_rng(0)
    x, W = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    dx, _ = _tanh_layer_grads(x, W, dout)
    check_gradient("dx", lambda v: _tanh_layer(v, W), x, dx, dout=dout)
    with pytest.raises(AssertionError) as err:
        check_gradient("dx", lambda v: _tanh_layer(v, W), x, -dx, hint="sign of tanh'", dout=dout)
    assert "numeric gradient of your forward pass" in str(err.value)
    assert str(err.value).endswith(": sign of tanh'")
    # a scalar function without dout
    check_gradient("dx", lambda v: float(np.sum(v**2)), x.copy(), 2 * x)
    with pytest.raises(TypeError, match="float64"):
        check_gradient("dx", lambda v: _tanh_layer(v, W), x.astype(np.float32), dx, dout=dout)


def test_check_backward_names_the_first_wrong_gradient_and_leaves_inputs_alone():
    rng = np.random.default_rng(1)
    x, W = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    x0, W0 = x.copy(), W.copy()
    dx, dW = _tanh_layer_grads(x, W, dout)
    check_backward(_tanh_layer, dict(x=x, W=W), dict(x=dx, W=dW), dout)
    with pytest.raises(AssertionError, match=r"^dW is off .*: x.T @ da$"):
        check_backward(_tanh_layer, dict(x=x, W=W), dict(x=dx, W=dW * 1.1), dout,
                       hints={"dW": "x.T @ da"})
    assert np.array_equal(x, x0) and np.array_equal(W, W0)
    # several outputs (a tuple, with a cache that is ignored) and several upstream gradients
    d2 = rng.standard_normal((3, 2))

    def two_outputs(x, W):
        return _tanh_layer(x, W), 2 * (x @ W), "cache"

    gx = dx + (2 * d2) @ W.T
    check_backward(two_outputs, dict(x=x, W=W), dict(x=gx), (dout, d2))
    with pytest.raises(AssertionError, match="^dx is off"):
        check_backward(two_outputs, dict(x=x, W=W), dict(x=dx), (dout, d2))


def test_fingerprint_and_check_stored_round_trip_through_the_pasted_literal():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4))
    line = stored_call("next_h", a)
    assert line.startswith("check_stored('next_h', next_h, (3, 4), total=")
    call = ast.parse(line).body[0].value
    kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    shape = ast.literal_eval(call.args[2])
    check_stored("next_h", a, shape, **kw)  # 12 digits pass the default tolerance
    assert set(kw["entries"]) == {(0, 0), np.unravel_index(np.argmax(np.abs(a)), a.shape)}
    # a number: its value only
    assert stored_call("loss", 2.5) == "check_stored('loss', loss, (), total=2.5)"
    check_stored("loss", 2.5 + 1e-13, (), total=2.5)
    with pytest.raises(AssertionError, match="loss does not match .*it is 2.6 but should be 2.5"):
        check_stored("loss", 2.6, (), total=2.5)


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda a: a.T.reshape(a.shape), "weighted sum"),  # same sum, entries moved
        (lambda a: a * (1 + 1e-6), "sum"),
        (lambda a: np.where(np.arange(a.size).reshape(a.shape) == 5, -a, a), "sum"),
    ],
)
def test_check_stored_catches_small_and_silent_changes(change, where):
    a = np.random.default_rng(3).standard_normal((4, 4))
    fp = fingerprint(a)
    with pytest.raises(AssertionError, match=f"does not match the values stored .*{where}"):
        check_stored("dWh", change(a), fp["shape"], total=fp["total"], weighted=fp["weighted"],
                     hint="prev_h.T @ da")
    with pytest.raises(AssertionError, match=r"entry \[0, 0\] is .* but should be"):
        check_stored("dWh", a + 1, fp["shape"], total=fp["total"], entries={(0, 0): a[0, 0]})
    with pytest.raises(AssertionError, match=r"has shape \(2, 8\)"):
        check_stored("dWh", a.reshape(2, 8), fp["shape"], total=fp["total"])


def test_check_stable_turns_overflow_and_log0_into_a_hint():
    a = np.array([-1000.0, 0.0, 1000.0])
    out = check_stable("sigmoid", lambda: 0.5 * np.tanh(0.5 * a) + 0.5)
    assert out[0] == 0.0 and out[2] == 1.0
    with pytest.raises(AssertionError, match="sigmoid overflowed or took log.*rnn_core.sigmoid"):
        check_stable("sigmoid", lambda: 1 / (1 + np.exp(-a)), hint="use rnn_core.sigmoid")
    with pytest.raises(AssertionError, match="overflowed or took log"):
        check_stable("loss", lambda: np.log(np.exp(-a) / np.exp(-a).sum()))
    with pytest.raises(AssertionError, match=r"f \(output 0\) contains inf"):
        check_stable("f", lambda: (np.array([np.inf]), "cache"))


def test_one_numeric_gradient_and_one_relative_error():
    """checks.py builds on rnn_core.gradcheck instead of carrying its own copies."""
    src = inspect.getsource(checks)
    assert "eval_numerical_gradient" in src and "rel_error" in src
    tree = ast.parse(src)
    loops = [
        n for n in ast.walk(tree) if isinstance(n, ast.For) and "ndindex" in ast.unparse(n.iter)
    ]
    assert not loops, "checks.py iterates over entries itself: use rnn_core.gradcheck"
    assert not hasattr(checks, "relative_error")
    assert checks.rel_error is gradcheck.rel_error
