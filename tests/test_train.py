"""Training loops: history records, clipping flags, batch sources, truncated BPTT."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from rnn_core.clipping import global_norm
from rnn_core.gradcheck import eval_numerical_gradient, rel_error
from rnn_core.models import LanguageModel
from rnn_core.optim import SGD, Adam
from rnn_core.train import History, tbptt_pass, train, train_tbptt


class Recorder:
    """An optimiser that records the gradients it is given and changes nothing."""

    def __init__(self) -> None:
        self.lr = 0.0
        self.grads: list[dict[str, np.ndarray]] = []

    def step(self, params, grads):
        self.grads.append({k: g.copy() for k, g in grads.items()})


class StateSpy:
    """Wraps a model's loss_stateful and records the incoming and outgoing states."""

    def __init__(self, model) -> None:
        self.model = model
        self.params = model.params
        self.state_in: list = []
        self.state_out: list = []

    def loss_stateful(self, x, y, state, mask=None):
        loss, grads, final = self.model.loss_stateful(x, y, state, mask=mask)
        self.state_in.append(state)
        self.state_out.append(final)
        return loss, grads, final


class Quadratic:
    """loss = 0.5 * |w - x|^2, grads = w - x: a model whose gradient size the batch sets."""

    def __init__(self) -> None:
        self.params = {"w": np.zeros(3)}

    def loss(self, x):
        d = self.params["w"] - x
        return 0.5 * float(d @ d), {"w": d}


def _stream(N=2, L=13, V=5, seed=0):
    return np.random.default_rng(seed).integers(0, V, (N, L))


# ---------------------------------------------------------------- train


def test_train_reduces_loss_and_records_history():
    data = _stream(L=9)
    m = LanguageModel(5, 4, 8, cell="lstm", rng=0)
    h = train(m, (data[:, :-1], data[:, 1:]), Adam(0.05), 40, progress=False)
    assert isinstance(h, History) and len(h) == 40 and h.stopped is None
    assert len(h.grad_norm) == len(h.clipped) == len(h.lr) == 40
    assert h.loss[-1] < 0.2 * h.loss[0]
    assert h.clipped == [False] * 40
    a = h.arrays()
    assert a["clipped"].dtype == bool and a["loss"].shape == (40,)
    assert np.all(a["lr"] == 0.05)


def test_history_grad_norm_is_before_clipping_and_flags_match():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(3) * s for s in (0.1, 5.0, 0.5, 10.0, 1.0, 3.0)]
    model, rec = Quadratic(), Recorder()
    max_norm = 2.0
    h = train(model, [(x,) for x in xs], rec, 6, clip=max_norm, progress=False)
    true_norms = [float(np.linalg.norm(x)) for x in xs]  # w stays 0 (lr 0): grad = -x
    np.testing.assert_allclose(h.grad_norm, true_norms, rtol=1e-14)
    assert h.clipped == [n > max_norm for n in true_norms]
    assert any(h.clipped) and not all(h.clipped)
    for n, g, was in zip(true_norms, rec.grads, h.clipped, strict=True):
        got = global_norm(g)
        if was:
            assert got == pytest.approx(max_norm, rel=1e-5)
        else:
            assert got == pytest.approx(n, rel=1e-14)


def test_clip_flags_on_a_language_model():
    m = LanguageModel(5, 4, 8, cell="rnn", rng=0)

    def batches(rng):
        d = rng.integers(0, 5, (2, 9))
        return d[:, :-1], d[:, 1:]

    h0 = train(copy.deepcopy(m), batches, SGD(0.1), 12, rng=1, progress=False)
    max_norm = float(np.median(h0.grad_norm))
    h = train(m, batches, SGD(0.1), 12, clip=max_norm, rng=1, progress=False)
    assert h.clipped == [n > max_norm for n in h.grad_norm]
    assert h.loss[0] == h0.loss[0]  # same seed, same first batch
    assert any(h.clipped) and not all(h.clipped)


def test_clip_by_value():
    model, rec = Quadratic(), Recorder()
    xs = [(np.array([0.1, -0.2, 0.3]),), (np.array([5.0, -0.1, 0.0]),)]
    h = train(model, xs, rec, 2, clip=1.0, clip_mode="value", progress=False)
    assert h.clipped == [False, True]
    np.testing.assert_array_equal(rec.grads[1]["w"], [-1.0, 0.1, 0.0])
    assert h.grad_norm[1] == pytest.approx(np.linalg.norm([5.0, -0.1]), rel=1e-14)


def test_batch_sources():
    model, rec = Quadratic(), Recorder()
    xs = [(np.full(3, float(i)),) for i in range(3)]
    h = train(model, xs, rec, 5, progress=False)  # a list is cycled
    np.testing.assert_allclose(h.loss, [0.5 * 3 * i**2 for i in (0, 1, 2, 0, 1)])
    with pytest.raises(ValueError, match="train: the batch iterator ran out"):
        train(model, iter(xs), rec, 5, progress=False)
    h = train(model, {"x": np.ones(3)}, rec, 2, progress=False)  # one batch of keywords
    assert h.loss == [1.5, 1.5]
    h1 = train(model, lambda rng: (rng.standard_normal(3),), rec, 3, rng=4, progress=False)
    h2 = train(model, lambda rng: (rng.standard_normal(3),), rec, 3, rng=4, progress=False)
    assert h1.loss == h2.loss and len(set(h1.loss)) == 3
    with pytest.raises(TypeError, match="train: rng must be"):
        train(model, lambda rng: (rng.standard_normal(3),), rec, 1, progress=False)


def test_lr_schedule_is_applied_and_recorded():
    model = Quadratic()
    opt = SGD(1.0)
    h = train(model, (np.ones(3),), opt, 3, lr_schedule=lambda i: 0.5**i, progress=False)
    assert h.lr == [1.0, 0.5, 0.25]
    # w: 0 -> 1 (lr 1 on grad -1) -> stays 1
    np.testing.assert_allclose(model.params["w"], 1.0)


def test_non_finite_loss_stops_without_update():
    class Exploding(Quadratic):
        def loss(self, x):
            loss, g = super().loss(x)
            return (np.inf, g) if x[0] > 100 else (loss, g)

    model = Exploding()
    h = train(model, [(np.ones(3),), (np.full(3, 1e3),), (np.ones(3),)], SGD(0.5), 3,
              progress=False)
    assert len(h) == 2 and h.loss[1] == np.inf
    assert "non-finite loss" in h.stopped and "step 1" in h.stopped
    np.testing.assert_allclose(model.params["w"], 0.5)  # only the first update happened


def test_progress_bar_runs():
    model = Quadratic()
    h = train(model, (np.ones(3),), SGD(0.1), 3, progress=True)
    assert len(h) == 3


def test_train_bad_arguments():
    model = Quadratic()
    with pytest.raises(ValueError, match="train: clip_mode must be one of"):
        train(model, (np.ones(3),), SGD(), 1, clip=1.0, clip_mode="max", progress=False)
    with pytest.raises(ValueError, match="train: clip must be a finite number > 0"):
        train(model, (np.ones(3),), SGD(), 1, clip=-1.0, progress=False)
    with pytest.raises(ValueError, match="train: steps must be >= 0"):
        train(model, (np.ones(3),), SGD(), -2, progress=False)
    with pytest.raises(TypeError, match="train: optimizer must have a step"):
        train(model, (np.ones(3),), object(), 1, progress=False)
    with pytest.raises(TypeError, match="train: batches must be"):
        train(model, 3, SGD(), 1, progress=False)
    with pytest.raises(TypeError, match="each batch must be a tuple"):
        train(model, [np.ones(3)], SGD(), 1, progress=False)


# ---------------------------------------------------------------- truncated BPTT


def _chunks(data, k):
    """(x, y) of every chunk of k steps of a stream (N, L), written out for the tests."""
    L = data.shape[1]
    return [(data[:, s : min(s + k, L - 1)], data[:, s + 1 : min(s + k, L - 1) + 1])
            for s in range(0, L - 1, k)]


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("k", [1, 3, 4, 9])
def test_tbptt_pass_is_a_sequence_of_loss_stateful_calls_and_updates(cell, k):
    """tbptt_pass = for every chunk of k steps: loss_stateful from the carried state, then one
    optimizer step; chunk losses before each update; the final state returned. Compared with the
    same calls unrolled by hand (and a mask, a given initial state, momentum so that every
    update depends on the ones before)."""
    rng = np.random.default_rng(k)
    x, y = rng.integers(0, 5, (3, 9)), rng.integers(0, 5, (3, 9))
    mask = rng.random((3, 9)) < 0.7
    a = LanguageModel(5, 3, 4, cell=cell, num_layers=2, rng=0)
    b = copy.deepcopy(a)
    state0 = a.loss_stateful(x[:, :2], y[:, :2], None)[2]  # a nonzero initial state
    losses, final = tbptt_pass(a, x, y, k, SGD(0.3, momentum=0.5), mask=mask, state=state0)
    opt, state, want = SGD(0.3, momentum=0.5), state0, []
    starts = list(range(0, 9, k))
    for s in starts:
        c = slice(s, s + k)
        loss, grads, state = b.loss_stateful(x[:, c], y[:, c], state, mask=mask[:, c])
        want.append(loss)
        opt.step(b.params, grads)
    assert len(losses) == len(starts) == -(-9 // k)
    assert losses == want
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    for got, exp in zip(final, state, strict=True):
        np.testing.assert_array_equal(got.h, exp.h)
        if cell == "lstm":
            np.testing.assert_array_equal(got.c, exp.c)
    fresh = LanguageModel(5, 3, 4, cell=cell, num_layers=2, rng=0)
    assert not np.array_equal(a.params["Wh0"], fresh.params["Wh0"])  # the parameters moved


def test_tbptt_pass_gradients_are_numeric_gradients_of_each_chunk():
    """Each update receives the gradient of its chunk's loss with the incoming state held fixed."""
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 5, (2, 7)), rng.integers(0, 5, (2, 7))
    m = LanguageModel(5, 2, 3, cell="lstm", rng=0)
    rec = Recorder()
    losses, _ = tbptt_pass(m, x, y, 3, rec)  # chunks of 3, 3, 1; nothing moves
    assert len(rec.grads) == len(losses) == 3
    state = None
    for s, got in zip((0, 3, 6), rec.grads, strict=True):
        c = slice(s, s + 3)
        for name, p in m.params.items():
            num = eval_numerical_gradient(
                lambda _p, c=c, st=state: m.loss_stateful(x[:, c], y[:, c], st)[0], p
            )
            assert rel_error(got[name], num) < 1e-7, name
        state = m.loss_stateful(x[:, c], y[:, c], state)[2]


def test_tbptt_pass_bad_arguments():
    m = LanguageModel(5, 3, 4, rng=0)
    x = np.zeros((2, 6), dtype=int)
    with pytest.raises(TypeError, match="tbptt_pass: model must have loss_stateful"):
        tbptt_pass(Quadratic(), x, x, 2, SGD())
    with pytest.raises(ValueError, match="tbptt_pass: k must be >= 1"):
        tbptt_pass(m, x, x, 0, SGD())
    with pytest.raises(ValueError, match="tbptt_pass: y"):
        tbptt_pass(m, x, x[:, :-1], 2, SGD())
    with pytest.raises(TypeError, match="tbptt_pass: mask must be a bool array"):
        tbptt_pass(m, x, x, 2, SGD(), mask=np.full((2, 6), 2))
    with pytest.raises(TypeError, match="tbptt_pass: optimizer must have a step"):
        tbptt_pass(m, x, x, 2, object())


@pytest.mark.parametrize("cell,layers", [("rnn", 2), ("lstm", 1), ("lstm", 2)])
@pytest.mark.parametrize("k", [12, 50])
def test_tbptt_with_full_chunk_equals_full_bptt(cell, layers, k):
    data = _stream(L=13)
    a = LanguageModel(5, 3, 4, cell=cell, num_layers=layers, rng=0)
    b = copy.deepcopy(a)
    ha = train_tbptt(a, data, k, SGD(0.3, momentum=0.5), epochs=3, progress=False)
    hb = train(b, (data[:, :-1], data[:, 1:]), SGD(0.3, momentum=0.5), 3, progress=False)
    assert ha.loss == hb.loss and ha.grad_norm == hb.grad_norm
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_tbptt_chunk_gradient_treats_incoming_state_as_constant(cell):
    data = _stream(L=8)
    m = LanguageModel(5, 2, 2, cell=cell, num_layers=2, rng=0)
    rec = Recorder()
    train_tbptt(m, data, 4, rec, progress=False)  # chunks of 4 and 3 steps; lr 0
    chunks = _chunks(data, 4)
    assert len(rec.grads) == 2
    state = None
    for (x, y), got in zip(chunks, rec.grads, strict=True):
        const = state  # the incoming state, held fixed while differentiating
        for name, p in m.params.items():
            num = eval_numerical_gradient(
                lambda _p, x=x, y=y, c=const: m.loss_stateful(x, y, c)[0], p
            )
            assert rel_error(got[name], num) < 1e-7, name
        state = m.loss_stateful(x, y, state)[2]
    # truncation really happened: the chunk gradients do not add up to the full-BPTT gradient
    _, full = m.loss(data[:, :-1], data[:, 1:])
    total = {k: sum(g[k] for g in rec.grads) for k in full}
    assert rel_error(total["Wh0"], full["Wh0"]) > 1e-4


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_tbptt_carries_the_state(cell):
    data = _stream(L=14)
    m = LanguageModel(5, 3, 4, cell=cell, num_layers=2, rng=1)
    spy = StateSpy(m)
    h = train_tbptt(spy, data, 4, Recorder(), epochs=2, progress=False)
    n = len(_chunks(data, 4))
    assert len(h) == 2 * n == len(spy.state_in)
    assert spy.state_in[0] is None and spy.state_in[n] is None  # reset at each epoch
    for i in range(n - 1):
        assert spy.state_in[i + 1] is spy.state_out[i]
    # the carried state is the state of one uninterrupted pass over the stream
    _, _, final = m.loss_stateful(data[:, :-1], data[:, 1:], None)
    for a, b in zip(spy.state_out[n - 1], final, strict=True):
        np.testing.assert_allclose(a.h, b.h, rtol=1e-13, atol=1e-15)
        if cell == "lstm":
            np.testing.assert_allclose(a.c, b.c, rtol=1e-13, atol=1e-15)
    # and the chunk losses add up to the full-sequence loss
    assert sum(h.loss[:n]) == pytest.approx(m.loss(data[:, :-1], data[:, 1:])[0], rel=1e-12)


def test_tbptt_learns_and_clips():
    data = np.tile(np.array([[1, 2, 3, 4, 0]]), (2, 6))  # a periodic stream, (2, 30)
    m = LanguageModel(5, 4, 8, cell="lstm", rng=0)
    h = train_tbptt(m, data, 5, Adam(0.05), epochs=15, clip=1.0, progress=False)
    assert h.clipped == [n > 1.0 for n in h.grad_norm]
    per_step = np.array(h.loss) / 5
    assert per_step[-6:].mean() < 0.1 < per_step[0]


def test_tbptt_bad_arguments():
    with pytest.raises(TypeError, match="train_tbptt: model must have loss_stateful"):
        train_tbptt(Quadratic(), _stream(), 3, SGD(), progress=False)
    m = LanguageModel(5, 3, 4, rng=0)
    with pytest.raises(ValueError, match="train_tbptt: k must be >= 1"):
        train_tbptt(m, _stream(), 0, SGD(), progress=False)
    with pytest.raises(ValueError, match="train_tbptt: data must have L >= 2"):
        train_tbptt(m, _stream()[:, :1], 2, SGD(), progress=False)
    with pytest.raises(ValueError, match="train_tbptt: epochs must be >= 0"):
        train_tbptt(m, _stream(), 2, SGD(), epochs=-1, progress=False)
