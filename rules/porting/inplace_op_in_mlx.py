"""EL804 inplace-op-in-mlx."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules._coach import method_call
from emberlint.rules.porting._common import PortRule, porting_table


class InplaceOpInMlx(PortRule):
    """PyTorch in-place tensor methods (``masked_fill_``, ``add_``, ``copy_``, ``zero_``...) on MLX arrays.

    Why it matters numerically: MLX arrays are immutable graph values; these methods do not exist and raise.
    The in-place original also had semantics the port must keep explicitly: ``x.masked_fill_(mask, -1e4)``
    changed ``x`` for every other reference (for example an attention bias shared across layers), and
    ``-1e4`` in float16 is representable while ``-inf`` masks produce NaN rows after softmax when a row is fully
    masked.

    Fix: build a new array and rebind it: ``x = mx.where(mask, value, x)`` for ``masked_fill_``, ``x = x + y`` for
    ``add_``, ``mx.zeros_like(x)`` for ``zero_``; update module weights with ``module.update(...)``.
    """

    CODE = "EL804"
    NAME = "inplace-op-in-mlx"
    MESSAGE = "`.{method}(...)` is a PyTorch in-place op; MLX arrays are immutable: use {replacement}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        scores = mx.where(mask, mx.array(-1e4, dtype=scores.dtype), scores)
        """,
        """
        import torch
        scores.masked_fill_(mask, -1e4)
        """,
        """
        import mlx.core as mx
        names.sort_()
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def attend(scores: mx.array, mask: mx.array):
                scores.masked_fill_(mask, -1e4)
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL804
                return mx.softmax(scores, axis=-1)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class M(nn.Module):
                def __call__(self, x):
                    return x.add_(1.0)
                           ^^^^^^^^^^^ EL804
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is None or method[1] not in porting_table()["inplace_methods"]:
            return
        if self.context.qualified_name(node.func) is None and self.mlx_receiver(method[0]):
            fix = porting_table()["inplace_fixes"].get(method[1], "a new array rebound to the name (`x = f(x)`)")
            self.report(node, method=method[1], replacement=f"`{fix}`")
