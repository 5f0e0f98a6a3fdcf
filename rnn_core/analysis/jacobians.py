"""Trajectories and per-step Jacobians of the vanilla RNN and the LSTM.

The convention (notebook 06, section 1) is used everywhere in ``rnn_core.analysis``:
the vanilla step is ``h_t = phi(a_t)``, ``a_t = x_t Wx + h_{t-1} Wh + b`` with row vectors, and

    J_t = dh_t/dh_{t-1} = diag(phi'(a_t)) Wh^T,     J_t[i, j] = d h_t[i] / d h_{t-1}[j].

Backpropagation multiplies by the transpose: ``dL/dh_{t-1} = J_t^T dL/dh_t``, in code
``dprev_h = (dh * phi'(a)) @ Wh.T``. The product ``J_t ... J_{k+1}`` is ``dh_t/dh_k``.

Index convention for trajectories: ``h[0]`` is the initial state ``h_0`` and ``h[t]`` the state
after step ``t = 1..T``; ``a[t-1]``, ``dphi[t-1]`` and ``jac[t-1]`` belong to step ``t``.

One engine serves the analysis, the experiments and the explorers: ``vanilla_trajectory`` runs
the tanh recurrence through ``rnn_core.rnn.rnn_forward`` (the exercise of notebook 00),
``step_backward`` takes one step back through ``rnn_backward`` over that one time step, and
``walk_back`` calls a per-step hook with the gradients of every step, from T down to 1.
``jacobians_along`` (the exercise of notebook 06, section 3) builds the per-step Jacobians that
every product of this package multiplies. Other activations ("linear", "sigmoid") are not
exercises: their forward takes a generic path keyed by their name ("tanh" never does), and their
step back multiplies by their phi' and goes through ``rnn_backward`` too (see ``step_backward``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnn_core._lookahead import checkpoint
from rnn_core._validate import check_array
from rnn_core.lstm import lstm_forward_steps, lstm_step_backward, sigmoid
from rnn_core.rnn import RNNCache, rnn_backward, rnn_forward

ACTIVATIONS = ("tanh", "linear", "sigmoid")

GAMMA = {"tanh": 1.0, "linear": 1.0, "sigmoid": 0.25}
"""Upper bound gamma of |phi'| for each activation (Pascanu et al. 2013)."""


def _generic_activation(name: str, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(phi(a), phi'(a))`` for the activations that are not exercises ("linear", "sigmoid").

    "tanh" is refused on purpose: the tanh recurrence and its backward run through
    ``rnn_core.rnn`` (Layer A), so that the analysis runs on the student's code.
    """
    if name == "sigmoid":
        s = sigmoid(a)
        return s, s * (1.0 - s)
    if name == "linear":
        return a.copy(), np.ones_like(a)
    raise ValueError(f"_generic_activation: name must be 'linear' or 'sigmoid', got {name!r}")


def _check_activation(fn: str, name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"{fn}: activation must be one of {ACTIVATIONS}, got {name!r}")
    return name


@dataclass(frozen=True)
class VanillaTrajectory:
    """Everything the forward pass of a vanilla RNN saw, and what a step back needs.

    Shapes are for one sequence; with a batch every array except the weights gets a leading N axis.

    Attributes
    ----------
    a : pre-activations a_t of steps 1..T, shape (T, H).
    h : states h_0..h_T, shape (T+1, H).
    dphi : phi'(a_t), shape (T, H).
    activation : name of phi.
    x : the inputs x_1..x_T, shape (T, D).
    Wx : input weights, shape (D, H).
    Wh : recurrent weights, shape (H, H).
    """

    a: np.ndarray
    h: np.ndarray
    dphi: np.ndarray
    activation: str
    x: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray


def vanilla_trajectory(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str = "tanh",
) -> VanillaTrajectory:
    """Run ``h_t = phi(x_t Wx + h_{t-1} Wh + b)`` and keep every pre-activation.

    "tanh" runs through ``rnn_core.rnn.rnn_forward`` (notebook 00); so does "sigmoid", as the tanh
    RNN of ``2h - 1`` (``sigmoid(a) = (1 + tanh(a/2)) / 2``); the pre-activations are then read
    off the states in one matrix product (no second time loop). Only "linear" has a loop here.

    Parameters
    ----------
    x : inputs, shape (T, D) for one sequence or (N, T, D) for a batch.
    h0 : initial state, shape (H,) or (N, H).
    Wx : input weights, shape (D, H).
    Wh : recurrent weights, shape (H, H).
    b : bias, shape (H,).
    activation : "tanh", "linear" or "sigmoid".

    Returns
    -------
    VanillaTrajectory with a (T, H) / (N, T, H), h (T+1, H) / (N, T+1, H), dphi like a.
    """
    fn = "vanilla_trajectory"
    act = _check_activation(fn, activation)
    single = isinstance(x, np.ndarray) and x.ndim == 2
    s: dict[str, int] = {}
    if single:
        check_array(fn, "x", x, ("T", "D"), s)
        check_array(fn, "h0", h0, ("H",), s)
    else:
        check_array(fn, "x", x, ("N", "T", "D"), s)
        check_array(fn, "h0", h0, ("N", "H"), s)
    check_array(fn, "Wx", Wx, ("D", "H"), s)
    check_array(fn, "Wh", Wh, ("H", "H"), s)
    check_array(fn, "b", b, ("H",), s)
    xb = x[None] if single else x
    hb = h0[None] if single else h0
    N, T, _ = xb.shape
    H = Wh.shape[0]
    if act == "tanh":
        h = rnn_forward(xb, hb, Wx, Wh, b)[1].h_all
        a = xb @ Wx + h[:, :-1] @ Wh + b
        dphi = 1.0 - h[:, 1:] ** 2
    elif act == "sigmoid":
        # sigmoid(a) = (1 + tanh(a/2)) / 2, so u = 2h - 1 follows rnn_forward's tanh recurrence:
        # a/2 = x (Wx/2) + u_prev (Wh/4) + (b/2 + column sums of Wh / 4). A loop of its own here
        # would be a tanh RNN too, through that identity, and so answer rnn_forward (D1).
        u = rnn_forward(xb, 2.0 * hb - 1.0, 0.5 * Wx, 0.25 * Wh,
                        0.5 * b + 0.25 * Wh.sum(axis=0))[1].h_all
        h = 0.5 * (1.0 + u)
        h[:, 0] = hb
        a = xb @ Wx + h[:, :-1] @ Wh + b
        dphi = _generic_activation(act, a)[1]  # from a: (1 + u) / 2 is coarse where h is tiny
    else:  # linear: h_t = a_t, no tanh in it
        xa = xb @ Wx + b  # input part of every pre-activation, (N, T, H)
        a = np.empty((N, T, H))
        h = np.empty((N, T + 1, H))
        h[:, 0] = hb
        for t in range(T):
            a[:, t] = xa[:, t] + h[:, t] @ Wh
            h[:, t + 1] = _generic_activation(act, a[:, t])[0]
        dphi = _generic_activation(act, a)[1]
    if single:
        a, h, dphi = a[0], h[0], dphi[0]
    return VanillaTrajectory(a=a, h=h, dphi=dphi, activation=act, x=x, Wx=Wx, Wh=Wh)


def step_backward(
    traj: VanillaTrajectory, t: int, dh: np.ndarray, Wh: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One step back along a trajectory: the gradients of step t from ``dh = dL/dh_t``.

    Every activation goes through ``rnn_core.rnn.rnn_backward`` (notebook 00) over the one time
    step t. "tanh" hands it ``dh`` and the step's states. Another activation first multiplies
    ``dh`` by its own phi'(a_t) and hands the product with a next state of 0, where rnn_backward's
    factor ``1 - h_t**2`` is exactly 1. Not ``rnn_step_backward``: ``walk_back``'s loop over it
    would answer ``rnn_backward`` for whoever has written the step (docs/architecture.md, D1).
    A single-sequence trajectory accepts any number of rows in ``dh`` (e.g. one row per loss
    that is carried back at once).

    Parameters
    ----------
    traj : from ``vanilla_trajectory``.
    t : the step, 1..T (maps h_{t-1} to h_t).
    dh : dL/dh_t, shape (N, H) (or (H,) for one sequence).
    Wh : recurrent weights (H, H); default ``traj.Wh``.

    Returns
    -------
    dx : like the step's input with dh's rows; dprev_h = dL/dh_{t-1} : like dh; dWx : (D, H);
    dWh : (H, H); db : (H,) -- the contributions of step t.
    """
    Wh = traj.Wh if Wh is None else Wh
    rows = dh[None] if dh.ndim == 1 else dh
    # step t as a one-step sequence: views of the trajectory, (rows, 1, D) and (rows, 2, H)
    if traj.dphi.ndim == 2:  # one sequence: step t's rows, repeated for every row of dh
        n = rows.shape[0]
        x_t, h_all = traj.x[None, t - 1 : t], traj.h[None, t - 1 : t + 1]
        if n != 1:
            x_t = np.broadcast_to(x_t, (n,) + x_t.shape[1:])
            h_all = np.broadcast_to(h_all, (n,) + h_all.shape[1:])
    else:
        x_t, h_all = traj.x[:, t - 1 : t], traj.h[:, t - 1 : t + 1]
    if traj.activation != "tanh":
        rows = rows * traj.dphi[..., t - 1, :]       # dL/da_t = dL/dh_t * phi'(a_t)
        h_all = np.stack([h_all[:, 0], np.zeros_like(h_all[:, 1])], axis=1)
        # next state 0: rnn_backward's 1 - h_t**2 is then exactly 1
    cache = RNNCache(x=x_t, Wx=traj.Wx, Wh=Wh, h_all=h_all)
    dx, dprev_h, dWx, dWh, db = rnn_backward(rows[:, None], cache)
    dx = dx[:, 0]
    if dh.ndim == 1:
        dx, dprev_h = dx[0], dprev_h[0]
    return dx, dprev_h, dWx, dWh, db


StepHook = Callable[[int, tuple], np.ndarray]
"""``hook(t, grads) -> carry``: gets step t's ``step_backward`` output and returns dL/dh_{t-1}
to carry on (it may record, renormalise, or add the gradient of a loss at h_{t-1})."""


def walk_back(
    traj: VanillaTrajectory, dh_T: np.ndarray, hook: StepHook, Wh: np.ndarray | None = None
) -> np.ndarray:
    """Backpropagate from h_T to h_0 one step at a time, calling ``hook`` after every step.

    The one backward loop of ``rnn_core.analysis`` (gradient norms, the gradient map, per-step
    contributions): each consumer only says what to do with a step's gradients.

    Parameters
    ----------
    traj : from ``vanilla_trajectory``.
    dh_T : dL/dh_T, shape (N, H) or (H,) (see ``step_backward``).
    hook : ``hook(t, (dx, dprev_h, dWx, dWh, db)) -> carry`` for t = T..1; the carry is the
        gradient passed into step t-1 (return ``grads[1]`` to pass it on unchanged).
    Wh : recurrent weights; default ``traj.Wh``.

    Returns
    -------
    the last carry, i.e. dL/dh_0 as the hook shaped it.
    """
    g = dh_T
    for t in range(traj.dphi.shape[-2], 0, -1):
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        g = hook(t, step_backward(traj, t, g, Wh))
    return g


def jacobians_along(dphi: np.ndarray, Wh: np.ndarray) -> np.ndarray:
    """Per-step Jacobians ``J_t = dh_t/dh_{t-1} = diag(phi'(a_t)) Wh^T`` along a trajectory.

    Exercise of notebook 06, section 3. ``J[t-1][i, j] = d h_t[i] / d h_{t-1}[j]``
    (notebook 06, section 1): row i of ``Wh^T`` scaled by ``dphi[t-1, i]``.

    Parameters
    ----------
    dphi : phi'(a_t) of steps 1..T, shape (T, H).
    Wh : recurrent weights, shape (H, H).

    Returns
    -------
    J : shape (T, H, H); ``J[t-1]`` is the Jacobian of step t.
    """
    fn = "jacobians_along"
    s: dict[str, int] = {}
    check_array(fn, "dphi", dphi, ("T", "H"), s)
    check_array(fn, "Wh", Wh, ("H", "H"), s)
    ### BEGIN SOLUTION
    J = dphi[:, :, None] * Wh.T[None, :, :]
    ### END SOLUTION
    return J


def vanilla_jacobians(traj: VanillaTrajectory, Wh: np.ndarray) -> np.ndarray:
    """``jacobians_along(traj.dphi, Wh)`` for one sequence or a batch.

    Notebook 06, section 4.

    Parameters
    ----------
    traj : from ``vanilla_trajectory``; dphi has shape (T, H) or (N, T, H).
    Wh : recurrent weights, shape (H, H).

    Returns
    -------
    J : shape (T, H, H) (or (N, T, H, H)); ``J[t-1]`` is the Jacobian of step t.
    """
    H = traj.dphi.shape[-1]
    check_array("vanilla_jacobians", "Wh", Wh, (H, H))
    J = jacobians_along(traj.dphi.reshape(-1, H), Wh)
    return J.reshape(traj.dphi.shape + (H,))


@dataclass(frozen=True)
class LSTMTrajectory:
    """Everything the forward pass of an LSTM saw.

    One sequence: leading axis T; a batch: (N, T, ...).

    Attributes
    ----------
    i, f, o, g : gate activations of steps 1..T, shape (T, H) each.
    c : cell states c_0..c_T, shape (T+1, H).
    h : hidden states h_0..h_T, shape (T+1, H).
    """

    i: np.ndarray
    f: np.ndarray
    o: np.ndarray
    g: np.ndarray
    c: np.ndarray
    h: np.ndarray
    steps: tuple = ()
    """the ``LSTMStepCache`` of every step (batch axis N, 1 for one sequence), for
    ``lstm_step_backward``"""


def lstm_trajectory(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> LSTMTrajectory:
    """Run an LSTM (gates i, f, o, g along 4H) and keep every gate and step cache.

    Notebook 08, section 3. The loop is ``rnn_core.lstm.lstm_forward_steps`` (``lstm_step_forward``
    per step, the exercise of notebook 08), never the tuned kernel: the step caches are what
    ``lstm_walk_back`` backpropagates through.

    ``a = x_t Wx + h_{t-1} Wh + b``; ``i, f, o = sigmoid(a_i, a_f, a_o)``, ``g = tanh(a_g)``;
    ``c_t = f * c_{t-1} + i * g``; ``h_t = o * tanh(c_t)``.

    Parameters
    ----------
    x : inputs, shape (T, D) or (N, T, D).
    h0, c0 : initial states, shape (H,) or (N, H).
    Wx : shape (D, 4H). Wh : shape (H, 4H). b : shape (4H,).
    """
    fn = "lstm_trajectory"
    single = isinstance(x, np.ndarray) and x.ndim == 2
    s: dict[str, int] = {}
    if single:
        check_array(fn, "x", x, ("T", "D"), s)
        check_array(fn, "h0", h0, ("H",), s)
        check_array(fn, "c0", c0, ("H",), s)
    else:
        check_array(fn, "x", x, ("N", "T", "D"), s)
        check_array(fn, "h0", h0, ("N", "H"), s)
        check_array(fn, "c0", c0, ("N", "H"), s)
    H = s["H"]
    check_array(fn, "Wx", Wx, ("D", 4 * H), s)
    check_array(fn, "Wh", Wh, (H, 4 * H), s)
    check_array(fn, "b", b, (4 * H,), s)
    xb, hb, cb = (x[None], h0[None], c0[None]) if single else (x, h0, c0)
    cache = lstm_forward_steps(xb, hb, cb, Wx, Wh, b)
    gates = [cache.gate(q) for q in "ifog"]
    c, h = cache.c_all, cache.h_all
    if single:
        gates, c, h = [q[0] for q in gates], c[0], h[0]
    i, f, o, g = gates
    return LSTMTrajectory(i=i, f=f, o=o, g=g, c=c, h=h, steps=cache.steps)


LSTMStepHook = Callable[[int, tuple], tuple[np.ndarray, np.ndarray]]
"""``hook(t, grads) -> (dh, dc)``: gets step t's ``lstm_step_backward`` output
``(dx, dprev_h, dprev_c, dWx, dWh, db)`` and returns (dL/dh_{t-1}, dL/dc_{t-1}) to carry on."""


def lstm_walk_back(
    traj: LSTMTrajectory, dh_T: np.ndarray, dc_T: np.ndarray, hook: LSTMStepHook
) -> tuple[np.ndarray, np.ndarray]:
    """Backpropagate through an LSTM trajectory from (h_T, c_T) to (h_0, c_0), one step at a time.

    The LSTM twin of ``walk_back`` (notebook 08, section 3): every step is ``lstm_step_backward``
    (the exercise of notebook 08) on the trajectory's step caches; the hook says what to do with a
    step's gradients (record, renormalise) and what to carry into the step before.

    Parameters
    ----------
    traj : from ``lstm_trajectory``; its step caches have a batch axis (1 for one sequence).
    dh_T, dc_T : dL/dh_T and dL/dc_T, shape (N, H) (N = 1 for one sequence).
    hook : ``hook(t, (dx, dprev_h, dprev_c, dWx, dWh, db)) -> (dh, dc)`` for t = T..1.

    Returns
    -------
    the last carry (dL/dh_0, dL/dc_0) as the hook shaped it.
    """
    dh, dc = dh_T, dc_T
    for t in range(len(traj.steps), 0, -1):
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        dh, dc = hook(t, lstm_step_backward(dh, dc, traj.steps[t - 1]))
    return dh, dc


def lstm_cell_direct(traj: LSTMTrajectory) -> np.ndarray:
    """Diagonal of the direct cell-state path ``dc_t/dc_{t-1} = diag(f_t)``: shape (T, H).

    Notebook 08, section 3.
    """
    return traj.f


def lstm_jacobians(traj: LSTMTrajectory, Wh: np.ndarray) -> np.ndarray:
    """Full Jacobians of the state (h_t, c_t) w.r.t. (h_{t-1}, c_{t-1}), as (2H, 2H) block matrices.

    Notebook 08, section 3.

    ``J_t = [[dh_t/dh_{t-1}, dh_t/dc_{t-1}], [dc_t/dh_{t-1}, dc_t/dc_{t-1}]]``; the state vector is
    ``[h, c]`` (h first). With ``W_q = Wh[:, qH:(q+1)H]`` for gate q:

    - ``dc_t/dh_{t-1} = diag(g i(1-i)) W_i^T + diag(c_{t-1} f(1-f)) W_f^T + diag(i (1-g^2)) W_g^T``
    - ``dc_t/dc_{t-1} = diag(f_t)`` (the direct path)
    - ``dh_t/dh_{t-1} = diag(tanh(c_t) o(1-o)) W_o^T + diag(o (1-tanh^2 c_t)) dc_t/dh_{t-1}``
    - ``dh_t/dc_{t-1} = diag(o (1-tanh^2 c_t) f_t)``

    Each ``diag(v) W_q^T`` is ``jacobians_along(v, W_q)`` (notebook 06's exercise), not a second
    implementation of it.

    Parameters
    ----------
    traj : from ``lstm_trajectory`` (one sequence: gates (T, H); batch: (N, T, H)).
    Wh : shape (H, 4H).

    Returns
    -------
    J : shape (T, 2H, 2H) (or (N, T, 2H, 2H)).
    """
    i, f, o, g = traj.i, traj.f, traj.o, traj.g
    H = i.shape[-1]
    check_array("lstm_jacobians", "Wh", Wh, (H, 4 * H))
    c_prev = traj.c[..., :-1, :]
    tc = np.tanh(traj.c[..., 1:, :])
    Wi, Wf, Wo, Wg = (Wh[:, q * H : (q + 1) * H] for q in range(4))

    def along(v: np.ndarray, W: np.ndarray) -> np.ndarray:
        """diag(v_t) W^T for every step: ``jacobians_along`` (the exercise of notebook 06)."""
        return jacobians_along(v.reshape(-1, H), W).reshape(v.shape + (H,))

    dc_dh = (
        along(g * i * (1 - i), Wi)
        + along(c_prev * f * (1 - f), Wf)
        + along(i * (1 - g * g), Wg)
    )
    do_c = o * (1 - tc * tc)
    dh_dh = along(tc * o * (1 - o), Wo) + do_c[..., :, None] * dc_dh
    J = np.zeros(i.shape[:-1] + (2 * H, 2 * H))
    J[..., :H, :H] = dh_dh
    J[..., H:, :H] = dc_dh
    idx = np.arange(H)
    J[..., idx, H + idx] = do_c * f
    J[..., H + idx, H + idx] = f
    return J
