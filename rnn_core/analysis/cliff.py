"""The exploding-gradient "cliff" of Pascanu, Mikolov & Bengio (2013), and gradient clipping.

A one-unit recurrence ``x_t = w sigma(x_{t-1}) + b``, ``x_0 = 0.5``, run for 50 steps, with the loss
``L(w, b) = (sigma(x_50) - 0.7)^2`` and sigma the logistic sigmoid (Pascanu et al. 2013, figure 6).
Where the map ``x -> w sigma(x) + b`` passes through a bifurcation, L changes abruptly: a wall in
the loss surface where the gradient is huge. A gradient step taken there jumps far away; clipping
the norm of the gradient keeps the direction and bounds the step.

Every function here is vectorised over arrays of w and b (any broadcastable shapes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core._lookahead import checkpoint
from rnn_core._validate import check_int, check_positive
from rnn_core.analysis.jacobians import sigmoid
from rnn_core.clipping import clip_grad_norm

X0 = 0.5
TARGET = 0.7
STEPS = 50


def cliff_loss(w: np.ndarray | float, b: np.ndarray | float, T: int = STEPS) -> np.ndarray:
    """Loss ``(sigma(x_T) - 0.7)^2`` of ``x_t = w sigma(x_{t-1}) + b``, x_0 = 0.5.

    w and b broadcast against each other.
    """
    T = check_int("cliff_loss", "T", T, minimum=1)
    return (sigmoid(cliff_state(w, b, T)) - TARGET) ** 2


def cliff_loss_and_grad(
    w: np.ndarray | float, b: np.ndarray | float, T: int = STEPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss and its exact gradient (reverse mode written out), vectorised over w and b.

    Notebook 07, section 2.

    Forward ``x_t = w s_{t-1} + b`` with ``s_t = sigma(x_t)``; backward from
    ``dL/dx_T = 2 (s_T - 0.7) s_T (1 - s_T)``:
    ``dL/dw += dx_t s_{t-1}``, ``dL/db += dx_t``, ``dx_{t-1} = dx_t w s_{t-1} (1 - s_{t-1})``.

    Returns
    -------
    (loss, dL/dw, dL/db), each of the broadcast shape of w and b.
    """
    T = check_int("cliff_loss_and_grad", "T", T, minimum=1)
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    shape = np.broadcast_shapes(w.shape, b.shape)
    s = np.empty((T + 1,) + shape)
    s[0] = sigmoid(np.full(shape, X0))
    for t in range(1, T + 1):
        s[t] = sigmoid(w * s[t - 1] + b)
    loss = (s[T] - TARGET) ** 2
    dx = 2.0 * (s[T] - TARGET) * s[T] * (1.0 - s[T])
    dw = np.zeros(shape)
    db = np.zeros(shape)
    for t in range(T, 0, -1):
        dw = dw + dx * s[t - 1]
        db = db + dx
        if t > 1:  # x_0 is a constant
            dx = dx * w * s[t - 1] * (1.0 - s[t - 1])
    return loss, dw, db


def cliff_surface(w_grid: np.ndarray, b_grid: np.ndarray, T: int = STEPS) -> np.ndarray:
    """Loss on the grid ``w_grid x b_grid``: shape (B, W) (rows b, columns w).

    Notebook 07, section 2.
    """
    w = np.asarray(w_grid, dtype=float)
    b = np.asarray(b_grid, dtype=float)
    return cliff_loss(w[None, :], b[:, None], T)


def clip_by_norm(g: np.ndarray, threshold: float) -> np.ndarray:
    """``g * min(1, threshold / ||g||)``: same direction, norm at most ``threshold``.

    A copy of g clipped by ``rnn_core.clipping.clip_grad_norm`` (with eps = 0: exactly the
    threshold), the exercise of notebook 07.
    """
    threshold = check_positive("clip_by_norm", "threshold", threshold)
    out = {"g": np.array(g, dtype=float)}
    clip_grad_norm(out, threshold, eps=0.0)
    return out["g"]


def clip_by_value(g: np.ndarray, threshold: float) -> np.ndarray:
    """Each entry clipped to [-threshold, threshold]: changes the direction when entries differ.

    Notebook 07, section 3.
    """
    threshold = check_positive("clip_by_value", "threshold", threshold)
    return np.clip(g, -threshold, threshold)


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine of the angle between two non-zero vectors."""
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def clipping_angles(g: np.ndarray, threshold: float) -> dict[str, float]:
    """Angle (degrees) between the raw gradient g and its norm- and value-clipped versions.

    Notebook 07, section 3.
    """
    out = {}
    for name, f in (("norm", clip_by_norm), ("value", clip_by_value)):
        c = np.clip(cosine(g, f(g, threshold)), -1.0, 1.0)
        out[name] = float(np.degrees(np.arccos(c)))
    return out


@dataclass(frozen=True)
class DescentPath:
    """Gradient descent on the cliff.

    Attributes
    ----------
    params : (steps+1, 2), (w, b) after each step (row 0 is the start).
    loss : (steps+1,), loss at each row of params.
    grad_norm : (steps,), norm of the raw gradient used at each step.
    clipped : (steps,), bool, True where clipping changed the gradient.
    lr : (steps,), learning rate used at each step.
    """

    params: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    clipped: np.ndarray
    lr: np.ndarray

    def tail_loss(self, n: int = 10) -> float:
        """Mean loss over the last ``n`` rows (robust to a zigzag, unlike the last value)."""
        n = check_int("DescentPath.tail_loss", "n", n, minimum=1)
        return float(np.mean(self.loss[-n:]))


def gradient_descent(
    start: tuple[float, float],
    lr: float,
    steps: int,
    threshold: float | None = None,
    mode: str = "norm",
    T: int = STEPS,
    halflife: float | None = None,
) -> DescentPath:
    """Plain gradient descent on (w, b), optionally with clipping ("norm" or "value").

    Notebook 07, section 2.

    Parameters
    ----------
    start : (w0, b0).
    lr : learning rate (at step 0 when ``halflife`` is given).
    steps : number of updates.
    threshold : clipping threshold; None for no clipping.
    mode : "norm" (rescale g when ||g|| > threshold) or "value" (clip each entry).
    T : length of the recurrence.
    halflife : if given, the learning rate of step s is ``lr * 2**(-s / halflife)``: it halves
        every ``halflife`` steps, so the descent can settle in the narrow valley next to the wall
        (with a constant rate it zigzags across it). None: constant learning rate.
    """
    fn = "gradient_descent"
    lr = check_positive(fn, "lr", lr)
    steps = check_int(fn, "steps", steps, minimum=0)
    if mode not in ("norm", "value"):
        raise ValueError(f"{fn}: mode must be 'norm' or 'value', got {mode!r}")
    if threshold is not None:
        threshold = check_positive(fn, "threshold", threshold)
    if halflife is not None:
        halflife = check_positive(fn, "halflife", halflife)
    rates = lr * np.exp2(-np.arange(steps) / halflife) if halflife is not None else np.full(
        steps, lr)
    p = np.asarray(start, dtype=float)
    if p.shape != (2,) or not np.all(np.isfinite(p)):
        raise ValueError(f"{fn}: start must be two finite numbers (w0, b0), got {start!r}")
    params = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    gnorm = np.empty(steps)
    clipped = np.zeros(steps, dtype=bool)
    params[0] = p
    for s in range(steps + 1):
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        L, dw, db = cliff_loss_and_grad(params[s, 0], params[s, 1], T)
        loss[s] = L
        if s == steps:
            break
        g = np.array([dw, db])
        gnorm[s] = np.linalg.norm(g)
        if threshold is not None:
            gc = clip_by_norm(g, threshold) if mode == "norm" else clip_by_value(g, threshold)
            clipped[s] = not np.array_equal(gc, g)
            g = gc
        params[s + 1] = params[s] - rates[s] * g
    return DescentPath(params=params, loss=loss, grad_norm=gnorm, clipped=clipped, lr=rates)


def cliff_state(w: np.ndarray | float, b: np.ndarray | float, T: int = STEPS) -> np.ndarray:
    """``x_T`` of ``x_t = w sigma(x_{t-1}) + b``, x_0 = 0.5: the state that jumps at the wall.

    ``cliff_loss`` is ``(sigma(x_T) - 0.7)^2`` of it. Notebook 07 (section 2) plots it along a line
    through the wall, next to the fixed points of ``x -> w sigma(x) + b``. w and b broadcast against
    each other; the result has their broadcast shape.
    """
    T = check_int("cliff_state", "T", T, minimum=1)
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    x = np.full(np.broadcast_shapes(w.shape, b.shape), X0)
    for _ in range(T):
        x = w * sigmoid(x) + b
    return x
