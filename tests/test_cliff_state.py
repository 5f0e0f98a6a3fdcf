"""cliff_state: the state x_T behind the cliff's wall (notebook 07, section 2)."""

import numpy as np
import pytest

from rnn_core.analysis.cliff import cliff_loss, cliff_state
from rnn_core.analysis.jacobians import sigmoid


def test_far_from_the_wall_x_T_is_a_fixed_point_of_the_map():
    # independent oracle: a converged state satisfies x = w sigma(x) + b
    w, b = 4.5, np.array([-2.8, -1.6])
    x = cliff_state(w, b)
    np.testing.assert_allclose(x, w * sigmoid(x) + b, atol=1e-9)


def test_the_loss_reads_the_state():
    w, b = np.array([[3.0], [4.5]]), np.array([-2.5, -2.0, -1.0])
    x = cliff_state(w, b, T=20)
    assert x.shape == (2, 3)
    np.testing.assert_allclose(cliff_loss(w, b, T=20), (sigmoid(x) - 0.7) ** 2, rtol=1e-14)


def test_x_T_jumps_where_the_unstable_fixed_point_crosses_x_0():
    # w = 4.5: two stable fixed points for b in about (-2.307, -2.193); x_0 = 0.5 falls to the upper
    # one when it lies above the unstable fixed point, i.e. for b > 0.5 - 4.5 sigma(0.5)
    b_star = 0.5 - 4.5 * sigmoid(0.5)
    below, above = cliff_state(4.5, [b_star - 0.01, b_star + 0.01])
    assert below < -1 and above > 0.9                       # a jump of more than 2 over 0.02 in b
    b = np.linspace(b_star - 0.01, b_star + 0.01, 2001)
    crossing = b[np.flatnonzero(np.diff(np.sign(cliff_state(4.5, b))))[0]]
    assert abs(crossing - b_star) < 2e-3


def test_bad_T_is_refused():
    with pytest.raises(ValueError, match="cliff_state"):
        cliff_state(1.0, 0.0, T=0)
