"""The public API of the numeric core: names, import weight, cache types, no input mutation."""

import subprocess
import sys

import numpy as np
import pytest

import rnn_core

ISSUE_NAMES = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "word_embedding_forward",
    "word_embedding_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "temporal_softmax_loss",
    "clip_grad_norm",
    "clip_grad_value",
    "affine_forward",
    "affine_backward",
    "softmax_loss",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "small_gaussian",
    "glorot",
    "orthogonal",
    "identity",
    "init_matrix",
]


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_public_names_importable(name):
    assert callable(getattr(rnn_core, name))
    assert name in rnn_core.__all__


def test_import_is_numpy_only():
    code = (
        "import sys, rnn_core; "
        "bad = [m for m in ('matplotlib', 'ipywidgets', 'IPython', 'torch') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _is_named(cache):
    return hasattr(cache, "_fields") or hasattr(cache, "__dataclass_fields__")


def _cases(rng):
    """(name, forward-output, cache, backward callable, upstream gradients) for every backward."""
    N, T, D, H, V = 2, 3, 4, 5, 6
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    cases = []
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    out, c = rnn_core.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    cases.append(
        ("rnn_step_backward", c, rnn_core.rnn_step_backward, [rng.standard_normal(out.shape)])
    )
    out, c = rnn_core.rnn_forward(x, h0, Wx, Wh, b)
    cases.append(("rnn_backward", c, rnn_core.rnn_backward, [rng.standard_normal(out.shape)]))
    Wx4, Wh4 = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H))
    b4 = rng.standard_normal(4 * H)
    hh, cc, c = rnn_core.lstm_step_forward(x[:, 0], h0, h0 * 0.5, Wx4, Wh4, b4)
    ups = [rng.standard_normal(hh.shape), rng.standard_normal(cc.shape)]
    cases.append(("lstm_step_backward", c, rnn_core.lstm_step_backward, ups))
    out, c = rnn_core.lstm_forward(x, h0, Wx4, Wh4, b4, c0=h0 * 0.3)
    cases.append(("lstm_backward", c, rnn_core.lstm_backward, [rng.standard_normal(out.shape)]))
    ups = [rng.standard_normal(out.shape), rng.standard_normal(out.shape)]
    cases.append(
        (
            "lstm_backward_with_cells",
            c,
            lambda dh, dc, cache: rnn_core.lstm_backward_with_cells(dh, cache, dc),
            ups,
        )
    )
    ids = rng.integers(0, V, size=(N, T))
    out, c = rnn_core.word_embedding_forward(ids, rng.standard_normal((V, D)))
    cases.append(
        (
            "word_embedding_backward",
            c,
            rnn_core.word_embedding_backward,
            [rng.standard_normal(out.shape)],
        )
    )
    out, c = rnn_core.temporal_affine_forward(
        x, rng.standard_normal((D, V)), rng.standard_normal(V)
    )
    cases.append(
        (
            "temporal_affine_backward",
            c,
            rnn_core.temporal_affine_backward,
            [rng.standard_normal(out.shape)],
        )
    )
    out, c = rnn_core.affine_forward(h0, rng.standard_normal((H, V)), rng.standard_normal(V))
    cases.append(("affine_backward", c, rnn_core.affine_backward, [rng.standard_normal(out.shape)]))
    return cases


def _arrays(cache):
    return {k: v for k, v in cache._asdict().items() if isinstance(v, np.ndarray)}


def test_caches_are_named_types():
    for name, cache, _, _ in _cases(np.random.default_rng(0)):
        assert _is_named(cache), name
        assert type(cache) is not tuple, name


def test_backward_functions_do_not_modify_their_inputs():
    for name, cache, backward, ups in _cases(np.random.default_rng(1)):
        ups_before = [u.copy() for u in ups]
        cache_before = {k: v.copy() for k, v in _arrays(cache).items()}
        first = backward(*ups, cache)
        for u, u0 in zip(ups, ups_before, strict=True):
            np.testing.assert_array_equal(u, u0, err_msg=f"{name} modified its upstream gradient")
        for k, v in _arrays(cache).items():
            np.testing.assert_array_equal(v, cache_before[k], err_msg=f"{name} modified cache.{k}")
        # and a second call gives the same answer
        second = backward(*ups, cache)
        for p, q in (
            zip(first, second, strict=True) if isinstance(first, tuple) else [(first, second)]
        ):
            np.testing.assert_array_equal(p, q, err_msg=name)


def test_losses_do_not_modify_their_inputs():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 4, size=(2, 3))
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)
    copies = (x.copy(), y.copy(), mask.copy())
    rnn_core.temporal_softmax_loss(x, y, mask)
    for a, b in zip((x, y, mask), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    x2 = rng.standard_normal((3, 4))
    x2c = x2.copy()
    rnn_core.softmax_loss(x2, np.array([0, 1, 2]))
    np.testing.assert_array_equal(x2, x2c)
