"""Specs of notebooks 05-07: truncated BPTT, the Jacobian product, norm clipping."""

from __future__ import annotations

import numpy as np

from .common import unmodified

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
    } | unmodified(c, "x", "y", "mask")


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
    return {"J": J, "Q_next": np.array(q_next), "log_abs_diag_R": np.array(logs)} | unmodified(
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
