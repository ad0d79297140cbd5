"""Move host float math onto the array backend: ``x * math.sqrt(2.0)`` -> ``x * mx.sqrt(mx.array(2.0,
dtype=x.dtype))``; ``math.sqrt(2 / math.pi)`` -> ``mx.sqrt(mx.divide(mx.array(2, dtype=D), mx.array(math.pi,
dtype=D)))``.

Every leaf without host math becomes a typed scalar (``fixers/typed_scalar.py``); ``math.F`` calls become the
backend function (``rules/float_math.yaml``), operators become the backend function of ``rules/operators.yaml``.
The rewrite is never safe: the backend computes in the array's dtype with its own rounding, so the constant can
differ from the host float64 result rounded to that dtype in the last bit (or by more in float16/bfloat16).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst
from emberlint.fixers.operators import call, function_for
from emberlint.fixers.typed_scalar import typed_scalar

from emberlint.host_math import contains_host_math, float_math_table, is_host_math_leaf

if TYPE_CHECKING:
    from emberlint.context import FileContext


@dataclass(frozen=True)
class Target:
    """Where the translated constant goes: backend, how the file spells its module, the dtype (and device)."""

    backend: str
    ref_text: str
    dtype: cst.BaseExpression
    device: cst.BaseExpression | None = None


def translate(node: cst.BaseExpression, target: Target, context: FileContext) -> cst.BaseExpression | None:
    """The backend expression computing ``node`` on typed scalars; None when some part has no translation."""
    if not contains_host_math(node, context) or (
        is_host_math_leaf(node, context) and not isinstance(node, cst.Call)
    ):
        return typed_scalar(node, target.ref_text, target.backend, target.dtype, target.device)
    if isinstance(node, cst.Call):
        qualified = context.qualified_name(node.func) or ""
        entry = float_math_table()["math_functions"].get(qualified.rsplit(".", 1)[-1])
        if entry is None or not qualified.startswith("math.") or any(a.keyword or a.star for a in node.args):
            return None
        return _call(entry[target.backend], [a.value for a in node.args], target, context)
    if isinstance(node, cst.BinaryOperation):
        function = function_for(node.operator, target.backend)
        return _call(function, [node.left, node.right], target, context) if function else None
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        function = function_for(node.operator, target.backend)
        return _call(function, [node.expression], target, context) if function else None
    return None


def _call(function: str, args: list[cst.BaseExpression], target: Target, context: FileContext) -> cst.Call | None:
    translated = [translate(arg, target, context) for arg in args]
    if any(arg is None for arg in translated):
        return None
    return call(f"{target.ref_text}.{function}", *translated)  # type: ignore[arg-type]
