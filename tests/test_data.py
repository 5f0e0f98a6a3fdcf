"""Tests of rnn_core.data: determinism, shapes, fixed vocabulary order, and that every label is
right (recomputed from the generated data, independently of the generator)."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from rnn_core import data as D
from rnn_core.data import shapes as S

# ------------------------------------------------------------------------------------ vocab


def test_vocab_order_specials_first_then_sorted():
    v = D.char_vocabulary("hello world", specials=(D.NULL, D.START))
    assert v.tokens == ("<NULL>", "<START>", " ", "d", "e", "h", "l", "o", "r", "w")
    w = D.word_vocabulary(["the cat sat", ["a", "cat"]])
    assert w.tokens == ("<NULL>", "<START>", "<END>", "<UNK>", "a", "cat", "sat", "the")
    assert (w.null_id, w.start_id, w.end_id, w.unk_id) == (0, 1, 2, 3)


def test_vocab_round_trip_and_batch_padding():
    v = D.char_vocabulary("abcxyz ", specials=(D.NULL, D.START, D.END))
    ids = v.encode("zax by")
    assert ids.dtype == np.int64 and ids.shape == (6,)
    assert v.decode_string(ids) == "zax by"
    batch = v.encode_batch(["ab", "xyz"], length=6)
    assert batch.shape == (2, 6) and batch.dtype == np.int64
    assert batch[0].tolist() == [v.start_id, v.id("a"), v.id("b"), v.end_id, 0, 0]
    left = v.encode_batch(["ab"], length=5, pad="left")
    assert left[0].tolist() == [0, v.start_id, v.id("a"), v.id("b"), v.end_id]
    assert [v.decode_string(r) for r in batch] == ["ab", "xyz"]
    assert v.decode(batch[0]) == ["<START>", "a", "b", "<END>", "<NULL>", "<NULL>"]


def test_vocab_unknown_tokens_and_bad_ids():
    v = D.char_vocabulary("abc")
    with pytest.raises(D.UnknownTokenError, match=r"Vocabulary.encode: token 'q' at position 1"):
        v.encode("aqb")
    w = D.word_vocabulary(["a b"])
    assert w.encode(["a", "zzz"]).tolist() == [w.id("a"), w.unk_id]
    with pytest.raises(ValueError, match="ids must be in"):
        v.decode([0, 7])
    with pytest.raises(TypeError, match="integers"):
        v.decode(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="distinct"):
        D.Vocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match="too short"):
        D.char_vocabulary("abc", specials=(D.NULL, D.START, D.END)).encode_batch(["abc"], length=4)
    with pytest.raises(ValueError, match="no <NULL>"):
        v.encode_batch(["ab"])


_ORDER_SNIPPET = """
from rnn_core import data as D
text = D.load_text(20000)
print(D.char_vocabulary(text).tokens)
print(D.word_vocabulary(text.split()[:3000]).tokens[:200])
print(D.caption_vocabulary().tokens)
print([v.tokens for v in D.date_vocabularies()])
print(D.lag_vocabulary(6).tokens)
"""


def test_vocab_order_independent_of_hash_seed():
    outs = []
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        r = subprocess.run(
            [sys.executable, "-c", _ORDER_SNIPPET], env=env, capture_output=True, text=True,
            check=True,
        )
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert len(outs[0].splitlines()) == 5


# ------------------------------------------------------------------------------------- text


def test_text_file_is_small_ascii_and_loads():
    path = D.text_path()
    assert path.stat().st_size <= 300_000
    raw = path.read_text(encoding="ascii")
    assert "Pride and Prejudice" in raw.splitlines()[0] and "public domain" in raw.lower()
    text = D.load_text()
    assert len(text) > 250_000 and text.isascii()
    assert text.startswith("Chapter 1\nIt is a truth universally acknowledged")
    assert not any(line.startswith("#") for line in text.splitlines())
    assert D.load_text(100) == text[:100]
    with pytest.raises(ValueError, match="load_text: max_chars must be >= 1"):
        D.load_text(0)


def test_char_corpus_split_and_unigram_entropy():
    c = D.load_char_corpus(max_chars=10_000, val_fraction=0.2)
    assert c.train.dtype == np.int64 and len(c.train) == 8000 and len(c.val) == 2000
    assert c.vocab.decode_string(np.concatenate([c.train, c.val]), skip_special=False) == c.text
    # entropy: log V for a uniform stream, 0 for a constant one, and below log V for English
    assert D.unigram_entropy(np.arange(8).repeat(5)) == pytest.approx(np.log(8))
    assert D.unigram_entropy(np.zeros(10, dtype=np.int64)) == 0.0
    p = np.bincount(c.train) / len(c.train)
    p = p[p > 0]
    assert D.unigram_entropy(c.train) == pytest.approx(-(p * np.log(p)).sum())
    assert 2.0 < D.unigram_entropy(c.train) < np.log(c.vocab.size)
    with pytest.raises(TypeError, match="unigram_entropy: ids must be an integer array"):
        D.unigram_entropy(np.ones(3))
    with pytest.raises(ValueError, match="val_fraction must be in"):
        D.train_val_split(c.train, 1.5)


def test_stream_rows_split_the_stream_into_parallel_rows():
    # the chunks of truncated BPTT are cut by tbptt_pass (train.py), the one chunk loop
    ids = np.arange(1001, dtype=np.int64)
    x, y = D.stream_rows(ids, 4)
    r = 1000 // 4
    assert x.shape == y.shape == (4, r) and x.dtype == np.int64
    for i in range(4):  # row i is the i-th quarter of the stream
        np.testing.assert_array_equal(x[i], ids[i * r : (i + 1) * r])
    np.testing.assert_array_equal(y, x + 1)  # next character
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        D.stream_rows(ids, 0)
    with pytest.raises(ValueError, match="too few for batch_size=600"):
        D.stream_rows(ids[:500], 600)


# ------------------------------------------------------------------------------------ tasks


def test_adding_problem_targets_are_marked_sums():
    x, y = D.adding_problem(500, 30, rng=3)
    assert x.shape == (500, 30, 2) and y.shape == (500,) and x.dtype == np.float64
    marker = x[:, :, 1]
    assert set(np.unique(marker)) == {0.0, 1.0}
    assert (marker.sum(axis=1) == 2).all()
    assert (marker[:, :15].sum(axis=1) == 1).all() and (marker[:, 15:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y, (x[:, :, 0] * marker).sum(axis=1))
    assert (x[:, :, 0] >= 0).all() and (x[:, :, 0] < 1).all()
    # the baseline: predicting 1 gives MSE ~ 1/6
    assert np.mean((D.adding_problem(20000, 10, 0)[1] - 1) ** 2) == pytest.approx(1 / 6, rel=0.05)


def test_adding_problem_deterministic_and_checked():
    a, b, c = D.adding_problem(4, 10, 7), D.adding_problem(4, 10, 7), D.adding_problem(4, 10, 8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    with pytest.raises(ValueError, match="adding_problem: T must be >= 2"):
        D.adding_problem(4, 1, 0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed"):
        D.adding_problem(4, 10, None)


@pytest.mark.parametrize("filler", ["blank", "random"])
@pytest.mark.parametrize("many_to_one", [False, True])
@pytest.mark.parametrize("lag", [1, 3, 12])
def test_lag_recall_target_is_input_lag_steps_back(filler, many_to_one, lag):
    T = 30
    task = D.lag_recall(200, T, lag, rng=5, filler=filler, many_to_one=many_to_one)
    x, y, mask = task.x, task.y, task.mask
    assert x.shape == y.shape == mask.shape == (200, T)
    assert x.dtype == y.dtype == np.int64 and mask.dtype == bool
    n_idx, t_idx = np.nonzero(mask)
    assert len(t_idx) > 0 and (t_idx >= lag).all()
    np.testing.assert_array_equal(y[n_idx, t_idx], x[n_idx, t_idx - lag])
    assert (y[mask] >= 1).all() and (y[~mask] == 0).all()  # targets are symbols, never blank
    assert x.max() < task.vocab.size
    if many_to_one:
        assert mask[:, -1].all() and mask.sum() == 200
    elif filler == "random":
        assert mask[:, lag:].all() and not mask[:, :lag].any()
    if filler == "blank":
        # the only symbols in the input are the cues, and each cue has its target
        assert (x > 0).sum() == mask.sum()
        # all symbols occur about equally often
        counts = np.bincount(y[mask], minlength=task.vocab.size)[1:]
        assert counts.min() > 0.5 * counts.mean()


def test_lag_recall_deterministic_and_checked():
    a, b = D.lag_recall(8, 20, 5, 1), D.lag_recall(8, 20, 5, 1)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, D.lag_recall(8, 20, 5, 2).x)
    with pytest.raises(ValueError, match="lag_recall: lag must be < T=10"):
        D.lag_recall(8, 10, 10, 0)
    with pytest.raises(ValueError, match="lag_recall: lag must be >= 1"):
        D.lag_recall(8, 10, 0, 0)
    with pytest.raises(ValueError, match="filler must be"):
        D.lag_recall(8, 10, 2, 0, filler="noise")


# ------------------------------------------------------------------------------------ video


@pytest.mark.parametrize("num_directions", [4, 8])
def test_moving_dot_labels_match_motion(num_directions):
    v = D.moving_dot(300, 4, num_directions=num_directions, noise=0.0)
    assert v.x.shape == (300, 6, 64) and v.x.dtype == np.float64 and v.y.dtype == np.int64
    assert set(np.unique(v.y)) == set(range(num_directions))
    # direction from the positions: the step per frame is constant, its signs give the class
    steps = np.diff(v.positions, axis=1)
    np.testing.assert_allclose(steps, steps[:, :1].repeat(5, axis=1))
    names = {(0, 1): "right", (-1, 1): "up-right", (-1, 0): "up", (-1, -1): "up-left",
             (0, -1): "left", (1, -1): "down-left", (1, 0): "down", (1, 1): "down-right"}
    for i in range(300):
        key = tuple(int(s) for s in np.sign(steps[i, 0]))
        assert v.names[v.y[i]] == names[key]
    # and from the pixels: the brightest pixel of each clean frame is the dot's rounded position
    frames = v.x.reshape(300, 6, 8, 8)
    flat = frames.reshape(300, 6, 64).argmax(axis=2)
    np.testing.assert_array_equal(np.stack([flat // 8, flat % 8], -1), np.rint(v.positions))
    assert (v.positions >= 0.5 - 1e-12).all() and (v.positions <= 6.5 + 1e-12).all()


def test_moving_dot_deterministic_and_checked():
    a, b = D.moving_dot(5, 9), D.moving_dot(5, 9)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, D.moving_dot(5, 10).x)
    with pytest.raises(ValueError, match="moving_dot: the dot travels"):
        D.moving_dot(5, 0, T=20)
    with pytest.raises(ValueError, match="num_directions must be 4 or 8"):
        D.moving_dot(5, 0, num_directions=6)


# ----------------------------------------------------------------------------------- shapes

_PIXELS = {37: "circle", 49: "square", 25: "triangle"}


def _describe(img: np.ndarray) -> str:
    """Recompute a caption from the pixels alone: groups by position, colour by hue, shape by
    area."""
    on = img.sum(axis=2) > 0.6
    rows, cols = np.nonzero(on)
    size = img.shape[0]
    if cols.max() - cols.min() > size // 2:
        layout, groups = "left of", [cols < size // 2, cols >= size // 2]
    elif rows.max() - rows.min() > size // 2:
        layout, groups = "above", [rows < size // 2, rows >= size // 2]
    else:
        layout, groups = None, [np.ones(len(rows), bool)]
    words = []
    for gsel in groups:
        rgb = img[rows[gsel], cols[gsel]].mean(axis=0)
        rgb = rgb / rgb.max()
        palette = S.RGB / S.RGB.max(axis=1, keepdims=True)
        colour = S.COLOURS[int(np.argmin(((palette - rgb) ** 2).sum(axis=1)))]
        words.append(f"a {colour} {_PIXELS[int(gsel.sum())]}")
    return words[0] if layout is None else f"{words[0]} {layout} {words[1]}"


def test_captions_describe_the_images():
    d = D.shape_images(300, 11)
    assert d.images.shape == (300, 24, 24, 3) and d.images.dtype == np.float64
    assert d.images.min() >= 0 and d.images.max() <= 1
    assert d.tokens.shape == (300, 10) and d.tokens.dtype == np.int64
    assert set(np.unique(d.layout)) == {0, 1, 2}
    for i in range(300):
        assert _describe(d.images[i]) == d.captions[i]
        assert d.vocab.decode_string(d.tokens[i], " ") == d.captions[i]
        assert d.tokens[i, 0] == d.vocab.start_id
    assert d.vocab.tokens[:3] == ("<NULL>", "<START>", "<END>")
    assert "a red circle left of a blue square" in {
        S.caption_text(1, (0, 2), (0, 1)), *d.captions
    }


def test_shape_images_deterministic_and_checked():
    a, b = D.shape_images(6, 2), D.shape_images(6, 2)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.captions == b.captions
    assert not np.array_equal(a.images, D.shape_images(6, 3).images)
    with pytest.raises(ValueError, match="shape_images: size must be a multiple of 3"):
        D.shape_images(2, 0, size=25)


def test_conv2d_matches_direct_sum():
    g = np.random.default_rng(0)
    x, w, b = g.standard_normal((2, 6, 5, 3)), g.standard_normal((3, 5, 3, 4)), g.standard_normal(4)
    out = D.conv2d(x, w, b)
    xp = np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0)))
    ref = np.zeros((2, 6, 5, 4))
    for i in range(6):
        for j in range(5):
            ref[:, i, j] = np.einsum("nabc,abcf->nf", xp[:, i : i + 3, j : j + 5], w) + b
    np.testing.assert_allclose(out, ref, atol=1e-12)
    with pytest.raises(ValueError, match="conv2d: filters must have odd height and width"):
        D.conv2d(x, np.ones((2, 2, 3, 1)))
    with pytest.raises(ValueError, match="conv2d: filters must have shape"):
        D.conv2d(x, np.ones((3, 3, 2, 1)))


def _readout_accuracy(f_tr, lab_tr, f_te, lab_te, k):
    """Least-squares linear readout (with bias) of one-hot labels; accuracy of its argmax."""
    a = np.c_[f_tr, np.ones(len(f_tr))]
    w = np.linalg.lstsq(a, np.eye(k)[lab_tr], rcond=None)[0]
    return float(((np.c_[f_te, np.ones(len(f_te))] @ w).argmax(1) == lab_te).mean())


def test_features_make_every_attribute_linearly_readable():
    tr, te = D.shape_images(400, 100), D.shape_images(200, 200)
    f_tr, f_te = D.extract_features(tr.images), D.extract_features(te.images)
    assert f_tr.shape == (400, 72) and len(D.feature_names()) == 72
    assert np.isfinite(f_tr).all() and f_tr.min() >= 0
    accs = {"layout": _readout_accuracy(f_tr, tr.layout, f_te, te.layout, 3)}
    for j in range(2):
        m_tr, m_te = tr.colour[:, j] >= 0, te.colour[:, j] >= 0
        for name, lab_tr, lab_te, k in [
            ("colour", tr.colour, te.colour, 4), ("shape", tr.shape, te.shape, 3)
        ]:
            accs[f"{name}{j}"] = _readout_accuracy(
                f_tr[m_tr], lab_tr[m_tr, j], f_te[m_te], lab_te[m_te, j], k
            )
    assert min(accs.values()) >= 0.95, accs


# ------------------------------------------------------------------------------------ dates

_STRPTIME = {
    "27 November 2026": "%d %B %Y", "November 27, 2026": "%B %d, %Y",
    "Nov 27, 2026": "%b %d, %Y", "27 Nov 2026": "%d %b %Y", "2026 Nov 27": "%Y %b %d",
    "27/11/2026": "%d/%m/%Y", "27.11.2026": "%d.%m.%Y", "27-11-2026": "%d-%m-%Y",
    "27th of november 2026": "%d of %B %Y", "friday 27 nov 2026": "%A %d %b %Y",
    "Friday, November 27, 2026": "%A, %B %d, %Y", "Fri 27 Nov 2026": "%a %d %b %Y",
    "NOV 27 2026": "%b %d %Y", "2026-11-27": "%Y-%m-%d",
}


def test_date_pairs_parse_back_to_the_same_date():
    split = D.date_pairs(600, 200, rng=0)
    assert set(_STRPTIME) == set(D.FORMAT_NAMES)
    for part in split:
        for src, tgt, date, fmt in zip(part.sources, part.targets, part.dates, part.formats,
                                       strict=True):
            assert tgt == date.isoformat() and dt.date.fromisoformat(tgt) == date
            plain = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", src)
            assert dt.datetime.strptime(plain, _STRPTIME[fmt]).date() == date, (src, fmt)
            if "%A" in _STRPTIME[fmt] or "%a" in _STRPTIME[fmt]:
                first = src.split()[0].rstrip(",").lower()
                assert calendar.day_name[date.weekday()].lower().startswith(first)
    assert set(split.train.formats) == set(D.FORMAT_NAMES)
    for d, s in [(1, "1st"), (2, "2nd"), (3, "3rd"), (11, "11th"), (12, "12th"), (13, "13th"),
                 (22, "22nd"), (23, "23rd"), (31, "31st")]:
        assert D.format_date(dt.date(2026, 1, d), "27th of november 2026").startswith(s + " ")
    assert D.format_date(dt.date(2026, 11, 27), "friday 27 nov 2026") == "friday 27 nov 2026"


def test_date_pairs_encoding_split_and_determinism():
    split = D.date_pairs(300, 100, rng=1)
    tr, te = split
    assert not set(tr.dates) & set(te.dates)
    assert len(set(tr.dates)) == 300
    assert tr.x.shape == (300, D.dates.SOURCE_LENGTH) and tr.y.shape == (300, 12)
    assert tr.x.dtype == tr.y.dtype == np.int64
    for i in range(300):
        assert tr.source_vocab.decode_string(tr.x[i]) == tr.sources[i]
        assert tr.target_vocab.decode_string(tr.y[i]) == tr.targets[i]
        assert tr.x[i, -1] == tr.source_vocab.end_id  # left-padded: the encoder ends on <END>
        assert tr.y[i, 0] == tr.target_vocab.start_id and tr.y[i, -1] == tr.target_vocab.end_id
    again = D.date_pairs(300, 100, rng=1)
    np.testing.assert_array_equal(again.train.x, tr.x)
    assert D.date_pairs(300, 100, rng=2).train.sources != tr.sources
    with pytest.raises(ValueError, match="date_pairs: the range"):
        D.date_pairs(20, 20, 0, start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 31))
    with pytest.raises(ValueError, match="unknown format"):
        D.date_pairs(5, 5, 0, formats=("2026/27/11",))


def test_date_pairs_long_target_round_trips_and_lengths_vary():
    split = D.date_pairs(800, 200, rng=3, target="long")
    for part in split:
        assert part.y.shape == (len(part.dates), 19)
        for i, (tgt, date) in enumerate(zip(part.targets, part.dates, strict=True)):
            # day without a leading zero, full English month name, four-digit year
            day, month, year = tgt.split(" ")
            assert day == str(date.day) and year == f"{date.year:04d}"
            assert month == calendar.month_name[date.month]
            assert dt.datetime.strptime(tgt, "%d %B %Y").date() == date
            assert part.target_vocab.decode_string(part.y[i]) == tgt
            assert part.y[i, 0] == part.target_vocab.start_id
            assert part.y[i, len(tgt) + 1] == part.target_vocab.end_id
            assert (part.y[i, len(tgt) + 2:] == part.target_vocab.null_id).all()
    lengths = [len(t) for t in split.train.targets]
    assert min(lengths) == 10 and max(lengths) == 17 and len(set(lengths)) == 8
    # the extremes, written out
    assert D.format_date(dt.date(2026, 5, 1), "27 November 2026") == "1 May 2026"
    short = D.date_pairs(1, 0, 0, start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 1), target="long")
    assert short.train.targets == ["1 May 2026"]
    assert D.date_pairs(1, 0, 0, start=dt.date(2026, 9, 27), end=dt.date(2026, 9, 27),
                        target="long").train.targets == ["27 September 2026"]
    # same seed, same dates and sources whatever the target form; only the targets differ
    iso = D.date_pairs(800, 200, rng=3)
    assert iso.train.dates == split.train.dates and iso.train.sources == split.train.sources
    np.testing.assert_array_equal(iso.train.x, split.train.x)
    again = D.date_pairs(800, 200, rng=3, target="long")
    np.testing.assert_array_equal(again.train.y, split.train.y)
    assert again.test.targets == split.test.targets
    # ISO targets keep their fixed length
    assert {len(t) for t in iso.train.targets} == {10} and iso.train.y.shape == (800, 12)


def test_date_vocabularies_by_target():
    src, iso = D.date_vocabularies()
    _, long = D.date_vocabularies("long")
    assert iso.tokens == (D.NULL, D.START, D.END, *"-0123456789")
    assert long.tokens[:3] == (D.NULL, D.START, D.END)
    assert set(long.tokens[3:]) == set(" 0123456789" + "".join(calendar.month_name[1:]))
    assert list(long.tokens[3:]) == sorted(long.tokens[3:])
    assert set(long.tokens) <= set(src.tokens)  # a long-form date is also a valid source
    for bad in ("ISO", "short", ""):
        with pytest.raises(ValueError, match="target must be one of"):
            D.date_pairs(5, 5, 0, target=bad)
        with pytest.raises(ValueError, match="date_vocabularies: target"):
            D.date_vocabularies(bad)
