"""Benchmarks (`python -m bench`): figures for the closing notes, never timed tests."""
