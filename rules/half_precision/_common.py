"""What several rules of the ``half_precision`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

import libcst as cst

from emberlint.dtypes import is_half
from emberlint.rule import Rule
from emberlint.walk import subtree

#: the operators whose result takes the promoted dtype of both operands (LibCST class names)
PROMOTING = frozenset({"Add", "Subtract", "Multiply", "Divide"})


class DtypeRule(Rule):
    def mlx_array(self, node: cst.BaseExpression) -> bool:
        inferred = self.context.infer(node)
        if not inferred.is_array:
            return False
        return inferred.backend == "mlx" or (inferred.backend is None and self.context.array_backend() == "mlx")

    def half_or_unknown(self, node: cst.BaseExpression) -> tuple[str | None, bool]:
        """(the dtype of an MLX array, whether to report it): known half, or "half or unknown": unknown on the
        compute path, in a function that upcasts nothing to float32 (one that does computes in float32 on
        purpose, through helpers the inference does not follow)."""
        dtype = self.context.dtype_of(node)
        if is_half(dtype):
            return dtype, True
        if dtype is not None or not self.context.in_compute_path():
            return dtype, False
        function = self.context.enclosing_function()
        return dtype, function is None or not casts_to_float32(function, self.context)


def casts_to_float32(function: cst.FunctionDef, context) -> bool:
    """The function casts something to float32 (``x.astype(mx.float32)``, ``t.float()``, ``dtype=mx.float32``)."""
    for node in subtree(function.body):
        if isinstance(node, cst.Attribute) and node.attr.value == "float32":
            return True
    return False


def dtype_clause(dtype: str | None, what: str) -> str:
    return f"`{what}` is {dtype}" if dtype else f"if `{what}` is float16/bfloat16"
