"""Gradient clipping: PyTorch clip_grad_norm_ semantics and value clipping."""

import math

import numpy as np
import pytest

from rnn_core import clip_grad_norm, clip_grad_value, global_norm


def _grads():
    return {"W": np.array([[3.0, 0.0], [0.0, 0.0]]), "b": np.array([4.0])}  # total norm 5


def test_below_threshold_unchanged():
    g = _grads()
    ref = {k: v.copy() for k, v in g.items()}
    total = clip_grad_norm(g, max_norm=10.0)
    assert total == 5.0
    for k in g:
        np.testing.assert_array_equal(g[k], ref[k])


def test_above_threshold_scaled_exactly_and_direction_kept():
    g = _grads()
    ref = {k: v.copy() for k, v in g.items()}
    total = clip_grad_norm(g, max_norm=1.0)
    assert total == 5.0  # the norm before clipping
    coef = 1.0 / (5.0 + 1e-6)
    for k in g:
        np.testing.assert_allclose(g[k], ref[k] * coef, rtol=1e-15)
    assert global_norm(g) == pytest.approx(coef * 5.0, rel=1e-15)
    # direction preserved: parallel to the original
    flat = np.concatenate([g["W"].ravel(), g["b"]])
    orig = np.concatenate([ref["W"].ravel(), ref["b"]])
    cos = flat @ orig / (np.linalg.norm(flat) * np.linalg.norm(orig))
    assert cos == pytest.approx(1.0, abs=1e-15)


def test_eps_is_used_and_checked():
    g = _grads()
    clip_grad_norm(g, max_norm=1.0, eps=0.0)
    assert global_norm(g) == pytest.approx(1.0, rel=1e-15)
    with pytest.raises(ValueError, match=r"clip_grad_norm: eps must be"):
        clip_grad_norm(_grads(), 1.0, eps=-1.0)
    with pytest.raises(ValueError, match=r"clip_grad_norm: max_norm must be"):
        clip_grad_norm(_grads(), 0.0)


def test_total_norm_of_huge_gradients_does_not_overflow():
    g = {"a": np.array([3e200]), "b": np.array([[4e200]])}
    total = clip_grad_norm(g, 1.0)
    assert total == pytest.approx(5e200, rel=1e-15)
    assert global_norm(g) == pytest.approx(1.0, rel=1e-6)


def test_nonfinite_raises_when_asked():
    g = {"a": np.array([1.0, np.inf])}
    with pytest.raises(ValueError, match=r"clip_grad_norm: the total norm of the gradients is inf"):
        clip_grad_norm(g, 1.0, error_if_nonfinite=True)
    g = {"a": np.array([1.0, np.nan])}
    with pytest.raises(ValueError, match=r"is nan, not finite"):
        clip_grad_norm(g, 1.0, error_if_nonfinite=True)


def test_nonfinite_without_error_follows_pytorch():
    g = {"a": np.array([1.0, np.inf]), "b": np.array([2.0])}
    total = clip_grad_norm(g, 1.0)
    assert math.isinf(total)
    assert g["a"][0] == 0.0 and math.isnan(g["a"][1]) and g["b"][0] == 0.0


def test_clip_grad_value_changes_direction():
    g = {"W": np.array([0.5, -3.0, 10.0])}
    clip_grad_value(g, 1.0)
    np.testing.assert_array_equal(g["W"], [0.5, -1.0, 1.0])
    cos = (
        g["W"]
        @ np.array([0.5, -3.0, 10.0])
        / (np.linalg.norm(g["W"]) * np.linalg.norm([0.5, -3.0, 10.0]))
    )
    assert cos < 1 - 1e-3


def test_bad_grads():
    with pytest.raises(TypeError, match=r"clip_grad_norm: grads must be a dict"):
        clip_grad_norm([np.ones(2)], 1.0)
    with pytest.raises(TypeError, match=r"clip_grad_norm: grads\['k'\] must be a floating-point"):
        clip_grad_norm({"k": np.ones(2, dtype=int)}, 1.0)
    with pytest.raises(ValueError, match=r"clip_grad_value: clip_value must be"):
        clip_grad_value({"k": np.ones(2)}, -1.0)


def test_eps_zero_meets_the_threshold_and_a_zero_gradient_stays_zero():
    g = _grads()
    assert clip_grad_norm(g, max_norm=1.0, eps=0.0) == 5.0
    assert global_norm(g) == pytest.approx(1.0, rel=1e-15)
    z = {"W": np.zeros((2, 2))}
    assert clip_grad_norm(z, max_norm=1.0, eps=0.0) == 0.0
    np.testing.assert_array_equal(z["W"], 0.0)


def _stub(grads, max_norm, eps=1e-6, error_if_nonfinite=False):
    raise NotImplementedError("Exercise clip_grad_norm: implement it in rnn_core/clipping.py "
                              "(notebook 07)")


@pytest.fixture
def release_before_07(monkeypatch):
    """clip_grad_norm's body replaced by a stub in place, as the student release does."""
    import rnn_core.clipping as clipping

    monkeypatch.setattr(clipping.clip_grad_norm, "__code__", _stub.__code__)


def _norm_clipping_uses(clip: bool):
    """Everything that norm-clips, asked to clip (or not), on small inputs."""
    from rnn_core.analysis.cliff import clip_by_norm, clipping_angles, gradient_descent
    from rnn_core.analysis.training_trace import training_trace
    from rnn_core.models import LanguageModel
    from rnn_core.optim import SGD
    from rnn_core.train import train, train_tbptt

    x = np.array([[1, 2, 3, 4]])
    c = 1e-3 if clip else None

    def lm():
        return LanguageModel(5, 2, 3, cell="rnn", rng=0)

    uses = {
        "gradient_descent": lambda: gradient_descent((1.0, 1.0), 0.1, 2, threshold=c),
        "training_trace": lambda: training_trace(lr=0.1, clip=clip, threshold=0.5, steps=2),
        "train": lambda: train(lm(), (x, x), SGD(0.1), 1, clip=c, progress=False),
        "train_tbptt": lambda: train_tbptt(lm(), x, 2, SGD(0.1), clip=c, progress=False),
    }
    if clip:
        uses["clip_by_norm"] = lambda: clip_by_norm(np.array([3.0, 4.0]), 1.0)
        uses["clipping_angles"] = lambda: clipping_angles(np.array([3.0, 4.0]), 1.0)
    return uses


@pytest.mark.parametrize("name", sorted(_norm_clipping_uses(True)))
def test_every_norm_clipping_runs_on_clip_grad_norm(name, release_before_07):
    """The one implementation: the cliff, the training explorer's trace and the training loops
    stop on a stubbed clip_grad_norm."""
    from rnn_core.analysis.training_trace import _cached

    _cached.cache_clear()  # traces computed by other tests must not hide the stub
    try:
        with pytest.raises(NotImplementedError, match="Exercise clip_grad_norm"):
            _norm_clipping_uses(True)[name]()
    finally:
        _cached.cache_clear()


@pytest.mark.parametrize("name", sorted(_norm_clipping_uses(False)))
def test_without_clipping_nothing_needs_clip_grad_norm(name, release_before_07):
    from rnn_core.analysis.training_trace import _cached

    _cached.cache_clear()
    try:
        _norm_clipping_uses(False)[name]()
    finally:
        _cached.cache_clear()


def test_cliff_clip_by_norm_is_clip_grad_norm():
    from rnn_core.analysis.cliff import clip_by_norm

    g = np.array([3.0, -4.0, 12.0])  # norm 13
    out = clip_by_norm(g, 2.6)
    np.testing.assert_allclose(out, g / 5.0, rtol=1e-15)
    np.testing.assert_array_equal(g, [3.0, -4.0, 12.0])  # a copy: the input is not modified
    np.testing.assert_array_equal(clip_by_norm(g, 20.0), g)
