"""rnn_core: a small numpy library that teaches recurrent networks and how their gradients flow.

``import rnn_core`` needs numpy only. Plotting and widgets live in ``rnn_core.plotting`` and
``rnn_core.widgets`` and import matplotlib / ipywidgets when used.

Conventions: batch first, N batch, T time, D input, H hidden, V vocabulary; ``x @ Wx`` so
``Wx`` is (D, H) for the RNN and (D, 4H) for the LSTM; float64 unless asked otherwise.
"""

__version__ = "0.2.0"

from rnn_core import data  # noqa: E402  (subpackage: generated and shipped data sets)
from rnn_core.clipping import clip_grad_norm, clip_grad_value, global_norm
from rnn_core.gradcheck import (
    check_layer_gradients,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    random_upstream,
    rel_error,
)
from rnn_core.init import INIT_NAMES, glorot, identity, init_matrix, orthogonal, small_gaussian
from rnn_core.layers import (
    AffineCache,
    EmbeddingCache,
    affine_backward,
    affine_forward,
    softmax_loss,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from rnn_core.lstm import (
    LSTMCache,
    LSTMStepCache,
    lstm_backward,
    lstm_backward_with_cells,
    lstm_forward,
    lstm_forward_with_cells,
    lstm_step_backward,
    lstm_step_forward,
    sigmoid,
)
from rnn_core.models import (
    Captioner,
    LanguageModel,
    RecurrentStack,
    Seq2Seq,
    SequenceClassifier,
)
from rnn_core.notebook import setup
from rnn_core.optim import SGD, Adagrad, Adam
from rnn_core.rnn import (
    RNNCache,
    RNNStepCache,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from rnn_core.train import History, tbptt_pass, train, train_tbptt

__all__ = [
    "__version__",
    # cells
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "RNNStepCache",
    "RNNCache",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_forward_with_cells",
    "lstm_backward",
    "lstm_backward_with_cells",
    "LSTMStepCache",
    "LSTMCache",
    "sigmoid",
    # layers
    "word_embedding_forward",
    "word_embedding_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "affine_forward",
    "affine_backward",
    "temporal_softmax_loss",
    "softmax_loss",
    "EmbeddingCache",
    "AffineCache",
    # clipping
    "clip_grad_norm",
    "clip_grad_value",
    "global_norm",
    # gradient checking
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "check_layer_gradients",
    "random_upstream",
    # initialisers
    "small_gaussian",
    "glorot",
    "orthogonal",
    "identity",
    "init_matrix",
    "INIT_NAMES",
    # models, optimisers, training, data
    "LanguageModel",
    "SequenceClassifier",
    "Captioner",
    "Seq2Seq",
    "RecurrentStack",
    "SGD",
    "Adagrad",
    "Adam",
    "train",
    "train_tbptt",
    "tbptt_pass",
    "History",
    "data",
    # notebooks
    "setup",
]
