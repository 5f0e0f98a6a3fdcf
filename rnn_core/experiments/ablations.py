"""Small measured ablations notebooks 01-04 use to show a claim instead of arguing it.

- :func:`nearest_rows`: which rows of a trained embedding are closest (notebook 01, section 1).
- :class:`PerFrameClassifier`: the many-to-many twin of notebook 02's video classifier, a loss
  after every frame (notebook 02, section 3).
- :class:`ImageOnceCaptioner` and :func:`compare_image_entry`: the image given once, as the
  initial state (the pure one-to-many wiring of lecture S5), against the ``Captioner`` that
  re-adds it at every step (notebook 03, section 3).
- :func:`copy_pairs` and :func:`copy_by_length`: how well notebook 04's encoder-decoder copies a
  digit string through its single vector, by length (notebook 04, section 7);
  :func:`match_by_group` splits any exact-match vector by a property.

All are built on the course's one implementation of each piece (``rnn_step_forward``, the shared
``RecurrentStack``, ``token_sequence_loss``, ``greedy_decode``, the temporal layers): nothing here
is a second recurrence or loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int
from rnn_core.init import init_matrix
from rnn_core.layers import (
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)
from rnn_core.models import Captioner
from rnn_core.models._tokens import check_special_ids
from rnn_core.models.recurrent import (
    LayerState,
    RecurrentStack,
    greedy_decode,
    token_sequence_loss,
)
from rnn_core.optim import Adam
from rnn_core.rnn import rnn_step_backward, rnn_step_forward
from rnn_core.train import train

__all__ = [
    "nearest_rows",
    "ImageOnceCaptioner",
    "ImageEntryResult",
    "compare_image_entry",
    "caption_exact_match",
    "match_by_group",
    "copy_pairs",
    "CopyResult",
    "copy_by_length",
    "PerFrameClassifier",
]


def nearest_rows(W: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows most similar to each row of ``W`` by cosine similarity (itself excluded).

    Parameters
    ----------
    W : (V, D) float, e.g. a trained embedding ``W_embed``; no row may be all zero.
    k : neighbours per row, 1 <= k < V.

    Returns
    -------
    idx : (V, k) int, the neighbours of row v, most similar first; cos : (V, k) their cosines.
    """
    fn = "nearest_rows"
    W = check_array(fn, "W", W, (None, None))
    V = W.shape[0]
    k = check_int(fn, "k", k, minimum=1)
    if k >= V:
        raise ValueError(f"{fn}: k must be smaller than the number of rows {V}, got {k}")
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"{fn}: W must have no all-zero row (cosine undefined)")
    Wn = W / norms
    C = Wn @ Wn.T
    np.fill_diagonal(C, -np.inf)
    idx = np.argsort(-C, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(C, idx, axis=1)


class ImageOnceCaptioner:
    """The pure one-to-many captioner: the image enters once, as the initial state.

    ``h_0 = tanh(v W_init + b_init)`` (one vanilla step from a zero state whose input is the image,
    computed by notebook 00's ``rnn_step_forward``); after that every step reads only the previous
    word, ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``, so whatever the caption needs from the image
    must be carried in ``h_t``. Same interface as :class:`rnn_core.models.Captioner` (``params``,
    ``loss(features, captions)``, ``sample(features, max_length)``); RNN cell, one layer.
    """

    def __init__(
        self,
        vocab_size: int,
        feature_dim: int,
        embed_dim: int,
        hidden_dim: int,
        *,
        null_id: int = 0,
        start_id: int = 1,
        end_id: int = 2,
        rng: np.random.Generator | int,
    ) -> None:
        fn = "ImageOnceCaptioner"
        self.vocab_size = check_int(fn, "vocab_size", vocab_size, minimum=3)
        self.feature_dim = check_int(fn, "feature_dim", feature_dim, minimum=1)
        check_int(fn, "embed_dim", embed_dim, minimum=1)
        self.hidden_dim = check_int(fn, "hidden_dim", hidden_dim, minimum=1)
        self.null_id, self.start_id, self.end_id = check_special_ids(
            fn, "vocab_size", vocab_size, null_id, start_id, end_id
        )
        self.stack = RecurrentStack("rnn", embed_dim, hidden_dim)
        gen = as_generator(rng, fn)
        V, H = vocab_size, hidden_dim
        p = {"W_embed": init_matrix("glorot", (V, embed_dim), gen)}
        p.update(self.stack.init_params(gen))
        p["W_init"] = init_matrix("glorot", (feature_dim, H), gen)
        p["b_init"] = np.zeros(H)
        p["W_vocab"] = init_matrix("glorot", (H, V), gen)
        p["b_vocab"] = np.zeros(V)
        self.params: dict[str, np.ndarray] = p

    def _initial_state(self, fn: str, features: np.ndarray):
        v = check_array(fn, "features", features, (None, self.feature_dim))
        N, H = v.shape[0], self.hidden_dim
        h0, cache = rnn_step_forward(
            v, np.zeros((N, H)), self.params["W_init"], np.zeros((H, H)), self.params["b_init"]
        )
        return (LayerState(h0, None),), cache

    def loss(
        self, features: np.ndarray, captions: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Teacher-forced loss and gradients; arguments as ``Captioner.loss``."""
        fn = "ImageOnceCaptioner.loss"
        state, cache = self._initial_state(fn, features)
        captions = np.asarray(captions)
        if captions.ndim != 2 or captions.shape[0] != state[0].h.shape[0] or captions.shape[1] < 2:
            raise ValueError(
                f"{fn}: captions must have shape (N, T + 1) with N = {state[0].h.shape[0]} and "
                f"T >= 1, got {captions.shape}"
            )
        cap_in, cap_out = captions[:, :-1], captions[:, 1:]
        loss, grads, g, _ = token_sequence_loss(
            self.stack, self.params, cap_in, cap_out, cap_out != self.null_id, state=state
        )
        _, _, grads["W_init"], _, grads["b_init"] = rnn_step_backward(g.dstate[0].h, cache)
        return loss, grads

    def sample(self, features: np.ndarray, max_length: int = 30) -> tuple[np.ndarray, np.ndarray]:
        """Greedy captions from ``h_0``; returns ``(tokens, lengths)`` as ``Captioner.sample``."""
        fn = "ImageOnceCaptioner.sample"
        state, _ = self._initial_state(fn, features)
        max_length = check_int(fn, "max_length", max_length, minimum=1)
        p = self.params
        return greedy_decode(
            self.stack,
            p,
            p["W_embed"],
            p["W_vocab"],
            p["b_vocab"],
            state,
            state[0].h.shape[0],
            max_length,
            self.start_id,
            self.end_id,
            self.null_id,
        )


def caption_exact_match(model, features: np.ndarray, captions: np.ndarray) -> float:
    """Fraction of rows whose greedy caption equals the target word for word, ``<END>`` included.

    ``captions`` is the (N, T + 1) token array of ``Captioner.loss`` (<START> ... <END> <NULL>...).
    """
    captions = np.asarray(captions)
    target = captions[:, 1:]
    tokens, _ = model.sample(features, max_length=target.shape[1])
    return float(np.mean(np.all(tokens == target, axis=1)))


@dataclass(frozen=True)
class ImageEntryResult:
    """Outcome of :func:`compare_image_entry`, keyed by wiring: "at every step", "in h_0 only"."""

    loss: dict[str, np.ndarray]
    """training loss per update (nats per caption)"""
    exact: dict[str, float]
    """held-out exact-match rate after training"""


def compare_image_entry(
    train_features: np.ndarray,
    train_captions: np.ndarray,
    test_features: np.ndarray,
    test_captions: np.ndarray,
    vocab_size: int,
    *,
    embed_dim: int = 16,
    hidden_dim: int = 48,
    steps: int = 400,
    batch: int = 64,
    lr: float = 1e-2,
    null_id: int = 0,
    start_id: int = 1,
    end_id: int = 2,
    rng: int = 0,
) -> ImageEntryResult:
    """Train a ``Captioner`` (image re-added at every step) and an :class:`ImageOnceCaptioner`
    (image only in ``h_0``) with the same data, batches, optimiser, sizes and number of updates.

    Returns
    -------
    ImageEntryResult with each model's loss curve and held-out exact match.
    """
    fn = "compare_image_entry"
    steps = check_int(fn, "steps", steps, minimum=1)
    batch = check_int(fn, "batch", batch, minimum=1)
    F = check_array(fn, "train_features", train_features, (None, None)).shape[1]
    ids = dict(null_id=null_id, start_id=start_id, end_id=end_id)
    models = {
        "at every step": Captioner(
            vocab_size, F, embed_dim, hidden_dim, cell="rnn", rng=rng, **ids
        ),
        "in h_0 only": ImageOnceCaptioner(vocab_size, F, embed_dim, hidden_dim, rng=rng, **ids),
    }

    def batches(g):
        idx = g.integers(0, len(train_features), batch)
        return train_features[idx], train_captions[idx]

    loss, exact = {}, {}
    for name, model in models.items():
        hist = train(model, batches, Adam(lr), steps, rng=rng + 1, progress=False)
        loss[name] = np.asarray(hist.arrays()["loss"])
        exact[name] = caption_exact_match(model, test_features, test_captions)
    return ImageEntryResult(loss, exact)


def match_by_group(ok: np.ndarray, groups: np.ndarray) -> dict[int, tuple[float, int]]:
    """Exact-match rate per group value: ``{value: (rate, count)}``, values in increasing order.

    Parameters
    ----------
    ok : (N,) bool, whether each output was exactly right.
    groups : (N,) int, e.g. each source's length in characters.
    """
    fn = "match_by_group"
    ok = check_array(fn, "ok", ok, (None,), kind="any")
    groups = check_array(fn, "groups", groups, (ok.shape[0],), kind="any")
    if ok.dtype != np.bool_:
        raise TypeError(f"{fn}: ok must be a bool array (N,), got dtype {ok.dtype}")
    return {
        int(g): (float(ok[groups == g].mean()), int((groups == g).sum())) for g in np.unique(groups)
    }


COPY_NULL, COPY_START, COPY_END, COPY_DIGIT0 = 0, 1, 2, 3
"""Token ids of :func:`copy_pairs`: <NULL>, <START>, <END>, then the digits 0-9 as 3..12."""


def copy_pairs(
    n: int, min_len: int, max_len: int, rng: np.random.Generator | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A copy task for a seq2seq model: read a digit string, write it out again.

    Returns
    -------
    src : (n, max_len) int, the digits left-padded with <NULL>; tgt : (n, max_len + 2) int,
    <START>, the same digits, <END>, then <NULL>; lengths : (n,) int, uniform on min_len..max_len.
    """
    fn = "copy_pairs"
    n = check_int(fn, "n", n, minimum=1)
    min_len = check_int(fn, "min_len", min_len, minimum=1)
    max_len = check_int(fn, "max_len", max_len, minimum=min_len)
    g = as_generator(rng, fn)
    lengths = g.integers(min_len, max_len + 1, n)
    digits = g.integers(0, 10, (n, max_len)) + COPY_DIGIT0
    src = np.full((n, max_len), COPY_NULL, dtype=np.int64)
    tgt = np.full((n, max_len + 2), COPY_NULL, dtype=np.int64)
    tgt[:, 0] = COPY_START
    for i, L in enumerate(lengths):
        src[i, max_len - L :] = digits[i, :L]
        tgt[i, 1 : L + 1] = digits[i, :L]
        tgt[i, L + 1] = COPY_END
    return src, tgt, lengths


@dataclass(frozen=True)
class CopyResult:
    """Outcome of :func:`copy_by_length`, per source length L (keys of both dicts)."""

    exact: dict[int, float]
    """fraction of held-out strings of length L copied exactly (every digit, then <END>)"""
    digits: dict[int, float]
    """fraction of the L digit positions written right, under free running"""
    count: dict[int, int]
    """held-out strings of length L"""


def copy_by_length(
    max_len: int = 10,
    *,
    hidden_dim: int = 48,
    steps: int = 400,
    n_train: int = 4000,
    n_test: int = 1000,
    rng: int = 0,
) -> CopyResult:
    """Train notebook 04's encoder-decoder (vanilla RNNs, orthogonal init, the context read at every
    decoder step) to copy digit strings of 1..max_len digits, then measure by length.

    Everything the decoder learns about the source has to pass through the one vector ``c``, so this
    measures how well a single vector carries a longer input with a fixed training budget.
    """
    from rnn_core.models import Seq2Seq

    fn = "copy_by_length"
    max_len = check_int(fn, "max_len", max_len, minimum=1)
    steps = check_int(fn, "steps", steps, minimum=1)
    src, tgt, _ = copy_pairs(n_train, 1, max_len, rng)
    t_src, t_tgt, t_len = copy_pairs(n_test, 1, max_len, rng + 1)
    V = COPY_DIGIT0 + 10
    model = Seq2Seq(
        V,
        V,
        8,
        hidden_dim,
        cell="rnn",
        init="orthogonal",
        feed_context=True,
        null_id=COPY_NULL,
        start_id=COPY_START,
        end_id=COPY_END,
        rng=rng,
    )

    def batches(g):
        idx = g.integers(0, n_train, 64)
        return src[idx], tgt[idx]

    train(
        model,
        batches,
        Adam(1e-2),
        steps,
        rng=rng + 1,
        progress=False,
        lr_schedule=lambda i: 1e-2 * 0.1 ** (i / steps),
    )
    tokens, _ = model.translate(t_src, max_length=max_len + 1)
    want = t_tgt[:, 1:]  # the digits, <END>, <NULL>...
    exact = np.all((tokens == want) | (want == COPY_NULL), axis=1)
    pos = np.arange(max_len + 1)[None, :] < t_len[:, None]
    right = (tokens == want) & pos
    lengths = np.unique(t_len)
    return CopyResult(
        {int(L): float(exact[t_len == L].mean()) for L in lengths},
        {int(L): float(right[t_len == L].sum() / pos[t_len == L].sum()) for L in lengths},
        {int(L): int((t_len == L).sum()) for L in lengths},
    )


class PerFrameClassifier:
    """Many-to-many video classifier: the direction is predicted after every frame.

    Same parameters as ``SequenceClassifier`` (the stack's ``Wx0``, ``Wh0``, ``b0``; ``W_out``
    (H, C), ``b_out`` (C,)), but the loss is notebook 01's temporal softmax loss over every step,
    with the video's label as the target at each frame: ``L = (1/N) sum_n sum_t CE(s_{n,t}, y_n)``.
    RNN cell, one layer.
    """

    def __init__(
        self, input_dim: int, hidden_dim: int, num_classes: int, *, rng: np.random.Generator | int
    ) -> None:
        fn = "PerFrameClassifier"
        self.num_classes = check_int(fn, "num_classes", num_classes, minimum=2)
        self.stack = RecurrentStack("rnn", input_dim, hidden_dim)
        gen = as_generator(rng, fn)
        self.params = self.stack.init_params(gen)
        self.params["W_out"] = init_matrix("glorot", (hidden_dim, num_classes), gen)
        self.params["b_out"] = np.zeros(num_classes)

    def _forward(self, fn: str, x: np.ndarray, per_step: bool = False):
        x = check_array(fn, "x", x, (None, None, self.stack.input_dim))
        h, cache = self.stack.forward(self.params, x, per_step=per_step)
        scores, aff = temporal_affine_forward(h, self.params["W_out"], self.params["b_out"])
        return scores, cache, aff

    def _backward(self, fn: str, x: np.ndarray, y: np.ndarray, record: bool):
        scores, cache, aff = self._forward(fn, x, per_step=record)
        N, T, _ = scores.shape
        y = check_array(fn, "y", y, (N,), kind="int")
        if y.size and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(
                f"{fn}: y must hold class labels in [0, {self.num_classes}), "
                f"got values in [{y.min()}, {y.max()}]"
            )
        targets = np.repeat(y[:, None], T, axis=1)
        loss, dscores = temporal_softmax_loss(scores, targets, np.ones((N, T), dtype=bool))
        dh, dW_out, db_out = temporal_affine_backward(dscores, aff)
        g = self.stack.backward(dh, cache, record=record)
        return loss, dh, g, dW_out, db_out

    def loss(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradients. x: float (N, T, D); y: int (N,) labels, the target at every frame."""
        loss, _, g, dW_out, db_out = self._backward("PerFrameClassifier.loss", x, y, False)
        grads = dict(g.grads)
        grads["W_out"], grads["b_out"] = dW_out, db_out
        return float(loss), grads

    def predict_per_frame(self, x: np.ndarray) -> np.ndarray:
        """Most likely class after each frame, int (N, T)."""
        return np.argmax(self._forward("PerFrameClassifier.predict_per_frame", x)[0], axis=-1)

    def gradient_norms(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the gradient enters and how much each step gets, over the whole batch.

        Returns
        -------
        injected : (T,), ``||dL/dh_t||`` of the loss at step t alone (Frobenius norm over N, H);
        total : (T,), ``||dL/dh_t||`` including what flows back from later steps.
        """
        _, dh, g, _, _ = self._backward("PerFrameClassifier.gradient_norms", x, y, True)
        return np.linalg.norm(dh, axis=(0, 2)), np.linalg.norm(g.dh_layers[0], axis=(0, 2))
