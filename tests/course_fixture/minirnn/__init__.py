"""minirnn: the fixture course's package (one scalar-weight tanh step, forward and backward)."""

from minirnn.cell import step, step_backward

__all__ = ["step", "step_backward"]
