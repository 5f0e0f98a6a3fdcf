"""The four sequence models and the stacked recurrent block: gradients, overfitting, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from rnn_core.models import (
    Captioner,
    LanguageModel,
    LayerState,
    RecurrentStack,
    Seq2Seq,
    SequenceClassifier,
)
from rnn_core.optim import SGD, Adam

TOL = 1e-7
CELLS_LAYERS = [("rnn", 1), ("rnn", 2), ("lstm", 1), ("lstm", 2)]


def assert_full_gradient(model, *args):
    """Every parameter's analytic gradient against centred differences of the loss."""
    _, grads = model.loss(*args)
    assert set(grads) == set(model.params)
    for name, p in model.params.items():
        assert grads[name].shape == p.shape, name
        num = eval_numerical_gradient(lambda _p: model.loss(*args)[0], p)
        assert np.any(num != 0), f"{name}: numeric gradient is zero, the check would be vacuous"
        err = rel_error(grads[name], num)
        assert err < TOL, f"{name}: rel error {err:.2e}"


# ---------------------------------------------------------------- full gradients


@pytest.mark.parametrize("cell,layers", CELLS_LAYERS)
def test_language_model_gradient(cell, layers):
    m = LanguageModel(5, 2, 3, cell=cell, num_layers=layers, rng=1)
    x = np.array([[1, 2, 3], [0, 4, 1]])
    y = np.array([[2, 3, 4], [4, 1, 0]])
    mask = np.array([[True, True, False], [True, True, True]])
    assert_full_gradient(m, x, y, mask)


@pytest.mark.parametrize("cell,layers", CELLS_LAYERS)
def test_language_model_gradient_from_given_state(cell, layers):
    m = LanguageModel(5, 2, 3, cell=cell, num_layers=layers, rng=2)
    rng = np.random.default_rng(0)
    x = np.array([[1, 2], [0, 4]])
    state = tuple(
        LayerState(rng.standard_normal((2, 3)), rng.standard_normal((2, 3)) if cell == "lstm"
                   else None)
        for _ in range(layers)
    )
    assert_full_gradient(m, x, x, None, state)


@pytest.mark.parametrize("cell,layers", CELLS_LAYERS)
def test_classifier_gradient(cell, layers):
    m = SequenceClassifier(2, 3, 3, cell=cell, num_layers=layers, rng=1)
    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    assert_full_gradient(m, x, np.array([0, 2]))


def test_classifier_gradient_with_mask():
    m = SequenceClassifier(2, 3, 3, cell="lstm", num_layers=2, rng=1)
    x = np.random.default_rng(0).standard_normal((2, 4, 2))
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    assert_full_gradient(m, x, np.array([1, 2]), mask)


@pytest.mark.parametrize("cell,layers", CELLS_LAYERS)
def test_captioner_gradient(cell, layers):
    m = Captioner(6, 2, 2, 3, cell=cell, num_layers=layers, rng=1)
    feats = np.random.default_rng(0).standard_normal((2, 2))
    caps = np.array([[1, 3, 4, 2], [1, 5, 2, 0]])
    assert_full_gradient(m, feats, caps)


@pytest.mark.parametrize("cell,layers", CELLS_LAYERS)
def test_seq2seq_gradient_with_padded_source(cell, layers):
    m = Seq2Seq(5, 5, 2, 2, cell=cell, num_layers=layers, rng=1)
    src = np.array([[3, 4, 1], [0, 2, 0]])  # padding at the end and in front
    tgt = np.array([[1, 3, 2], [1, 2, 0]])
    assert_full_gradient(m, src, tgt)
    # padding never reaches the encoder state, so the <NULL> embedding gets no gradient
    _, grads = m.loss(src, tgt)
    np.testing.assert_array_equal(grads["enc_W_embed"][0], 0.0)


@pytest.mark.parametrize("cell,layers", CELLS_LAYERS)
def test_seq2seq_feeding_the_context_to_every_step(cell, layers):
    """feed_context: the decoder reads the encoder's final top-layer h at every step through
    dec_W_ih; the gradient reaches the encoder through that path too (numeric check)."""
    m = Seq2Seq(5, 5, 2, 3, cell=cell, num_layers=layers, rng=1, feed_context=True)
    assert m.params["dec_W_ih"].shape == (3, m.decoder.gate_width)
    for name in ("enc_W_embed", "enc_Wx0"):  # a larger context: W_ih's gradient well above
        m.params[name] *= 3.0                # the finite differences' rounding error
    src = np.array([[3, 4, 1], [0, 2, 0]])
    tgt = np.array([[1, 3, 2], [1, 2, 0]])
    assert_full_gradient(m, src, tgt)
    # the context is used: without W_ih the decoder's scores change
    state, _, _ = m.encode(src)
    p = m.params
    h, _ = m.decoder.forward(p, p["dec_W_embed"][tgt[:, :-1]], state, static=m.context(state))
    np.testing.assert_array_equal(m.context(state), state[-1].h)
    m.params["dec_W_ih"][:] = 0.0
    h0, _ = m.decoder.forward(p, p["dec_W_embed"][tgt[:, :-1]], state, static=m.context(state))
    assert np.abs(h - h0).max() > 1e-3
    with pytest.raises(TypeError, match="Seq2Seq: feed_context must be True or False"):
        Seq2Seq(5, 5, 2, 3, rng=0, feed_context=1)
    assert Seq2Seq(5, 5, 2, 3, rng=0).context(state) is None


# ---------------------------------------------------------------- the stacked block


@pytest.mark.parametrize("masked", [False, True], ids=["sequence-path", "step-path"])
@pytest.mark.parametrize("cell,layers", CELLS_LAYERS)
def test_stack_backward_inputs_state_and_static(cell, layers, masked):
    """dx, d(initial state), d(static) and the final-state gradient path, with/without a mask."""
    rng = np.random.default_rng(3)
    N, T, D, H, F = 2, 3, 2, 3, 2
    st = RecurrentStack(cell, D, H, layers, prefix="p_", static_dim=F)
    params = st.init_params(rng)
    lstm = cell == "lstm"
    x = rng.standard_normal((N, T, D))
    v = rng.standard_normal((N, F))
    mask = np.array([[True, False, True], [True, True, False]]) if masked else None
    hs = [rng.standard_normal((N, H)) for _ in range(layers)]
    cs = [rng.standard_normal((N, H)) for _ in range(layers)]

    def state():
        return [(hs[l], cs[l] if lstm else None) for l in range(layers)]

    dh = rng.standard_normal((N, T, H))
    dfh = [rng.standard_normal((N, H)) for _ in range(layers)]
    dfc = [rng.standard_normal((N, H)) for _ in range(layers)]
    dfinal = [(dfh[l], dfc[l] if lstm else None) for l in range(layers)]

    def scalar(_z=None):
        h, cache = st.forward(params, x, state(), mask, v)
        out = np.sum(h * dh)
        for l, fs in enumerate(cache.final_state):
            out += np.sum(fs.h * dfh[l]) + (np.sum(fs.c * dfc[l]) if lstm else 0.0)
        return out

    h, cache = st.forward(params, x, state(), mask, v)
    g = st.backward(dh, cache, dfinal)
    checks = {"x": (x, g.dx), "static": (v, g.dstatic)}
    for l in range(layers):
        checks[f"h0[{l}]"] = (hs[l], g.dstate[l].h)
        if lstm:
            checks[f"c0[{l}]"] = (cs[l], g.dstate[l].c)
    for k in params:
        checks[k] = (params[k], g.grads[k])
    assert set(g.grads) == set(params)
    for name, (arr, ana) in checks.items():
        num = eval_numerical_gradient(scalar, arr)
        assert rel_error(ana, num) < TOL, name


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_sequence_path_equals_step_path(cell):
    """No mask runs the sequence functions, an all-True mask the step functions: same numbers."""
    rng = np.random.default_rng(0)
    st = RecurrentStack(cell, 2, 3, 2, static_dim=2)
    params = st.init_params(rng)
    x, v = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 2))
    h1, c1 = st.forward(params, x, static=v)
    h2, c2 = st.forward(params, x, mask=np.ones((2, 4), dtype=bool), static=v)
    assert c1.fast and not c2.fast
    np.testing.assert_allclose(h1, h2, rtol=1e-13, atol=1e-15)
    dh = rng.standard_normal(h1.shape)
    g1, g2 = st.backward(dh, c1), st.backward(dh, c2)
    np.testing.assert_allclose(g1.dx, g2.dx, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g1.dstatic, g2.dstatic, rtol=1e-12, atol=1e-15)
    for k in params:
        np.testing.assert_allclose(g1.grads[k], g2.grads[k], rtol=1e-12, atol=1e-15)


def test_stack_mask_carries_state_through():
    rng = np.random.default_rng(0)
    st = RecurrentStack("lstm", 2, 3, 2)
    params = st.init_params(rng)
    x = rng.standard_normal((1, 4, 2))
    mask = np.array([[True, False, True, False]])
    h, cache = st.forward(params, x, mask=mask)
    np.testing.assert_array_equal(h[:, 1], h[:, 0])
    np.testing.assert_array_equal(h[:, 3], h[:, 2])
    # same final state as running only the unmasked steps
    _, ref = st.forward(params, x[:, [0, 2]])
    for a, b in zip(cache.final_state, ref.final_state, strict=True):
        np.testing.assert_allclose(a.h, b.h, rtol=0, atol=1e-14)
        np.testing.assert_allclose(a.c, b.c, rtol=0, atol=1e-14)


def test_stack_backward_does_not_modify_inputs():
    rng = np.random.default_rng(0)
    st = RecurrentStack("rnn", 2, 3, 2)
    params = st.init_params(rng)
    x = rng.standard_normal((2, 3, 2))
    h, cache = st.forward(params, x, mask=np.array([[1, 1, 0], [1, 0, 1]], dtype=bool))
    dh = rng.standard_normal(h.shape)
    dh_copy = dh.copy()
    st.backward(dh, cache)
    np.testing.assert_array_equal(dh, dh_copy)


def test_seq2seq_padding_does_not_change_the_encoder_state():
    m = Seq2Seq(6, 6, 3, 4, cell="lstm", num_layers=2, rng=0)
    short = np.array([[3, 4]])
    padded = np.array([[3, 4, 0, 0, 0]])
    s1, _, _ = m.encode(short)
    s2, _, _ = m.encode(padded)
    for a, b in zip(s1, s2, strict=True):
        np.testing.assert_array_equal(a.h, b.h)
        np.testing.assert_array_equal(a.c, b.c)
    tgt = np.array([[1, 3, 2]])
    assert m.loss(short, tgt)[0] == m.loss(padded, tgt)[0]


def test_captioner_image_enters_every_step():
    """The v W_ih term is in every step's pre-activation: changing v changes step 1 even when
    the first step's contribution is removed."""
    m = Captioner(5, 2, 2, 3, cell="rnn", rng=0)
    p = m.params
    v = np.array([[1.0, -2.0]])
    caps = np.array([[1, 3, 4]])
    emb = p["W_embed"][caps[:, :-1]]
    h, _ = m.stack.forward(p, emb, static=v)
    h1 = np.tanh(emb[:, 0] @ p["Wx0"] + v @ p["W_ih"] + p["b0"])
    h2 = np.tanh(emb[:, 1] @ p["Wx0"] + h1 @ p["Wh0"] + v @ p["W_ih"] + p["b0"])
    np.testing.assert_allclose(h[:, 0], h1, rtol=1e-14)
    np.testing.assert_allclose(h[:, 1], h2, rtol=1e-14)


# ---------------------------------------------------------------- overfitting

OVERFIT = 0.05  # loss threshold (nats, summed over steps, batch mean) after a few hundred steps


def _fit(model, args, steps, lr):
    opt = Adam(lr)
    for _ in range(steps):
        loss, grads = model.loss(*args)
        opt.step(model.params, grads)
    return model.loss(*args)[0]


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_language_model_overfits(cell):
    seq = np.array([[1, 2, 3, 4, 0, 3, 2, 1, 4]])
    m = LanguageModel(5, 8, 16, cell=cell, rng=0)
    assert m.loss(seq[:, :-1], seq[:, 1:])[0] > 5
    assert _fit(m, (seq[:, :-1], seq[:, 1:]), 150, 0.05) < OVERFIT


def test_classifier_overfits():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5, 3))
    y = np.arange(8) % 3
    m = SequenceClassifier(3, 16, 3, cell="lstm", num_layers=2, rng=0)
    assert _fit(m, (x, y), 150, 0.05) < OVERFIT
    np.testing.assert_array_equal(m.predict(x), y)


@pytest.fixture(scope="module")
def fitted_captioner():
    feats = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5], [-1.0, -1.0, 0.0]])
    caps = np.array([[1, 3, 4, 5, 2], [1, 6, 2, 0, 0], [1, 2, 0, 0, 0]])
    m = Captioner(7, 3, 8, 16, cell="lstm", rng=0)
    final = _fit(m, (feats, caps), 150, 0.05)
    return m, feats, caps, final


def test_captioner_overfits(fitted_captioner):
    assert fitted_captioner[3] < OVERFIT


def test_captioner_sampling_stops_at_end_per_sample(fitted_captioner):
    m, feats, caps, _ = fitted_captioner
    tokens, lengths = m.sample(feats, max_length=6)
    assert tokens.shape == (3, 6)
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    np.testing.assert_array_equal(tokens[0], [3, 4, 5, 2, 0, 0])
    np.testing.assert_array_equal(tokens[1], [6, 2, 0, 0, 0, 0])
    np.testing.assert_array_equal(tokens[2], [2, 0, 0, 0, 0, 0])
    # max_length cuts the caption; no <END> then, length = max_length
    tokens, lengths = m.sample(feats, max_length=2)
    np.testing.assert_array_equal(tokens, [[3, 4], [6, 2], [2, 0]])
    np.testing.assert_array_equal(lengths, [2, 1, 0])


def test_seq2seq_overfits_and_translates():
    src = np.array([[3, 4, 5], [5, 3, 0], [4, 0, 0]])
    tgt = np.array([[1, 5, 4, 3, 2], [1, 3, 5, 2, 0], [1, 4, 2, 0, 0]])  # reversal
    m = Seq2Seq(6, 6, 8, 16, cell="lstm", rng=0)
    assert _fit(m, (src, tgt), 150, 0.05) < OVERFIT
    tokens, lengths = m.translate(src, max_length=5)
    np.testing.assert_array_equal(lengths, [3, 2, 1])
    for n in range(3):
        np.testing.assert_array_equal(tokens[n, : lengths[n] + 1], tgt[n, 1 : lengths[n] + 2])


def test_greedy_decoding_respects_max_length_without_end():
    m = Captioner(5, 2, 2, 3, cell="rnn", rng=0)
    m.params["b_vocab"][:] = [0, 0, -50, 50, 0]  # word 3 always wins, <END> never comes
    tokens, lengths = m.sample(np.zeros((2, 2)), max_length=4)
    np.testing.assert_array_equal(tokens, 3)
    np.testing.assert_array_equal(lengths, 4)


# ---------------------------------------------------------------- sampling, determinism


def test_language_model_sampling_is_deterministic_and_feeds_back():
    m = LanguageModel(6, 4, 5, cell="lstm", num_layers=2, rng=3)
    a = m.sample(1, 12, temperature=1.0, rng=7)
    b = m.sample(1, 12, temperature=1.0, rng=np.random.default_rng(7))
    assert a.shape == (12,) and a.dtype.kind == "i"
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, m.sample(1, 12, temperature=1.0, rng=8))
    batch = m.sample(np.array([1, 2, 3]), 5, temperature=0.5, rng=0)
    assert batch.shape == (3, 5) and batch.min() >= 0 and batch.max() < 6
    # greedy: each token is the argmax after feeding the previous one back
    g = m.sample(2, 6, temperature=0)
    seq = np.concatenate([[2], g])[None, :]
    emb = m.params["W_embed"][seq[:, :-1]]
    h, _ = m.stack.forward(m.params, emb)
    np.testing.assert_array_equal(np.argmax(h @ m.params["W_vocab"] + m.params["b_vocab"], -1)[0],
                                  g)


def test_language_model_low_temperature_is_greedy():
    m = LanguageModel(6, 4, 5, cell="rnn", rng=3)
    np.testing.assert_array_equal(m.sample(0, 8, temperature=1e-4, rng=0),
                                  m.sample(0, 8, temperature=0))


@pytest.mark.parametrize("make", [
    lambda s: LanguageModel(5, 3, 4, cell="lstm", num_layers=2, rng=s),
    lambda s: SequenceClassifier(3, 4, 2, cell="rnn", num_layers=2, rng=s),
    lambda s: Captioner(5, 2, 3, 4, cell="lstm", rng=s),
    lambda s: Seq2Seq(5, 6, 3, 4, cell="rnn", num_layers=2, rng=np.random.default_rng(s)),
])
def test_same_seed_same_params(make):
    a, b, c = make(5), make(5), make(6)
    assert list(a.params) == list(b.params)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        assert a.params[k].dtype == np.float64
    assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params)


def test_parameter_names_and_shapes():
    m = Seq2Seq(7, 9, 3, 4, cell="lstm", num_layers=2, rng=0)
    assert m.params["enc_Wx0"].shape == (3, 16)
    assert m.params["enc_Wh1"].shape == (4, 16)
    assert m.params["dec_Wx1"].shape == (4, 16)
    assert m.params["enc_W_embed"].shape == (7, 3)
    assert m.params["dec_W_vocab"].shape == (4, 9)
    assert m.params["enc_b0"][4:8].tolist() == [1.0] * 4  # forget-gate bias
    c = Captioner(5, 6, 3, 4, cell="rnn", rng=0)
    assert c.params["W_ih"].shape == (6, 4)
    assert "W_ih" not in LanguageModel(5, 3, 4, cell="rnn", rng=0).params


def test_identity_and_orthogonal_init():
    m = LanguageModel(5, 3, 4, cell="lstm", num_layers=2, rng=0, init="identity")
    np.testing.assert_array_equal(m.params["Wh1"], np.hstack([np.eye(4)] * 4))
    m = SequenceClassifier(3, 4, 2, cell="rnn", rng=0, init="orthogonal")
    np.testing.assert_allclose(m.params["Wh0"] @ m.params["Wh0"].T, np.eye(4), atol=1e-12)


def test_float32_option():
    m = LanguageModel(5, 3, 4, cell="lstm", rng=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in m.params.values())
    x = np.array([[1, 2, 3]])
    loss, grads = m.loss(x, x)
    assert np.isfinite(loss)
    assert all(grads[k].dtype == np.float32 for k in grads)


def test_stack_gradient_vs_array_check():
    """The block's output gradient through eval_numerical_gradient_array (vector-Jacobian)."""
    rng = np.random.default_rng(1)
    st = RecurrentStack("lstm", 2, 3, 2)
    params = st.init_params(rng)
    x = rng.standard_normal((2, 3, 2))
    h, cache = st.forward(params, x)
    dh = rng.standard_normal(h.shape)
    num = eval_numerical_gradient_array(lambda z: st.forward(params, z)[0], x, dh)
    assert rel_error(st.backward(dh, cache).dx, num) < TOL


# ---------------------------------------------------------------- errors


def test_clear_errors():
    m = LanguageModel(5, 3, 4, cell="lstm", rng=0)
    x = np.array([[1, 2]])
    with pytest.raises(TypeError, match="LanguageModel.loss: x must be an integer array"):
        m.loss(x.astype(float), x)
    with pytest.raises(ValueError, match=r"x must hold token ids in \[0, 5\)"):
        m.loss(x + 4, x)
    with pytest.raises(ValueError, match="y must have shape"):
        m.loss(x, np.array([[1, 2, 3]]))
    with pytest.raises(ValueError, match="state must be a sequence of 1"):
        m.loss_stateful(x, x, state=[])
    with pytest.raises(ValueError, match="cell must be one of"):
        LanguageModel(5, 3, 4, cell="gru", rng=0)
    with pytest.raises(TypeError, match="rng must be"):
        LanguageModel(5, 3, 4, rng=None)
    with pytest.raises(ValueError, match="num_layers must be >= 1"):
        SequenceClassifier(3, 4, 2, num_layers=0, rng=0)
    with pytest.raises(ValueError, match="unknown initialiser"):
        SequenceClassifier(3, 4, 2, rng=0, init="he")
    c = SequenceClassifier(3, 4, 2, rng=0)
    with pytest.raises(ValueError, match="SequenceClassifier.loss: x must have shape"):
        c.loss(np.zeros((2, 4, 5)), np.array([0, 1]))
    with pytest.raises(ValueError, match="contains NaN"):
        c.predict(np.full((1, 2, 3), np.nan))
    with pytest.raises(ValueError, match=r"y must hold class labels in \[0, 2\)"):
        c.loss(np.zeros((2, 4, 3)), np.array([0, 2]))
    cap = Captioner(5, 2, 3, 4, rng=0)
    with pytest.raises(ValueError, match="Captioner.loss: features must have shape"):
        cap.loss(np.zeros((1, 3)), np.array([[1, 2]]))
    with pytest.raises(ValueError, match="captions must have shape"):
        cap.loss(np.zeros((1, 2)), np.array([[1]]))
    with pytest.raises(ValueError, match="null_id, start_id and end_id must differ"):
        Seq2Seq(5, 5, 2, 2, start_id=0, rng=0)
    s2s = Seq2Seq(5, 5, 2, 2, rng=0)
    with pytest.raises(ValueError, match=r"src must hold token ids in \[0, 5\)"):
        s2s.loss(np.array([[7]]), np.array([[1, 2]]))
    with pytest.raises(TypeError, match="mask must be a bool array"):
        RecurrentStack("rnn", 2, 3).forward(
            RecurrentStack("rnn", 2, 3).init_params(0), np.zeros((1, 2, 2)),
            mask=np.full((1, 2), 0.5),
        )


# ----------------------------------------------------- the LSTM models run on lstm_step_backward
def _stub_code(dnext_h, dnext_c, cache):
    raise NotImplementedError("Exercise lstm_step_backward: implement it in rnn_core/lstm.py "
                              "(notebook 08)")


@pytest.fixture
def release_before_08(monkeypatch):
    """The student release before notebook 08's exercise: no tuned kernel, and the body of
    lstm_step_backward replaced by a stub (in place, as the release does, so every module that
    imported the function gets the stub)."""
    import rnn_core.lstm as lstm_module

    monkeypatch.setattr(lstm_module, "_kernel", None)
    monkeypatch.setattr(lstm_module.lstm_step_backward, "__code__", _stub_code.__code__)


def _lstm_uses():
    """Everything public that needs the LSTM's backward pass, on small inputs."""
    from rnn_core.experiments.lag import train_lag_classifier
    from rnn_core.experiments.stacked import random_stack_gradients
    from rnn_core.experiments.tbptt import lag_chunk_grid, truncated_gradient
    from rnn_core.train import tbptt_pass, train, train_tbptt

    g = np.random.default_rng(0)
    tok = g.integers(3, 7, (2, 5))
    src = tok.copy()
    src[0, :2] = 0  # padding: the encoder's masked (step-by-step) path
    cap = np.concatenate([np.ones((2, 1), int), tok, np.full((2, 1), 2)], axis=1)

    def lm(layers=1):
        return LanguageModel(7, 3, 4, cell="lstm", num_layers=layers, rng=0)

    return {
        "LanguageModel.loss": lambda: lm(2).loss(tok, tok),
        "LanguageModel.loss_stateful": lambda: lm().loss_stateful(tok, tok, None),
        "SequenceClassifier.loss": lambda: SequenceClassifier(3, 4, 2, cell="lstm", rng=0).loss(
            g.standard_normal((2, 5, 3)), np.array([0, 1])),
        "Captioner.loss": lambda: Captioner(7, 3, 3, 4, cell="lstm", rng=0).loss(
            g.standard_normal((2, 3)), cap),
        "Seq2Seq.loss": lambda: Seq2Seq(7, 7, 3, 4, cell="lstm", rng=0).loss(src, cap),
        "Seq2Seq.loss (feed_context)": lambda: Seq2Seq(
            7, 7, 3, 4, cell="lstm", rng=0, feed_context=True).loss(src, cap),
        "train": lambda: train(lm(), (tok, tok), SGD(0.1), 2, progress=False),
        "train_tbptt": lambda: train_tbptt(lm(), tok, 2, SGD(0.1), progress=False),
        "tbptt_pass": lambda: tbptt_pass(lm(), tok, tok, 2, SGD(0.1)),
        "truncated_gradient": lambda: truncated_gradient(lm(), tok, tok, 2),
        "lag_chunk_grid": lambda: lag_chunk_grid((2,), (3,), T=6, iterations=1, batch=2,
                                                 hidden=3, embed=2, cell="lstm", n_test=4,
                                                 rng=0),
        "train_lag_classifier": lambda: train_lag_classifier("lstm", 2, hidden_dim=3, steps=1,
                                                             batch_size=2, n_test=4),
        "random_stack_gradients": lambda: random_stack_gradients("lstm", 2, 4, 0, hidden_dim=3,
                                                                 input_dim=2, N=2),
    }


@pytest.mark.parametrize("name", sorted(_lstm_uses()))
def test_lstm_models_and_experiments_stop_on_a_stubbed_step_backward(name, release_before_08):
    """Layer B runs on Layer A: with lstm_step_backward a stub, every LSTM model, trainer and
    experiment stops with the stub's message instead of computing a gradient some other way."""
    with pytest.raises(NotImplementedError, match="Exercise lstm_step_backward"):
        _lstm_uses()[name]()


def test_stack_gradient_explorer_stops_on_a_stubbed_step_backward(release_before_08):
    from rnn_core.experiments.stacked import _maps, stack_gradient_maps

    _maps.cache_clear()  # computed values from other tests must not hide the stub
    try:
        with pytest.raises(NotImplementedError, match="Exercise lstm_step_backward"):
            stack_gradient_maps(num_layers=2, T=4)
    finally:
        _maps.cache_clear()


def test_lstm_step_backward_stub_is_what_the_models_call(release_before_08):
    """Forward-only uses still run (they need lstm_step_forward only)."""
    m = LanguageModel(7, 3, 4, cell="lstm", rng=0)
    assert m.sample(3, 4, rng=0).shape == (4,)


def _stub_forward_code(x, prev_h, prev_c, Wx, Wh, b):
    raise NotImplementedError("Exercise lstm_step_forward: implement it in rnn_core/lstm.py "
                              "(notebook 08)")


@pytest.fixture
def release_before_08_forward(monkeypatch):
    import rnn_core.lstm as lstm_module

    monkeypatch.setattr(lstm_module, "_kernel", None)
    monkeypatch.setattr(lstm_module.lstm_step_forward, "__code__", _stub_forward_code.__code__)


def test_lstm_forward_uses_stop_on_a_stubbed_step_forward(release_before_08_forward):
    from rnn_core.experiments.tbptt import bptt_cache_memory

    src = np.array([[0, 3, 4], [5, 6, 3]])
    uses = [
        lambda: LanguageModel(7, 3, 4, cell="lstm", rng=0).sample(3, 4, rng=0),
        lambda: Seq2Seq(7, 7, 3, 4, cell="lstm", rng=0).translate(src, max_length=3),
        lambda: bptt_cache_memory([2], N=1, D=2, H=3, cell="lstm", rng=0),
    ]
    for use in uses:
        with pytest.raises(NotImplementedError, match="Exercise lstm_step_forward"):
            use()


def test_highway_explorer_runs_on_lstm_step_forward(release_before_08_forward):
    from rnn_core.analysis.explore import _lstm_highway

    _lstm_highway.cache_clear()
    try:
        with pytest.raises(NotImplementedError, match="Exercise lstm_step_forward"):
            _lstm_highway(1.0, 5, 3, 0)
    finally:
        _lstm_highway.cache_clear()


def test_one_mask_rule_everywhere():
    """_validate.check_mask is the only mask check: 0/1 ints mean the bool mask, 0.5 is refused."""
    from rnn_core.experiments.untied import UntiedRNNClassifier
    from rnn_core.layers import temporal_softmax_loss
    from rnn_core.optim import SGD
    from rnn_core.train import tbptt_pass

    g = np.random.default_rng(0)
    mask = g.random((3, 4)) > 0.3
    stack = RecurrentStack("rnn", 2, 3)
    p = stack.init_params(0)
    x = g.normal(size=(3, 4, 2))
    lm = LanguageModel(5, 3, 4, rng=0)
    tok = g.integers(0, 5, (3, 4))
    untied = UntiedRNNClassifier(2, 3, 2, 4, rng=0)
    uses = {
        "RecurrentStack.forward": lambda m: stack.forward(p, x, mask=m)[0],
        "temporal_softmax_loss": lambda m: temporal_softmax_loss(
            g.normal(size=(3, 4, 5)) * 0 + 1.0, tok, m)[1],
        "LanguageModel.loss": lambda m: lm.loss(tok, tok, m)[0],
        "UntiedRNNClassifier.loss": lambda m: untied.loss(x, np.array([0, 1, 0]), m)[0],
        "tbptt_pass": lambda m: tbptt_pass(LanguageModel(5, 3, 4, rng=0), tok, tok, 2,
                                           SGD(0.1), mask=m)[0],
    }
    for name, use in uses.items():
        np.testing.assert_array_equal(use(mask), use(mask.astype(np.int64)), err_msg=name)
        np.testing.assert_array_equal(use(mask), use(mask.astype(np.float64)), err_msg=name)
        with pytest.raises(TypeError, match=rf"{name}: mask must be a bool array \(or 0/1"):
            use(np.where(mask, 1.0, 0.5))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_language_model_scores_are_what_the_loss_scores(cell):
    from rnn_core.layers import temporal_softmax_loss

    lm = LanguageModel(7, 3, 5, cell=cell, num_layers=2, rng=0)
    g = np.random.default_rng(1)
    x, y = g.integers(0, 7, (2, 6)), g.integers(0, 7, (2, 6))
    s, state = lm.scores(x)
    assert s.shape == (2, 6, 7)
    loss, _ = temporal_softmax_loss(s, y, np.ones((2, 6), bool))
    np.testing.assert_allclose(loss, lm.loss(x, y)[0], rtol=1e-12)
    # the final state continues the sequence: two halves score like the whole
    s1, st1 = lm.scores(x[:, :4])
    s2, _ = lm.scores(x[:, 4:], st1)
    np.testing.assert_allclose(np.concatenate([s1, s2], axis=1), s, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"LanguageModel.scores: x must hold token ids"):
        lm.scores(x + 7)


def test_classifier_forget_bias_sets_every_forget_gate():
    m = SequenceClassifier(2, 4, 3, cell="lstm", num_layers=2, rng=0, forget_bias=2.5)
    for l in range(2):
        np.testing.assert_array_equal(m.params[f"b{l}"][4:8], 2.5)
        assert not m.params[f"b{l}"][:4].any() and not m.params[f"b{l}"][8:].any()
    assert m.num_params == sum(p.size for p in m.params.values())
