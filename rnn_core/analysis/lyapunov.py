"""Singular values of long products of Jacobians, computed stably, and Lyapunov exponents.

The product ``P = J_t J_{t-1} ... J_{k+1} = dh_t/dh_k`` overflows, underflows, or (long before that)
collapses numerically to rank one when it is multiplied out: every column turns towards the leading
direction and the smaller singular values drown in rounding error. Here the product is never formed.
It is kept in the exact factored form

    P = Q diag(exp(L)) U,     Q orthonormal, U upper triangular with unit-norm rows,

updated by QR re-orthonormalisation (``J Q = Q' R'``, the growth of each direction goes into the
accumulated logs ``L``, the rest into ``U``). Every QR step is ``qr_step`` (the exercise of
notebook 06), so the products and the explorers run on the student's code in the release. The
singular values of ``P`` are those of ``diag(exp(L)) U``; they are extracted in log space by a
few unshifted QR sweeps (which separate strongly graded directions) followed by an SVD of each
group of comparable size. Nothing is exponentiated above 1, so nothing overflows, and each
direction keeps its own scale, so nothing collapses to rank one.

The Lyapunov exponents are the classical Benettin et al. (1980) estimate: the accumulated
``log|R_ii|`` divided by the number of steps. ``newman_exponents`` gives the exact exponents of
products of i.i.d. Gaussian matrices (Newman 1986).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from rnn_core._lookahead import checkpoint
from rnn_core._validate import check_array, check_int

_TINY = np.finfo(float).tiny  # logs are floored at log(tiny) ~ -708 (an exactly singular direction)
_LOG_TINY = math.log(_TINY)
_RANGE = 25.0  # nats: a group resolved by one SVD spans at most exp(25) ~ 7e10


def qr_step(J: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One QR accumulation step: ``Q_next R = J @ Q``; return Q_next and ``log|diag(R)|``.

    Exercise of notebook 06, section 3. Repeated from ``Q = I`` over ``J[0], J[1], ...``, the sums
    of the returned logs are the accumulated log-growths of the product along its orthonormal
    directions (Benettin et al. 1980); divided by the number of steps, the Lyapunov exponents.
    Every product of this module takes its QR steps here.

    Parameters
    ----------
    J : the Jacobian of this step, shape (H, H).
    Q : the factor carried from the previous step, (H, H): orthonormal columns (the identity at
        the start). The products of this module may carry a few factors not yet orthonormalised
        (``reortho_every``); the formula is the same.

    Returns
    -------
    Q_next : the orthonormal factor of ``J @ Q`` (``np.linalg.qr``), shape (H, H).
    log_abs_diag_R : ``log|R_ii|`` in column order (not sorted), shape (H,).
    """
    fn = "qr_step"
    s: dict[str, int] = {}
    check_array(fn, "J", J, ("H", "H"), s)
    check_array(fn, "Q", Q, ("H", "H"), s)
    ### BEGIN SOLUTION
    Q_next, R = np.linalg.qr(J @ Q)
    with np.errstate(divide="ignore"):
        log_abs_diag_R = np.log(np.abs(np.diag(R)))
    ### END SOLUTION
    return Q_next, log_abs_diag_R


class _Product:
    """Running factored product ``P = Z diag(exp(L)) U`` (Z becomes orthonormal at each QR)."""

    def __init__(self, H: int, reortho_every: int) -> None:
        self.Z = np.eye(H)
        self.L = np.zeros(H)
        self.U = np.eye(H)
        self.lyap = np.zeros(H)  # classical Benettin sum of log|R_ii|
        self.every = reortho_every
        self.pending = 0

    def push(self, J: np.ndarray, qr: bool = False) -> None:
        """Multiply J in; take a QR step every ``reortho_every`` factors, or now if ``qr``."""
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        if qr or self.pending + 1 >= self.every:
            self._qr_step(J)
        else:
            self.Z = J @ self.Z
            self.pending += 1

    def _qr_step(self, J: np.ndarray) -> None:
        with np.errstate(divide="ignore"):  # log(0) of an exactly singular direction: floored
            Q, logs = qr_step(J, self.Z)
        # The factored product needs all of R, not only its diagonal: R = Q^T (J Z), upper
        # triangular, its diagonal taken from qr_step (exact zeros stay exact).
        R = np.triu(Q.T @ (J @ self.Z))
        logs = np.maximum(logs, _LOG_TINY)
        np.fill_diagonal(R, np.where(np.diag(R) < 0, -1.0, 1.0) * np.exp(logs))
        self.lyap += logs
        W, n = _grade(R, self.L)
        L = self.L + np.log(n)
        U = W @ self.U
        m = np.maximum(np.linalg.norm(U, axis=1), _TINY)
        self.L = L + np.log(m)
        self.U = U / m[:, None]
        self.Z = Q
        self.pending = 0


def _grade(R: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Write ``R diag(exp(L)) = diag(exp(L) * n) W`` with unit-norm rows of W; return (W, n).

    ``W[i, j] = R[i, j] exp(L_j - L_i) / n_i`` for the upper triangle. Exponents are clipped at 700
    (reached only in the lower triangle, where R is 0, or for pathologically unsorted directions).
    """
    d = np.minimum(L[None, :] - L[:, None], 700.0)
    W = R * np.exp(d)  # R is upper triangular (zeros below), so W is too
    n = np.maximum(np.linalg.norm(W, axis=1), _TINY)
    return W / n[:, None], n


def _log_sv(L: np.ndarray, U: np.ndarray, m: int | None = None, sweeps: int = 60) -> np.ndarray:
    """Log singular values (descending) of ``diag(exp(L)) U``, U upper triangular, unit rows."""
    H = L.size
    m = H if m is None else m
    top = L.max()
    s = np.linalg.svd(np.exp(L - top)[:, None] * U, compute_uv=False)
    if s[m - 1] > 1e-12 * s[0]:  # every wanted value is well inside the float64 range of the SVD
        return top + np.log(s[:m])
    L, U = L.copy(), U.copy()
    for _ in range(sweeps):
        # diag(e^L) U has the singular values of its transpose U^T diag(e^L) = Q R diag(e^L).
        _, R = np.linalg.qr(U.T)
        U, n = _grade(R, L)
        L = L + np.log(n)
        if _separated(L, U):
            break
    out = []
    for lo, hi in _clusters(L, U):
        block = L[lo:hi]
        t = block.max()
        sv = np.linalg.svd(np.exp(block - t)[:, None] * U[lo:hi, lo:hi], compute_uv=False)
        out.append(t + np.log(np.maximum(sv, _TINY)))
    return np.sort(np.concatenate(out))[::-1][:m]


def _cuts(L: np.ndarray, U: np.ndarray) -> list[int]:
    """Indices i+1 where U decouples: every entry of the block ``U[:i+1, i+1:]`` is below 1e-10."""
    # block_max[i] = max |U[r, c]| over r <= i < c, for all i at once (O(H^2), no Python loop):
    # a running max down the rows, then a running max from the right along the columns.
    down = np.maximum.accumulate(np.abs(U), axis=0)
    right = np.maximum.accumulate(down[:, ::-1], axis=1)[:, ::-1]
    block_max = np.diagonal(right, offset=1)
    return [int(i) + 1 for i in np.flatnonzero(block_max < 1e-10)]


def _separated(L: np.ndarray, U: np.ndarray) -> bool:
    """True when every group that must be resolved separately is decoupled from the others."""
    cuts = set(_cuts(L, U))
    bounds = [0, *sorted(cuts), L.size]
    pairs = zip(bounds, bounds[1:], strict=False)
    return all(L[lo:hi].max() - L[lo:hi].min() < _RANGE for lo, hi in pairs)


def _clusters(L: np.ndarray, U: np.ndarray) -> list[tuple[int, int]]:
    bounds = [0, *_cuts(L, U), L.size]
    return list(zip(bounds, bounds[1:], strict=False))


def _check_jac(fn: str, jacobians: np.ndarray) -> np.ndarray:
    J = check_array(fn, "jacobians", jacobians, ("S", "H", "H"))
    if J.shape[0] < 1:
        raise ValueError(f"{fn}: jacobians must hold at least one step, got shape {J.shape}")
    return J


def product_log_singular_values(
    jacobians: np.ndarray, reortho_every: int = 4, m: int | None = None
) -> np.ndarray:
    """Natural-log singular values of ``J[S-1] @ ... @ J[1] @ J[0]``, descending, computed stably.

    Parameters
    ----------
    jacobians : per-step Jacobians, shape (S, H, H); ``J[0]`` acts first (step k+1), ``J[S-1]`` last
        (step t), so the product is ``dh_t/dh_k`` with ``S = t - k``.
        Use ``J[k:t]`` of a trajectory.
    reortho_every : QR re-orthonormalisation after this many steps (1 = every step, the most
        conservative; 4 is accurate unless a single step has a condition number above ~1e3).
    m : return only the m largest (default all H).

    Returns
    -------
    log_sv : shape (m,), ``log sigma_1 >= log sigma_2 >= ...``; exactly singular directions (e.g. a
        fully saturated tanh) are floored near log(tiny) = -708 instead of -inf.
    """
    fn = "product_log_singular_values"
    J = _check_jac(fn, jacobians)
    every = check_int(fn, "reortho_every", reortho_every, minimum=1)
    p = _Product(J.shape[1], every)
    for s, Js in enumerate(J, start=1):
        p.push(Js, qr=s == len(J))
    return _log_sv(p.L, p.U, m)


def log_singular_values_by_gap(
    jacobians: np.ndarray, gaps: np.ndarray, m: int | None = None, reortho_every: int = 4
) -> np.ndarray:
    """Log singular values of ``dh_{k+g}/dh_k`` for each gap g, from ONE product that starts at k.

    Notebook 06, section 4.

    The product starts at the first Jacobian given (pass ``J[k:]``) and grows one step at a time;
    at every requested gap its singular values are read off, so all gaps cost one pass.

    Parameters
    ----------
    jacobians : shape (S, H, H), ``J[0]`` acting first.
    gaps : increasing integers in 1..S, shape (G,).
    m : number of largest singular values to keep (default H).
    reortho_every : see ``product_log_singular_values``.

    Returns
    -------
    log_sv : shape (G, m), natural logs, descending along the last axis.
    """
    fn = "log_singular_values_by_gap"
    J = _check_jac(fn, jacobians)
    g = np.asarray(gaps)
    if g.ndim != 1 or g.size == 0 or not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"{fn}: gaps must be a non-empty 1-D integer array, got {gaps!r}")
    if g[0] < 1 or g[-1] > J.shape[0] or np.any(np.diff(g) <= 0):
        raise ValueError(f"{fn}: gaps must increase strictly within 1..{J.shape[0]}, got {g}")
    H = J.shape[1]
    m = H if m is None else check_int(fn, "m", m, minimum=1)
    every = check_int(fn, "reortho_every", reortho_every, minimum=1)
    return stream_log_singular_values(iter(J), H, g, min(m, H), every)


def stream_log_singular_values(
    jacobians: Iterator[np.ndarray], H: int, gaps: np.ndarray, m: int, reortho_every: int
) -> np.ndarray:
    """``log_singular_values_by_gap`` for Jacobians that arrive one at a time (unchecked).

    For callers that build each (H, H) Jacobian on the fly instead of holding a (S, H, H) stack
    (the explorers: ``diag(phi'(a_t)) Wh^T`` from a trajectory). ``gaps`` must increase strictly
    from 1 and ``jacobians`` must yield at least ``gaps[-1]`` matrices; nothing is checked here.
    """
    p = _Product(H, reortho_every)
    out = np.empty((len(gaps), m))
    j = 0
    for s in range(1, int(gaps[-1]) + 1):
        p.push(next(jacobians), qr=s == gaps[j])
        if s == gaps[j]:
            out[j] = _log_sv(p.L, p.U, m)
            j += 1
    return out


def lyapunov_exponents(jacobians: np.ndarray, reortho_every: int = 1) -> np.ndarray:
    """Lyapunov exponents of the product (Benettin et al. 1980): accumulated log|R_ii| / steps.

    Notebook 06, section 8.

    Parameters
    ----------
    jacobians : shape (S, H, H), ``J[0]`` acting first.
    reortho_every : QR after this many steps.

    Returns
    -------
    exponents : shape (H,), descending, natural log per step. For long products they equal
        ``log_sv / S`` up to O(1/S).
    """
    fn = "lyapunov_exponents"
    J = _check_jac(fn, jacobians)
    p = _Product(J.shape[1], check_int(fn, "reortho_every", reortho_every, minimum=1))
    for s, Js in enumerate(J, start=1):
        p.push(Js, qr=s == len(J))
    return np.sort(p.lyap)[::-1] / J.shape[0]


def digamma(x: float | np.ndarray) -> np.ndarray:
    """The digamma function psi(x) = d/dx ln Gamma(x) for x > 0 (no scipy).

    The recurrence ``psi(x) = psi(x + 1) - 1/x`` moves x above 10, where the asymptotic series
    ``psi(x) ~ ln x - 1/(2x) - sum_k B_{2k} / (2k x^{2k})`` is accurate to ~1e-15.
    """
    x = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError(f"digamma: x must be finite and > 0, got {x}")
    acc = np.zeros_like(x)
    y = x.copy()
    while np.any(y < 10.0):
        small = y < 10.0
        acc = acc - np.where(small, 1.0 / y, 0.0)
        y = np.where(small, y + 1.0, y)
    inv2 = 1.0 / (y * y)
    # Bernoulli numbers B2..B14 divided by 2k: 1/12, -1/120, 1/252, -1/240, 1/132, -691/32760, 1/12
    series = inv2 * (
        1 / 12
        - inv2
        * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * 691 / 32760))))
    )
    return acc + np.log(y) - 0.5 / y - series


def newman_exponents(n: int) -> np.ndarray:
    """Lyapunov exponents of products of i.i.d. n x n Gaussian matrices with entries N(0, 1/n).

    Notebook 06, section 8.

    ``lambda_i = 1/2 [ln(2/n) + psi((n - i + 1)/2)]``, i = 1..n (Newman 1986, "The distribution of
    Lyapunov exponents: exact results for random matrices", Commun. Math. Phys. 103, 121-126).
    The variance matters: entries N(0, s^2) shift every exponent by ln(s sqrt(n)).

    Returns
    -------
    exponents : shape (n,), descending, natural log per step.
    """
    n = check_int("newman_exponents", "n", n, minimum=1)
    i = np.arange(1, n + 1)
    return 0.5 * (np.log(2.0 / n) + digamma((n - i + 1) / 2.0))
