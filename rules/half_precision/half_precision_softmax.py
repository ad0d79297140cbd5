"""EL410 half-precision-softmax."""

from __future__ import annotations

import libcst as cst

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.half_precision._common import DtypeRule, dtype_clause
from emberlint.syntax import source_text


class HalfPrecisionSoftmax(DtypeRule):
    """``mx.softmax(x, axis=-1)`` on a float16/bfloat16 ``x`` without ``precise=True`` or an upcast.

    Why it matters numerically: without ``precise=True`` MLX computes the softmax in the input's half precision.
    Measured (mlx 0.32.4, ``scripts/measure_half_precision.py``, 4 x 1000 bfloat16 logits of scale 4): the
    largest error against a float32 softmax is 2.3e-2 (6.3e-4 with ``precise=True``), and rows sum to 1 +- 4.9e-2
    (7.8e-4 with ``precise=True``).
    Attention weights that do not sum to one shift every layer's output. Reported when ``x`` is visibly half
    precision, or of unknown dtype inside ``__call__``/``forward`` of an MLX model (and the functions it calls);
    not when ``x`` was upcast (``x.astype(mx.float32)``). PyTorch is not reported.

    Fix: ``mx.softmax(x, axis=-1, precise=True)`` (result in ``x.dtype``, computed in float32).
    """

    CODE = "EL410"
    NAME = "half-precision-softmax"
    MESSAGE = ("Softmax without `precise=True`: {cond}, it is computed in half precision (bfloat16: weights "
               "off by ~1e-2, rows that do not sum to 1); pass precise=True")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.softmax(x.astype(mx.float16), axis=-1, precise=True)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.softmax(x.astype(mx.float32), axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.softmax(x, axis=-1)
        """,
        """
        import torch
        def f(x: torch.Tensor):
            return torch.softmax(x.half(), dim=-1)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                s = x.astype(mx.bfloat16)
                return mx.softmax(s, axis=-1)
                       ^^^^^^^^^^^^^^^^^^^^^^ EL410
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Attention(nn.Module):
                def __call__(self, q: mx.array, k: mx.array):
                    scores = q @ k.T
                    return mx.softmax(scores, axis=-1)
                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL410
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.qualified_name(node.func) != "mlx.core.softmax" or not node.args:
            return
        if any(a.keyword is not None and a.keyword.value == "precise" for a in node.args) or len(
            [a for a in node.args if a.keyword is None]) > 2:
            return
        x = node.args[0].value
        if node.args[0].keyword is not None or not self.mlx_array(x):
            return
        dtype, report = self.half_or_unknown(x)
        if report:
            self.report(node, cond=dtype_clause(dtype, source_text(x)))
