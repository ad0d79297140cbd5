"""EL414 int32-product-overflow."""

from __future__ import annotations

import libcst as cst

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.half_precision._common import DtypeRule
from emberlint.syntax import kind, source_text


class Int32ProductOverflow(DtypeRule):
    """A product of two int32 index arrays: ``rows * cols`` where both are ``mx.arange(...)`` results or
    ``astype(mx.int32)`` casts.

    Why it matters numerically: int32 products wrap silently past 2**31 - 1: ``mx.arange(70000)`` squared
    elementwise gives 604892705 for 69999 * 69999 = 4899860001 (measured, mlx 0.32.4). Flattened indices
    (``row * width + col``) over a large vocabulary or a long sequence then address the wrong element, without
    an error. MLX's ``mx.arange`` of Python ints is int32 (PyTorch's is int64 and is not reported).

    Fix: ``mx.arange(n, dtype=mx.int64)`` or ``.astype(mx.int64)`` before the product, when the product can
    exceed 2**31.
    """

    CODE = "EL414"
    NAME = "int32-product-overflow"
    MESSAGE = "`{product}` multiplies two int32 arrays: products past 2**31 wrap around silently; use int64"
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(n: int):
            i = mx.arange(n, dtype=mx.int64)
            return i * i
        """,
        """
        import mlx.core as mx
        def f(n: int):
            i = mx.arange(n)
            return i * 4
        """,
        """
        import torch
        def f(n: int):
            i = torch.arange(n)
            return i * i
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(h: int, w: int):
                rows = mx.arange(h)[:, None]
                cols = mx.arange(w)[None]
                return rows * cols
                       ^^^^^^^^^^^ EL414
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(a: mx.array, b: mx.array):
                return a.astype(mx.int32) * b.astype(mx.int32)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL414
            """,
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if kind(node.operator) != "Multiply":
            return
        if self.context.is_array(node.left) and self.context.is_array(node.right):
            if self.context.dtype_of(node.left) == "int32" and self.context.dtype_of(node.right) == "int32":
                self.report(node, product=source_text(node))
