"""rnn_core: a small numpy library that teaches recurrent networks and how their gradients flow.

``import rnn_core`` needs numpy only. Plotting and widgets live in ``rnn_core.plotting`` and
``rnn_core.widgets`` and import matplotlib / ipywidgets when used.

Conventions: batch first, N batch, T time, D input, H hidden, V vocabulary; ``x @ Wx`` so
``Wx`` is (D, H) for the RNN and (D, 4H) for the LSTM; float64 unless asked otherwise.
"""

__version__ = "0.1.0"
