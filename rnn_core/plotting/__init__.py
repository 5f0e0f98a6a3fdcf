"""Figure-drawing helpers the notebooks call; submodules imported directly.

``rnn_core.plotting.diagrams`` draws the course's schematic pictures (the four wirings of
notebook 00, the LSTM cell of notebook 08). Importing this package imports nothing; each
submodule imports matplotlib itself, so ``import rnn_core`` stays numpy-only.
"""
