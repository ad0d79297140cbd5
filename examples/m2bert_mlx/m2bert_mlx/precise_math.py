"""float64 ``sin`` and ``exp`` accurate to float64 rounding, from float64 arithmetic only.

MLX evaluates float64 ``mx.sin`` / ``mx.exp`` / ``mx.erf`` at float32 accuracy (the argument is
rounded to float32 first), so they cannot serve a float64 computation. These use Cody-Waite
range reduction plus a Taylor polynomial in Horner form; every step is float64 ``+ - * /``.
"""

from __future__ import annotations

import mlx.core as mx

F64 = mx.float64
# 2*pi and ln(2) split in a high part (k * HI exact for |k| < 2**20) and a low correction.
TWO_PI_HI = mx.array(6.28318530717958623199592693709, dtype=F64)
TWO_PI_LO = mx.array(2.44929359829470635445e-16, dtype=F64)
LN2_HI = mx.array(6.93147180369123816490e-01, dtype=F64)
LN2_LO = mx.array(1.90821492927058770002e-10, dtype=F64)
SIN_TERMS = 15  # |r| <= pi: the first omitted term pi**31 / 31! is below 1e-18.
EXP_TERMS = 16  # |r| <= ln(2)/2: the first omitted term is below 1e-21.
EXPONENT_BIAS = 1023
MANTISSA_BITS = 52


def _inverse_factorials(count: int) -> mx.array:
    """``1/0!, 1/1!, ..., 1/(count-1)!`` as float64."""
    factors = mx.concatenate([mx.ones((1,), dtype=F64), mx.arange(1, count, dtype=F64)])
    return mx.reciprocal(mx.cumprod(factors))


def _horner(variable: mx.array, coefficients: mx.array) -> mx.array:
    """``c[0] + c[1] v + c[2] v**2 + ...`` evaluated from the highest power down."""
    acc = coefficients[-1]
    for index in range(coefficients.shape[0] - 2, -1, -1):
        acc = mx.add(mx.multiply(acc, variable), coefficients[index])
    return acc


def _reduce(x: mx.array, hi: mx.array, lo: mx.array) -> tuple[mx.array, mx.array]:
    """``k = round(x / period)`` and ``r = x - k * period`` with the period split as ``hi + lo``."""
    k = mx.round(mx.divide(x, hi))
    r = mx.subtract(mx.subtract(x, mx.multiply(k, hi)), mx.multiply(k, lo))
    return k, r


def sin_float64(x: mx.array) -> mx.array:
    """``sin(x)`` for float64 ``x`` with ``|x| < 2**20``; absolute error about ``1e-16 * |x|``."""
    _, r = _reduce(x, TWO_PI_HI, TWO_PI_LO)
    # sin r = r * sum_n (-1)^n r^(2n) / (2n+1)!
    inverse = _inverse_factorials(2 * SIN_TERMS)[1::2]
    signs = mx.power(mx.array(-1.0, dtype=F64), mx.arange(SIN_TERMS, dtype=F64))
    return mx.multiply(r, _horner(mx.square(r), mx.multiply(signs, inverse)))


def exp_float64(x: mx.array) -> mx.array:
    """``exp(x)`` for float64 ``x`` in ``[-700, 700]`` with float64 relative accuracy."""
    k, r = _reduce(x, LN2_HI, LN2_LO)
    return mx.multiply(_horner(r, _inverse_factorials(EXP_TERMS)), _exp2_integer(k))


def _exp2_integer(k: mx.array) -> mx.array:
    """``2**k`` for integral float64 ``k`` in ``[-1022, 1023]``, built from its IEEE-754 bits.

    Exact, like ``mx.power(2.0, k)``, and several times faster on the CPU: the biased exponent
    ``k + 1023`` shifted into bits 52..62 of a zero mantissa is the float64 ``2**k``.
    """
    # k is integral (from mx.round) and in range: the conversion is exact.
    exponent = k.astype(mx.int64)  # emberlint: ignore[EL402]  # reason: exact
    biased = mx.add(exponent, mx.array(EXPONENT_BIAS, dtype=mx.int64))
    bits = mx.left_shift(biased, mx.array(MANTISSA_BITS, dtype=mx.int64))
    return mx.view(bits, F64)


def tanh_float64(x: mx.array) -> mx.array:
    """``tanh(x)`` for float64 ``x`` with float64 accuracy (MLX's float64 ``tanh`` is not).

    ``tanh|x| = (1 - e) / (1 + e)`` with ``e = exp(-2|x|)``; the sign is restored at the end. The
    subtraction loses at most ~1e-16 absolutely, far below a float32 ulp of the rounded result.
    """
    decay = exp_float64(mx.multiply(mx.array(-2.0, dtype=F64), mx.abs(x)))
    one = mx.array(1.0, dtype=F64)
    magnitude = mx.divide(mx.subtract(one, decay), mx.add(one, decay))
    return mx.multiply(mx.sign(x), magnitude)
