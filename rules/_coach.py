"""Shared helpers of the rules: which backend a file ports to, the facts of ``coach.yaml`` (fft, precision, device,
porting, fallbacks), string arguments, method calls, assignments, loops.

Not a rule module (the leading underscore keeps the registry out). API facts live in ``coach.yaml``.
"""

from __future__ import annotations

import functools
from typing import Any

import libcst as cst

from emberlint.api_facts import load_table
from emberlint.backends import MLX_AND_TORCH, module_of
from emberlint.syntax import kind
from emberlint.walk import subtree

MLX_CORE = module_of("mlx")


@functools.lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    return load_table("coach")


def file_backend(context) -> str | None:
    """``"mlx"`` when the file imports MLX, else ``"torch"`` when it imports PyTorch, else None."""
    for backend in MLX_AND_TORCH:
        if context.imports_backend(backend):
            return backend
    return None


def mlx_port(context) -> bool:
    """A file that imports MLX and not PyTorch: torch idioms in it are porting leftovers."""
    return context.imports_backend("mlx") and not context.imports_backend("torch")


def string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def method_call(node: cst.CSTNode) -> tuple[cst.BaseExpression, str] | None:
    """``(receiver, method)`` for ``receiver.method(...)``."""
    if kind(node) == "Call" and kind(node.func) == "Attribute":
        return node.func.value, node.func.attr.value
    return None


def assignments(scope_node: cst.CSTNode) -> dict[str, list[cst.BaseExpression]]:
    """``name -> values`` of the simple ``name = value`` assignments under ``scope_node``, in source order."""
    found: dict[str, list[cst.BaseExpression]] = {}
    for node in subtree(scope_node):
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            found.setdefault(node.targets[0].target.value, []).append(node.value)
        elif isinstance(node, cst.AnnAssign) and node.value is not None and isinstance(node.target, cst.Name):
            found.setdefault(node.target.value, []).append(node.value)
    return found


def in_loop(context) -> cst.For | cst.While | None:
    """The innermost loop around the visited node, within its function."""
    for node in reversed(context.ancestors[:-1]):
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return None
        if isinstance(node, (cst.For, cst.While)):
            return node
    return None
