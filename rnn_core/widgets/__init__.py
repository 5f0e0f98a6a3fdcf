"""Interactive explorers: ipywidgets controls driving a matplotlib figure updated in place.

Each factory returns an :class:`~rnn_core.widgets.explorer.Explorer`; display it (last expression
of a cell) to get sliders and the figure. With ``%matplotlib widget`` (ipympl) the canvas is
live; with any other backend the figure is shown as an image that follows the sliders in a live
notebook and stays as a static picture of the default values in nbval, nbconvert and exported
HTML.

=============================  ==============================================================
``vanilla_flow_explorer``      gradient norms, Jacobian-product singular values, spectrum of W
``clipping_explorer``          Pascanu's cliff: gradient descent with and without clipping
``highway_explorer``           LSTM forget-gate highway vs vanilla RNN gradient norms
``training_explorer``          a small training run: loss, gradient norm and clip events
``stack_gradient_explorer``    gradient norms over layers x time in stacked RNN and LSTM
=============================  ==============================================================

Every explorer's compute (and its cache, keyed on the exercise code) is in
``rnn_core.analysis.explore``. The machinery, one module each: ``explorer`` (controls + figure +
draw, display), ``blitting`` (repaint what changed), ``axes`` (log axes, sticky limits,
legends), ``controls`` (sliders), ``backend`` (display mode, figures, PNG), ``_mpl_private``
(every private matplotlib/ipympl detail used).

matplotlib and ipywidgets are imported when an explorer is created, not by this import.
"""

from rnn_core.widgets.chunks import chunk_explorer
from rnn_core.widgets.clipping import clipping_explorer
from rnn_core.widgets.explorer import Explorer
from rnn_core.widgets.highway import highway_explorer
from rnn_core.widgets.stacked import stack_gradient_explorer
from rnn_core.widgets.training import training_explorer
from rnn_core.widgets.vanilla import vanilla_flow_explorer

__all__ = [
    "Explorer",
    "vanilla_flow_explorer",
    "clipping_explorer",
    "highway_explorer",
    "training_explorer",
    "stack_gradient_explorer",
    "chunk_explorer",
]
