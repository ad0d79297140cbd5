"""EL415 half-precision-cumsum."""

from __future__ import annotations

import libcst as cst

from emberlint.dtypes import is_half
from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.half_precision._common import DtypeRule, dtype_clause
from emberlint.syntax import source_text


class HalfPrecisionCumsum(DtypeRule):
    """``mx.cumsum`` (or ``x.cumsum()``) of a bfloat16/float16 array.

    Why it matters numerically: a cumulative sum is computed and stored in the array's dtype, so every partial
    sum is rounded to 8 (bfloat16) or 11 (float16) significant bits; once the running total is large the
    increments vanish. Measured (mlx 0.32.4): the cumsum of 100,000 ones is 256 in bfloat16 and 2048 in
    float16. (A plain ``mx.sum`` of bfloat16 accumulates in float32 and only rounds the result: 99,840 for the
    same ones; it is not reported.) Reported when the input is visibly half precision only: on real code a
    cumsum of unknown dtype is a mask or position count far more often than a half-precision value.

    Fix: ``mx.cumsum(x.astype(mx.float32), axis=...)``, cast back after if needed.
    """

    CODE = "EL415"
    NAME = "half-precision-cumsum"
    MESSAGE = ("Cumulative sum of `{x}`: {cond}, partial sums are rounded to half precision (the cumsum of "
               "100,000 ones is 256 in bfloat16); accumulate in float32")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.cumsum(x.astype(mx.float32), axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.sum(x.astype(mx.bfloat16), axis=-1)
        """,
        """
        import mlx.core as mx
        def f(n: int):
            return mx.cumsum(mx.arange(n), axis=0)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                dt = x.astype(mx.bfloat16)
                return mx.cumsum(dt, axis=-1)
                       ^^^^^^^^^^^^^^^^^^^^^^ EL415
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                return x.astype(mx.float16).cumsum(axis=1)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL415
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if qualified == "mlx.core.cumsum" and node.args:
            x = node.args[0].value
        elif qualified is None and isinstance(node.func, cst.Attribute) and node.func.attr.value == "cumsum":
            x = node.func.value
        else:
            return
        if not self.mlx_array(x):
            return
        dtype = self.context.dtype_of(x)
        if is_half(dtype):  # decided only: a cumsum of unknown dtype is most often of a mask or of positions
            self.report(node, x=source_text(x), cond=dtype_clause(dtype, source_text(x)))
