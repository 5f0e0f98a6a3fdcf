"""Gradient-flow analysis (numpy only).

The engine: ``jacobians`` (trajectories of the vanilla RNN and the LSTM, per-step Jacobians,
``walk_back`` / ``lstm_walk_back``: one backward loop with a per-step hook) and ``lyapunov``
(stable singular values of long Jacobian products through ``qr_step``). What the notebooks measure
with it: ``backprop`` (backward norms, the (t, k) map), ``bounds`` (Pascanu), ``spectra``
(initialisations, transient growth), ``cliff`` (clipping), ``noise`` (rescaling), ``highway``
(LSTM), ``training_trace`` (a training run's gradient spikes), ``explore`` (the explorers'
compute functions). Import them directly, e.g. ``from rnn_core.analysis.explore import
vanilla_flow``.
"""
