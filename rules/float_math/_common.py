"""What several rules of the ``float_math`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import RawFix, Rule
from emberlint.syntax import ARITHMETIC, kind


class ArrayUseRule(Rule):
    """Shared plumbing: which expressions are MLX/PyTorch arrays, and the names bound to a kind of value."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.reported: set[int] = set()

    def device_array(self, node: cst.BaseExpression) -> str | None:
        """The backend of an MLX/PyTorch array expression (NumPy arrays and non-arrays: None)."""
        inferred = self.context.infer(node)
        if not inferred.is_array or inferred.backend == "numpy":
            return None
        return inferred.backend or self.context.array_backend()

    def operands_beside_arrays(self, node: cst.BinaryOperation):
        """``(operand, the other operand, its backend)`` for each side of arithmetic whose other side is an
        MLX/PyTorch array."""
        if kind(node.operator) not in ARITHMETIC:
            return
        for side, other in ((node.left, node.right), (node.right, node.left)):
            backend = self.device_array(other)
            if backend is not None:
                yield side, other, backend

    def report_once(self, node: cst.CSTNode, fix: RawFix | None = None, **fmt) -> None:
        if id(node) not in self.reported:
            self.reported.add(id(node))
            self.report(node, fix=fix, **fmt)
