"""EL404 numeric-list-operand."""

from __future__ import annotations

import libcst as cst

from emberlint.constructor_facts import constructor_table
from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._shared import array_backend
from emberlint.syntax import source_text


def numeric_literal(node: cst.BaseExpression) -> tuple[bool, bool]:
    """(is a non-empty list/tuple of numeric literals, contains a float literal)."""
    if not isinstance(node, (cst.List, cst.Tuple)) or not node.elements:
        return False, False
    has_float = False
    for element in node.elements:
        value = element.value
        if isinstance(element, cst.StarredElement):
            return False, False
        if isinstance(value, (cst.List, cst.Tuple)):
            ok, inner_float = numeric_literal(value)
            if not ok:
                return False, False
            has_float = has_float or inner_float
            continue
        if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, (cst.Minus, cst.Plus)):
            value = value.expression
        if isinstance(value, cst.Float):
            has_float = True
        elif not isinstance(value, cst.Integer):
            return False, False
    return True, has_float


class NumericListOperand(Rule):
    """A list or tuple of numbers passed where an array is expected: ``mx.where(m, x, [0.0])``,
    ``mx.concatenate([x, [0.0]])``, ``torch.maximum(t, (0.0, 1.0))``.

    Why it matters numerically: the backend turns the literal into an array with its own inference -- float32 for
    floats, int32 (MLX) or int64 (PyTorch) for ints -- and then promotes: ``mx.concatenate([h, [0.0]])`` with a
    bfloat16 ``h`` returns float32, doubling the memory of everything downstream; ``[0]`` next to a float16
    array gives float16 in MLX but the int64 list next to an int32 array promotes to int64 in PyTorch. A list is
    also rebuilt on the host on every call. (Strict profile only; constructors without dtype are EL401, shapes
    and axes -- lists of ints -- are not reported.)

    Fix: build the array once with an explicit dtype, preferably the dtype of its neighbour:
    ``mx.concatenate([x, mx.array([0.0], dtype=x.dtype)])``.
    """

    CODE = "EL404"
    NAME = "numeric-list-operand"
    MESSAGE = "Numeric literal `{text}` used as an array: build it with an explicit dtype"
    SEVERITY = None
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        y = mx.reshape(x, (1, -1))
        """,
        """
        import mlx.core as mx
        y = mx.transpose(x, [0, 2, 1])
        """,
        """
        import mlx.core as mx
        y = mx.array([1.0, 2.0], dtype=mx.float32)
        """,
        """
        import mlx.core as mx
        y = mx.pad(x, [(0, 0), (1, 1)])
        """,
        """
        import numpy as np
        y = np.concatenate([a, [0.0]])
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array, m: mx.array):
                return mx.where(m, x, [0.0])
                                      ^^^^^ EL404
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                return mx.concatenate([x, [0, 1]])
                                          ^^^^^^ EL404
            """,
        ),
        Invalid(
            """
            from torch import maximum
            def f(t):
                return maximum(t, (0.0, 1.0))
                                   ^^^^^^^^ EL404
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if array_backend(qualified) is None or qualified in constructor_table()["constructors"]:
            return
        if qualified.endswith("_like"):
            return
        exempt = self.context.config.exempt_parameters().get(qualified, ())
        for arg in node.args:
            if arg.star or (arg.keyword is not None and arg.keyword.value in exempt):
                continue
            value = arg.value
            ok, has_float = numeric_literal(value)
            if ok and has_float:
                self.report(value, text=source_text(value))
            elif isinstance(value, (cst.List, cst.Tuple)) and any(
                self.context.is_array(element.value) for element in value.elements
            ):
                for element in value.elements:
                    if numeric_literal(element.value)[0]:
                        self.report(element.value, text=source_text(element.value))
