"""Training loops: full backpropagation through time, and stateful truncated BPTT.

Every step records, in a ``History``: the loss, the total L2 norm of all gradients BEFORE clipping,
whether clipping changed the gradients, and the learning rate used. The loop stops early (and says
why in ``History.stopped``) if the loss or the gradient norm is not finite; no update is applied
on that step.

Truncated BPTT (``train_tbptt``) cuts a long token stream (N, L) into chunks of k steps. The hidden
state at the end of chunk i is the initial state of chunk i + 1 (carried), but the gradient of chunk
i + 1 stops at its first step: the incoming state is a constant. With k >= L - 1 there is a single
chunk and the update equals full BPTT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int, check_positive
from rnn_core.clipping import clip_grad_norm, clip_grad_value, global_norm

__all__ = ["History", "train", "tbptt_batches", "train_tbptt"]

CLIP_MODES = ("norm", "value")


class _Optimizer(Protocol):
    lr: float

    def step(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None: ...


@dataclass
class History:
    """Per-step record of a training run (lists of equal length, one entry per step)."""

    loss: list[float] = field(default_factory=list)
    """loss of the step's batch (before the update)"""
    grad_norm: list[float] = field(default_factory=list)
    """total L2 norm over all gradient arrays, before clipping"""
    clipped: list[bool] = field(default_factory=list)
    """True where clipping changed the gradients (norm > max_norm, or some |g| > clip_value)"""
    lr: list[float] = field(default_factory=list)
    """learning rate used for the update"""
    stopped: str | None = None
    """None if every step ran; otherwise why the run stopped early"""

    def __len__(self) -> int:
        return len(self.loss)

    def arrays(self) -> dict[str, np.ndarray]:
        """The records as numpy arrays: loss, grad_norm (float), clipped (bool), lr (float)."""
        return {
            "loss": np.asarray(self.loss, dtype=np.float64),
            "grad_norm": np.asarray(self.grad_norm, dtype=np.float64),
            "clipped": np.asarray(self.clipped, dtype=bool),
            "lr": np.asarray(self.lr, dtype=np.float64),
        }


def _check_clip(fn: str, clip: float | None, clip_mode: str) -> float | None:
    if clip_mode not in CLIP_MODES:
        raise ValueError(f"{fn}: clip_mode must be one of {CLIP_MODES}, got {clip_mode!r}")
    if clip is None:
        return None
    return check_positive(fn, "clip", clip)


def _check_optimizer(fn: str, optimizer: object) -> None:
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"{fn}: optimizer must have a step(params, grads) method, "
                        f"got {type(optimizer).__name__}")


def _progress(progress: bool, total: int, desc: str):
    if not progress:
        return None
    from tqdm.auto import tqdm  # lazy: a widget in Jupyter, text in a terminal

    return tqdm(total=total, desc=desc)


def _update(
    fn: str,
    history: History,
    model: Any,
    optimizer: _Optimizer,
    loss: float,
    grads: dict[str, np.ndarray],
    clip: float | None,
    clip_mode: str,
) -> bool:
    """Record one step, clip, update. Returns False if the run must stop (non-finite)."""
    norm = global_norm(grads)
    history.loss.append(float(loss))
    history.grad_norm.append(norm)
    history.lr.append(float(optimizer.lr))
    if not (np.isfinite(loss) and np.isfinite(norm)):
        history.clipped.append(False)
        history.stopped = (f"{fn}: non-finite loss ({loss}) or gradient norm ({norm}) at step "
                           f"{len(history) - 1}; no update applied")
        return False
    clipped = False
    if clip is not None:
        if clip_mode == "norm":
            clipped = norm > clip
            clip_grad_norm(grads, clip)
        else:
            clipped = any(bool(np.any(np.abs(g) > clip)) for g in grads.values())
            clip_grad_value(grads, clip)
    history.clipped.append(bool(clipped))
    optimizer.step(model.params, grads)
    return True


def _batch_source(
    fn: str, batches: Any, rng: np.random.Generator | int | None
) -> Callable[[], Any]:
    if callable(batches):
        gen = as_generator(rng, fn)
        return lambda: batches(gen)
    if isinstance(batches, tuple | dict):
        return lambda: batches
    if isinstance(batches, list):
        if not batches:
            raise ValueError(f"{fn}: batches is an empty list")
        it = iter(range(10**18))
        return lambda: batches[next(it) % len(batches)]
    if isinstance(batches, Iterable):
        iterator: Iterator = iter(batches)

        def nxt():
            try:
                return next(iterator)
            except StopIteration:
                raise ValueError(f"{fn}: the batch iterator ran out before `steps` steps; "
                                 "pass a list (cycled) or a batch function") from None

        return nxt
    raise TypeError(f"{fn}: batches must be a batch function f(rng), a tuple (one batch), a list "
                    f"of batches or an iterator, got {type(batches).__name__}")


def _call_loss(fn: str, model: Any, batch: Any):
    if isinstance(batch, tuple):
        return model.loss(*batch)
    if isinstance(batch, dict):
        return model.loss(**batch)
    raise TypeError(f"{fn}: each batch must be a tuple of loss arguments or a dict, "
                    f"got {type(batch).__name__}")


def train(
    model: Any,
    batches: Any,
    optimizer: _Optimizer,
    steps: int,
    *,
    clip: float | None = None,
    clip_mode: str = "norm",
    rng: np.random.Generator | int | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    progress: bool = True,
) -> History:
    """Train with full backpropagation through time: ``steps`` updates of ``model.params``.

    Parameters
    ----------
    model : has ``params`` (dict) and ``loss(*batch) -> (loss, grads)``.
    batches : a batch function ``f(rng) -> batch``, one batch (a tuple, used every step), a list of
        batches (cycled) or an iterator of batches. A batch is a tuple of ``model.loss`` arguments,
        e.g. ``(x, y)``, or a dict of keyword arguments.
    optimizer : has ``lr`` and ``step(params, grads)`` (``rnn_core.optim``).
    steps : number of updates.
    clip : None (no clipping), the max_norm (clip_mode "norm": rescale all gradients together,
        ``clip_grad_norm``) or the clip value (clip_mode "value": clip each entry,
        ``clip_grad_value``).
    clip_mode : "norm" or "value".
    rng : Generator or int seed passed to a batch function (required then).
    lr_schedule : optional ``f(step) -> lr`` applied to ``optimizer.lr`` before each step.
    progress : show a tqdm progress bar (widget in Jupyter, text in a terminal).

    Returns
    -------
    History with one entry per step.
    """
    fn = "train"
    steps = check_int(fn, "steps", steps, minimum=0)
    clip = _check_clip(fn, clip, clip_mode)
    _check_optimizer(fn, optimizer)
    next_batch = _batch_source(fn, batches, rng)
    history = History()
    bar = _progress(progress, steps, "train")
    try:
        for i in range(steps):
            if lr_schedule is not None:
                optimizer.lr = lr_schedule(i)
            loss, grads = _call_loss(fn, model, next_batch())
            if not _update(fn, history, model, optimizer, loss, grads, clip, clip_mode):
                break
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return history


def tbptt_batches(data: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut a token stream into consecutive chunks for truncated BPTT.

    Parameters
    ----------
    data : int (N, L): N parallel streams (row n continues across chunks), L >= 2.
    k : chunk length (time steps per chunk).

    Returns
    -------
    list of (x, y) with x = data[:, s : s + k] and y = data[:, s + 1 : s + k + 1] for
    s = 0, k, 2k, ... The last chunk may be shorter; together the chunks cover the L - 1
    (input, next token) pairs exactly once.
    """
    fn = "tbptt_batches"
    data = check_array(fn, "data", data, (None, None), kind="int")
    k = check_int(fn, "k", k, minimum=1)
    L = data.shape[1]
    if L < 2:
        raise ValueError(f"{fn}: data must have L >= 2 time steps (N, L), got {data.shape}")
    return [(data[:, s : min(s + k, L - 1)], data[:, s + 1 : min(s + k, L - 1) + 1])
            for s in range(0, L - 1, k)]


def train_tbptt(
    model: Any,
    data: np.ndarray,
    k: int,
    optimizer: _Optimizer,
    *,
    epochs: int = 1,
    clip: float | None = None,
    clip_mode: str = "norm",
    lr_schedule: Callable[[int], float] | None = None,
    progress: bool = True,
) -> History:
    """Stateful truncated BPTT over a token stream: one update per chunk of k steps.

    Parameters
    ----------
    model : has ``params`` and ``loss_stateful(x, y, state) -> (loss, grads, final_state)``
        (e.g. ``LanguageModel``).
    data : int (N, L) token streams.
    k : chunk length; the gradient is truncated to at most k steps back.
    optimizer : has ``lr`` and ``step(params, grads)``.
    epochs : passes over the stream; the state restarts at zero at the start of each pass.
    clip, clip_mode, lr_schedule, progress : as in ``train``.

    Returns
    -------
    History with one entry per chunk (the loss of a chunk is summed over its steps).
    """
    fn = "train_tbptt"
    if not callable(getattr(model, "loss_stateful", None)):
        raise TypeError(f"{fn}: model must have loss_stateful(x, y, state) (e.g. LanguageModel), "
                        f"got {type(model).__name__}")
    chunks = tbptt_batches(data, k)
    epochs = check_int(fn, "epochs", epochs, minimum=0)
    clip = _check_clip(fn, clip, clip_mode)
    _check_optimizer(fn, optimizer)
    history = History()
    bar = _progress(progress, epochs * len(chunks), "train_tbptt")
    try:
        step = 0
        for _ in range(epochs):
            state = None
            for x, y in chunks:
                if lr_schedule is not None:
                    optimizer.lr = lr_schedule(step)
                # the incoming state is a constant: loss_stateful does not backpropagate into it
                loss, grads, state = model.loss_stateful(x, y, state)
                if not _update(fn, history, model, optimizer, loss, grads, clip, clip_mode):
                    return history
                step += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return history
