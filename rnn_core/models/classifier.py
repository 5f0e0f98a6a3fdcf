"""Many-to-one: classify a whole sequence from the final hidden state.

    h_T = stack(x_1, ..., x_T)          RNN or LSTM layers, top layer's last state (N, H)
    scores = h_T W_out + b_out          (N, C), softmax over the classes

The loss is the softmax cross-entropy averaged over the batch. Only the last step receives a
gradient from the loss, so everything the classifier learns about early steps flows back through
the chain of Jacobians ``dh_T/dh_t``.
"""

from __future__ import annotations

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int
from rnn_core.init import init_matrix
from rnn_core.layers import affine_backward, affine_forward, softmax_loss
from rnn_core.models.recurrent import RecurrentStack, check_dtype

__all__ = ["SequenceClassifier"]


class SequenceClassifier:
    """Stacked RNN/LSTM over a float sequence, affine head on the final hidden state.

    Parameters
    ----------
    input_dim : D, width of each input step.
    hidden_dim : H.
    num_classes : C.
    cell : "rnn" or "lstm".
    num_layers : stacked recurrent layers.
    rng : Generator or int seed for the initial parameters.
    init : initialiser of the recurrent weights; the other matrices use "glorot".
    forget_bias : LSTM only: initial bias of every layer's forget gate (1.0 keeps memory at the
        start; notebook 08, section 6 opens the highway wider).
    dtype : floating dtype of the parameters (float64 default).

    Attributes
    ----------
    params : dict with the stack's ``Wx{l}``, ``Wh{l}``, ``b{l}``, then ``W_out`` (H, C) and
        ``b_out`` (C,).
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        num_classes: int,
        *,
        cell: str = "lstm",
        num_layers: int = 1,
        rng: np.random.Generator | int,
        init: str = "glorot",
        forget_bias: float = 1.0,
        dtype: object = np.float64,
    ) -> None:
        fn = "SequenceClassifier"
        self.num_classes = check_int(fn, "num_classes", num_classes, minimum=2)
        self.stack = RecurrentStack(cell, input_dim, hidden_dim, num_layers)
        self.cell, self.num_layers = cell, num_layers
        self.dtype = check_dtype(fn, dtype)
        gen = as_generator(rng, fn)
        self.params = self.stack.init_params(gen, init=init, forget_bias=forget_bias,
                                             dtype=self.dtype)
        self.params["W_out"] = init_matrix("glorot", (hidden_dim, num_classes), gen).astype(
            self.dtype
        )
        self.params["b_out"] = np.zeros(num_classes, dtype=self.dtype)

    @property
    def num_params(self) -> int:
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    def _scores(self, fn: str, x: np.ndarray, mask: np.ndarray | None):
        x = check_array(fn, "x", x, (None, None, self.stack.input_dim))
        if x.shape[1] == 0:
            raise ValueError(f"{fn}: x must have at least one time step, got shape {x.shape}")
        h, cache = self.stack.forward(self.params, x.astype(self.dtype, copy=False), mask=mask)
        scores, aff_cache = affine_forward(h[:, -1], self.params["W_out"], self.params["b_out"])
        return scores, h.shape, cache, aff_cache

    def loss(
        self, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Cross-entropy loss (batch mean) and gradients of every parameter.

        Parameters
        ----------
        x : input sequences, float (N, T, D).
        y : class labels, int (N,), values in [0, C).
        mask : optional (N, T) bool; False steps are skipped (state carried through), so
            variable-length sequences padded at the end are classified from their last real step.

        Returns
        -------
        loss : float; grads : dict keyed like ``params``.
        """
        fn = "SequenceClassifier.loss"
        scores, hshape, cache, aff_cache = self._scores(fn, x, mask)
        y = check_array(fn, "y", y, (hshape[0],), kind="int")
        if y.size and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(f"{fn}: y must hold class labels in [0, {self.num_classes}), "
                             f"got values in [{y.min()}, {y.max()}]")
        loss, dscores = softmax_loss(scores, y)
        dh_last, dW_out, db_out = affine_backward(dscores, aff_cache)
        dh = np.zeros(hshape, dtype=dh_last.dtype)
        dh[:, -1] = dh_last  # only the last state reaches the head
        grads = self.stack.backward(dh, cache).grads
        grads["W_out"] = dW_out
        grads["b_out"] = db_out
        return float(loss), grads

    def predict(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Most likely class of each sequence, int (N,). x: float (N, T, D)."""
        scores = self._scores("SequenceClassifier.predict", x, mask)[0]
        return np.argmax(scores, axis=1)
