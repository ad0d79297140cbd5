"""Is a scale computed on the host (``math.sqrt(1 / d)`` in float64, rounded once to the array dtype) less accurate
than the same scale computed with MLX on typed scalars (what EL501's fix suggests)?

For d = 1..4096 and each of float32/float16/bfloat16, three candidates are compared with the exact value
1/sqrt(d) (``decimal`` at 50 digits):
  host: ``mx.array(math.sqrt(1 / d), dtype=dt)``                      (float64 math, one rounding)
  mlx:  ``mx.sqrt(mx.divide(mx.array(1, dtype=dt), mx.array(d, dtype=dt)))``  (EL501's suggested fix)
  rsqrt: ``mx.rsqrt(mx.array(d, dtype=dt))``
and the script prints in how many cases the host value is strictly closer, equal, or strictly farther.

    python scripts/measure_host_scalar_rounding.py
"""

from __future__ import annotations

import decimal
import math

import mlx.core as mx

decimal.getcontext().prec = 50
DTYPES = {"float32": mx.float32, "float16": mx.float16, "bfloat16": mx.bfloat16}
N = 4096


def error(value: mx.array, exact: decimal.Decimal) -> decimal.Decimal:
    return abs(decimal.Decimal(value.astype(mx.float32).item()) - exact)


def main() -> None:
    print(f"mlx {mx.__version__}, d = 1..{N}, exact = 1/sqrt(d) at 50 digits")
    for name, dt in DTYPES.items():
        for label, suggested in (
            ("mx.sqrt(1/d) on typed scalars", lambda d, dt=dt: mx.sqrt(mx.divide(mx.array(1, dtype=dt), mx.array(d, dtype=dt)))),
            ("mx.rsqrt(d) on a typed scalar", lambda d, dt=dt: mx.rsqrt(mx.array(d, dtype=dt))),
        ):
            better = equal = worse = 0
            for d in range(1, N + 1):
                exact = 1 / decimal.Decimal(d).sqrt()
                host = error(mx.array(math.sqrt(1 / d), dtype=dt), exact)
                other = error(suggested(d), exact)
                if host < other:
                    better += 1
                elif host == other:
                    equal += 1
                else:
                    worse += 1
            print(f"{name:9} vs {label}: host strictly better {better:5}, equal {equal:5}, host worse {worse:5}")


if __name__ == "__main__":
    main()
