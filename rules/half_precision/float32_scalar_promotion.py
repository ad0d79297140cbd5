"""EL411 float32-scalar-promotion."""

from __future__ import annotations

import libcst as cst

from emberlint.dtypes import float32_scalar
from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.half_precision._common import PROMOTING, DtypeRule, dtype_clause
from emberlint.syntax import kind, source_text


_OPERATORS = PROMOTING | {"Power"}

class Float32ScalarPromotion(DtypeRule):
    """A strong float32 scalar array, ``mx.array(d ** -0.5)`` or ``mx.array(s, dtype=mx.float32)`` (directly or
    through a name or ``self.attr`` bound to it), in arithmetic with an MLX array that is float16/bfloat16.

    Why it matters numerically: an untyped ``mx.array(<Python float>)`` is a *strong* float32 array, unlike the
    Python float itself (weak: ``x * 0.125`` keeps ``x.dtype``). ``x_bf16 * mx.array(0.125)`` is float32
    (measured, mlx 0.32.4): the result and everything downstream doubles in memory and bandwidth, and the next
    layer gets float32 inputs where the model runs in bfloat16. Adding ``dtype=mx.float32`` states that
    promotion instead of fixing it (EL401's fix never adds it to a scalar that meets an array). Reported when the array is visibly
    half precision, or of unknown dtype inside ``__call__``/``forward`` of an MLX model (and what it calls).

    Fix: keep the Python float (weak) or build the scalar in the array's dtype:
    ``mx.array(d ** -0.5, dtype=x.dtype)``.
    """

    CODE = "EL411"
    NAME = "float32-scalar-promotion"
    MESSAGE = ("`{scalar}` is a float32 array: {cond}, `{op}` promotes the result to float32; use a Python float "
               "or dtype={other}.dtype")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x * (d ** -0.5)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x.astype(mx.bfloat16) * mx.array(d ** -0.5, dtype=mx.bfloat16)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x.astype(mx.float32) * mx.array(d ** -0.5)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x * mx.array(d ** -0.5)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array, d: int):
                h = x.astype(mx.bfloat16)
                return h * mx.array(d ** -0.5)
                       ^^^^^^^^^^^^^^^^^^^^^^^ EL411
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Attention(nn.Module):
                def __init__(self, dims: int):
                    super().__init__()
                    self.scale = mx.array(dims ** -0.5)
                def __call__(self, q: mx.array) -> mx.array:
                    return q * self.scale
                           ^^^^^^^^^^^^^^ EL411
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                h = x.astype(mx.float16)
                return h + mx.array(1e-5, dtype=mx.float32)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL411
            """,
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if kind(node.operator) not in _OPERATORS:
            return
        for scalar, other in ((node.left, node.right), (node.right, node.left)):
            if float32_scalar(scalar, self.context) and self.mlx_array(other) and not float32_scalar(other, self.context):
                dtype, report = self.half_or_unknown(other)
                if report:
                    self.report(node, scalar=source_text(scalar), op=source_text(node), other=source_text(other),
                                cond=dtype_clause(dtype, source_text(other)))
                return
