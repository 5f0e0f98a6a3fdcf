"""Data sets for the notebooks: generated from a seed or shipped in the package; nothing is
downloaded.

- :mod:`~rnn_core.data.vocab`: vocabularies in a fixed order (specials first, then sorted).
- :mod:`~rnn_core.data.text`: the shipped English text (Pride and Prejudice, public domain) for
  the character language model, and truncated-BPTT batches.
- :mod:`~rnn_core.data.tasks`: the adding problem and recall-with-lag (long-range memory).
- :mod:`~rnn_core.data.video`: videos of a moving dot -> direction (many-to-one).
- :mod:`~rnn_core.data.shapes`: captioned images of coloured shapes and a fixed convolutional
  feature extractor (one-to-many).
- :mod:`~rnn_core.data.dates`: human-written dates -> ISO dates (seq2seq).
"""

from rnn_core.data.dates import (
    DATE_FORMATS,
    FORMAT_NAMES,
    DatePairs,
    DateSplit,
    date_pairs,
    date_vocabularies,
    format_date,
)
from rnn_core.data.shapes import (
    COLOURS,
    LAYOUTS,
    SHAPES,
    ShapeImages,
    caption_vocabulary,
    conv2d,
    extract_features,
    feature_names,
    shape_images,
)
from rnn_core.data.tasks import (
    ADDING_BASELINE_MSE,
    LagTask,
    adding_problem,
    lag_recall,
    lag_vocabulary,
)
from rnn_core.data.text import (
    CharCorpus,
    encode_text,
    load_char_corpus,
    load_text,
    stream_rows,
    text_path,
    train_val_split,
    unigram_entropy,
)
from rnn_core.data.video import DIRECTION_NAMES, DotVideos, direction_names, moving_dot
from rnn_core.data.vocab import (
    END,
    NULL,
    SPECIALS,
    START,
    UNK,
    UnknownTokenError,
    Vocabulary,
    char_vocabulary,
    word_vocabulary,
)

__all__ = [
    "ADDING_BASELINE_MSE",
    "COLOURS",
    "DATE_FORMATS",
    "DIRECTION_NAMES",
    "END",
    "FORMAT_NAMES",
    "LAYOUTS",
    "NULL",
    "SHAPES",
    "SPECIALS",
    "START",
    "UNK",
    "CharCorpus",
    "DatePairs",
    "DateSplit",
    "DotVideos",
    "LagTask",
    "ShapeImages",
    "UnknownTokenError",
    "Vocabulary",
    "adding_problem",
    "caption_vocabulary",
    "char_vocabulary",
    "conv2d",
    "date_pairs",
    "date_vocabularies",
    "direction_names",
    "encode_text",
    "extract_features",
    "feature_names",
    "format_date",
    "lag_recall",
    "lag_vocabulary",
    "load_char_corpus",
    "load_text",
    "moving_dot",
    "shape_images",
    "stream_rows",
    "text_path",
    "train_val_split",
    "unigram_entropy",
    "word_vocabulary",
]
