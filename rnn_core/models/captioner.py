"""One-to-many: caption an image from its feature vector v.

Where the image enters (the lecture's ``h_t = tanh(W_xh x_t + W_hh h_{t-1} + W_ih v)``): an additive
term in the pre-activation of EVERY step of the first recurrent layer, with its own weights
``W_ih`` (F, H) for the RNN, (F, 4H) for the LSTM (then v feeds all four gates):

    a_t = x_t Wx0 + h_{t-1} Wh0 + v W_ih + b0,     t = 1..T,    h_0 = 0 (and c_0 = 0)

where ``x_t = W_embed[word_{t-1}]`` and the first word is <START>. Higher layers do not see v
directly. Scores ``h_t W_vocab + b_vocab`` predict the next word; the loss ignores <NULL> targets.
"""

from __future__ import annotations

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int
from rnn_core.init import init_matrix
from rnn_core.models._tokens import check_special_ids
from rnn_core.models.recurrent import (
    RecurrentStack,
    check_dtype,
    check_tokens,
    greedy_decode,
    token_sequence_loss,
)

__all__ = ["Captioner"]


class Captioner:
    """Image features -> caption, with a stacked RNN/LSTM decoder.

    Notebook 03, section 3.

    Parameters
    ----------
    vocab_size : V (including <NULL>, <START>, <END>).
    feature_dim : F, width of the image feature vector v.
    embed_dim : D, width of the word embeddings.
    hidden_dim : H.
    cell : "rnn" or "lstm".
    num_layers : stacked recurrent layers (v enters the first one).
    null_id, start_id, end_id : ids of <NULL> (padding), <START> and <END>.
    rng : Generator or int seed for the initial parameters.
    init : initialiser of the recurrent weights; the other matrices use "glorot".
    dtype : floating dtype of the parameters (float64 default).

    Attributes
    ----------
    params : dict with ``W_embed`` (V, D), the stack's ``Wx{l}``, ``Wh{l}``, ``b{l}``,
        ``W_ih`` (F, H or 4H), ``W_vocab`` (H, V) and ``b_vocab`` (V,).
    """

    def __init__(
        self,
        vocab_size: int,
        feature_dim: int,
        embed_dim: int,
        hidden_dim: int,
        *,
        cell: str = "lstm",
        num_layers: int = 1,
        null_id: int = 0,
        start_id: int = 1,
        end_id: int = 2,
        rng: np.random.Generator | int,
        init: str = "glorot",
        dtype: object = np.float64,
    ) -> None:
        fn = "Captioner"
        self.vocab_size = check_int(fn, "vocab_size", vocab_size, minimum=3)
        self.feature_dim = check_int(fn, "feature_dim", feature_dim, minimum=1)
        check_int(fn, "embed_dim", embed_dim, minimum=1)
        self.null_id, self.start_id, self.end_id = check_special_ids(
            fn, "vocab_size", vocab_size, null_id, start_id, end_id
        )
        self.stack = RecurrentStack(
            cell, embed_dim, hidden_dim, num_layers, static_dim=feature_dim
        )
        self.cell, self.num_layers = cell, num_layers
        self.dtype = check_dtype(fn, dtype)
        gen = as_generator(rng, fn)
        V = vocab_size
        self.params: dict[str, np.ndarray] = {
            "W_embed": init_matrix("glorot", (V, embed_dim), gen).astype(self.dtype)
        }
        self.params.update(self.stack.init_params(gen, init=init, dtype=self.dtype))
        self.params["W_vocab"] = init_matrix("glorot", (hidden_dim, V), gen).astype(self.dtype)
        self.params["b_vocab"] = np.zeros(V, dtype=self.dtype)

    def _features(self, fn: str, features: np.ndarray) -> np.ndarray:
        f = check_array(fn, "features", features, (None, self.feature_dim))
        return f.astype(self.dtype, copy=False)

    def loss(
        self, features: np.ndarray, captions: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Teacher-forced loss and gradients of every parameter.

        Parameters
        ----------
        features : image features v, float (N, F).
        captions : int (N, T + 1): <START>, the words, <END>, then <NULL> padding. The model reads
            ``captions[:, :-1]`` and predicts ``captions[:, 1:]``; <NULL> targets are ignored.

        Returns
        -------
        loss : float (summed over steps, averaged over the batch); grads : dict keyed like params.
        """
        fn = "Captioner.loss"
        v = self._features(fn, features)
        captions = check_tokens(fn, "captions", captions, self.vocab_size)
        if captions.shape[0] != v.shape[0] or captions.shape[1] < 2:
            raise ValueError(
                f"{fn}: captions must have shape (N, T + 1) with N = {v.shape[0]} and T >= 1, "
                f"got {captions.shape}"
            )
        cap_in, cap_out = captions[:, :-1], captions[:, 1:]
        mask = cap_out != self.null_id
        loss, grads, _, _ = token_sequence_loss(
            self.stack, self.params, cap_in, cap_out, mask, static=v
        )
        return loss, grads

    def sample(self, features: np.ndarray, max_length: int = 30) -> tuple[np.ndarray, np.ndarray]:
        """Greedy captions: start from <START>, feed back the argmax word, stop at <END>.

        Parameters
        ----------
        features : float (N, F).
        max_length : most words generated per caption.

        Returns
        -------
        tokens : int (N, max_length): the words, then <END> (if produced), then <NULL>.
        lengths : int (N,): number of words before <END>; ``tokens[n, :lengths[n]]`` is the caption.
        """
        fn = "Captioner.sample"
        v = self._features(fn, features)
        max_length = check_int(fn, "max_length", max_length, minimum=1)
        N = v.shape[0]
        p = self.params
        return greedy_decode(
            self.stack, p, p["W_embed"], p["W_vocab"], p["b_vocab"],
            self.stack.zero_state(N, self.dtype), N, max_length,
            self.start_id, self.end_id, self.null_id, static=v,
        )
