"""What several rules of the ``porting`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import Rule
from emberlint.rules._coach import mlx_port, string_value, table
from emberlint.syntax import code, kind
from emberlint.walk import nodes_of, subtree


def porting_table() -> dict:
    return table()["porting"]


class PortRule(Rule):
    """Helpers: is this an MLX array / MLX-only file, what class constructed an attribute."""

    def mlx_receiver(self, receiver: cst.BaseExpression) -> bool:
        """The receiver of a method is an MLX array, or (in an MLX-only file) any non-module value."""
        if not self.context.imports_backend("mlx"):
            return False
        inferred = self.context.infer(receiver)
        if inferred.is_array and inferred.backend == "mlx":
            return True
        if inferred.is_array and inferred.backend == "torch":
            return False
        if kind(receiver) == "Call":  # `tl.load(ptr)`: the value of another backend (Triton, NumPy...)
            maker = self.context.qualified_name(receiver.func)
            if maker is not None and not maker.startswith("mlx"):
                return False
        return mlx_port(self.context) and self.context.qualified_name(receiver) is None

    def constructed_by(self, owner: cst.BaseExpression) -> str | None:
        """The qualified class of the ``owner = Class(...)`` assignment with the same text, if any."""
        cache = self.__dict__.get("_constructors")
        if cache is None:
            cache = {}
            for node in nodes_of(self.context.module, "Assign"):
                if kind(node.value) == "Call":
                    qualified = self.context.module_scope.qualified_name(node.value.func)
                    if qualified:
                        for target in node.targets:
                            cache[code(target.target)] = qualified
            self._constructors = cache
        return cache.get(code(owner))

    def weight_owner(self, target: cst.BaseAssignTargetExpression) -> tuple[str, str] | None:
        """``(owner text, class or '')`` for ``owner.weight = ...`` / ``state["...weight"] = ...``."""
        if kind(target) == "Attribute" and target.attr.value == "weight":
            return code(target.value), self.constructed_by(target.value) or ""
        if kind(target) == "Subscript" and len(target.slice) == 1:
            index = target.slice[0].slice
            key = string_value(index.value) if kind(index) == "Index" else None
            if key and key.endswith(".weight"):
                return key[: -len(".weight")], ""
        return None

    def reorders(self, value: cst.CSTNode) -> bool:
        names = set(porting_table()["axis_reorders"])
        for node in subtree(value):
            if kind(node) == "Attribute" and node.attr.value in names:
                return True
        return False
