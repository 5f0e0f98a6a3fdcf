"""Specs of notebooks 00 and 01: the RNN step and sequence, embedding backward, the loss."""

from __future__ import annotations

import numpy as np

from .common import rnn_shapes, unmodified

# -- 00: one RNN step, a sequence -------------------------------------------------------------


def drive_rnn_step(fn, c):
    next_h, cache = fn.rnn_step_forward(c["x"], c["prev_h"], c["Wx"], c["Wh"], c["b"])
    dx, dprev_h, dWx, dWh, db = fn.rnn_step_backward(c["dnext_h"], cache)
    out = {"next_h": next_h, "dx": dx, "dprev_h": dprev_h, "dWx": dWx, "dWh": dWh, "db": db}
    return out | unmodified(c, "x", "prev_h", "Wx", "Wh", "b", "dnext_h")


def _step_case(rng, N, D, H, scale=0.5, zero_grad=False):
    c = rnn_shapes(rng, N, D, H, scale)
    c["x"] = rng.normal(0, 1, (N, D))
    c["dnext_h"] = np.zeros((N, H)) if zero_grad else rng.normal(0, 1, (N, H))
    return c


def public_rnn_step(rng):
    return [("N=3, D=4, H=5", _step_case(rng, 3, 4, 5))]


def hidden_rnn_step(rng):
    return [
        ("N=1, H=1", _step_case(rng, 1, 1, 1)),
        ("D != H", _step_case(rng, 2, 7, 3)),
        ("saturated units", _step_case(rng, 4, 3, 5, scale=4.0)),
        ("zero upstream gradient", _step_case(rng, 3, 2, 4, zero_grad=True)),
    ]


def drive_rnn_sequence(fn, c):
    h, cache = fn.rnn_forward(c["x"], c["h0"], c["Wx"], c["Wh"], c["b"])
    dx, dh0, dWx, dWh, db = fn.rnn_backward(c["dh"], cache)
    out = {"h": h, "dx": dx, "dh0": dh0, "dWx": dWx, "dWh": dWh, "db": db}
    return out | unmodified(c, "x", "h0", "Wx", "Wh", "b", "dh")


def _seq_case(rng, N, T, D, H, scale=0.5, zero_grad=False):
    c = rnn_shapes(rng, N, D, H, scale)
    c["h0"] = c.pop("prev_h")
    c["x"] = rng.normal(0, 1, (N, T, D))
    c["dh"] = np.zeros((N, T, H)) if zero_grad else rng.normal(0, 1, (N, T, H))
    return c


def public_rnn_sequence(rng):
    return [("N=2, T=5, D=3, H=4", _seq_case(rng, 2, 5, 3, 4))]


def hidden_rnn_sequence(rng):
    return [
        ("T=1", _seq_case(rng, 3, 1, 2, 4)),
        ("N=1, H=1", _seq_case(rng, 1, 6, 2, 1)),
        ("D != H, non-commuting steps", _seq_case(rng, 2, 7, 6, 3, scale=0.8)),
        ("saturated units", _seq_case(rng, 2, 4, 3, 3, scale=4.0)),
        ("zero upstream gradient", _seq_case(rng, 2, 3, 2, 2, zero_grad=True)),
    ]


# -- 01: embedding backward, temporal softmax loss --------------------------------------------


def drive_word_embedding_backward(fn, c):
    _, cache = fn.word_embedding_forward(c["x"], c["W"])
    dW = fn.word_embedding_backward(c["dout"], cache)
    return {"dW": dW} | unmodified(c, "x", "W", "dout")


def _emb_case(rng, N, T, V, D, tokens=None, zero_grad=False):
    high = V if tokens is None else tokens
    return {
        "x": rng.integers(0, high, (N, T)),
        "W": rng.normal(0, 1, (V, D)),
        "dout": np.zeros((N, T, D)) if zero_grad else rng.normal(0, 1, (N, T, D)),
    }


def public_word_embedding_backward(rng):
    return [("N=2, T=4, V=5, D=3", _emb_case(rng, 2, 4, 5, 3))]


def hidden_word_embedding_backward(rng):
    return [
        ("repeated tokens", _emb_case(rng, 3, 6, 9, 2, tokens=2)),
        ("N=1, T=1", _emb_case(rng, 1, 1, 4, 3)),
        ("tokens never used", _emb_case(rng, 2, 3, 20, 2, tokens=3)),
        ("zero upstream gradient", _emb_case(rng, 2, 2, 3, 2, zero_grad=True)),
    ]


def drive_temporal_softmax_loss(fn, c):
    loss, dx = fn.temporal_softmax_loss(c["x"], c["y"], c["mask"])
    return {"loss": np.asarray(loss, dtype=float), "dx": dx} | unmodified(c, "x", "y", "mask")


def _loss_case(rng, N, T, V, scale=1.0, masked=0.3):
    mask = rng.random((N, T)) >= masked
    y = rng.integers(0, V, (N, T))
    return {"x": rng.normal(0, scale, (N, T, V)), "y": np.where(mask, y, -1), "mask": mask}


def public_temporal_softmax_loss(rng):
    return [("N=3, T=4, V=6", _loss_case(rng, 3, 4, 6))]


def hidden_temporal_softmax_loss(rng):
    masked_row = _loss_case(rng, 3, 5, 4)
    masked_row["mask"][1] = False
    masked_row["y"][1] = -1
    return [
        ("huge logits", _loss_case(rng, 2, 3, 5, scale=1e3)),
        ("a fully masked sequence", masked_row),
        ("N=1, T=1, nothing masked", _loss_case(rng, 1, 1, 7, masked=0.0)),
        ("everything masked", _loss_case(rng, 2, 2, 3, masked=1.1)),
    ]
