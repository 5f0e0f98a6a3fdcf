"""Benchmarks: ``python -m benchmarks`` runs every ``benchmarks/bench_*.py`` module's ``main()``.

Speed and memory figures live here, not in timed tests.
"""
