"""Interactive explorers: sliders, dropdowns and checkboxes driving a figure drawn in the browser.

Each factory returns an :class:`~rnn_core.widgets.explorer.Explorer`; display it (last expression
of a cell) to get the controls, a readout and the figure. In a live notebook (JupyterLab,
Notebook 7, VS Code, Colab: any frontend with the ipywidgets manager) the explorer is an anywidget
whose front end draws the controls natively and the figure on a canvas from numbers the kernel
sends (docs/architecture.md, D6), whatever matplotlib backend is active. In nbval, nbconvert,
exported HTML and the book it is a static picture of the current values.

=============================  ==============================================================
``vanilla_flow_explorer``      gradient norms, Jacobian-product singular values, spectrum of W
``clipping_explorer``          Pascanu's cliff: gradient descent with and without clipping
``highway_explorer``           LSTM forget-gate highway vs vanilla RNN gradient norms
``training_explorer``          a small training run: loss, gradient norm and clip events
``stack_gradient_explorer``    gradient norms over layers x time in stacked RNN and LSTM
=============================  ==============================================================

Every explorer's compute (and its cache, keyed on the exercise code) is in
``rnn_core.analysis.explore``. The machinery, one module each: ``explorer`` (controls + figure +
draw, display), ``web`` (the anywidget and its messages), ``frames`` (the animated artists as
pixels, the background PNGs), ``static/explorer.js`` (the browser side), ``axes`` (log axes,
sticky limits, legends), ``controls`` (grids of values), ``backend`` (figures, PNG),
``_mpl_private`` (the one private matplotlib detail used).

matplotlib and anywidget are imported when an explorer is created or shown, not by this import.
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
