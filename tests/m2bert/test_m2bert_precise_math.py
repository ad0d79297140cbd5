"""float64 sin/exp used by the Hyena filter, against Python's math module."""

from __future__ import annotations

import math

import mlx.core as mx
from m2bert_mlx.precise_math import exp_float64, sin_float64


def test_sin_float64():
    xs = [i * 0.37 - 500.0 for i in range(2703)]
    got = sin_float64(mx.array(xs, dtype=mx.float64)).tolist()
    assert max(abs(g - math.sin(x)) for g, x in zip(got, xs)) < 1e-13


def test_exp_float64():
    xs = [i * 0.01 - 20.0 for i in range(4001)]
    got = exp_float64(mx.array(xs, dtype=mx.float64)).tolist()
    assert max(abs(g - math.exp(x)) / math.exp(x) for g, x in zip(got, xs)) < 1e-15
