"""emberlint: a numerics linter for MLX and PyTorch array code."""

__version__ = "0.1.0"
