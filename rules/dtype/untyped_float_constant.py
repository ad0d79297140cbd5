"""EL403 untyped-float-constant."""

from __future__ import annotations

import libcst as cst

from emberlint.constructor_facts import constructor_table
from emberlint.scalar_facts import bindings_of
from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._shared import array_backend
from emberlint.syntax import ARITHMETIC, kind, source_text


def is_float_literal(node: cst.BaseExpression) -> bool:
    if kind(node) == "UnaryOperation" and kind(node.operator) in ("Minus", "Plus"):
        node = node.expression
    return kind(node) == "Float"


class UntypedFloatConstant(Rule):
    """A bare float constant bound to a name (``eps = 1e-8``) that is later used as an array operand
    (``x + eps``, ``mx.maximum(x, eps)``).

    Why it matters numerically: the constant has no dtype of its own; it silently takes the dtype of each array
    it meets. ``1e-8`` is 0.0 in float16 (the smallest float16 subnormal is ~6e-8), so ``x / (norm + eps)`` can
    divide by zero in half precision while the same code is fine in float32; in bfloat16, ``1.0 + 1e-3`` is
    ``1.0``. The one definition means different numbers in different call sites, and nothing at the definition
    says so. (Strict profile only: most code keeps such constants as Python floats on purpose.)

    Fix: give the constant the dtype of the data at the use (``mx.array(eps, dtype=x.dtype)``), or define it as
    a typed array when the whole module runs in one dtype. No automatic fix: which dtype is intended is a design
    decision.
    """

    CODE = "EL403"
    NAME = "untyped-float-constant"
    MESSAGE = "Untyped float constant `{name} = {value}` is used as an array operand; give it a dtype"
    SEVERITY = None
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        eps = 1e-8
        n = 4 * eps
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, eps: float = 1e-5):
            return x + eps
        """,
        """
        import mlx.core as mx
        EPS = mx.array(1e-8, dtype=mx.float32)
        def f(x: mx.array):
            return x + EPS
        """,
        """
        import mlx.core as mx
        n = 4
        def f(x: mx.array):
            return x * n
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            eps = 1e-8
                  ^^^^ EL403
            def f(x: mx.array):
                return x / (x.sum() + eps)
            """,
        ),
        Invalid(
            """
            import torch
            floor = -1.0
                    ^^^^ EL403
            def f(t: torch.Tensor):
                return torch.maximum(t, floor) * floor
            """,
        ),
    ]

    def __init__(self, context) -> None:
        super().__init__(context)
        self.reported: set[int] = set()

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if kind(node.operator) not in ARITHMETIC:
            return
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if kind(side) == "Name" and self.context.is_array(other):
                self._check(side)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if array_backend(qualified) is None or qualified in constructor_table()["constructors"]:
            return
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        if not any(self.context.is_array(value) for value in positional):
            return
        for value in positional:
            if kind(value) == "Name":
                self._check(value)

    def _check(self, name: cst.Name) -> None:
        bindings = bindings_of(name.value, self.context)
        if not bindings or not all(b.assignment and is_float_literal(b.value) for b in bindings):
            return
        for binding in bindings:
            if id(binding.value) not in self.reported:
                self.reported.add(id(binding.value))
                self.report(binding.value, name=name.value, value=source_text(binding.value))
