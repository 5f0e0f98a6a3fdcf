"""A stacked recurrent block: ``num_layers`` RNN or LSTM layers, each with its own weights.

Layer ``l`` reads the hidden states of layer ``l - 1`` (layer 0 reads the input ``x``) and owns the
parameters ``{prefix}Wx{l}``, ``{prefix}Wh{l}``, ``{prefix}b{l}``. With a vanilla RNN cell

    a_t = x_t Wx + h_{t-1} Wh + b,    h_t = tanh(a_t)

and with an LSTM cell the same pre-activation has 4H columns (gates i, f, o, g) and a cell state c.

Two optional extras, used by the models:

* ``mask`` (N, T) bool: where ``mask[n, t]`` is False the step is skipped for sample n, i.e. the
  state is carried through unchanged, ``h_t = h_{t-1}`` (and ``c_t = c_{t-1}``). Padded steps then
  change neither the state nor, in backward, the gradient (seq2seq uses this for padded sources).
* ``static`` (N, F) with ``static_dim = F``: a per-sequence input ``v`` that enters layer 0 at every
  step through its own weights ``{prefix}W_ih`` (F, H) or (F, 4H):

      a_t = x_t Wx0 + h_{t-1} Wh0 + v W_ih + b0            (every step t, layer 0 only)

  Implemented by appending v to x_t and W_ih below Wx0, which is exactly this sum.

Without a mask each layer runs through the sequence functions (``rnn_forward``,
``lstm_forward_with_cells``: one validation per layer, batched input projection); with a mask it
steps one time step at a time so it can carry the state per sample: ``steps_forward`` /
``steps_backward``, the one step loop with the mask rule (the untied-weights experiment runs on
it too, with a different ``(Wx, Wh, b)`` at every step). A step of the tanh RNN is
``rnn_forward`` / ``rnn_backward`` over one time step, an LSTM step ``lstm_step_forward`` /
``lstm_step_backward``.
Both paths compute the same function. ``forward(..., per_step=True)`` takes the step path without a
mask too, so that ``backward(..., record=True)`` can record dL/dh of every layer and step (the
layers x time maps of notebook 09).

The state is a tuple with one ``LayerState(h, c)`` per layer (``c`` is None for the RNN cell).
States are plain arrays: carrying one into the next call and not back-propagating into it is how
truncated BPTT stops the gradient at a chunk boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnn_core._lookahead import checkpoint
from rnn_core._validate import as_generator, check_array, check_int, check_mask
from rnn_core.init import init_matrix
from rnn_core.layers import (
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from rnn_core.lstm import (
    lstm_backward_with_cells,
    lstm_forward_with_cells,
    lstm_step_backward,
    lstm_step_forward,
)
from rnn_core.rnn import rnn_backward, rnn_forward

__all__ = [
    "LayerState",
    "StackCache",
    "StackGradients",
    "RecurrentStack",
    "CELLS",
    "greedy_decode",
    "token_sequence_loss",
]

CELLS = ("rnn", "lstm")


class LayerState(NamedTuple):
    """The recurrent state of one layer."""

    h: np.ndarray
    """hidden state, (N, H)"""
    c: np.ndarray | None
    """cell state, (N, H), for the LSTM; None for the RNN"""


State = tuple[LayerState, ...]


class StackCache(NamedTuple):
    """What ``RecurrentStack.backward`` needs from the forward pass."""

    step_caches: list
    """per layer: the sequence cache (``fast``) or the list of step caches (one per t)"""
    fast: bool
    """True when the layers ran through the sequence functions (no mask)"""
    mask: np.ndarray | None
    """(N, T) bool, or None when every step counts"""
    input_shape: tuple[int, int, int]
    """(N, T, D) of the input x"""
    static_dim: int
    """F, the width of the static input (0 when there is none)"""
    final_state: State
    """the state after the last step, one LayerState per layer"""


class StackGradients(NamedTuple):
    """Gradients returned by ``RecurrentStack.backward``."""

    dx: np.ndarray
    """(N, T, D)"""
    dstate: State
    """gradient with respect to the initial state, one LayerState per layer"""
    grads: dict[str, np.ndarray]
    """gradients of the stack's parameters, keyed like the parameters"""
    dstatic: np.ndarray | None
    """(N, F) gradient of the static input, or None when there is none"""
    dh_layers: np.ndarray | None = None
    """``backward(..., record=True)``: (L, N, T, H), ``dh_layers[l, :, t]`` = dL/dh of layer l at
    step t+1, both routes summed (from the layer above and from step t+2); else None"""
    dh_above: np.ndarray | None = None
    """``record=True``: (L, N, T, H), the part of ``dh_layers`` that came from the layer above at
    the same step (for the top layer: the upstream ``dh``); else None"""


def check_cell(fn: str, cell: object) -> str:
    """Check a cell name ("rnn" or "lstm")."""
    if cell not in CELLS:
        raise ValueError(f"{fn}: cell must be one of {CELLS}, got {cell!r}")
    return str(cell)


def check_dtype(fn: str, dtype: object) -> np.dtype:
    """Check a floating dtype (float64 by default in every model)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{fn}: dtype must be a numpy floating dtype, got {dtype!r}") from None
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{fn}: dtype must be a floating dtype (float64, float32), got {dt}")
    return dt


def check_tokens(fn: str, name: str, x: object, vocab_size: int, ndim: int = 2) -> np.ndarray:
    """Check an integer token-id array with ids in [0, vocab_size)."""
    x = check_array(fn, name, x, (None,) * ndim, kind="int")
    if x.size and (x.min() < 0 or x.max() >= vocab_size):
        raise ValueError(
            f"{fn}: {name} must hold token ids in [0, {vocab_size}), "
            f"got values in [{x.min()}, {x.max()}]"
        )
    return x


def get_param(fn: str, params: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    """``params[key]`` with a one-line error naming the missing key."""
    try:
        return params[key]
    except KeyError:
        raise KeyError(f"{fn}: params has no entry {key!r}") from None


@dataclass(frozen=True)
class RecurrentStack:
    """Shapes and names of a stack of recurrent layers; the weights live in a params dict.

    Notebook 09, section 1.

    Parameters
    ----------
    cell : "rnn" (tanh) or "lstm".
    input_dim : D, width of the input x.
    hidden_dim : H, width of every layer's hidden state.
    num_layers : number of stacked layers (>= 1).
    prefix : prepended to every parameter name (e.g. "enc_" -> "enc_Wx0").
    static_dim : F > 0 adds the static-input weights ``{prefix}W_ih`` to layer 0 (see module doc).
    """

    cell: str
    input_dim: int
    hidden_dim: int
    num_layers: int = 1
    prefix: str = ""
    static_dim: int = 0

    def __post_init__(self) -> None:
        fn = "RecurrentStack"
        check_cell(fn, self.cell)
        check_int(fn, "input_dim", self.input_dim, minimum=1)
        check_int(fn, "hidden_dim", self.hidden_dim, minimum=1)
        check_int(fn, "num_layers", self.num_layers, minimum=1)
        check_int(fn, "static_dim", self.static_dim, minimum=0)

    @property
    def gate_width(self) -> int:
        """Columns of the pre-activation: H for the RNN, 4H for the LSTM."""
        return self.hidden_dim * (4 if self.cell == "lstm" else 1)

    def param_names(self) -> list[str]:
        """Names of this stack's parameters, in initialisation order."""
        p = self.prefix
        names = []
        for l in range(self.num_layers):
            names += [f"{p}Wx{l}", f"{p}Wh{l}", f"{p}b{l}"]
        if self.static_dim:
            names.append(f"{p}W_ih")
        return names

    def init_params(
        self,
        rng: np.random.Generator | int,
        init: str = "glorot",
        input_init: str = "glorot",
        forget_bias: float = 1.0,
        dtype: object = np.float64,
    ) -> dict[str, np.ndarray]:
        """Fresh parameters for the stack.

        Parameters
        ----------
        rng : Generator or int seed.
        init : initialiser of the recurrent weights Wh (see ``rnn_core.init.init_matrix``):
            "gaussian0.01", "glorot", "orthogonal" or "identity".
        input_init : initialiser of the input weights Wx (and W_ih).
        forget_bias : LSTM only: initial bias of the forget gate (1.0 keeps memory at the start).
        dtype : floating dtype of the parameters.

        Returns
        -------
        dict name -> array. For the LSTM each of the four gate blocks is initialised on its own
        (so "orthogonal" and "identity" apply to every (H, H) block of Wh). Biases are zero.
        """
        fn = "RecurrentStack.init_params"
        gen = as_generator(rng, fn)
        dt = check_dtype(fn, dtype)
        H, p = self.hidden_dim, self.prefix
        G = 4 if self.cell == "lstm" else 1

        def blocks(name: str, rows: int) -> np.ndarray:
            return np.concatenate([init_matrix(name, (rows, H), gen) for _ in range(G)], axis=1)

        params: dict[str, np.ndarray] = {}
        for l in range(self.num_layers):
            d_in = self.input_dim if l == 0 else H
            params[f"{p}Wx{l}"] = blocks(input_init, d_in).astype(dt)
            params[f"{p}Wh{l}"] = blocks(init, H).astype(dt)
            b = np.zeros(G * H, dtype=dt)
            if self.cell == "lstm":
                b[H : 2 * H] = forget_bias
            params[f"{p}b{l}"] = b
        if self.static_dim:
            params[f"{p}W_ih"] = blocks(input_init, self.static_dim).astype(dt)
        return params

    def zero_state(self, N: int, dtype: object = np.float64) -> State:
        """The all-zero initial state for a batch of N."""
        H = self.hidden_dim
        lstm = self.cell == "lstm"
        return tuple(
            LayerState(np.zeros((N, H), dtype), np.zeros((N, H), dtype) if lstm else None)
            for _ in range(self.num_layers)
        )

    def check_state(self, fn: str, state: object, N: int, dtype: object) -> State:
        """Validate a state (or None -> zeros) for a batch of N."""
        if state is None:
            return self.zero_state(N, dtype)
        if not isinstance(state, Sequence) or len(state) != self.num_layers:
            raise ValueError(
                f"{fn}: state must be a sequence of {self.num_layers} (h, c) pairs (one per "
                f"layer), got {type(state).__name__}"
                + (f" of length {len(state)}" if isinstance(state, Sequence) else "")
            )
        out = []
        for l, st in enumerate(state):
            if not isinstance(st, Sequence) or len(st) != 2:
                raise ValueError(f"{fn}: state[{l}] must be a pair (h, c), got {st!r:.60}")
            h = check_array(fn, f"state[{l}].h", st[0], (N, self.hidden_dim))
            if self.cell == "lstm":
                c = check_array(fn, f"state[{l}].c", st[1], (N, self.hidden_dim))
            else:
                if st[1] is not None:
                    raise ValueError(f"{fn}: state[{l}].c must be None for the RNN cell")
                c = None
            out.append(LayerState(h, c))
        return tuple(out)

    def _layer_weights(self, fn: str, params: Mapping[str, np.ndarray], l: int):
        p = self.prefix
        D_l = self.input_dim if l == 0 else self.hidden_dim
        G, H = self.gate_width, self.hidden_dim
        Wx = check_array(fn, f"params[{p}Wx{l}]", get_param(fn, params, f"{p}Wx{l}"), (D_l, G))
        Wh = check_array(fn, f"params[{p}Wh{l}]", get_param(fn, params, f"{p}Wh{l}"), (H, G))
        b = check_array(fn, f"params[{p}b{l}]", get_param(fn, params, f"{p}b{l}"), (G,))
        if l == 0 and self.static_dim:
            W_ih = check_array(
                fn, f"params[{p}W_ih]", get_param(fn, params, f"{p}W_ih"), (self.static_dim, G)
            )
            Wx = np.concatenate([Wx, W_ih], axis=0)
        return Wx, Wh, b

    def _check_inputs(self, fn, params, x, state, mask, static):
        x = check_array(fn, "x", x, (None, None, self.input_dim))
        N, T, _ = x.shape
        dtype = get_param(fn, params, f"{self.prefix}Wx0").dtype
        state = self.check_state(fn, state, N, dtype)
        if mask is not None:
            mask = check_mask(fn, mask, (N, T))
        if self.static_dim:
            if static is None:
                raise ValueError(f"{fn}: static must be given, shape (N, F) = ({N}, "
                                 f"{self.static_dim})")
            static = check_array(fn, "static", static, (N, self.static_dim))
        elif static is not None:
            raise ValueError(f"{fn}: static must be None (this stack has static_dim=0)")
        return x, state, mask, static

    def forward(
        self,
        params: Mapping[str, np.ndarray],
        x: np.ndarray,
        state: Sequence | None = None,
        mask: np.ndarray | None = None,
        static: np.ndarray | None = None,
        per_step: bool = False,
    ) -> tuple[np.ndarray, StackCache]:
        """Run the stack over a sequence.

        Parameters
        ----------
        params : dict holding this stack's parameters (other entries are ignored).
        x : input sequence, shape (N, T, D).
        state : initial state, one (h, c) per layer (h, c: (N, H); c None for the RNN);
            None means zeros.
        mask : (N, T) bool; False steps carry the state through unchanged. None: all True.
        static : (N, F) per-sequence input added at every step of layer 0 (if static_dim > 0).
        per_step : run the step functions even without a mask (needed by ``backward``'s record).

        Returns
        -------
        h : hidden states of the top layer, shape (N, T, H).
        cache : StackCache; ``cache.final_state`` is the state after the last step.
        """
        fn = f"{type(self).__name__}.forward"
        x, state, mask, static = self._check_inputs(fn, params, x, state, mask, static)
        N, T, D = x.shape
        lstm = self.cell == "lstm"
        fast = mask is None and T > 0 and not per_step
        inp = x
        all_caches: list = []
        final: list[LayerState] = []
        for l in range(self.num_layers):
            Wx, Wh, b = self._layer_weights(fn, params, l)
            h, c = state[l]
            x_l = inp
            if l == 0 and static is not None:  # v W_ih as extra input columns (module doc)
                v = np.broadcast_to(static[:, None, :], (N, T, self.static_dim))
                x_l = np.concatenate([inp, v], axis=2)
            if not fast:
                out, caches, h, c = steps_forward(self.cell, x_l, h, c,
                                                  lambda t, w=(Wx, Wh, b): w, mask)
            elif lstm:
                out, cells, caches = lstm_forward_with_cells(x_l, h, Wx, Wh, b, c)
                h, c = out[:, -1].copy(), cells[:, -1].copy()
            else:
                out, caches = rnn_forward(x_l, h, Wx, Wh, b)
                h = out[:, -1].copy()
            all_caches.append(caches)
            final.append(LayerState(h, c))
            inp = out
        cache = StackCache(all_caches, fast, mask, (N, T, D), self.static_dim, tuple(final))
        return inp, cache

    def backward(
        self,
        dh: np.ndarray,
        cache: StackCache,
        dfinal_state: Sequence | None = None,
        record: bool = False,
    ) -> StackGradients:
        """Backpropagation through time through every layer.

        Parameters
        ----------
        dh : gradient of the loss with respect to the top layer's hidden states, (N, T, H).
        cache : StackCache from ``forward``.
        dfinal_state : gradient with respect to the final state (one (dh, dc) per layer), e.g.
            when the final state feeds a decoder; None means zero.
        record : also return dL/dh of every layer and step (``dh_layers``, ``dh_above``); needs
            a cache from ``forward(..., per_step=True)`` or with a mask.

        Returns
        -------
        StackGradients(dx (N, T, D), dstate (gradient of the initial state),
        grads (dict keyed like the parameters), dstatic ((N, F) or None), dh_layers, dh_above).
        """
        fn = f"{type(self).__name__}.backward"
        if not isinstance(cache, StackCache):
            raise TypeError(f"{fn}: cache must be the StackCache from forward, "
                            f"got {type(cache).__name__}")
        N, T, D = cache.input_shape
        H, p = self.hidden_dim, self.prefix
        dh = check_array(fn, "dh", dh, (N, T, H))
        dtype = cache.final_state[0].h.dtype
        if dfinal_state is None:
            dfinal = self.zero_state(N, dtype)
        else:
            dfinal = self.check_state(fn, dfinal_state, N, dtype)
        if record and cache.fast:
            raise ValueError(f"{fn}: record=True needs the cache of forward(..., per_step=True)")
        rec = np.zeros((2, self.num_layers, N, T, H), dtype=dh.dtype) if record else None
        mask = cache.mask
        grads: dict[str, np.ndarray] = {}
        dstate: list[LayerState] = [None] * self.num_layers  # type: ignore[list-item]
        dstatic = None
        dout = dh
        for l in reversed(range(self.num_layers)):
            caches = cache.step_caches[l]
            d_in = (D + cache.static_dim) if l == 0 else H
            if cache.fast:
                dx, dh_next, dc_next, dWx, dWh, db = self._backward_sequence(
                    dout, caches, dfinal[l]
                )
            else:
                if rec is not None:
                    rec[1, l] = dout
                dx, dh_next, dc_next, dWx, dWh, db = self._backward_steps(
                    dout, caches, dfinal[l], mask, d_in, None if rec is None else rec[0, l]
                )
            dstate[l] = LayerState(dh_next, dc_next)
            if l == 0 and cache.static_dim:
                grads[f"{p}W_ih"] = dWx[D:]
                dWx = dWx[:D]
                dstatic = dx[:, :, D:].sum(axis=1)
                dx = dx[:, :, :D]
            grads[f"{p}Wx{l}"] = dWx
            grads[f"{p}Wh{l}"] = dWh
            grads[f"{p}b{l}"] = db
            dout = dx
        if rec is None:
            return StackGradients(dout, tuple(dstate), grads, dstatic)
        return StackGradients(dout, tuple(dstate), grads, dstatic, rec[0], rec[1])

    def _backward_sequence(self, dout, seq_cache, dfinal_l):
        """Backward of one layer run by the sequence functions (no mask)."""
        dh_l = dout.copy()
        dh_l[:, -1] += dfinal_l.h
        if self.cell == "lstm":
            dc_l = np.zeros_like(dh_l)
            dc_l[:, -1] = dfinal_l.c
            return lstm_backward_with_cells(dh_l, seq_cache, dc_l)
        dx, dh0, dWx, dWh, db = rnn_backward(dh_l, seq_cache)
        return dx, dh0, None, dWx, dWh, db

    def _backward_steps(self, dout, caches, dfinal_l, mask, d_in, record=None):
        """Backward of one layer run step by step (``steps_backward``), the weight gradients
        summed over steps; ``record`` (N, T, H), if given, receives dL/dh_t of every step."""
        N, T, H = dout.shape
        dtype = dout.dtype
        dx = np.zeros((N, T, d_in), dtype=dtype)
        dWx = np.zeros((d_in, self.gate_width), dtype=dtype)
        dWh = np.zeros((H, self.gate_width), dtype=dtype)
        db = np.zeros(self.gate_width, dtype=dtype)

        def add(t: int, dh_t: np.ndarray, grads: tuple) -> None:
            nonlocal dWx, dWh, db
            if record is not None:
                record[:, t] = dh_t
            dx[:, t] = grads[0]
            dWx += grads[1]
            dWh += grads[2]
            db += grads[3]

        dh0, dc0 = steps_backward(self.cell, dout, caches, dfinal_l.h, dfinal_l.c, mask, add)
        return dx, dh0, dc0, dWx, dWh, db

    def step(
        self,
        params: Mapping[str, np.ndarray],
        x_t: np.ndarray,
        state: Sequence,
        static: np.ndarray | None = None,
    ) -> tuple[np.ndarray, State]:
        """One time step through every layer, forward only (for sampling and decoding).

        Parameters
        ----------
        x_t : input for this step, (N, D).
        state : current state, one (h, c) per layer.
        static : (N, F) if static_dim > 0.

        Returns
        -------
        h_top : (N, H) hidden state of the top layer; new_state : the state after the step.
        """
        fn = f"{type(self).__name__}.step"
        x_t = check_array(fn, "x_t", x_t, (None, self.input_dim))
        h_seq, cache = self.forward(params, x_t[:, None, :], state, None, static)
        return h_seq[:, 0], cache.final_state


StepWeights = Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""``weights(t) -> (Wx, Wh, b)``: the weights of step t (the same at every step for a shared
recurrence; the untied experiment of notebook 00, section 3 gives each step its own)."""


def steps_forward(
    cell: str,
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray | None,
    weights: StepWeights,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, list, np.ndarray, np.ndarray | None]:
    """One recurrent layer, one call per time step, with the mask rule.

    An LSTM step is ``lstm_step_forward`` (the exercise of notebook 08). A tanh RNN step is
    ``rnn_forward`` over that one time step (notebook 00's sequence exercise), not
    ``rnn_step_forward``: this loop over the step exercise would be a complete ``rnn_forward``,
    answering that exercise for whoever has written the step (docs/architecture.md, D1).
    Where ``mask[n, t]`` is False the step is skipped for sample n: ``h_t = h_{t-1}`` (and
    ``c_t = c_{t-1}``), so padding changes neither the state nor, in ``steps_backward``, the
    gradient.

    Parameters
    ----------
    cell : "rnn" or "lstm". x : inputs, (N, T, D). h, c : initial state, (N, H) (c None for "rnn").
    weights : ``weights(t) -> (Wx, Wh, b)``. mask : (N, T) bool or None.

    Returns
    -------
    out : hidden states, (N, T, H); caches : one cache per step (an ``LSTMStepCache``, or the
    ``RNNCache`` of a one-step ``rnn_forward``); h, c : the state after step T.
    """
    N, T, _ = x.shape
    lstm = cell == "lstm"
    out = np.empty((N, T, h.shape[1]), dtype=np.result_type(x, weights(0)[0]))
    caches: list[object] = []
    for t in range(T):
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        Wx, Wh, b = weights(t)
        if lstm:
            h_new, c_new, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        else:
            h_seq, cache = rnn_forward(x[:, t : t + 1], h, Wx, Wh, b)
            h_new, c_new = h_seq[:, 0], None
        if mask is not None:
            m = mask[:, t, None]
            h_new = np.where(m, h_new, h)
            if lstm:
                c_new = np.where(m, c_new, c)
        h, c = h_new, c_new
        out[:, t] = h
        caches.append(cache)
    return out, caches, h, c


StepGradients = Callable[[int, np.ndarray, tuple], None]
"""``on_step(t, dh_t, (dx_t, dWx_t, dWh_t, db_t))``: step t's total dL/dh_t (from above and from
step t+1) and the gradients of its step function."""


def steps_backward(
    cell: str,
    dout: np.ndarray,
    caches: list,
    dh: np.ndarray,
    dc: np.ndarray | None,
    mask: np.ndarray | None,
    on_step: StepGradients,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Backward of ``steps_forward``, per step: ``rnn_backward`` over one time step (not
    ``rnn_step_backward``, for the reason given in ``steps_forward``) or ``lstm_step_backward``.

    A skipped (masked) step passes its gradient straight to the step before and gets none itself.

    Parameters
    ----------
    cell : "rnn" or "lstm". dout : gradient from above on every hidden state, (N, T, H).
    caches : from ``steps_forward``. dh, dc : gradient on the final state (dc None for "rnn").
    mask : the forward's mask. on_step : called for t = T-1..0 (see ``StepGradients``).

    Returns
    -------
    dh0, dc0 : gradient with respect to the initial state (dc0 None for "rnn").
    """
    lstm = cell == "lstm"
    for t in reversed(range(dout.shape[1])):
        checkpoint()  # a look-ahead thread waits here while the student is served (_lookahead)
        total = dh_t = dout[:, t] + dh
        dc_t = dc
        carry_h = carry_c = 0.0
        if mask is not None:
            m = mask[:, t, None]
            dh_t, carry_h = np.where(m, dh_t, 0.0), np.where(m, 0.0, dh_t)
            if lstm:
                dc_t, carry_c = np.where(m, dc_t, 0.0), np.where(m, 0.0, dc_t)
        if lstm:
            dx_t, dh, dc, dWx_t, dWh_t, db_t = lstm_step_backward(dh_t, dc_t, caches[t])
            dc = dc + carry_c
        else:
            dx_seq, dh, dWx_t, dWh_t, db_t = rnn_backward(dh_t[:, None], caches[t])
            dx_t = dx_seq[:, 0]
        dh = dh + carry_h
        on_step(t, total, (dx_t, dWx_t, dWh_t, db_t))
    return dh, dc


def greedy_decode(
    stack: RecurrentStack,
    params: Mapping[str, np.ndarray],
    W_embed: np.ndarray,
    W_vocab: np.ndarray,
    b_vocab: np.ndarray,
    state: State,
    N: int,
    max_length: int,
    start_id: int,
    end_id: int,
    null_id: int,
    static: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding from <START>: feed back the argmax word until <END> or max_length.

    Returns
    -------
    tokens : (N, max_length) int. Row n holds the generated words, then <END> (if produced),
        then <NULL> padding: ``tokens[n, :lengths[n]]`` are the words.
    lengths : (N,) int, number of words before <END> (max_length if <END> never came).
    """
    tokens = np.full((N, max_length), null_id, dtype=np.int64)
    lengths = np.full(N, max_length, dtype=np.int64)
    done = np.zeros(N, dtype=bool)
    word = np.full(N, start_id, dtype=np.int64)
    for t in range(max_length):
        h, state = stack.step(params, W_embed[word], state, static)
        word = np.argmax(h @ W_vocab + b_vocab, axis=1)
        tokens[~done, t] = word[~done]
        ended = (~done) & (word == end_id)
        lengths[ended] = t
        done |= ended
        if done.all():
            break
    return tokens, lengths


def token_sequence_loss(
    stack: RecurrentStack,
    params: Mapping[str, np.ndarray],
    tokens: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    *,
    prefix: str = "",
    state: Sequence | None = None,
    static: np.ndarray | None = None,
) -> tuple[float, dict[str, np.ndarray], StackGradients, State]:
    """The many-to-many path every token model shares, forward and backward.

    tokens (N, T) -> embedding ``{prefix}W_embed`` -> ``stack`` -> scores over the vocabulary at
    every step (``{prefix}W_vocab``, ``{prefix}b_vocab``) -> temporal softmax loss against
    ``targets`` (N, T) where ``mask`` (N, T) is true; then back through all of it.

    Returns
    -------
    loss : float; grads : the embedding, stack and vocabulary gradients, keyed like ``params``;
    stack_grads : StackGradients (``dstate`` for an encoder feeding this stack);
    final_state : the stack's final state (stateful truncated BPTT).
    """
    emb, emb_cache = word_embedding_forward(tokens, params[f"{prefix}W_embed"])
    h, cache = stack.forward(params, emb, state, static=static)
    scores, aff_cache = temporal_affine_forward(
        h, params[f"{prefix}W_vocab"], params[f"{prefix}b_vocab"]
    )
    loss, dscores = temporal_softmax_loss(scores, targets, mask)
    dh, dW_vocab, db_vocab = temporal_affine_backward(dscores, aff_cache)
    g = stack.backward(dh, cache)
    grads = {f"{prefix}W_embed": word_embedding_backward(g.dx, emb_cache)}
    grads.update(g.grads)
    grads[f"{prefix}W_vocab"] = dW_vocab
    grads[f"{prefix}b_vocab"] = db_vocab
    return float(loss), grads, g, cache.final_state
