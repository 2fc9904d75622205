"""Honest measurements of what the task queue buys: ``python -m benchmarks [--quick]``."""
