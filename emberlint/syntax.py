"""Small questions about syntax nodes that rules, fixers and analyses share: a node's source text, a call's
arguments, dotted names. They take LibCST nodes and the light tree's alike."""

from __future__ import annotations

import libcst as cst

_EMPTY_MODULE = cst.Module(body=[])

#: the arithmetic operators, by their LibCST class names (see ``kind``), and their augmented forms (``*=``)
ARITHMETIC = frozenset({"Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Modulo", "Power"})
AUGMENTED_ARITHMETIC = frozenset(f"{name}Assign" for name in ARITHMETIC)


def kind(node: object) -> str:
    """The node's LibCST class name; the light tree's classes bear the same names. For a concrete node class, a
    test of it says what ``isinstance`` says, at a fraction of the cost (LibCST's classes are ABCs, so every
    ``isinstance`` against them, a tuple of them above all, runs ``ABCMeta.__instancecheck__``)."""
    return type(node).__name__


def code(node: cst.CSTNode) -> str:
    """The code LibCST writes for ``node``, its own parentheses included (``(a + b)`` stays parenthesized)."""
    return _EMPTY_MODULE.code_for_node(node)


def source_text(node: cst.CSTNode) -> str:
    """The code of ``node`` as a finding shows it: without its grouping parentheses (a finding's range excludes
    them); a tuple keeps its own."""
    if getattr(type(node), "LIGHT", False):
        text = node._tree.inner_text(node)
        if text is not None:
            return text
    return code(without_parens(node))


def without_parens(node: cst.CSTNode) -> cst.CSTNode:
    """``node`` without its grouping parentheses (a tuple keeps its own)."""
    if getattr(node, "lpar", None) and kind(node) != "Tuple":
        return node.with_changes(lpar=[], rpar=[])
    return node


def keyword_argument(call: cst.Call, name: str) -> cst.Arg | None:
    """The ``name=...`` argument of ``call``."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def argument(call: cst.Call, position: int | None, keyword: str | None) -> cst.BaseExpression | None:
    """The value passed as ``keyword=`` or, failing that, at ``position`` among the positional arguments (None
    when a ``*args`` at or before that position hides which value lands there). Either may be None."""
    if keyword is not None:
        arg = keyword_argument(call, keyword)
        if arg is not None:
            return arg.value
    if position is None:
        return None
    positional = [arg for arg in call.args if arg.keyword is None and arg.star != "**"]
    if position < len(positional) and not any(arg.star for arg in positional[: position + 1]):
        return positional[position].value
    return None


def dotted_name(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for a chain of Attribute/Name nodes (``torch.nn.functional``), else None."""
    if kind(node) == "Name":
        return node.value
    if kind(node) == "Attribute":
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None
