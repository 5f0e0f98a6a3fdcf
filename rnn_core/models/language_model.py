"""Many-to-many: a character (or word) language model.

    x_t = W_embed[token_t]              embedding, (N, D)
    h_t = stack(x_t, h_{t-1})           RNN or LSTM layers, (N, H)
    scores_t = h_t W_vocab + b_vocab    (N, V), softmax over the next token

Loss: softmax cross-entropy of ``scores_t`` against the next token ``y_t``, summed over time
steps and averaged over the batch (``temporal_softmax_loss``), masked positions ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int, check_mask, check_positive
from rnn_core.init import init_matrix
from rnn_core.models.recurrent import (
    RecurrentStack,
    State,
    check_dtype,
    check_tokens,
    token_sequence_loss,
)

__all__ = ["LanguageModel"]


class LanguageModel:
    """Embedding -> stacked RNN/LSTM -> affine to vocabulary scores, at every step.

    Notebook 01, section 2.

    Parameters
    ----------
    vocab_size : V.
    embed_dim : D, width of the embeddings.
    hidden_dim : H.
    cell : "rnn" or "lstm".
    num_layers : stacked recurrent layers.
    rng : Generator or int seed for the initial parameters.
    init : initialiser of the recurrent weights ("gaussian0.01", "glorot", "orthogonal",
        "identity"); the other matrices use "glorot".
    dtype : floating dtype of the parameters (float64 default).

    Attributes
    ----------
    params : dict with ``W_embed`` (V, D), the stack's ``Wx{l}``, ``Wh{l}``, ``b{l}``,
        ``W_vocab`` (H, V) and ``b_vocab`` (V,).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_dim: int,
        *,
        cell: str = "lstm",
        num_layers: int = 1,
        rng: np.random.Generator | int,
        init: str = "glorot",
        dtype: object = np.float64,
    ) -> None:
        fn = "LanguageModel"
        self.vocab_size = check_int(fn, "vocab_size", vocab_size, minimum=1)
        check_int(fn, "embed_dim", embed_dim, minimum=1)
        self.stack = RecurrentStack(cell, embed_dim, hidden_dim, num_layers)
        self.cell, self.num_layers = cell, num_layers
        self.dtype = check_dtype(fn, dtype)
        gen = as_generator(rng, fn)
        V, H = vocab_size, hidden_dim
        self.params: dict[str, np.ndarray] = {
            "W_embed": init_matrix("glorot", (V, embed_dim), gen).astype(self.dtype)
        }
        self.params.update(self.stack.init_params(gen, init=init, dtype=self.dtype))
        self.params["W_vocab"] = init_matrix("glorot", (H, V), gen).astype(self.dtype)
        self.params["b_vocab"] = np.zeros(V, dtype=self.dtype)

    @property
    def num_params(self) -> int:
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    def loss(
        self,
        x: np.ndarray,
        y: np.ndarray,
        mask: np.ndarray | None = None,
        state: Sequence | None = None,
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradients of every parameter (full backpropagation through time).

        Parameters
        ----------
        x : input tokens, int (N, T).
        y : target tokens (usually x shifted by one), int (N, T).
        mask : (N, T) bool, False positions are ignored by the loss; None: all count.
        state : initial state, one (h, c) per layer; None: zeros. It is treated as a constant
            (no gradient flows into it).

        Returns
        -------
        loss : float; grads : dict keyed like ``params``.
        """
        loss, grads, _ = self._loss("LanguageModel.loss", x, y, mask, state)
        return loss, grads

    def loss_stateful(
        self,
        x: np.ndarray,
        y: np.ndarray,
        state: Sequence | None,
        mask: np.ndarray | None = None,
    ) -> tuple[float, dict[str, np.ndarray], State]:
        """``loss`` that also returns the final state (for stateful truncated BPTT).

        The incoming ``state`` is a constant: the gradient stops at this chunk's first step.

        Returns
        -------
        loss : float; grads : dict; final_state : one LayerState(h, c) per layer.
        """
        return self._loss("LanguageModel.loss_stateful", x, y, mask, state)

    def _loss(self, fn, x, y, mask, state):
        x = check_tokens(fn, "x", x, self.vocab_size)
        s = {"N": x.shape[0], "T": x.shape[1]}
        check_array(fn, "y", y, ("N", "T"), s, kind="int")
        y = check_tokens(fn, "y", y, self.vocab_size)
        if mask is None:
            mask = np.ones(x.shape, dtype=bool)
        else:
            mask = check_mask(fn, mask, ("N", "T"), s)
        loss, grads, _, final_state = token_sequence_loss(
            self.stack, self.params, x, y, mask, state=state
        )
        return loss, grads, final_state

    def scores(
        self, x: np.ndarray, state: Sequence | None = None
    ) -> tuple[np.ndarray, State]:
        """Vocabulary scores at every step of a token sequence, forward only.

        Notebook 01, section 4 (what the model predicts after a context) and notebook 05,
        section 5 (recall accuracy). Callers get the model's predictions without reaching into
        ``stack`` or ``params``.

        Parameters
        ----------
        x : input tokens, int (N, T).
        state : initial state, one (h, c) per layer; None: zeros.

        Returns
        -------
        scores : (N, T, V), ``scores[n, t]`` scores the token after ``x[n, :t+1]``;
        final_state : the state after the last step (feed it back to continue the sequence).
        """
        x = check_tokens("LanguageModel.scores", "x", x, self.vocab_size)
        p = self.params
        h, cache = self.stack.forward(p, p["W_embed"][x], state)
        return self._readout(h), cache.final_state

    def _readout(self, h: np.ndarray) -> np.ndarray:
        """``h W_vocab + b_vocab``: scores over the vocabulary for hidden states (..., H)."""
        return h @ self.params["W_vocab"] + self.params["b_vocab"]

    def sample(
        self,
        start: int | np.ndarray,
        length: int,
        temperature: float = 1.0,
        rng: np.random.Generator | int | None = None,
        state: Sequence | None = None,
    ) -> np.ndarray:
        """Generate tokens, feeding each prediction back as the next input.

        Parameters
        ----------
        start : first input token, an int or an int array (N,) (one sequence per entry).
        length : number of tokens to generate.
        temperature : softmax temperature (> 0); 0 means greedy (argmax), no rng needed.
        rng : Generator or int seed (required when temperature > 0).
        state : initial state, one (h, c) per layer; None: zeros.

        Returns
        -------
        tokens : int array (length,) for an int ``start``, (N, length) for an array; the start
            token is not included.
        """
        fn = "LanguageModel.sample"
        scalar = np.ndim(start) == 0
        word = np.atleast_1d(np.asarray(start))
        word = check_tokens(fn, "start", word, self.vocab_size, ndim=1)
        length = check_int(fn, "length", length, minimum=0)
        temperature = check_positive(fn, "temperature", temperature, allow_zero=True)
        gen = as_generator(rng, fn) if temperature > 0 else None
        N = word.shape[0]
        state = self.stack.check_state(fn, state, N, self.dtype)
        p = self.params
        out = np.empty((N, length), dtype=np.int64)
        for t in range(length):
            h, state = self.stack.step(p, p["W_embed"][word], state)
            scores = self._readout(h).astype(np.float64)
            if gen is None:
                word = np.argmax(scores, axis=1)
            else:
                z = scores / temperature
                z -= z.max(axis=1, keepdims=True)
                prob = np.exp(z)
                cdf = np.cumsum(prob, axis=1)
                u = gen.random(N)[:, None] * cdf[:, -1:]
                word = np.minimum((cdf < u).sum(axis=1), self.vocab_size - 1)
            out[:, t] = word
        return out[0] if scalar else out
