"""Stacked (multi-layer) RNNs: where the gradient goes over layers x time, and does depth help?

In a stack of L recurrent layers the hidden states of layer l are the inputs of layer l + 1, and
every layer has its own weights ``Wx{l}, Wh{l}, b{l}`` (``rnn_core.models.RecurrentStack``)::

    h^(0)_t = x_t,      h^(l)_t = cell(h^(l-1)_t, h^(l)_{t-1}; Wx{l}, Wh{l}, b{l}),  l = 1..L

(layers are numbered 0..L-1 in the code). In backpropagation the total gradient reaching
``h^(l)_t`` is the sum of two routes: from the layer above at the same step (through ``Wx{l+1}``)
and from the same layer one step later (through ``Wh{l}``)::

    dL/dh^(l)_t = [from layer l+1 at step t] + [from layer l at step t+1]

:func:`layer_time_grad_norms` runs that backward pass (``RecurrentStack.backward`` with
``record=True``, i.e. the cell's step functions) and returns ``||dL/dh^(l)_t||`` for every layer
and step (the heat map of notebook 09) with the parameter gradients.

:func:`compare_depths` trains character language models with 1, 2, 3 ... layers on the same data
for the same number of steps and reports the validation loss of each: a measurement, not a
promise that deeper is better.

Shapes: N batch, T time, D input, H hidden, L layers, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int, check_positive
from rnn_core.analysis.explore import StackGradientMaps, _maps, stack_gradient_maps  # noqa: F401
from rnn_core.models import LanguageModel, RecurrentStack
from rnn_core.optim import Adam
from rnn_core.train import train

__all__ = [
    "LayerTimeGradients",
    "layer_time_grad_norms",
    "random_stack_gradients",
    "DepthResult",
    "compare_depths",
    "StackGradientMaps",
    "stack_gradient_maps",
]


@dataclass(frozen=True)
class LayerTimeGradients:
    """Result of :func:`layer_time_grad_norms`.

    Attributes
    ----------
    norms : (L, T); ``norms[l, t]`` = ||dL/dh^(l)_{t+1}|| (Frobenius norm over the batch) of the
        total gradient reaching layer l's hidden state at step t + 1 (both routes).
    from_above : (L, T); the part that arrives from the layer above at the same step (for the
        top layer: the upstream gradient ``dh``).
    h_top : (N, T, H) hidden states of the top layer (the stack's output).
    grads : gradients of the stack's parameters, keyed like ``stack.param_names()``.
    dx : (N, T, D) gradient with respect to the input.
    """

    norms: np.ndarray
    from_above: np.ndarray
    h_top: np.ndarray
    grads: dict[str, np.ndarray]
    dx: np.ndarray


def layer_time_grad_norms(
    stack: RecurrentStack,
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    dh: np.ndarray | None = None,
) -> LayerTimeGradients:
    """Backpropagate through a stack step by step and record ||dL/dh^(l)_t|| for every l and t.

    Notebook 09, section 2.

    ``RecurrentStack.forward(..., per_step=True)`` from a zero state, then
    ``RecurrentStack.backward(..., record=True)``: each layer (top first) walks back through time
    with its cell's step backward, adding at every step the gradient from the layer above to the
    one from the next step, and records the sum.

    Parameters
    ----------
    stack : the RecurrentStack (no static input).
    params : its parameters (``stack.init_params`` or a model's ``params``).
    x : inputs, shape (N, T, D).
    dh : upstream gradient dL/dh on the top layer's hidden states, shape (N, T, H); None means the
        gradient of ``L = sum(h_top[:, -1])``, i.e. ones at the last step and zeros elsewhere.

    Returns
    -------
    LayerTimeGradients (norms (L, T), from_above (L, T), h_top, grads, dx).
    """
    fn = "layer_time_grad_norms"
    if not isinstance(stack, RecurrentStack):
        raise TypeError(f"{fn}: stack must be a RecurrentStack, got {type(stack).__name__}")
    if stack.static_dim:
        raise ValueError(f"{fn}: stacks with a static input are not supported "
                         f"(static_dim={stack.static_dim})")
    s: dict[str, int] = {}
    x = check_array(fn, "x", x, ("N", "T", stack.input_dim), s)
    N, T, H = s["N"], s["T"], stack.hidden_dim
    if T < 1:
        raise ValueError(f"{fn}: x must have at least one time step, got shape {x.shape}")
    if dh is None:
        dh = np.zeros((N, T, H))
        dh[:, -1] = 1.0
    else:
        dh = check_array(fn, "dh", dh, (N, T, H))
    h_top, cache = stack.forward(params, x, per_step=True)
    g = stack.backward(dh, cache, record=True)
    return LayerTimeGradients(
        norms=np.linalg.norm(g.dh_layers, axis=(1, 3)),
        from_above=np.linalg.norm(g.dh_above, axis=(1, 3)),
        h_top=h_top,
        grads=g.grads,
        dx=g.dx,
    )


def random_stack_gradients(
    cell: str,
    num_layers: int,
    T: int,
    rng: np.random.Generator | int,
    *,
    hidden_dim: int = 32,
    input_dim: int = 8,
    N: int = 4,
    weight_scale: float = 1.0,
    forget_bias: float = 1.0,
) -> LayerTimeGradients:
    """:func:`layer_time_grad_norms` for a freshly initialised stack on random inputs.

    Notebook 09, section 2.

    The stack uses Glorot weights multiplied by ``weight_scale`` (every Wx and Wh), zero biases
    (LSTM: ``forget_bias`` on the forget gate); inputs are standard normal (N, T, D); the loss is
    ``sum(h_top[:, -1] . u)`` for a random unit vector u (the same for every sample).

    Parameters
    ----------
    cell : "rnn" or "lstm". num_layers : L >= 1. T : steps >= 1. rng : Generator or int seed.
    hidden_dim : H. input_dim : D. N : batch size.
    weight_scale : > 0, multiplies every weight matrix.
    forget_bias : LSTM forget-gate bias.

    Returns
    -------
    LayerTimeGradients.
    """
    fn = "random_stack_gradients"
    gen = as_generator(rng, fn)
    T = check_int(fn, "T", T, minimum=1)
    N = check_int(fn, "N", N, minimum=1)
    weight_scale = check_positive(fn, "weight_scale", weight_scale)
    stack = RecurrentStack(cell, input_dim, hidden_dim, num_layers)
    params = stack.init_params(gen, forget_bias=forget_bias)
    for name in params:
        if name[:2] in ("Wx", "Wh"):
            params[name] *= weight_scale
    x = gen.standard_normal((N, T, input_dim))
    u = gen.standard_normal(hidden_dim)
    dh = np.zeros((N, T, hidden_dim))
    dh[:, -1] = u / np.linalg.norm(u)
    return layer_time_grad_norms(stack, params, x, dh)


@dataclass(frozen=True)
class DepthResult:
    """One model of :func:`compare_depths`.

    Attributes
    ----------
    num_layers : L.
    num_params : number of parameters of the whole model.
    train_loss : (steps,) training loss per character of every step.
    val_loss : validation loss per character (nats) after training.
    seconds : wall-clock training time.
    """

    num_layers: int
    num_params: int
    train_loss: np.ndarray
    val_loss: float
    seconds: float


def _windows(ids: np.ndarray, N: int, T: int, gen: np.random.Generator):
    start = gen.integers(0, len(ids) - T - 1, size=N)
    idx = start[:, None] + np.arange(T + 1)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def compare_depths(
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    vocab_size: int,
    depths: Sequence[int] = (1, 2, 3),
    *,
    cell: str = "rnn",
    hidden_dim: int = 64,
    embed_dim: int = 16,
    seq_len: int = 32,
    batch_size: int = 32,
    steps: int = 300,
    lr: float = 1e-2,
    rng: int = 0,
) -> list[DepthResult]:
    """Train one character language model per depth on the same data; report validation losses.

    Notebook 09, section 3.

    Every model sees the same minibatches (random windows of ``seq_len + 1`` characters of
    ``train_ids``, drawn from the same seed) and is trained with Adam for ``steps`` steps; the
    validation loss is the mean loss per character over non-overlapping windows of ``val_ids``.

    Parameters
    ----------
    train_ids, val_ids : int (L_train,), (L_val,) character ids.
    vocab_size : V.
    depths : numbers of layers to compare.
    cell : "rnn" or "lstm". hidden_dim : H. embed_dim : D.
    seq_len : T of each training window. batch_size : N. steps : Adam steps. lr : learning rate.
    rng : int seed (the same weights seed and the same minibatches for every depth).

    Returns
    -------
    list of DepthResult, one per depth, in the order of ``depths``.
    """
    fn = "compare_depths"
    train_ids = check_array(fn, "train_ids", train_ids, (None,), kind="int")
    val_ids = check_array(fn, "val_ids", val_ids, (None,), kind="int")
    seq_len = check_int(fn, "seq_len", seq_len, minimum=1)
    steps = check_int(fn, "steps", steps, minimum=1)
    check_positive(fn, "lr", lr)
    if len(train_ids) < seq_len + 2 or len(val_ids) < seq_len + 1:
        raise ValueError(f"{fn}: train_ids and val_ids must be longer than seq_len={seq_len}")
    if isinstance(rng, np.random.Generator) or not isinstance(rng, int | np.integer):
        raise TypeError(f"{fn}: rng must be an int seed (each depth restarts from it), got "
                        f"{type(rng).__name__}")
    import time

    n_val = (len(val_ids) - 1) // seq_len
    vx = val_ids[: n_val * seq_len].reshape(n_val, seq_len)
    vy = val_ids[1 : n_val * seq_len + 1].reshape(n_val, seq_len)
    results = []
    for L in depths:
        L = check_int(fn, "depths[...]", L, minimum=1)
        model = LanguageModel(vocab_size, embed_dim, hidden_dim, cell=cell, num_layers=L,
                              rng=int(rng))
        t0 = time.perf_counter()
        hist = train(model, lambda g: _windows(train_ids, batch_size, seq_len, g), Adam(lr),
                     steps, rng=int(rng) + 1, progress=False)
        seconds = time.perf_counter() - t0
        val = model.loss(vx, vy)[0] / seq_len
        results.append(DepthResult(
            num_layers=L,
            num_params=model.num_params,
            train_loss=np.asarray(hist.loss) / seq_len,
            val_loss=float(val),
            seconds=seconds,
        ))
    return results
