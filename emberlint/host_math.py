"""Host float math: ``math.*`` calls and host float constants (``math.pi``, ``np.pi``; ``rules/float_math.yaml``)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import libcst as cst

from emberlint.api_facts import load_table
from emberlint.walk import children
from emberlint.syntax import kind

if TYPE_CHECKING:
    from emberlint.context import FileContext


@functools.lru_cache(maxsize=1)
def float_math_table() -> dict:
    return load_table("float_math")


def is_host_math_leaf(node: cst.CSTNode, context: FileContext) -> bool:
    """A ``math.*`` call or a host float constant (``math.pi``, ``np.pi``)."""
    if kind(node) == "Call":
        qualified = context.qualified_name(node.func)
        return qualified is not None and qualified.startswith("math.")
    if kind(node) in ("Name", "Attribute"):
        return context.qualified_name(node) in float_math_table()["constants"]
    return False


def contains_host_math(node: cst.CSTNode, context: FileContext) -> bool:
    if is_host_math_leaf(node, context):
        return True
    if kind(node) in ("Lambda", "Subscript", "ListComp", "GeneratorExp"):
        return False
    return any(contains_host_math(child, context) for child in children(node))
