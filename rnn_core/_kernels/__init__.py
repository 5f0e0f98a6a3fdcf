"""Instructor-only tuned kernels (not shipped to students; see docs/architecture.md, D1).

A kernel here computes exactly what a readable loop over the Layer A exercise functions computes,
only faster; ``tests/test_lstm.py`` checks that they agree. The library uses a kernel when this
package is importable (the course source) and the readable loop otherwise (the student release,
which runs on the student's own step functions).
"""
