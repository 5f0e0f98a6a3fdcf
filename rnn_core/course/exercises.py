"""The autograded exercises of this course: what each grade id calls, how, and on which cases.

Format (read by the grader and, by path, by ``harness.py`` inside the sandbox; numpy only)::

    EXERCISES[grade_id] = {
        "calls": ["pkg.module:function", ...],   # the Layer A functions the driver uses
        "driver": driver(fn, case) -> {name: array},   # fn.<function>; case: {name: array}
        "public": cases(rng) -> [(label, case)],        # drawn from a fixed seed
        "hidden": cases(rng) -> [(label, case)],        # drawn from the instructor's secret
        "tol": relative error allowed on every output,
    }

Points come from the notebooks' test cells. A driver is shared code: the grader runs it on the
student's functions (in the sandbox) and on the course source's (outside) and compares. So a
driver only calls and records; it never computes an answer itself. Inputs a function must not
modify are returned as outputs (``in.<name>``), so a student who writes into them loses the case.
Labels are shown to students: they describe a case's shape, never its values.
"""

from __future__ import annotations

import numpy as np


def _unmodified(case: dict, *names: str) -> dict:
    return {f"in.{n}": case[n] for n in names}


def _rnn_shapes(rng, N, D, H, scale=0.5):
    return {
        "Wx": rng.normal(0, scale, (D, H)),
        "Wh": rng.normal(0, scale, (H, H)),
        "b": rng.normal(0, scale, H),
        "prev_h": rng.normal(0, 1, (N, H)),
    }


# -- 00: one RNN step, a sequence -------------------------------------------------------------


def drive_rnn_step(fn, c):
    next_h, cache = fn.rnn_step_forward(c["x"], c["prev_h"], c["Wx"], c["Wh"], c["b"])
    dx, dprev_h, dWx, dWh, db = fn.rnn_step_backward(c["dnext_h"], cache)
    out = {"next_h": next_h, "dx": dx, "dprev_h": dprev_h, "dWx": dWx, "dWh": dWh, "db": db}
    return out | _unmodified(c, "x", "prev_h", "Wx", "Wh", "b", "dnext_h")


def _step_case(rng, N, D, H, scale=0.5, zero_grad=False):
    c = _rnn_shapes(rng, N, D, H, scale)
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
    return out | _unmodified(c, "x", "h0", "Wx", "Wh", "b", "dh")


def _seq_case(rng, N, T, D, H, scale=0.5, zero_grad=False):
    c = _rnn_shapes(rng, N, D, H, scale)
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
    return {"dW": dW} | _unmodified(c, "x", "W", "dout")


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
    return {"loss": np.asarray(loss, dtype=float), "dx": dx} | _unmodified(c, "x", "y", "mask")


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


# -- 05: one pass of truncated BPTT, judged through a recording model and optimizer ---------


class _RecordingModel:
    """Stands in for a model: records every ``loss_stateful`` call, returns fixed-rule values."""

    def __init__(self, log):
        self.params = {"W": np.zeros(2)}
        self.log = log

    def loss_stateful(self, x, y, state, mask=None):
        n = len(self.log)
        m = float(np.size(x) if mask is None else np.sum(mask))  # None: every step counts
        s = -1.0 if state is None else float(np.sum(state))
        self.log.append([1.0, x.shape[1], float(np.sum(x)), float(np.sum(y)), m, s, n])
        loss = 0.5 * n + 0.01 * float(np.sum(x))
        new_state = np.full(x.shape[0], float(n + 1))
        return loss, {"W": np.full(2, float(n))}, new_state


class _RecordingOptimizer:
    def __init__(self, model, log):
        self.model, self.log = model, log

    def step(self, params, grads):
        same = 1.0 if params is self.model.params else 0.0
        self.log.append([2.0, float(np.sum(grads["W"])), same, 0.0, 0.0, 0.0, len(self.log)])


def drive_truncated_bptt(fn, c):
    log: list = []
    model = _RecordingModel(log)
    opt = _RecordingOptimizer(model, log)
    mask = c["mask"] if bool(c["has_mask"]) else None
    state = c["state"] if bool(c["has_state"]) else None
    losses, final = fn.tbptt_pass(model, c["x"], c["y"], int(c["k"]), opt, mask=mask, state=state)
    final_sum = -1.0 if final is None else float(np.sum(final))
    return {
        "losses": np.asarray(losses, dtype=float),
        "calls": np.asarray(log, dtype=float).reshape(-1, 7),
        "final_state": np.asarray(final_sum),
    } | _unmodified(c, "x", "y", "mask")


def _tbptt_case(rng, N, L, k, mask=False, state=False, all_masked=False):
    m = rng.random((N, L)) > 0.3
    if all_masked:
        m[:, : min(k, L)] = False
    return {
        "x": rng.integers(0, 9, (N, L)),
        "y": rng.integers(0, 9, (N, L)),
        "k": np.asarray(k),
        "mask": m,
        "has_mask": np.asarray(mask),
        "state": rng.normal(0, 1, N),
        "has_state": np.asarray(state),
    }


def public_truncated_bptt(rng):
    return [("N=2, T=10, k=3", _tbptt_case(rng, 2, 10, 3))]


def hidden_truncated_bptt(rng):
    return [
        ("k = 1", _tbptt_case(rng, 2, 4, 1)),
        ("k = T", _tbptt_case(rng, 3, 6, 6)),
        ("k > T", _tbptt_case(rng, 1, 5, 9)),
        ("with mask and initial state", _tbptt_case(rng, 2, 11, 4, mask=True, state=True)),
        ("a fully masked chunk", _tbptt_case(rng, 2, 8, 3, mask=True, all_masked=True)),
    ]


# -- 06: one Jacobian per step, one QR accumulation step --------------------------------------


def drive_jacobian_product(fn, c):
    J = fn.jacobians_along(c["dphi"], c["Wh"])
    q_next, logs = [], []
    for Js, Qs in zip(c["Js"], c["Qs"], strict=True):  # independent (J, Q) pairs, not a chain
        Q, log_r = fn.qr_step(Js, Qs)
        # A QR factorisation is unique up to the sign of each column: record Q with the signs
        # that make Q^T (J Q_s) have a positive diagonal, so any correct sign choice matches.
        sign = np.sign(np.diag(np.asarray(Q).T @ Js @ Qs))
        q_next.append(np.asarray(Q) * np.where(sign == 0, 1.0, sign))
        logs.append(np.asarray(log_r, dtype=float))
    return {"J": J, "Q_next": np.array(q_next), "log_abs_diag_R": np.array(logs)} | _unmodified(
        c, "dphi", "Wh", "Js", "Qs"
    )


def _jac_case(rng, T, H, S=3, zero=False, tiny=False):
    dphi = rng.uniform(0, 1, (T, H))
    if zero:
        dphi[:] = 0.0
    if tiny:
        dphi *= 1e-6  # saturated units: tanh' near 0
    Qs = np.array([np.linalg.qr(rng.normal(0, 1, (H, H)))[0] for _ in range(S)])  # orthonormal
    return {"dphi": dphi, "Wh": rng.normal(0, 1, (H, H)), "Js": rng.normal(0, 1, (S, H, H)),
            "Qs": Qs}


def public_jacobian_product(rng):
    return [("T=4, H=3", _jac_case(rng, 4, 3))]


def hidden_jacobian_product(rng):
    return [
        ("H=1", _jac_case(rng, 2, 1)),
        ("T=1, H=5", _jac_case(rng, 1, 5)),
        ("non-commuting factors", _jac_case(rng, 6, 4)),
        ("zero derivatives", _jac_case(rng, 3, 3, zero=True)),
        ("saturated units", _jac_case(rng, 3, 4, tiny=True)),
    ]


# -- 07: norm clipping, in place --------------------------------------------------------------


def drive_clip_grad_norm(fn, c):
    originals = {k[5:]: v.copy() for k, v in c.items() if k.startswith("grad.")}
    grads = dict(originals)  # same array objects: clipping must scale these in place
    norm = fn.clip_grad_norm(grads, float(c["max_norm"]))
    out = {"norm": np.asarray(norm, dtype=float)}
    out |= {f"inplace.{k}": v for k, v in originals.items()}
    out |= {f"after.{k}": np.asarray(grads[k]) for k in originals}
    return out


def _clip_case(rng, max_norm, shapes, scale=1.0, zero=False):
    c = {"max_norm": np.asarray(float(max_norm))}
    for i, shape in enumerate(shapes):
        c[f"grad.g{i}"] = np.zeros(shape) if zero else rng.normal(0, scale, shape)
    return c


def public_clip_grad_norm(rng):
    return [("three arrays, norm above max_norm", _clip_case(rng, 1.0, [(3, 4), (4,), (2, 2)]))]


def hidden_clip_grad_norm(rng):
    return [
        ("norm below max_norm", _clip_case(rng, 100.0, [(2, 3), (3,)])),
        ("one array", _clip_case(rng, 0.5, [(5,)])),
        ("zero gradients", _clip_case(rng, 1.0, [(2, 2), (3,)], zero=True)),
        ("large gradients", _clip_case(rng, 2.0, [(4, 4), (4,)], scale=1e4)),
    ]


# -- 08: LSTM step forward, backward ----------------------------------------------------------


def drive_lstm_step_forward(fn, c):
    next_h, next_c, _ = fn.lstm_step_forward(c["x"], c["prev_h"], c["prev_c"], c["Wx"], c["Wh"],
                                             c["b"])
    return {"next_h": next_h, "next_c": next_c} | _unmodified(
        c, "x", "prev_h", "prev_c", "Wx", "Wh", "b"
    )


def drive_lstm_step_backward(fn, c):
    _, _, cache = fn.lstm_step_forward(c["x"], c["prev_h"], c["prev_c"], c["Wx"], c["Wh"], c["b"])
    grads = fn.lstm_step_backward(c["dnext_h"], c["dnext_c"], cache)
    names = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
    return dict(zip(names, grads, strict=True)) | _unmodified(c, "dnext_h", "dnext_c")


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


def _spec(calls, driver, public, hidden, tol=1e-7):
    return {"calls": calls, "driver": driver, "public": public, "hidden": hidden, "tol": tol}


EXERCISES = {
    "test_rnn_step": _spec(
        ["rnn_core.rnn:rnn_step_forward", "rnn_core.rnn:rnn_step_backward"],
        drive_rnn_step, public_rnn_step, hidden_rnn_step,
    ),
    "test_rnn_sequence": _spec(
        ["rnn_core.rnn:rnn_forward", "rnn_core.rnn:rnn_backward"],
        drive_rnn_sequence, public_rnn_sequence, hidden_rnn_sequence,
    ),
    "test_word_embedding_backward": _spec(
        ["rnn_core.layers:word_embedding_forward", "rnn_core.layers:word_embedding_backward"],
        drive_word_embedding_backward, public_word_embedding_backward,
        hidden_word_embedding_backward,
    ),
    "test_temporal_softmax_loss": _spec(
        ["rnn_core.layers:temporal_softmax_loss"],
        drive_temporal_softmax_loss, public_temporal_softmax_loss, hidden_temporal_softmax_loss,
    ),
    "test_truncated_bptt": _spec(
        ["rnn_core.train:tbptt_pass"],
        drive_truncated_bptt, public_truncated_bptt, hidden_truncated_bptt,
    ),
    "test_jacobian_product": _spec(
        ["rnn_core.analysis.jacobians:jacobians_along", "rnn_core.analysis.lyapunov:qr_step"],
        drive_jacobian_product, public_jacobian_product, hidden_jacobian_product,
    ),
    "test_clip_grad_norm": _spec(
        ["rnn_core.clipping:clip_grad_norm"],
        drive_clip_grad_norm, public_clip_grad_norm, hidden_clip_grad_norm,
    ),
    "test_lstm_step_forward": _spec(
        ["rnn_core.lstm:lstm_step_forward"], drive_lstm_step_forward, public_lstm, hidden_lstm,
    ),
    "test_lstm_step_backward": _spec(
        ["rnn_core.lstm:lstm_step_forward", "rnn_core.lstm:lstm_step_backward"],
        drive_lstm_step_backward, public_lstm, hidden_lstm,
    ),
}
