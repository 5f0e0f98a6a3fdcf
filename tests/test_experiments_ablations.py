"""The ablations of notebooks 01-04: gradients checked numerically, results that could fail."""

import numpy as np
import pytest

from rnn_core.experiments import ablations as ab
from rnn_core.gradcheck import eval_numerical_gradient, rel_error


def test_nearest_rows_finds_the_parallel_row_and_excludes_itself():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.1], [-1.0, 0.0]])
    idx, cos = ab.nearest_rows(W, k=2)
    assert idx[0, 0] == 2 and idx[2, 0] == 0  # nearly parallel rows pair up
    assert np.all(idx != np.arange(4)[:, None])  # never itself
    assert np.isclose(cos[0, 0], 2 / np.hypot(2, 0.1))
    assert np.all(np.diff(cos, axis=1) <= 0)  # most similar first
    assert idx[3].tolist()[-1] in (0, 2)  # its opposite is least similar


@pytest.mark.parametrize(
    "kwargs, word", [({"k": 4}, "k must"), ({"W": np.zeros((3, 2))}, "all-zero")]
)
def test_nearest_rows_bad_input(kwargs, word):
    args = {"W": np.eye(4), "k": 1, **kwargs}
    with pytest.raises(ValueError, match=word):
        ab.nearest_rows(**args)


def test_image_once_captioner_gradients_match_numeric():
    rng = np.random.default_rng(0)
    m = ab.ImageOnceCaptioner(7, 5, 3, 4, rng=1)
    v = rng.standard_normal((3, 5))
    caps = np.array([[1, 3, 4, 2, 0], [1, 5, 2, 0, 0], [1, 6, 6, 3, 2]])
    _, grads = m.loss(v, caps)
    assert set(grads) == set(m.params)
    for name, p in m.params.items():
        num = eval_numerical_gradient(lambda _p: m.loss(v, caps)[0], p)
        assert np.any(num != 0), name
        assert rel_error(grads[name], num) < 1e-7, name


def test_image_once_captioner_reads_the_image_only_through_h0():
    m = ab.ImageOnceCaptioner(7, 5, 3, 4, rng=1)
    v = np.random.default_rng(1).standard_normal((2, 5))
    tok_a, _ = m.sample(v, max_length=6)
    m.params["W_init"][:] = 0  # cut the only path from the image
    tok_b, _ = m.sample(v, max_length=6)
    assert np.array_equal(tok_b[0], tok_b[1])  # now both images give one caption
    assert tok_a.shape == (2, 6)


def test_caption_exact_match_counts_whole_captions():
    class Fixed:
        def sample(self, features, max_length):
            return np.array([[3, 2, 0], [3, 4, 2]]), np.array([1, 2])

    caps = np.array([[1, 3, 2, 0], [1, 3, 5, 2]])
    assert ab.caption_exact_match(Fixed(), np.zeros((2, 1)), caps) == 0.5


def test_compare_image_entry_runs_both_wirings_on_equal_terms():
    from rnn_core.data import extract_features, shape_images

    train_set, test_set = shape_images(60, 0), shape_images(20, 1)
    vocab = train_set.vocab
    res = ab.compare_image_entry(
        extract_features(train_set.images),
        train_set.tokens,
        extract_features(test_set.images),
        test_set.tokens,
        vocab.size,
        hidden_dim=8,
        steps=5,
        null_id=vocab.null_id,
        start_id=vocab.start_id,
        end_id=vocab.end_id,
    )
    assert set(res.loss) == set(res.exact) == {"at every step", "in h_0 only"}
    assert all(len(c) == 5 and np.all(np.isfinite(c)) for c in res.loss.values())
    assert all(0.0 <= e <= 1.0 for e in res.exact.values())
    # same data, same batches: the two start from comparable losses (about log V per token)
    assert (
        abs(res.loss["at every step"][0] - res.loss["in h_0 only"][0])
        < 0.2 * res.loss["in h_0 only"][0]
    )


def test_match_by_group():
    ok = np.array([True, False, True, True])
    assert ab.match_by_group(ok, np.array([3, 3, 5, 5])) == {3: (0.5, 2), 5: (1.0, 2)}
    with pytest.raises(TypeError, match="ok must be a bool"):
        ab.match_by_group(np.array([1, 0]), np.array([1, 1]))


def test_copy_pairs_targets_copy_the_sources():
    src, tgt, lengths = ab.copy_pairs(50, 2, 6, 0)
    assert src.shape == (50, 6) and tgt.shape == (50, 8)
    assert lengths.min() >= 2 and lengths.max() <= 6
    for s, t, L in zip(src, tgt, lengths, strict=True):
        assert np.all(s[: 6 - L] == ab.COPY_NULL) and np.array_equal(s[6 - L :], t[1 : L + 1])
        assert t[0] == ab.COPY_START and t[L + 1] == ab.COPY_END and np.all(t[L + 2 :] == 0)
    assert np.array_equal(ab.copy_pairs(50, 2, 6, 0)[0], src)  # seeded
    with pytest.raises(ValueError, match="max_len"):
        ab.copy_pairs(5, 4, 3, 0)


def test_per_frame_classifier_gradients_match_numeric():
    rng = np.random.default_rng(3)
    m = ab.PerFrameClassifier(4, 3, 5, rng=2)
    x, y = rng.standard_normal((2, 4, 4)), np.array([1, 4])
    _, grads = m.loss(x, y)
    assert set(grads) == set(m.params)
    for name, p in m.params.items():
        num = eval_numerical_gradient(lambda _p: m.loss(x, y)[0], p)
        assert np.any(num != 0), name
        assert rel_error(grads[name], num) < 1e-7, name


def test_per_frame_gradient_norms_inject_at_every_step_and_add_up():
    rng = np.random.default_rng(4)
    m = ab.PerFrameClassifier(4, 3, 5, rng=2)
    x, y = rng.standard_normal((6, 5, 4)), rng.integers(0, 5, 6)
    inj, tot = m.gradient_norms(x, y)
    assert inj.shape == tot.shape == (5,) and np.all(inj > 0)
    assert np.isclose(inj[-1], tot[-1])  # nothing flows back into the last step
    # the loss at step t alone: perturb the scores of step t only -> numeric dL/dh_t of that term
    assert m.predict_per_frame(x).shape == (6, 5)
    with pytest.raises(ValueError, match="y must hold class labels"):
        m.loss(x, np.full(6, 7))


def test_copy_by_length_reports_every_length():
    res = ab.copy_by_length(max_len=3, hidden_dim=6, steps=3, n_train=40, n_test=60)
    assert set(res.exact) == set(res.digits) == set(res.count) == {1, 2, 3}
    assert sum(res.count.values()) == 60
    for L in res.exact:
        assert 0 <= res.exact[L] <= res.digits[L] + 1e-12 <= 1 + 1e-12, L
