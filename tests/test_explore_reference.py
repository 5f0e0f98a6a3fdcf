"""The explorers' fast compute against the reference loops it replaced (issue 17).

Each reference below is the plain loop, written out in the test: one Python step per time step,
one call per slider position. The library's versions batch, share prefixes or vectorise; their
arrays must equal these exactly (or to 1e-12 relative where the test says float order differs).
"""

import numpy as np
import pytest

from rnn_core.analysis import explore

_TINY = np.finfo(float).tiny


@pytest.mark.parametrize("fb,T", [(3.0, 200), (-4.0, 300), (8.0, 120)])
def test_highway_full_c_equals_one_norm_per_step(fb, T):
    """log10 ||dc_T/dc_k||: one batched SVD gives the per-step np.linalg.norm(block, 2)."""
    from rnn_core.analysis.jacobians import lstm_jacobians, lstm_trajectory

    r = explore.lstm_highway(forget_bias=fb, T=T)
    H = 32
    Wx, Wh, _, _, _ = explore._lstm_weights(H, 0)
    b = np.zeros(4 * H)
    b[H : 2 * H] = fb
    traj = lstm_trajectory(explore._inputs(T, 1.0, 0), np.zeros(H), np.zeros(H), Wx, Wh, b)
    J = lstm_jacobians(traj, Wh)
    full = np.empty(T + 1)
    P, sP = np.eye(2 * H), 0.0
    for k in range(T, -1, -1):
        full[k] = sP + np.log(max(np.linalg.norm(P[H:, H:], 2), _TINY))
        if k > 0:
            P = P @ J[k - 1]
            n = max(np.abs(P).max(), _TINY)
            P, sP = P / n, sP + np.log(n)
    np.testing.assert_array_equal(r.log10_full_c, full / np.log(10.0))
