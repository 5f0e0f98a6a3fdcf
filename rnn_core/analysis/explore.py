"""Every explorer's compute function and its cache (inputs -> read-only arrays).

The explorers of ``rnn_core.widgets`` only draw; what they draw is computed here (the training
explorer's run is :func:`rnn_core.analysis.training_trace.training_trace`, cached the same way
next to its model):

=================================  ===============================  ================================
explorer (``rnn_core.widgets``)    compute                          Layer A it runs on
=================================  ===============================  ================================
``vanilla_flow_explorer``          :func:`vanilla_flow`             rnn_forward / rnn_backward,
                                                                    jacobians_along, qr_step
``clipping_explorer``              :func:`cliff_runs`               clip_grad_norm
``highway_explorer``               :func:`lstm_highway`             lstm_step_forward / _backward,
                                                                    rnn_forward, rnn_backward
``training_explorer``              ``training_trace``               rnn_forward, rnn_backward,
                                                                    clip_grad_norm
``stack_gradient_explorer``        :func:`stack_gradient_maps`      the rnn and lstm step functions
=================================  ===============================  ================================

Each returns a frozen dataclass (or tuple) of read-only arrays, fast enough for a slider callback.
Results that run the exercise code are cached with :func:`code_keyed_cache`: the key holds the
code of every Layer A function as it is now, so a student who edits (or autoreloads) an exercise
never sees a picture of the code they replaced. What depends on no exercise (random matrices per
(init, H, seed), inputs per (T, input_scale, seed), the cliff loss surface) uses a plain cache.
Every field is finite at any slider setting: norms that would overflow or underflow are computed
in log space (``log10_*`` fields) and their plain versions are clipped to [1e-300, 1e300].

Ahead of a slider move (D6: the browser keeps the frames it has and asks for more when idle),
:func:`precompute` fills an explorer's cache at given positions, :func:`grid_outward` orders a
grid from the current position outward, and :func:`stack_gradient_maps_grid` computes the
stacked explorer's whole grid; the training explorer's grid goes through
``training_trace.precompute_training``. Parts that a slider does not change are cached apart
(the clipping explorer's unclipped run, the highway explorer's vanilla RNN), so moving that
slider computes only the rest.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from rnn_core.analysis.backprop import log10_grad_norms_last
from rnn_core.analysis.bounds import bound_log10_from_eta, regime_from_eta
from rnn_core.analysis.cliff import DescentPath, cliff_surface, gradient_descent
from rnn_core.analysis.jacobians import ACTIVATIONS, GAMMA, jacobians_along, vanilla_trajectory
from rnn_core.analysis.lyapunov import stream_log_singular_values
from rnn_core.init import INIT_NAMES, init_matrix

D_INPUT = 4
"""Input size D of the explorer's RNN."""

LAYER_A: tuple[tuple[str, str], ...] = (
    ("rnn_core.rnn", "rnn_step_forward"),
    ("rnn_core.rnn", "rnn_step_backward"),
    ("rnn_core.rnn", "rnn_forward"),
    ("rnn_core.rnn", "rnn_backward"),
    ("rnn_core.lstm", "lstm_step_forward"),
    ("rnn_core.lstm", "lstm_step_backward"),
    ("rnn_core.analysis.jacobians", "jacobians_along"),
    ("rnn_core.analysis.lyapunov", "qr_step"),
    ("rnn_core.clipping", "clip_grad_norm"),
)
"""The exercise functions (docs/architecture.md, D1) whose results the explorers cache."""

def layer_a_code() -> tuple[Any, ...]:
    """The code objects of the ``LAYER_A`` functions as the modules hold them now.

    Looked up at every call: IPython's autoreload swaps a function's ``__code__`` in place and a
    reload puts a new function in the module; either way the key changes. Code objects compare by
    their bytecode, constants and names, so an unchanged function keeps its key.
    """
    out = []
    for module, name in LAYER_A:
        mod = sys.modules.get(module) or importlib.import_module(module)
        out.append(getattr(mod, name).__code__)
    return tuple(out)


class CacheInfo(NamedTuple):
    """Statistics of a cache, as ``functools.lru_cache`` reports them."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


class CodeKeyedCache:
    """A least-recently-used cache of ``fn(*args)`` whose key also holds :func:`layer_a_code`.

    Called like ``fn`` (positional, hashable arguments). Besides ``cache_clear`` and
    ``cache_info`` (as for ``functools.lru_cache``), a precompute can ask whether a result is
    there (``cached``) and store one it computed another way (``put``) under the same key as a
    call would, so a later slider move finds it. A lock keeps the table consistent when the
    look-ahead thread (``rnn_core.widgets.lookahead``) fills it while the explorer reads it; a
    call stores its result only if the exercise code did not change while it was computed
    (``put`` stores under the code of the moment: its caller vouches for the value).
    """

    def __init__(self, fn: Callable[..., Any], maxsize: int) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.maxsize = maxsize
        self._table: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0
        # Bound per instance, not defined on the class: rnn_core.notebook.clear_caches empties
        # whatever in a module has cache_clear and cache_info, and would call the class's own.
        self.cache_clear = self._cache_clear
        self.cache_info = self._cache_info

    def __call__(self, *args: Any) -> Any:
        key = (layer_a_code(), *args)
        with self._lock:
            if key in self._table:
                self._table.move_to_end(key)
                self._hits += 1
                return self._table[key]
            self._misses += 1
        value = self._fn(*args)
        # Stored only if the code is still what it was at the start: a look-ahead thread paused
        # across a cell that edited an exercise may have run part of it on the new code.
        if layer_a_code() == key[0]:
            self._store(key, value)
        return value

    def cached(self, *args: Any) -> bool:
        """Whether ``self(*args)`` would be answered from the cache (for the current code)."""
        with self._lock:
            return (layer_a_code(), *args) in self._table

    def put(self, args: tuple, value: Any) -> None:
        """Store ``value`` as the result of ``self(*args)`` for the current exercise code."""
        self._store((layer_a_code(), *args), value)

    def _store(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._table[key] = value
            self._table.move_to_end(key)
            while len(self._table) > self.maxsize:
                self._table.popitem(last=False)

    def _cache_clear(self) -> None:
        with self._lock:
            self._table.clear()
            self._hits = self._misses = 0

    def _cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, self.maxsize, len(self._table))


def code_keyed_cache(maxsize: int) -> Callable[[Callable[..., Any]], CodeKeyedCache]:
    """Decorator: :class:`CodeKeyedCache` of at most ``maxsize`` results.

    For results computed by exercise code: after a student edits an exercise, the next call
    recomputes with the new code instead of serving the old result.
    """

    def decorate(fn: Callable[..., Any]) -> CodeKeyedCache:
        return CodeKeyedCache(fn, maxsize)

    return decorate


LOG10_FLOOR = -300.0
LOG10_CEIL = 300.0


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _plain(log10: np.ndarray) -> np.ndarray:
    """10**log10, clipped into the float range for plotting on a log axis."""
    return 10.0 ** np.clip(log10, LOG10_FLOOR, LOG10_CEIL)


@lru_cache(maxsize=64)
def _weights(init: str, H: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unscaled Wh (H, H), Wx (D, H) and the upstream unit vector (H,) for (init, H, seed)."""
    rng = np.random.default_rng([seed, H])
    Wh = _frozen(init_matrix(init, (H, H), rng))
    Wx = _frozen(rng.standard_normal((D_INPUT, H)) / np.sqrt(D_INPUT))
    u = rng.standard_normal(H)
    return Wh, Wx, _frozen(u / np.linalg.norm(u))


@lru_cache(maxsize=64)
def _inputs(T: int, input_scale: float, seed: int) -> np.ndarray:
    """Inputs x of shape (T, D): input_scale times standard normal entries."""
    rng = np.random.default_rng([seed, T, 7])
    return _frozen(input_scale * rng.standard_normal((T, D_INPUT)))


def _gaps(T: int, n: int = 16) -> np.ndarray:
    """About n gaps from 1 to T, spaced evenly on a log axis."""
    return np.unique(np.round(np.geomspace(1, T, n)).astype(int))


@dataclass(frozen=True)
class VanillaFlow:
    """Gradient flow of a vanilla RNN on one sequence (see ``vanilla_flow``).

    Attributes
    ----------
    k : steps 0..T, shape (T+1,).
    log10_grad_norm, grad_norm : log10 ||dL/dh_k|| and its plotting value, shape (T+1,).
    log10_bound, bound : Pascanu bound eta^(T-k) ||dL/dh_T||, shape (T+1,).
    gaps : gaps t - k at which singular values are read, shape (G,).
    log_sv : natural-log singular values of dh_{gap}/dh_0 (the m largest), shape (G, m).
    log10_sv : the same in log10, shape (G, m).
    eig_W : eigenvalues of Wh, complex, shape (H,). sv_W : singular values of Wh, shape (H,).
    sigma1 : sigma_1(Wh), the largest singular value of Wh (Pascanu's lambda_1).
    eta : gamma * sigma1. regime : Pascanu regime, one of ``rnn_core.analysis.bounds.REGIMES``.
    """

    k: np.ndarray
    log10_grad_norm: np.ndarray
    grad_norm: np.ndarray
    log10_bound: np.ndarray
    bound: np.ndarray
    gaps: np.ndarray
    log_sv: np.ndarray
    log10_sv: np.ndarray
    eig_W: np.ndarray
    sv_W: np.ndarray
    sigma1: float
    eta: float
    regime: str


@lru_cache(maxsize=32)
def _spectrum(init: str, H: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    Wh = _weights(init, H, seed)[0]
    return _frozen(np.linalg.eigvals(Wh)), _frozen(np.linalg.svd(Wh, compute_uv=False))


def vanilla_flow(
    scale: float = 1.0,
    T: int = 100,
    init: str = "orthogonal",
    activation: str = "tanh",
    input_scale: float = 0.1,
    H: int = 64,
    seed: int = 0,
    m: int = 8,
) -> VanillaFlow:
    """Gradient flow through a vanilla RNN ``h_t = phi(x_t Wx + h_{t-1} Wh)``, h_0 = 0.

    ``Wh = scale * init_matrix(init, (H, H))`` (so ``scale`` sets the largest singular value);
    inputs ``x`` of shape (T, D=4) with standard deviation ``input_scale``. The loss sits at the
    last step with a fixed random unit upstream gradient ``dL/dh_T``. The singular values come from
    ONE product that starts at step 0: ``log_sv[j]`` belongs to ``dh_{gaps[j]}/dh_0``.

    Parameters
    ----------
    scale : > 0, multiplies the initial matrix.
    T : sequence length >= 1.
    init : "gaussian0.01", "glorot", "orthogonal" or "identity".
    activation : "tanh", "linear" or "sigmoid".
    input_scale : >= 0 (default 0.1: small inputs keep tanh out of saturation; at 1 the
        tanh derivatives shrink every factor and the gradient vanishes even for sigma_1 = 1).
    H : hidden size. seed : int. m : number of singular values kept (at most H).
    """
    return _vanilla_flow(float(scale), int(T), init, activation, float(input_scale), int(H),
                         int(seed), int(m))


@code_keyed_cache(maxsize=64)
def _vanilla_flow(scale, T, init, activation, input_scale, H, seed, m) -> VanillaFlow:
    fn = "vanilla_flow"
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"{fn}: scale must be a finite number > 0, got {scale!r}")
    if T < 1:
        raise ValueError(f"{fn}: T must be >= 1, got {T}")
    if init not in INIT_NAMES:
        raise ValueError(f"{fn}: init must be one of {INIT_NAMES}, got {init!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{fn}: activation must be one of {ACTIVATIONS}, got {activation!r}")
    if not (np.isfinite(input_scale) and input_scale >= 0):
        raise ValueError(f"{fn}: input_scale must be a finite number >= 0, got {input_scale!r}")
    W0, Wx, u = _weights(init, H, seed)
    Wh = scale * W0
    x = _inputs(T, input_scale, seed)
    if activation == "linear":
        # A linear RNN's Jacobians are Wh^T whatever its state (phi' = 1), while the state itself
        # grows like sigma_1^T and leaves float64 at the sliders' corner (3.16^1000 at input scale
        # 3). From zero inputs the state stays 0 and phi' is the same ones: the same gradients and
        # singular values, bit for bit, with no overflow.
        x = np.zeros_like(x)
    traj = vanilla_trajectory(x, np.zeros(H), Wx, Wh, np.zeros(H), activation)
    lg = log10_grad_norms_last(traj, Wh, u)
    eig, sv0 = _spectrum(init, H, seed)
    sigma1 = float(sv0[0] * scale)            # cached singular values: no SVD of Wh per call
    eta = sigma1 * GAMMA[activation]
    lb = bound_log10_from_eta(eta, T, log10_grad_T=float(lg[-1]))
    gaps = _gaps(T)
    log_sv = _log_sv_by_gap(traj.dphi, Wh, gaps, m=min(m, H), reortho_every=8)
    return VanillaFlow(
        k=_frozen(np.arange(T + 1)),
        log10_grad_norm=_frozen(lg),
        grad_norm=_frozen(_plain(lg)),
        log10_bound=_frozen(lb),
        bound=_frozen(_plain(lb)),
        gaps=_frozen(gaps),
        log_sv=_frozen(log_sv),
        log10_sv=_frozen(log_sv / np.log(10.0)),
        eig_W=_frozen(eig * scale),
        sv_W=_frozen(sv0 * scale),
        sigma1=sigma1,
        eta=eta,
        regime=regime_from_eta(eta),
    )


def _log_sv_by_gap(dphi: np.ndarray, Wh: np.ndarray, gaps: np.ndarray, m: int,
                   reortho_every: int) -> np.ndarray:
    """``log_singular_values_by_gap(vanilla_jacobians(traj, Wh), gaps, m, reortho_every)``.

    The same running product, bit for bit, fed the Jacobians of ``jacobians_along`` a chunk of
    steps at a time instead of one (T, H, H) stack (a 6.5 MB allocation and a NaN scan at T=200,
    H=64), and only up to the last gap.
    """
    chunk = 16

    def jacobians():
        for t0 in range(0, int(gaps[-1]), chunk):
            yield from jacobians_along(dphi[t0 : min(t0 + chunk, int(gaps[-1]))], Wh)

    return stream_log_singular_values(jacobians(), Wh.shape[0], gaps, m, reortho_every)


CLIFF_W = np.linspace(-2.0, 14.0, 161)
CLIFF_B = np.linspace(-8.0, 3.0, 111)


@lru_cache(maxsize=1)
def cliff_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(w_grid (W,), b_grid (B,), loss (B, W)) of the cliff loss surface, cached."""
    return _frozen(CLIFF_W), _frozen(CLIFF_B), _frozen(cliff_surface(CLIFF_W, CLIFF_B))


CLIFF_START = (4.5, -2.0)
"""Where both runs of the clipping explorer start: next to the cliff's wall."""


def cliff_runs(threshold: float, lr: float, steps: int = 60, mode: str = "norm",
               halflife: float | None = 30.0) -> tuple[DescentPath, DescentPath]:
    """The clipping explorer's two runs from ``CLIFF_START``: (without, with clipping), cached.

    Parameters
    ----------
    threshold : clipping threshold, > 0. lr : learning rate at step 0, > 0. steps : updates.
    mode : "norm" or "value". halflife : the learning rate halves every ``halflife`` steps
        (None: constant).
    """
    return _cliff_runs(float(threshold), float(lr), int(steps), str(mode),
                       None if halflife is None else float(halflife))


@code_keyed_cache(maxsize=64)
def _cliff_runs(threshold: float, lr: float, steps: int, mode: str, halflife: float | None
                ) -> tuple[DescentPath, DescentPath]:
    clipped = gradient_descent(CLIFF_START, lr, steps, threshold=threshold, mode=mode,
                               halflife=halflife)
    return _cliff_raw(lr, steps, halflife), clipped


@lru_cache(maxsize=64)
def _cliff_raw(lr: float, steps: int, halflife: float | None) -> DescentPath:
    """The run without clipping: the threshold and the mode do not change it, so moving them
    computes only the clipped run. It runs no exercise code (no clipping): a plain cache.
    Its arrays are read-only, as every entry of ``_cliff_runs`` with this lr shares them."""
    raw = gradient_descent(CLIFF_START, lr, steps, halflife=halflife)
    for a in vars(raw).values():
        a.setflags(write=False)
    return raw


@dataclass(frozen=True)
class LSTMHighway:
    """LSTM highway vs vanilla RNN on the same input (see ``lstm_highway``); shapes (T+1,).

    Attributes
    ----------
    k : steps 0..T.
    log10_direct, direct : ||dc_T/dc_k|| along the direct path (product of forget gates).
    log10_full_c, full_c : ||dc_T/dc_k|| through the full (h, c) Jacobian product.
    log10_lstm_grad, lstm_grad : LSTM ||dL/dh_k|| (loss at the last step, fixed unit upstream).
    log10_vanilla_grad, vanilla_grad : vanilla tanh RNN ||dL/dh_k|` on the same input.
    mean_forget : mean forget-gate activation over the sequence (float).
    """

    k: np.ndarray
    log10_direct: np.ndarray
    direct: np.ndarray
    log10_full_c: np.ndarray
    full_c: np.ndarray
    log10_lstm_grad: np.ndarray
    lstm_grad: np.ndarray
    log10_vanilla_grad: np.ndarray
    vanilla_grad: np.ndarray
    mean_forget: float


@lru_cache(maxsize=16)
def _lstm_weights(H: int, seed: int) -> tuple[np.ndarray, ...]:
    """LSTM Wx (D, 4H), Wh (H, 4H) (Glorot) and vanilla Wx (D, H), Wh (H, H) (Glorot)."""
    rng = np.random.default_rng([seed, H, 11])
    Wx = init_matrix("glorot", (D_INPUT, 4 * H), rng)
    Wh = init_matrix("glorot", (H, 4 * H), rng)
    vWx = init_matrix("glorot", (D_INPUT, H), rng)
    vWh = init_matrix("glorot", (H, H), rng)
    u = rng.standard_normal(H)
    return tuple(_frozen(a) for a in (Wx, Wh, vWx, vWh, u / np.linalg.norm(u)))


def lstm_highway(
    forget_bias: float = 1.0, T: int = 100, H: int = 32, seed: int = 0
) -> LSTMHighway:
    """LSTM gradient highway as a function of the forget-gate bias, next to a vanilla RNN.

    One LSTM (Glorot weights, bias 0 except ``forget_bias`` on the f gate) and one vanilla tanh RNN
    (Glorot weights) read the same inputs x (T, D=4) with unit standard deviation.

    Parameters
    ----------
    forget_bias : bias of the forget gate (any finite number). T : steps >= 1. H : hidden size.
    seed : int.
    """
    return _lstm_highway(float(forget_bias), int(T), int(H), int(seed))


@code_keyed_cache(maxsize=64)
def _lstm_highway(forget_bias, T, H, seed) -> LSTMHighway:
    from rnn_core.analysis.highway import lstm_highway_norms
    from rnn_core.analysis.jacobians import lstm_trajectory

    if not np.isfinite(forget_bias):
        raise ValueError(f"lstm_highway: forget_bias must be finite, got {forget_bias!r}")
    if T < 1:
        raise ValueError(f"lstm_highway: T must be >= 1, got {T}")
    Wx, Wh, _, _, u = _lstm_weights(H, seed)
    x = _inputs(T, 1.0, seed)
    b = np.zeros(4 * H)
    b[H : 2 * H] = forget_bias
    traj = lstm_trajectory(x, np.zeros(H), np.zeros(H), Wx, Wh, b)
    hw = lstm_highway_norms(traj, Wh, u)
    vg = _highway_vanilla(T, H, seed)
    return LSTMHighway(
        k=_frozen(np.arange(T + 1)),
        log10_direct=_frozen(hw.log10_direct),
        direct=_frozen(_plain(hw.log10_direct)),
        log10_full_c=_frozen(hw.log10_full_c),
        full_c=_frozen(_plain(hw.log10_full_c)),
        log10_lstm_grad=_frozen(hw.log10_grad_h),
        lstm_grad=_frozen(_plain(hw.log10_grad_h)),
        log10_vanilla_grad=_frozen(vg),
        vanilla_grad=_frozen(_plain(vg)),
        mean_forget=float(traj.f.mean()),
    )


@code_keyed_cache(maxsize=64)
def _highway_vanilla(T: int, H: int, seed: int) -> np.ndarray:
    """log10 ||dL/dh_k|| of the highway explorer's vanilla RNN: the forget bias does not change
    it, so a forget-bias move reuses it (cached on the code: it runs rnn_forward and
    rnn_backward)."""
    _, _, vWx, vWh, u = _lstm_weights(H, seed)
    vtraj = vanilla_trajectory(_inputs(T, 1.0, seed), np.zeros(H), vWx, vWh, np.zeros(H), "tanh")
    return _frozen(log10_grad_norms_last(vtraj, vWh, u))


@dataclass(frozen=True)
class StackGradientMaps:
    """log10 ||dL/dh^(l)_t|| maps of a vanilla and an LSTM stack on the same inputs.

    Attributes
    ----------
    rnn, lstm : (L, T) log10 norms (floored at -300: an exact zero stays drawable).
    """

    rnn: np.ndarray
    lstm: np.ndarray


def stack_gradient_maps(
    num_layers: int = 3, weight_scale: float = 1.0, T: int = 60, seed: int = 0
) -> StackGradientMaps:
    """Compute function of the stacked explorer (notebook 09; cached; arrays are read-only).

    Both stacks come from :func:`rnn_core.experiments.stacked.random_stack_gradients` with the
    same seed (so the same inputs and upstream gradient), hidden size 32, LSTM forget bias 1.

    Parameters
    ----------
    num_layers : L >= 1. weight_scale : > 0, multiplies every Wx and Wh. T : steps >= 1.
    seed : int.
    """
    from rnn_core._validate import check_int, check_positive

    fn = "stack_gradient_maps"
    L = check_int(fn, "num_layers", num_layers, minimum=1)
    T = check_int(fn, "T", T, minimum=1)
    s = check_positive(fn, "weight_scale", weight_scale)
    return _maps(L, float(s), T, int(seed))


STACK_GRID = 6 * 25
"""Positions of the stacked explorer's grid (1-6 layers x 25 weight scales): all stay cached."""


@code_keyed_cache(maxsize=STACK_GRID + 16)
def _maps(num_layers: int, weight_scale: float, T: int, seed: int) -> StackGradientMaps:
    from rnn_core.experiments.stacked import random_stack_gradients

    out = {}
    for cell in ("rnn", "lstm"):
        res = random_stack_gradients(cell, num_layers, T, seed, weight_scale=weight_scale)
        with np.errstate(divide="ignore"):
            out[cell] = _frozen(np.maximum(np.log10(res.norms), -300.0))
    return StackGradientMaps(**out)


@dataclass(frozen=True)
class ChunkCuts:
    """Chunks of ``k`` steps laid over the first ``steps`` steps of one recall sequence, and the
    cue-target pairs they cut (see ``chunk_cuts``).

    Attributes
    ----------
    k : the chunk length. steps : the window, steps 0 .. steps-1.
    starts : the first step of every chunk that begins in the window (0, k, 2k, ...), shape (C,).
    chunk : the index of the chunk each step of the window lies in, shape (steps,).
    cues, targets : the cues whose target (cue + lag) lies in the window, and those targets,
        shape (P,).
    kept : True where a cue and its target lie in the same chunk, so that the truncated gradient
        links them; False where a chunk boundary cuts the pair. Shape (P,).
    """

    k: int
    steps: int
    starts: np.ndarray
    chunk: np.ndarray
    cues: np.ndarray
    targets: np.ndarray
    kept: np.ndarray


def chunk_cuts(x: np.ndarray, lag: int, k: int, steps: int = 32) -> ChunkCuts:
    """Compute function of the chunk explorer (notebook 05, section 4): where truncated BPTT with
    chunks of ``k`` steps cuts the sequence, and which cue-target pairs it cuts.

    Parameters
    ----------
    x : one input sequence of the recall task (``lag_recall(...).x[n]``), int (T,) with
        T >= ``steps``: 0 is the blank, any other value a cue.
    lag : the task's lag (>= 1): the target of a cue at step s is at s + lag.
    k : chunk length, in [1, steps]. steps : the window (>= 1); pairs whose target falls
        beyond it are left out.

    Returns
    -------
    ChunkCuts (read-only arrays).
    """
    from rnn_core._validate import check_array, check_int

    fn = "chunk_cuts"
    steps = check_int(fn, "steps", steps, minimum=1)
    x = check_array(fn, "x", x, ("T",), kind="int")
    if x.shape[0] < steps:
        raise ValueError(f"{fn}: x must have at least steps={steps} entries, got {x.shape[0]}")
    lag = check_int(fn, "lag", lag, minimum=1)
    k = check_int(fn, "k", k, minimum=1)
    if k > steps:
        raise ValueError(f"{fn}: k must be in [1, steps={steps}], got {k}")
    chunk = np.arange(steps) // k
    cues = np.flatnonzero(x[:steps])
    cues = cues[cues + lag < steps]
    targets = cues + lag
    return ChunkCuts(k=k, steps=steps, starts=_frozen(np.arange(0, steps, k)),
                     chunk=_frozen(chunk), cues=_frozen(cues), targets=_frozen(targets),
                     kept=_frozen(chunk[cues] == chunk[targets]))


def stack_gradient_maps_grid(
    layers: Sequence[int], weight_scales: Sequence[float], T: int = 60, seed: int = 0,
    start: tuple[int, float] = (3, 1.0), budget_s: float | None = None,
) -> dict[tuple[int, float], StackGradientMaps]:
    """:func:`stack_gradient_maps` at every (num_layers, weight_scale) of the grid, cached.

    For the stacked explorer's browser side, which switches between positions with no round
    trip: the kernel sends them all. Computed from ``start`` outward (see :func:`grid_outward`),
    so a caller that stops early (``budget_s``, checked between positions) has the nearest ones.

    Parameters
    ----------
    layers : the num_layers values (each >= 1). weight_scales : the weight_scale values, > 0,
        exactly as the explorer passes them. T : steps >= 1. seed : int.
    start : the (num_layers, weight_scale) to begin with. budget_s : seconds, or None (all).

    Returns
    -------
    dict (num_layers, weight_scale) -> StackGradientMaps, in the order computed.
    """
    order = grid_outward({"num_layers": list(layers), "weight_scale": list(weight_scales)},
                         {"num_layers": start[0], "weight_scale": start[1]})
    out: dict[tuple[int, float], StackGradientMaps] = {}
    t0 = time.perf_counter()
    for p in order:
        if budget_s is not None and time.perf_counter() - t0 > budget_s:
            break
        out[(p["num_layers"], p["weight_scale"])] = stack_gradient_maps(T=T, seed=seed, **p)
    return out


def grid_outward(axes: dict[str, Sequence[Any]], start: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the ``axes`` values as keyword dicts, nearest to ``start`` first.

    Distance is the number of slider steps summed over the axes (the position in each list of
    values nearest to the start value counts as the start); ties keep the grid's order.
    """
    names = list(axes)
    values = [list(axes[n]) for n in names]
    i0 = [_nearest(v, start[n]) for n, v in zip(names, values, strict=True)]
    combos = np.array(np.meshgrid(*[np.arange(len(v)) for v in values], indexing="ij"))
    combos = combos.reshape(len(names), -1).T
    dist = np.abs(combos - np.array(i0)).sum(axis=1)
    order = np.argsort(dist, kind="stable")
    return [{n: v[int(i)] for n, v, i in zip(names, values, combos[k], strict=True)}
            for k in order]


def _nearest(values: Sequence[Any], v: Any) -> int:
    if isinstance(v, str) or any(isinstance(x, str) for x in values):
        return values.index(v) if v in values else 0
    return int(np.argmin([abs(float(x) - float(v)) for x in values]))


EXPLORERS = ("vanilla", "clipping", "highway", "training", "stacked")
"""Names that :func:`precompute` knows, one per explorer."""


def precompute(name: str, positions: Iterable[dict[str, Any]], budget_s: float | None = None
               ) -> int:
    """Compute an explorer's results at ``positions`` into its cache, in the order given.

    For the browser side's idle time (neighbouring slider positions, or a whole grid after
    display): a later slider move to one of these positions finds its result cached under the
    same code key. Each position is the keyword arguments of the explorer's compute function,
    with the values exactly as the explorer will pass them (the caches compare floats exactly):

    ========== ===================================================================
    name       compute function called with ``**position``
    ========== ===================================================================
    vanilla    :func:`vanilla_flow`
    clipping   :func:`cliff_runs`
    highway    :func:`lstm_highway`
    training   ``training_trace`` (through ``precompute_training``: clipped runs
               branch off the unclipped one; order the positions lr by lr, e.g.
               with ``training_positions``)
    stacked    :func:`stack_gradient_maps`
    ========== ===================================================================

    Stops when ``budget_s`` seconds have passed (checked between positions). Returns how many
    positions were computed or found cached.
    """
    if name not in EXPLORERS:
        raise ValueError(f"precompute: name must be one of {EXPLORERS}, got {name!r}")
    if budget_s is not None and not budget_s >= 0:
        raise ValueError(f"precompute: budget_s must be a number >= 0 or None, got {budget_s!r}")
    positions = list(positions)
    if name == "training":
        from rnn_core.analysis.training_trace import precompute_training

        runs = {tuple(p.get(k) for k in ("steps", "T", "seed")) for p in positions}
        if len(runs) > 1:
            raise ValueError("precompute: training positions must share steps, T and seed, "
                             f"got {sorted(runs, key=str)}")
        extra = {k: positions[0][k] for k in ("steps", "T", "seed") if positions
                 and k in positions[0]}
        triples = [(p["lr"], p.get("clip", True), p.get("threshold", 1.0)) for p in positions]
        return sum(1 for _ in precompute_training(triples, budget_s=budget_s, **extra))
    fn = {"vanilla": vanilla_flow, "clipping": cliff_runs, "highway": lstm_highway,
          "stacked": stack_gradient_maps}[name]
    t0 = time.perf_counter()
    done = 0
    for p in positions:
        if budget_s is not None and time.perf_counter() - t0 > budget_s:
            break
        fn(**p)
        done += 1
    return done
