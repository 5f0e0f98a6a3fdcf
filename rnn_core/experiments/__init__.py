"""Experiments the notebooks run: small, seeded, and tested (numpy only)."""
