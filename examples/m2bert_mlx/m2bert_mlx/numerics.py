"""Small numeric building blocks shared by the model modules."""

from __future__ import annotations

import mlx.core as mx


def typed_scalar(value: float, dtype: mx.Dtype) -> mx.array:
    """A 0-d constant of ``dtype``, so no Python float is promoted inside an array op."""
    return mx.array(value, dtype=dtype)


def gelu_exact(x: mx.array) -> mx.array:
    """GELU in its exact erf form, ``x * 0.5 * (1 + erf(x / sqrt(2)))`` (torch ``approximate='none'``).

    The operation order follows torch's CPU kernel: ``(x * 0.5) * (1 + erf(x * (1 / sqrt(2))))``.
    """
    half = typed_scalar(0.5, x.dtype)
    one = typed_scalar(1.0, x.dtype)
    inv_sqrt2 = mx.rsqrt(typed_scalar(2.0, x.dtype))
    return mx.multiply(
        mx.multiply(x, half), mx.add(one, mx.erf(mx.multiply(x, inv_sqrt2)))
    )
