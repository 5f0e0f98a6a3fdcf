"""Specs of notebook 08: the LSTM step forward and backward."""

from __future__ import annotations

import numpy as np

from .common import unmodified

# -- 08: LSTM step forward, backward ----------------------------------------------------------


def drive_lstm_step_forward(fn, c):
    next_h, next_c, _ = fn.lstm_step_forward(c["x"], c["prev_h"], c["prev_c"], c["Wx"], c["Wh"],
                                             c["b"])
    return {"next_h": next_h, "next_c": next_c} | unmodified(
        c, "x", "prev_h", "prev_c", "Wx", "Wh", "b"
    )


def drive_lstm_step_backward(fn, c):
    _, _, cache = fn.lstm_step_forward(c["x"], c["prev_h"], c["prev_c"], c["Wx"], c["Wh"], c["b"])
    grads = fn.lstm_step_backward(c["dnext_h"], c["dnext_c"], cache)
    names = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
    return dict(zip(names, grads, strict=True)) | unmodified(c, "dnext_h", "dnext_c")


def _lstm_case(rng, N, D, H, scale=0.5, zero_grad=False):
    return {
        "x": rng.normal(0, 1, (N, D)),
        "prev_h": rng.normal(0, 1, (N, H)),
        "prev_c": rng.normal(0, 1, (N, H)),
        "Wx": rng.normal(0, scale, (D, 4 * H)),
        "Wh": rng.normal(0, scale, (H, 4 * H)),
        "b": rng.normal(0, scale, 4 * H),
        "dnext_h": np.zeros((N, H)) if zero_grad else rng.normal(0, 1, (N, H)),
        "dnext_c": np.zeros((N, H)) if zero_grad else rng.normal(0, 1, (N, H)),
    }


def public_lstm(rng):
    return [("N=3, D=4, H=5", _lstm_case(rng, 3, 4, 5))]


def hidden_lstm(rng):
    return [
        ("N=1, H=1", _lstm_case(rng, 1, 2, 1)),
        ("D != H", _lstm_case(rng, 2, 6, 3)),
        ("saturated gates", _lstm_case(rng, 3, 3, 4, scale=6.0)),
        ("zero upstream gradients", _lstm_case(rng, 2, 3, 2, zero_grad=True)),
    ]
