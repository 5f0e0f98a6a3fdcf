"""Experiments the notebooks run: small, seeded, and tested (numpy only).

``tbptt`` (notebook 05: memory, truncated gradients, what truncation cannot learn), ``lag``
(08: long-lag recall), ``stacked`` (09: gradients over layers x time, depth), ``untied`` (00,
section 3: shared versus per-step weights). They build models, train them and measure; the
recurrences, chunk loops and readouts they use are the models' and ``rnn_core.train``'s.
"""
