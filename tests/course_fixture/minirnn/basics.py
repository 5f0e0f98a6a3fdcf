"""Two warm-up exercises of the fixture course: a scaling and a counting loop."""

from __future__ import annotations


def scale(v: float) -> float:
    """Return twice v."""
    ### BEGIN SOLUTION
    out = 2 * v
    ### END SOLUTION
    return out


def count_up(n: int) -> int:
    """Return 0 + 1 + ... + (n - 1), with a loop."""
    total = 0
    ### BEGIN SOLUTION
    for i in range(n):
        total += i
    ### END SOLUTION
    return total
