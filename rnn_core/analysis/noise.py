""""Why not just scale the vanishing gradient up?" - what rescaling amplifies.

Task: the first input carries the signal (``x_1 = s``, ``s = +-1``), every later input is noise
(``x_t ~ N(0, noise_std^2)``), and the loss at the last step is ``(v . h_T - s)^2 / 2``. The
gradient of ``Wx`` is a sum over steps, ``dL/dWx = sum_k x_k^T dL/da_k``; the term of step k is
its contribution. Measured over many minibatches, its mean is the signal it carries and its
standard deviation is the noise.

Rescaling the contribution of step k by ``1/||dh_T/dh_k||`` (to "undo" the vanishing) multiplies
its mean and its standard deviation alike: the signal-to-noise ratio cannot improve (it is
unchanged for a constant factor and gets worse when the factor is itself estimated per minibatch),
and the noise is amplified by the same large factor. An LSTM with a large forget-gate bias instead
keeps the far-past contribution itself alive: its mean does not vanish in the first place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core._validate import as_generator, check_int, check_positive
from rnn_core.analysis.jacobians import (
    lstm_trajectory,
    lstm_walk_back,
    vanilla_trajectory,
    walk_back,
)
from rnn_core.init import init_matrix

_TINY = np.finfo(float).tiny


@dataclass(frozen=True)
class StepContributions:
    """Per-step gradient contributions over minibatches, for k = 1..T (shape (T,) each).

    Attributes
    ----------
    signal : ||mean over minibatches of the step-k contribution to dL/dWx||.
    noise : sqrt(sum of variances over minibatches) of that contribution.
    snr : signal / noise.
    scale : mean over minibatches of ||dL/dh_k|| / ||dL/dh_T|| (how much gradient is left).
    rescaled_signal, rescaled_noise, rescaled_snr : the same after dividing the contribution by
        ``scale`` (the "scale it up" idea with a constant factor: SNR exactly unchanged, noise
        multiplied by 1/scale).
    per_batch_signal, per_batch_noise, per_batch_snr : the same when each minibatch's contribution
        is divided by that minibatch's own ratio ``||dL/dh_k|| / ||dL/dh_T||`` (a practical
        "undo the vanishing" rule: the factor is itself noisy, so the SNR can change either way).
    """

    signal: np.ndarray
    noise: np.ndarray
    snr: np.ndarray
    scale: np.ndarray
    rescaled_signal: np.ndarray
    rescaled_noise: np.ndarray
    rescaled_snr: np.ndarray
    per_batch_signal: np.ndarray
    per_batch_noise: np.ndarray
    per_batch_snr: np.ndarray


def _task(T: int, batches: int, N: int, noise_std: float, gen: np.random.Generator):
    s = gen.choice([-1.0, 1.0], size=(batches * N,))
    x = gen.standard_normal((batches * N, T, 1)) * noise_std
    x[:, 0, 0] = s
    return x, s


def _summarise(c: np.ndarray, dh_norm: np.ndarray, batches: int) -> StepContributions:
    """c: (B, T, P) minibatch gradients of each step; dh_norm: (M, T+1) norms of dL/dh_k."""
    B, T, P = c.shape
    N = dh_norm.shape[0] // batches
    g = dh_norm.reshape(batches, N, T + 1)
    ratio = np.sqrt((g[..., 1:] ** 2).mean(axis=1)) / np.maximum(
        np.sqrt((g[..., -1:] ** 2).mean(axis=1)), _TINY
    )  # (B, T): per-minibatch ||dL/dh_k|| / ||dL/dh_T||
    ratio = np.maximum(ratio, _TINY)

    def stats(a):
        sig = np.linalg.norm(a.mean(axis=0), axis=-1)
        noi = np.sqrt(a.var(axis=0).sum(axis=-1))
        return sig, noi, sig / np.maximum(noi, _TINY)

    sig, noi, snr = stats(c)
    scale = ratio.mean(axis=0)
    rs, rn, rsnr = stats(c / scale[:, None])
    ps, pn, psnr = stats(c / ratio[..., None])
    return StepContributions(signal=sig, noise=noi, snr=snr, scale=scale, rescaled_signal=rs,
                             rescaled_noise=rn, rescaled_snr=rsnr, per_batch_signal=ps,
                             per_batch_noise=pn, per_batch_snr=psnr)


def vanilla_contributions(
    T: int = 30, H: int = 16, batches: int = 100, N: int = 16, noise_std: float = 1.0,
    scale: float = 0.8, rng: np.random.Generator | int = 0,
) -> StepContributions:
    """Step contributions to dL/dWx of a tanh RNN (Wh = scale * orthogonal) on the far-past task.

    Notebook 07, section 5: forward ``vanilla_trajectory``, backward ``walk_back``.

    Parameters
    ----------
    T : steps. H : hidden size. batches : number of minibatches. N : minibatch size.
    noise_std : std of the noise inputs x_2..x_T. scale : gain of Wh. rng : Generator or int.
    """
    fn = "vanilla_contributions"
    T, H = check_int(fn, "T", T, minimum=2), check_int(fn, "H", H, minimum=1)
    batches, N = check_int(fn, "batches", batches, minimum=2), check_int(fn, "N", N, minimum=1)
    noise_std = check_positive(fn, "noise_std", noise_std)
    scale = check_positive(fn, "scale", scale)
    gen = as_generator(rng, fn)
    Wh = init_matrix("orthogonal", (H, H), gen, scale)
    Wx = gen.standard_normal((1, H))
    v = gen.standard_normal(H) / np.sqrt(H)
    x, s = _task(T, batches, N, noise_std, gen)
    c = np.empty((batches, T, H))  # minibatch gradient of step k: its dWx term / N (D = 1)
    norms = np.empty((batches * N, T + 1))
    for i in range(batches):
        rows = slice(i * N, (i + 1) * N)
        traj = vanilla_trajectory(x[rows], np.zeros((N, H)), Wx, Wh, np.zeros(H))
        dh = ((traj.h[:, -1] @ v - s[rows])[:, None]) * v  # dL/dh_T, (N, H)
        norms[rows, T] = np.linalg.norm(dh, axis=1)

        def record(k: int, grads: tuple, i: int = i, rows: slice = rows) -> np.ndarray:
            c[i, k - 1] = grads[2][0] / N
            norms[rows, k - 1] = np.linalg.norm(grads[1], axis=1)
            return grads[1]

        walk_back(traj, dh, record)
    return _summarise(c, norms, batches)


def lstm_contributions(
    T: int = 30, H: int = 16, batches: int = 100, N: int = 16, noise_std: float = 1.0,
    forget_bias: float = 5.0, rng: np.random.Generator | int = 0,
) -> StepContributions:
    """The same measurement for an LSTM (Glorot weights, forget-gate bias ``forget_bias``).

    Notebook 07, section 5. The contribution of step k is its term of dL/dWx, shape (1, 4H)
    flattened; forward and backward are ``lstm_trajectory`` / ``lstm_walk_back`` (the steps of
    notebook 08's exercise), one minibatch at a time.
    """
    fn = "lstm_contributions"
    T, H = check_int(fn, "T", T, minimum=2), check_int(fn, "H", H, minimum=1)
    batches, N = check_int(fn, "batches", batches, minimum=2), check_int(fn, "N", N, minimum=1)
    noise_std = check_positive(fn, "noise_std", noise_std)
    gen = as_generator(rng, fn)
    Wx = init_matrix("glorot", (1, 4 * H), gen)
    Wh = init_matrix("glorot", (H, 4 * H), gen)
    b = np.zeros(4 * H)
    b[H : 2 * H] = forget_bias
    v = gen.standard_normal(H) / np.sqrt(H)
    x, s = _task(T, batches, N, noise_std, gen)
    c = np.empty((batches, T, 4 * H))  # minibatch gradient of step k: its dWx term / N (D = 1)
    norms = np.empty((batches * N, T + 1))
    for i in range(batches):
        rows = slice(i * N, (i + 1) * N)
        traj = lstm_trajectory(x[rows], np.zeros((N, H)), np.zeros((N, H)), Wx, Wh, b)
        dh = ((traj.h[:, -1] @ v - s[rows])[:, None]) * v  # dL/dh_T, (N, H)
        norms[rows, T] = np.linalg.norm(dh, axis=1)

        def record(k: int, grads: tuple, i: int = i, rows: slice = rows):
            c[i, k - 1] = grads[3][0] / N
            norms[rows, k - 1] = np.sqrt(np.linalg.norm(grads[1], axis=1) ** 2
                                         + np.linalg.norm(grads[2], axis=1) ** 2)
            return grads[1], grads[2]

        lstm_walk_back(traj, dh, np.zeros((N, H)), record)
    return _summarise(c, norms, batches)
