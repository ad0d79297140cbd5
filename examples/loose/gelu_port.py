"""A first-draft port of a GELU MLP from PyTorch to MLX, as people write it before the linter sees it.

Deliberately loose: `emberlint check examples/loose/gelu_port.py` shows what the rules find, and
`emberlint fix --unsafe-fixes --diff examples/loose/gelu_port.py` shows the rewrites. The strict-clean check of
`examples/` excludes this folder (see `[tool.emberlint] exclude` in pyproject.toml).
"""

import math

import mlx.core as mx
import mlx.nn as nn


def gelu_tanh(x: mx.array) -> mx.array:
    c = math.sqrt(2 / math.pi)
    return 0.5 * x * (1.0 + mx.tanh(c * (x + 0.044715 * x ** 3)))


class Mlp(nn.Module):
    def __init__(self, dims: int, hidden: int):
        super().__init__()
        self.up = nn.Linear(dims, hidden)
        self.down = nn.Linear(hidden, dims)
        self.scale = mx.random.normal((dims,)) * 0.02

    def __call__(self, x):
        h = gelu_tanh(self.up(x))
        h_norm = mx.sqrt(mx.sum(h * h, axis=-1, keepdims=True))
        h = h / (h_norm + 1e-8)
        out = self.down(h) * self.scale
        print("mean activation:", float(mx.mean(out).item()))
        return out.astype(mx.float32)
