"""EL412 unrepresentable-literal."""

from __future__ import annotations

import libcst as cst

from emberlint.backends import is_mlx_or_torch
from emberlint.dtypes import python_float, unrepresentable
from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.half_precision._common import PROMOTING, DtypeRule
from emberlint.syntax import kind, source_text


class UnrepresentableLiteral(DtypeRule):
    """A float literal the array's half-precision dtype cannot hold, in arithmetic with it or as its typed
    scalar: ``mask.astype(mx.float16) * -1e9``, ``h / (n + 1e-8)`` with a float16 ``n``,
    ``mx.array(1e-8, dtype=n.dtype)``.

    Why it matters numerically: the literal is rounded to the array's dtype before the operation. In float16,
    ``-1e9`` is ``-inf`` and ``1e-8`` is ``0`` (measured, mlx 0.32.4): ``mask * -1e9`` is ``-inf`` where the
    mask is 1 and NaN where it is 0 (``0 * -inf``), so the additive mask poisons the softmax; ``n + 1e-8``
    stays 0 and ``h / (n + 1e-8)`` divides by zero. A typed scalar ``mx.array(1e-8, dtype=n.dtype)`` is rounded
    the same way and keeps the bug. bfloat16 holds both (its range is float32's). Decided when the dtype is
    visible (``astype``/``dtype=``/a constructor); PyTorch arrays too. The strict profile also reports an MLX
    array of unknown dtype inside ``__call__``/``forward`` of a model ("if x is float16").

    Fix: a value the dtype holds: ``mx.finfo(x.dtype).min`` (or ``-3e4``) for masks, an eps that is a normal
    number in float16 (``1e-5`` or larger: the smallest normal float16 is 6.1e-5, the smallest subnormal
    6e-8), or do the arithmetic in float32.
    """

    CODE = "EL412"
    NAME = "unrepresentable-literal"
    MESSAGE = "`{literal}` is {becomes} in {dtype}: {consequence}"
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(mask: mx.array):
            return mask.astype(mx.bfloat16) * -1e9
        """,
        """
        import mlx.core as mx
        def f(mask: mx.array):
            return mask.astype(mx.float16) * -3e4
        """,
        """
        import mlx.core as mx
        def f(n: mx.array):
            return n.astype(mx.float32) + 1e-8
        """,
        """
        import mlx.core as mx
        def f(n: mx.array):
            return n + 1e-8
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(mask: mx.array, scores: mx.array):
                return scores + mask.astype(mx.float16) * -1e9
                                                          ^^^^ EL412
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(h: mx.array, counts: mx.array):
                n = counts.astype(mx.float16)
                return h / (n + 1e-8)
                                ^^^^ EL412
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(h: mx.array, counts: mx.array):
                n = counts.astype(mx.float16)
                return h / (n + mx.array(1e-8, dtype=n.dtype))
                                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL412
            """,
        ),
        Invalid(
            """
            import torch
            def f(t: torch.Tensor):
                return t.half().clamp(min=1e-8)
                                          ^^^^ EL412
            """,
        ),
    ]
    CONSEQUENCE = {
        "overflow": "the operation sees inf (and 0 * inf is NaN)",
        "zero": "the operation sees 0 (an eps that protects nothing)",
    }

    def _check(self, literal: cst.BaseExpression, array: cst.BaseExpression, where: cst.CSTNode) -> None:
        value = python_float(literal)
        if value is None or not self.context.is_array(array):
            return
        dtype = self.context.dtype_of(array)
        problem = unrepresentable(value, dtype)
        shown = dtype
        if dtype is None and self.context.config.profile == "strict" and self.mlx_array(array) \
                and self.half_or_unknown(array)[1]:
            problem = unrepresentable(value, "float16")  # strict: "if x is float16"
            shown = f"float16 (if `{source_text(array)}` is float16)"
        if problem:
            self.report(where, literal=source_text(literal), becomes="inf" if problem == "overflow" else "0",
                        dtype=shown, consequence=self.CONSEQUENCE[problem])

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if kind(node.operator) in PROMOTING:
            self._check(node.left, node.right, node.left)
            self._check(node.right, node.left, node.right)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if qualified in ("mlx.core.array", "torch.tensor"):
            if node.args and node.args[0].keyword is None:
                value = python_float(node.args[0].value)
                dtype = self.context.dtype_of(node)
                problem = unrepresentable(value, dtype) if value is not None else None
                if problem:
                    self.report(node, literal=source_text(node.args[0].value),
                                becomes="inf" if problem == "overflow" else "0", dtype=dtype,
                                consequence=self.CONSEQUENCE[problem] + "; the typed scalar keeps the bug")
            return
        if not any(not a.star and python_float(a.value) is not None for a in node.args):
            return
        receiver = node.func.value if isinstance(node.func, cst.Attribute) and qualified is None else None
        arrays = [receiver] if receiver is not None else [
            a.value for a in node.args if not a.star and self.context.is_array(a.value)]
        if not arrays or not (receiver is not None or is_mlx_or_torch(qualified)):
            return
        if receiver is not None and node.func.attr.value not in ("clamp", "clip", "add", "sub", "mul", "div",
                                                                 "masked_fill", "maximum", "minimum"):
            return
        for arg in node.args:
            if not arg.star and python_float(arg.value) is not None:
                self._check(arg.value, arrays[0], arg.value)
