"""Slow, obvious implementations that kernels are checked against."""
