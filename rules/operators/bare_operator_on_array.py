"""EL301 bare-operator-on-array."""

from __future__ import annotations

import libcst as cst

from emberlint.backends import MLX_AND_TORCH, module_of
from emberlint.context import ASSUMED_NOTE
from emberlint.fixers.operators import (
    augmented_to_assign,
    binary_call_text,
    binary_to_call,
    broken_call_text,
    function_for,
    lossless,
    operator_has_comment,
    symbol_of,
    unary_to_call,
)
from emberlint.rule import FixAvailability, Invalid, RawFix, Rule


class BareOperatorOnArray(Rule):
    """A bare arithmetic, matrix or bitwise operator (``+ - * / // % ** @ & | ^ << >>``, unary ``-``/``~``)
    with an array operand.

    Why it matters numerically: an operator hides which function runs and how its operands are promoted. A
    Python number on either side is converted by the operator's own rules (weakly typed in MLX and PyTorch,
    float64 in NumPy), ``__rmul__`` and ``__mul__`` may dispatch to different backends when a NumPy array meets
    an MLX array, and a reviewer cannot see the dtype of the result. The explicit function (``mx.multiply``,
    ``torch.mul``) names the operation and is where the operand dtypes are checked.

    Profile: strict only (the reference package's policy). An operator calls the very function the rewrite
    names, so the rewrite cannot change a value: on real code (``benchmarks/real_code_precision.py``) every
    labelled finding of this rule is idiomatic code that computes the same numbers.

    Fix: call the backend function, ``mx.multiply(a, b)`` / ``torch.mul(a, b)``; ``-a`` becomes
    ``mx.negative(a)`` / ``torch.neg(a)``. The rewrite is safe when every operand is proven by dataflow to be an
    array of that backend or a Python number: the function is then what the operator calls. When an operand's type
    is only assumed (a parameter of ``__call__``, an annotation) the fix is unsafe: ``cache + [None] * n`` on a
    list parameter is list concatenation, and ``mx.add`` would turn the list into an array.
    """

    CODE = "EL301"
    NAME = "bare-operator-on-array"
    MESSAGE = "Bare operator `{symbol}` on an array; use {call}"
    SEVERITY = None
    FIX = FixAvailability.SAFE_WHEN_PROVEN
    VALID = [
        """
        import mlx.core as mx
        y = mx.multiply(x, mx.array(0.5, dtype=mx.float32))
        """,
        """
        import mlx.core as mx
        x = mx.zeros((4,), dtype=mx.float32)
        n = x.shape[0] * 4
        """,
        """
        import mlx.core as mx
        banner = '=' * 70
        """,
        """
        import mlx.core as mx
        x = mx.zeros((4,), dtype=mx.float32)
        y = x[: x.shape[0] - 1]
        """,
        """
        import numpy as np
        a = np.ones(3) * 2.0
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(a: mx.array, b: mx.array):
                return a * b
                       ^^^^^ EL301
            """,
            fixed="""
            import mlx.core as mx
            def f(a: mx.array, b: mx.array):
                return mx.multiply(a, b)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f():
                a = mx.ones((3,), dtype=mx.float32)
                return a * 2
                       ^^^^^ EL301
            """,
            fixed="""
            import mlx.core as mx
            def f():
                a = mx.ones((3,), dtype=mx.float32)
                return mx.multiply(a, 2)
            """,
        ),
        Invalid(
            """
            import torch
            def f(a: torch.Tensor):
                return -a
                       ^^ EL301
            """,
            fixed="""
            import torch
            def f(a: torch.Tensor):
                return torch.neg(a)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import torch
            def f():
                a = torch.randn(3)
                return -a
                       ^^ EL301
            """,
            fixed="""
            import torch
            def f():
                a = torch.randn(3)
                return torch.neg(a)
            """,
        ),
        Invalid(
            """
            from mlx.core import random
            import mlx.core as core
            w = random.normal((3,)) @ random.normal((3,))
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL301
            """,
            fixed="""
            from mlx.core import random
            import mlx.core as core
            w = core.matmul(random.normal((3,)), random.normal((3,)))
            """,
        ),
    ]

    def _backend(self, *operands: cst.BaseExpression) -> str | None:
        for operand in operands:
            inferred = self.context.infer(operand)
            if inferred.is_array:
                if inferred.backend in MLX_AND_TORCH:
                    return inferred.backend
                if inferred.backend is None:
                    return self.context.array_backend()
        return None

    def _fix(self, backend: str, operator: cst.CSTNode, *operands: cst.BaseExpression) -> tuple[str, RawFix]:
        """The callee as this file spells it (``mx.multiply``, or ``multiply`` after ``from mlx.core import
        multiply``) and a fix to fill with the replacement: safe when every operand's type is proven."""
        ref = self.context.function_ref(module_of(backend), function_for(operator, backend))
        fix = RawFix(safe=self.context.proven_operands(backend, *operands), replacements=[],
                     imports=[ref.import_line] if ref.import_line else [], description=f"Use {ref.text}")
        return ref.text, fix

    def _report(self, node: cst.CSTNode, fix: RawFix | None, unproven: bool, **fmt: str) -> None:
        self.report(node, self.MESSAGE.format(**fmt) + (ASSUMED_NOTE if unproven else ""), fix=fix)

    @staticmethod
    def _with_replacement(fix: RawFix, node: cst.CSTNode, build) -> RawFix | None:
        """The fix replacing ``node`` by what ``build()`` makes; none when a comment would be lost."""
        new = lossless(node, build)
        if new is None:
            return None
        fix.replacements.append((node, new))
        return fix

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        backend = self._backend(node.left, node.right)
        if backend is None or function_for(node.operator, backend) is None:
            return
        callee, fix = self._fix(backend, node.operator, node.left, node.right)
        unproven = not fix.safe
        fix = self._with_replacement(fix, node, lambda: self._binary_call(node, callee))
        self._report(node, fix, unproven, symbol=symbol_of(node.operator), call=f"{callee}(a, b)")

    def _binary_call(self, node: cst.BinaryOperation, callee: str) -> cst.Call | str:
        layout = self.context.layout
        plain = binary_call_text(node, callee) or broken_call_text(node, callee, layout)
        if plain is not None:
            return plain
        new = binary_to_call(node, callee)
        if layout.spans_lines(node) and not operator_has_comment(node):
            # a multi-line operation keeps its line breaks: one argument per line
            broken = layout.broken_call(node, [node.left, node.right], new)
            new = broken.apply(new) if broken is not None else new
        return new

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, (cst.Not, cst.Plus)):
            return
        backend = self._backend(node.expression)
        if backend is None or function_for(node.operator, backend) is None:
            return
        callee, fix = self._fix(backend, node.operator, node.expression)
        unproven = not fix.safe
        fix = self._with_replacement(fix, node, lambda: unary_to_call(node, callee))
        self._report(node, fix, unproven, symbol=symbol_of(node.operator), call=f"{callee}(a)")

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        backend = self._backend(node.target, node.value)
        if backend is None or function_for(node.operator, backend) is None:
            return
        callee, fix = self._fix(backend, node.operator, node.target, node.value)
        # Augmented assignment updates the object in place (visible through other references, and in PyTorch
        # it keeps the target's dtype); the rebinding form does not: unsafe.
        fix.safe = False
        fix = self._with_replacement(fix, node, lambda: self._assignment(node, callee))
        self.report(node, symbol=symbol_of(node.operator), call=f"x = {callee}(x, y)", fix=fix)

    def _assignment(self, node: cst.AugAssign, callee: str) -> cst.Assign:
        new = augmented_to_assign(node, callee)
        if self.context.layout.spans_lines(node) and not operator_has_comment(node):
            broken = self.context.layout.broken_call(node, [node.target, node.value])
            new = new.with_changes(value=broken.apply(new.value)) if broken is not None else new
        return new
