"""Gradient-flow analysis (numpy only): Jacobians, backward-pass norms, stable singular values of
long Jacobian products, the Pascanu bound, initialisation spectra, the clipping cliff, the
"why not rescale?" noise experiment, the LSTM highway, and the explorers' compute functions.

Submodules: ``jacobians``, ``backprop``, ``lyapunov``, ``bounds``, ``spectra``, ``cliff``,
``noise``, ``highway``, ``explore``. Import them directly,
e.g. ``from rnn_core.analysis.explore import vanilla_flow``.
"""
