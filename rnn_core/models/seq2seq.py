"""Sequence to sequence: an encoder (many-to-one) feeds a decoder (one-to-many).

Two separate weight sets: the encoder's parameters are prefixed ``enc_``, the decoder's ``dec_``.

    encoder:  s_t = stack_enc(E_src[src_t], s_{t-1}),  s_0 = 0;  padded steps (src_t = <NULL>)
              carry the state through unchanged, so the final state is the state after the last
              real token whatever the padding.
    decoder:  h_0 = s_final (every layer's h, and c for the LSTM);
              h_t = stack_dec(E_tgt[word_{t-1}], h_{t-1}),  word_0 = <START>
              scores_t = h_t W_vocab + b_vocab

With ``feed_context=True`` the decoder also reads the context c = the encoder's final top-layer h
at every step, through its own weights ``dec_W_ih`` (as the captioner reads its image features):
``a_t = E_tgt[word_{t-1}] Wx0 + h_{t-1} Wh0 + c W_ih + b0`` (Cho et al. 2014). A vanilla RNN
decoder then need not carry the whole source through its own recurrence.

Training uses teacher forcing (the decoder reads the true previous word); ``translate`` decodes
greedily until <END> or ``max_length``. Source and target are int arrays padded with <NULL> = 0.
"""

from __future__ import annotations

import numpy as np

from rnn_core._validate import as_generator, check_int
from rnn_core.init import init_matrix
from rnn_core.layers import (
    word_embedding_backward,
    word_embedding_forward,
)
from rnn_core.models._tokens import check_special_ids
from rnn_core.models.recurrent import (
    RecurrentStack,
    check_dtype,
    check_tokens,
    greedy_decode,
    token_sequence_loss,
)

__all__ = ["Seq2Seq"]


class Seq2Seq:
    """Encoder-decoder with stacked RNN/LSTM layers and separate weights.

    Notebook 04, section 2.

    Parameters
    ----------
    src_vocab_size, tgt_vocab_size : V_src, V_tgt.
    embed_dim : D, width of both embeddings.
    hidden_dim : H (shared by encoder and decoder: the encoder's state initialises the decoder).
    cell : "rnn" or "lstm" (both halves).
    num_layers : layers of each half.
    null_id : <NULL> padding id in both vocabularies; start_id, end_id: target <START>, <END>.
    rng : Generator or int seed for the initial parameters.
    init : initialiser of the recurrent weights; the other matrices use "glorot".
    feed_context : also feed the encoder's final top-layer h to every decoder step (``dec_W_ih``,
        (H, H) or (H, 4H)); False: it only initialises the decoder's state.
    dtype : floating dtype of the parameters (float64 default).

    Attributes
    ----------
    params : ``enc_W_embed`` (V_src, D), ``enc_Wx{l}``, ``enc_Wh{l}``, ``enc_b{l}``,
        ``dec_W_embed`` (V_tgt, D), ``dec_Wx{l}``, ``dec_Wh{l}``, ``dec_b{l}``,
        ``dec_W_vocab`` (H, V_tgt), ``dec_b_vocab`` (V_tgt,); with ``feed_context`` also
        ``dec_W_ih``.
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
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
        feed_context: bool = False,
        dtype: object = np.float64,
    ) -> None:
        fn = "Seq2Seq"
        self.src_vocab_size = check_int(fn, "src_vocab_size", src_vocab_size, minimum=2)
        self.tgt_vocab_size = check_int(fn, "tgt_vocab_size", tgt_vocab_size, minimum=3)
        check_int(fn, "embed_dim", embed_dim, minimum=1)
        check_special_ids(fn, "tgt_vocab_size", tgt_vocab_size, null_id, start_id, end_id)
        if null_id >= src_vocab_size:
            raise ValueError(f"{fn}: null_id must be < src_vocab_size={src_vocab_size}")
        self.null_id, self.start_id, self.end_id = null_id, start_id, end_id
        self.encoder = RecurrentStack(cell, embed_dim, hidden_dim, num_layers, prefix="enc_")
        if not isinstance(feed_context, bool):
            raise TypeError(f"{fn}: feed_context must be True or False, got {feed_context!r}")
        self.feed_context = feed_context
        self.decoder = RecurrentStack(cell, embed_dim, hidden_dim, num_layers, prefix="dec_",
                                      static_dim=hidden_dim if feed_context else 0)
        self.cell, self.num_layers = cell, num_layers
        self.dtype = check_dtype(fn, dtype)
        gen = as_generator(rng, fn)
        dt = self.dtype
        p: dict[str, np.ndarray] = {}
        p["enc_W_embed"] = init_matrix("glorot", (src_vocab_size, embed_dim), gen).astype(dt)
        p.update(self.encoder.init_params(gen, init=init, dtype=dt))
        p["dec_W_embed"] = init_matrix("glorot", (tgt_vocab_size, embed_dim), gen).astype(dt)
        p.update(self.decoder.init_params(gen, init=init, dtype=dt))
        p["dec_W_vocab"] = init_matrix("glorot", (hidden_dim, tgt_vocab_size), gen).astype(dt)
        p["dec_b_vocab"] = np.zeros(tgt_vocab_size, dtype=dt)
        self.params = p

    def encode(self, src: np.ndarray):
        """Run the encoder; returns ``(final_state, cache, emb_cache)``. src: int (N, S)."""
        src = check_tokens("Seq2Seq.encode", "src", src, self.src_vocab_size)
        emb, emb_cache = word_embedding_forward(src, self.params["enc_W_embed"])
        _, cache = self.encoder.forward(self.params, emb, mask=src != self.null_id)
        return cache.final_state, cache, emb_cache

    def context(self, state) -> np.ndarray | None:
        """What every decoder step reads besides its input: the encoder's final top-layer h,
        (N, H), with ``feed_context``; None without."""
        return state[-1].h if self.feed_context else None

    def loss(self, src: np.ndarray, tgt: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Teacher-forced loss and gradients of every parameter.

        Parameters
        ----------
        src : source tokens, int (N, S), <NULL>-padded (padding may sit anywhere; padded steps
            are skipped by the encoder).
        tgt : target tokens, int (N, T + 1): <START>, the words, <END>, then <NULL>. The decoder
            reads ``tgt[:, :-1]`` and predicts ``tgt[:, 1:]``; <NULL> targets are ignored.

        Returns
        -------
        loss : float (summed over steps, averaged over the batch); grads : dict keyed like params.
        """
        fn = "Seq2Seq.loss"
        src = check_tokens(fn, "src", src, self.src_vocab_size)
        tgt = check_tokens(fn, "tgt", tgt, self.tgt_vocab_size)
        if tgt.shape[0] != src.shape[0] or tgt.shape[1] < 2:
            raise ValueError(
                f"{fn}: tgt must have shape (N, T + 1) with N = {src.shape[0]} (as src) and "
                f"T >= 1, got {tgt.shape}"
            )
        p = self.params
        state, enc_cache, src_emb_cache = self.encode(src)
        tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
        loss, dec_grads, gd, _ = token_sequence_loss(
            self.decoder, p, tgt_in, tgt_out, tgt_out != self.null_id, prefix="dec_", state=state,
            static=self.context(state),
        )
        N, S = src.shape
        dh_enc = np.zeros((N, S, self.encoder.hidden_dim), dtype=gd.dx.dtype)
        dfinal = list(gd.dstate)
        if self.feed_context:  # the context is the final h of the top layer: its gradient adds
            top = dfinal[-1]
            dfinal[-1] = type(top)(top.h + gd.dstatic, top.c)
        ge = self.encoder.backward(dh_enc, enc_cache, dfinal_state=dfinal)
        grads = {"enc_W_embed": word_embedding_backward(ge.dx, src_emb_cache)}
        grads.update(ge.grads)
        grads.update(dec_grads)
        return loss, grads

    def translate(self, src: np.ndarray, max_length: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """Greedy decoding until <END> (per sample) or ``max_length``.

        Parameters
        ----------
        src : int (N, S), <NULL>-padded.
        max_length : most target words generated.

        Returns
        -------
        tokens : int (N, max_length): the words, then <END> (if produced), then <NULL>.
        lengths : int (N,): number of words before <END>; ``tokens[n, :lengths[n]]`` is the output.
        """
        fn = "Seq2Seq.translate"
        max_length = check_int(fn, "max_length", max_length, minimum=1)
        state, _, _ = self.encode(src)
        p = self.params
        return greedy_decode(
            self.decoder, p, p["dec_W_embed"], p["dec_W_vocab"], p["dec_b_vocab"],
            state, src.shape[0], max_length, self.start_id, self.end_id, self.null_id,
            static=self.context(state),
        )
