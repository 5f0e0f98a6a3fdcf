"""The four wirings of one recurrence, each over a stack of RNN or LSTM layers.

* ``LanguageModel`` -- many-to-many (next token at every step, embedding in front).
* ``SequenceClassifier`` -- many-to-one (class from the final hidden state).
* ``Captioner`` -- one-to-many (image features enter every step through ``W_ih``).
* ``Seq2Seq`` -- encoder many-to-one + decoder one-to-many, two weight sets.

Each model keeps its parameters in ``model.params`` (float64 by default), initialised from a seed or
Generator, and has ``loss(...) -> (loss, grads)`` with ``grads`` keyed like ``params``.
"""

from rnn_core.models.captioner import Captioner
from rnn_core.models.classifier import SequenceClassifier
from rnn_core.models.language_model import LanguageModel
from rnn_core.models.recurrent import LayerState, RecurrentStack, StackCache, StackGradients
from rnn_core.models.seq2seq import Seq2Seq

__all__ = [
    "Captioner",
    "LanguageModel",
    "LayerState",
    "RecurrentStack",
    "Seq2Seq",
    "SequenceClassifier",
    "StackCache",
    "StackGradients",
]
