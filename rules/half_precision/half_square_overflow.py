"""EL413 half-square-overflow."""

from __future__ import annotations

import libcst as cst

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.half_precision._common import DtypeRule
from emberlint.syntax import kind, source_text

_SQUARE_CONSUMERS = ("mean", "sum", "var")


class HalfSquareOverflow(DtypeRule):
    """A square in float16 that feeds a mean or sum: ``mx.mean(x * x, axis=-1)``, ``(x ** 2).mean(-1)``,
    ``mx.square(x).sum()`` -- the variance of a hand-written RMSNorm or LayerNorm.

    Why it matters numerically: float16's largest value is 65504, so any ``|x| > 256`` squares to ``inf``
    (measured: ``mx.full((4,), 300.0, dtype=mx.float16) ** 2`` is inf, and so is its mean); the norm then
    divides by ``inf`` and the layer outputs zeros or NaN. Hidden states of large models exceed 256 routinely.
    bfloat16 has float32's range and is not reported. Reported when ``x`` is visibly float16; the strict
    profile also reports an ``x`` of unknown dtype inside ``__call__``/``forward`` of an MLX model ("if x is
    float16"): MLX models usually run in bfloat16, so the recommended profile keeps to the decided case.

    Fix: square in float32 (``xf = x.astype(mx.float32)``; ``mx.mean(xf * xf, axis=-1)``), or use
    ``mx.fast.rms_norm`` / ``mx.fast.layer_norm``, which accumulate in float32.
    """

    CODE = "EL413"
    NAME = "half-square-overflow"
    MESSAGE = "`{square}` feeds a {consumer}: {cond}, values above 256 square to inf; square in float32"
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array):
            xf = x.astype(mx.float32)
            return mx.mean(xf * xf, axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            h = x.astype(mx.bfloat16)
            return mx.mean(h * h, axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            h = x.astype(mx.float16)
            return h * h
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def rms(x: mx.array):
                h = x.astype(mx.float16)
                return h * mx.rsqrt(mx.mean(h * h, axis=-1, keepdims=True) + 1e-5)
                                            ^^^^^ EL413
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class RMSNorm(nn.Module):
                def __call__(self, x: mx.array) -> mx.array:
                    variance = (x ** 2).mean(-1, keepdims=True)
                                ^^^^^^ EL413
                    return x * mx.rsqrt(variance + 1e-6)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                h = x.astype(mx.float16)
                return mx.square(h).sum()
                       ^^^^^^^^^^^^ EL413
            """,
        ),
    ]

    def _squared(self, node: cst.CSTNode) -> cst.BaseExpression | None:
        if kind(node) == "BinaryOperation":
            if kind(node.operator) == "Multiply" and source_text(node.left) == source_text(node.right):
                return node.left
            if kind(node.operator) == "Power" and kind(node.right) == "Integer" and node.right.value == "2":
                return node.left
        if kind(node) == "Call" and node.args:
            if self.context.qualified_name(node.func) == "mlx.core.square":
                return node.args[0].value
        if kind(node) == "Call" and kind(node.func) == "Attribute" and node.func.attr.value == "square" \
                and not node.args:
            return node.func.value
        return None

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        squared_node = None
        consumer = None
        if qualified in tuple(f"mlx.core.{c}" for c in _SQUARE_CONSUMERS) and node.args:
            squared_node, consumer = node.args[0].value, qualified.rsplit(".", 1)[-1]
        elif kind(node.func) == "Attribute" and node.func.attr.value in _SQUARE_CONSUMERS and qualified is None:
            squared_node, consumer = node.func.value, node.func.attr.value
        if squared_node is None:
            return
        x = self._squared(squared_node)
        if x is None or not self.mlx_array(x):
            return
        dtype = self.context.dtype_of(x)
        strict = self.context.config.profile == "strict"
        if dtype == "float16" or (dtype is None and strict and self.context.in_compute_path()):
            cond = "`{}` is float16".format(source_text(x)) if dtype else f"if `{source_text(x)}` is float16"
            self.report(squared_node, square=source_text(squared_node), consumer=consumer, cond=cond)
