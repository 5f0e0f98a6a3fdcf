"""Training loops: full backpropagation through time, and stateful truncated BPTT.

Every step records, in a ``History``: the loss, the total L2 norm of all gradients BEFORE clipping,
whether clipping changed the gradients, and the learning rate used. The loop stops early (and says
why in ``History.stopped``) if the loss or the gradient norm is not finite; no update is applied
on that step.

Truncated BPTT: ``tbptt_pass`` (the exercise of notebook 05, section S10) cuts a batch of
sequences (N, T) into chunks of k steps and updates the parameters once per chunk. The hidden state
at the end of chunk i is the initial state of chunk i + 1 (carried), but the gradient of chunk i + 1
stops at its first step: the incoming state is a constant. With k >= T there is a single chunk and
the update equals full BPTT. It is the only chunk loop of the library: ``train_tbptt`` (a long token
stream, several epochs, with the records above) and the experiments of notebook 05 call it, and
record, schedule and clip through the optimizer they hand it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rnn_core._validate import (
    as_generator,
    check_array,
    check_int,
    check_mask,
    check_positive,
)
from rnn_core.clipping import clip_grad_norm, clip_grad_value, global_norm

__all__ = ["History", "train", "tbptt_pass", "train_tbptt"]

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


class _Recording:
    """The optimizer a training loop hands on: before each update of the wrapped optimizer it sets
    the scheduled learning rate, records the gradient norm (before clipping) and the rate, clips,
    and stops updating for good at the first non-finite norm (``History.stopped`` says where).

    Because it sits behind ``step(params, grads)``, the same records and clipping serve ``train``
    and the chunk loop of ``tbptt_pass`` without a second copy of either loop.
    """

    def __init__(self, fn: str, optimizer: _Optimizer, history: History, clip: float | None,
                 clip_mode: str, lr_schedule: Callable[[int], float] | None, bar: Any) -> None:
        self.fn, self.optimizer, self.history = fn, optimizer, history
        self.clip, self.clip_mode, self.lr_schedule, self.bar = clip, clip_mode, lr_schedule, bar
        self.steps = 0

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        if self.history.stopped is not None:
            return
        norm = self._record(grads)
        if not np.isfinite(norm):
            self.refuse(f"non-finite gradient norm ({norm})")
            return
        clipped = False
        if self.clip is not None:
            if self.clip_mode == "norm":
                clipped = norm > self.clip
                clip_grad_norm(grads, self.clip)
            else:
                clipped = any(bool(np.any(np.abs(g) > self.clip)) for g in grads.values())
                clip_grad_value(grads, self.clip)
        self.history.clipped.append(bool(clipped))
        self.optimizer.step(params, grads)
        if self.bar is not None:
            self.bar.update(1)

    def _record(self, grads: Mapping[str, np.ndarray]) -> float:
        """Set the scheduled rate; record it and the gradient norm; return the norm."""
        if self.lr_schedule is not None:
            self.optimizer.lr = self.lr_schedule(self.steps)
        self.steps += 1
        norm = global_norm(grads)
        self.history.grad_norm.append(norm)
        self.history.lr.append(float(self.optimizer.lr))
        return norm

    def refuse(self, why: str, grads: Mapping[str, np.ndarray] | None = None) -> None:
        """Stop: no update for this step (whose records are completed) nor any later one."""
        if grads is not None:
            self._record(grads)
        self.history.clipped.append(False)
        self.history.stopped = (f"{self.fn}: {why} at step {len(self.history.grad_norm) - 1}; "
                                "no update applied")


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

    Notebook 01, section 3.

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
    recording = _Recording(fn, optimizer, history, clip, clip_mode, lr_schedule, bar)
    try:
        for _ in range(steps):
            loss, grads = _call_loss(fn, model, next_batch())
            history.loss.append(float(loss))
            if not np.isfinite(loss):
                recording.refuse(f"non-finite loss ({loss})", grads)
                break
            recording.step(model.params, grads)
            if history.stopped is not None:
                break
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return history


def _trim(history: History, n: int) -> None:
    """Keep the first n entries of every record."""
    del history.loss[n:], history.grad_norm[n:], history.clipped[n:], history.lr[n:]


def tbptt_pass(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    optimizer: _Optimizer,
    mask: np.ndarray | None = None,
    state: Any = None,
) -> tuple[list[float], Any]:
    """One pass of stateful truncated BPTT over a batch of sequences: one update per chunk.

    The steps 0..T-1 are cut into consecutive chunks of k steps (the last one may be shorter).
    For each chunk c: ``loss, grads, state = model.loss_stateful(x[:, c], y[:, c], state,
    mask=mask[:, c])`` (forward from the carried state, backward to the chunk's first step only:
    the incoming state is a constant), then ``optimizer.step(model.params, grads)``. Taught in
    notebook 05, section S10.

    Parameters
    ----------
    model : has ``params`` and ``loss_stateful(x, y, state, mask=...)`` returning
        ``(loss, grads, final_state)`` (e.g. ``LanguageModel``).
    x, y : int (N, T) inputs and targets.
    k : chunk length (>= 1); ``k >= T`` gives one chunk, i.e. full BPTT.
    optimizer : has ``step(params, grads)`` (``rnn_core.optim``).
    mask : (N, T) bool, the steps that count in the loss; None: all of them.
    state : the state the first chunk starts from (one (h, c) per layer); None: zeros.

    Returns
    -------
    losses : list of float, the loss of every chunk, computed before that chunk's update.
    state : the state after the last chunk (carry it into the next pass to continue the stream).
    """
    fn = "tbptt_pass"
    if not callable(getattr(model, "loss_stateful", None)):
        raise TypeError(f"{fn}: model must have loss_stateful(x, y, state, mask) "
                        f"(e.g. LanguageModel), got {type(model).__name__}")
    s: dict[str, int] = {}
    x = check_array(fn, "x", x, ("N", "T"), s, kind="int")
    y = check_array(fn, "y", y, ("N", "T"), s, kind="int")
    if mask is None:
        mask = np.ones(x.shape, dtype=bool)
    else:
        mask = check_mask(fn, mask, ("N", "T"), s)
    k = check_int(fn, "k", k, minimum=1)
    _check_optimizer(fn, optimizer)
    losses: list[float] = []
    ### BEGIN SOLUTION
    for start in range(0, x.shape[1], k):
        c = slice(start, start + k)
        loss, grads, state = model.loss_stateful(x[:, c], y[:, c], state, mask=mask[:, c])
        losses.append(float(loss))
        optimizer.step(model.params, grads)
    ### END SOLUTION
    return losses, state


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
    """Stateful truncated BPTT over a token stream: ``epochs`` calls of ``tbptt_pass``.

    Parameters
    ----------
    model : has ``params`` and ``loss_stateful(x, y, state, mask=...)`` (e.g. ``LanguageModel``).
    data : int (N, L) token streams, L >= 2: row n is one stream, input ``data[:, :-1]``, target
        the next token ``data[:, 1:]``.
    k : chunk length; the gradient is truncated to at most k steps back.
    optimizer : has ``lr`` and ``step(params, grads)``.
    epochs : passes over the stream; the state restarts at zero at the start of each pass.
    clip, clip_mode, lr_schedule, progress : as in ``train`` (applied to every chunk's update).

    Returns
    -------
    History with one entry per chunk (the loss of a chunk is summed over its steps). A run stops
    at the first non-finite gradient norm (no update applied from there on) or after a chunk whose
    loss is not finite.
    """
    fn = "train_tbptt"
    if not callable(getattr(model, "loss_stateful", None)):
        raise TypeError(f"{fn}: model must have loss_stateful(x, y, state, mask) "
                        f"(e.g. LanguageModel), got {type(model).__name__}")
    data = check_array(fn, "data", data, (None, None), kind="int")
    if data.shape[1] < 2:
        raise ValueError(f"{fn}: data must have L >= 2 time steps (N, L), got {data.shape}")
    k = check_int(fn, "k", k, minimum=1)
    epochs = check_int(fn, "epochs", epochs, minimum=0)
    clip = _check_clip(fn, clip, clip_mode)
    _check_optimizer(fn, optimizer)
    history = History()
    chunks = -(-(data.shape[1] - 1) // k)
    bar = _progress(progress, epochs * chunks, "train_tbptt")
    recording = _Recording(fn, optimizer, history, clip, clip_mode, lr_schedule, bar)
    try:
        for _ in range(epochs):
            losses, _ = tbptt_pass(model, data[:, :-1], data[:, 1:], k, recording)
            n = len(history.grad_norm) - len(history.loss)  # chunks recorded in this pass
            history.loss.extend(losses[:n])
            bad = [i for i, v in enumerate(history.loss) if not np.isfinite(v)]
            if history.stopped is None and bad:  # the chunk was updated: the norm was finite
                _trim(history, bad[0] + 1)
                history.stopped = (f"{fn}: non-finite loss ({history.loss[-1]}) at step "
                                   f"{bad[0]}; the run ends with this pass")
            if history.stopped is not None:
                break
    finally:
        if bar is not None:
            bar.close()
    return history
