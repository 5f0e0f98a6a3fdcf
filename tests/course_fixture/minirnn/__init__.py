"""minirnn: the fixture course's package (one scalar-weight tanh step, forward and backward)."""

from minirnn.basics import count_up, scale
from minirnn.cell import step, step_backward
from minirnn.loop import run_steps

__all__ = ["count_up", "run_steps", "scale", "step", "step_backward"]
