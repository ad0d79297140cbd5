"""Materialisation: the LibCST node a light node stands for, parsed on demand from the smallest piece of source
that holds it (its own text for a one-line expression, else the statement of its block) and reached by following
the same path down the real tree. Fixers need it for what the light tree leaves out (whitespace, comments,
parentheses); detection should not (``counters`` says how often it happened: tests assert detection never does).

This module rests on LibCST's tree shapes, which is why ``pyproject.toml`` bounds the LibCST version."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from emberlint import walk as _walk

if TYPE_CHECKING:
    from emberlint.light.nodes import LightNode
    from emberlint.light.source import LightTree


class Counters:
    """How often the light tree handed work to LibCST, process-wide (``reset`` between measurements)."""

    __slots__ = ("fallbacks", "materialized", "parses")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        #: LibCST nodes materialised for light nodes.
        self.materialized = 0
        #: LibCST parses of a piece of source (an expression or a statement).
        self.parses = 0
        #: Reads of a field the light tree does not model (each one materialises the node).
        self.fallbacks = 0

    def snapshot(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


counters = Counters()


def materialize(node: LightNode) -> cst.CSTNode:
    """The LibCST node ``node`` stands for (parsed on demand, memoized)."""
    if node._real is not None:
        return node._real
    tree: LightTree = node._tree
    real = None
    # A tuple's or generator's own text is not parsed alone (its parentheses may be its own or its parent's);
    # asking for it would also ask ``bounds``, which asks ``materialize`` when a comment hides the parentheses.
    text = None if type(node).__name__ in ("Tuple", "GeneratorExp") else tree.own_text(node)
    if text is not None:
        counters.parses += 1
        parsed = cst.parse_expression(f"({text})")
        real = parsed.with_changes(lpar=parsed.lpar[1:], rpar=parsed.rpar[:-1])
    if real is None:
        parent = node._parent
        if parent is None:
            raise AttributeError("the light module has no LibCST counterpart")
        if type(parent).__name__ in ("Module", "IndentedBlock"):
            real = real_statement(tree, node)
        else:
            real_parent = materialize(parent)
            real = _follow(parent, real_parent, node)
    counters.materialized += 1
    node._real = real
    return real


def real_statement(tree: LightTree, statement: LightNode) -> cst.CSTNode:
    """The LibCST node of a statement of a block, parsed alone (memoized). An indented statement is parsed inside
    ``if 1:`` at its own indentation, so LibCST splits its whitespace as in the whole file."""
    found = tree.real_statements.get(id(statement))
    if found is None:
        first, last = statement_lines(statement)
        text = "".join(tree.lines[first - 1: last])
        indent = text[: len(text) - len(text.lstrip(" \t\f"))]
        counters.parses += 1
        if indent:
            found = cst.parse_module("if 1:\n" + text).body[0].body.body[0]
        else:
            found = cst.parse_module(text).body[0]
        tree.real_statements[id(statement)] = found
    return found


def statement_lines(statement: LightNode) -> tuple[int, int]:
    """The first line (decorators included) and the last line of a statement of a block."""
    source = statement._ast if statement._ast is not None else statement.body[0]._ast
    first = min([source.lineno, *(d.lineno for d in getattr(source, "decorator_list", ()))])
    last = source.end_lineno
    if type(statement).__name__ == "SimpleStatementLine":
        last = statement.body[-1]._ast.end_lineno
    return first, last


def _follow(parent: LightNode, real_parent: cst.CSTNode, child: LightNode) -> cst.CSTNode:
    for field in parent.FIELDS:
        value = getattr(parent, field)
        if value is child:
            return getattr(real_parent, field)
        if type(value) is list:
            for index, item in enumerate(value):
                if item is child:
                    return getattr(real_parent, field)[index]
    raise AttributeError(f"no path from {type(parent).__name__} to {type(child).__name__}")


def real_subtree(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``walk.subtree`` with comments and whitespace: light nodes are replaced by their LibCST counterparts, except
    one-line expressions without a ``#`` (nothing below them can be a comment)."""
    found: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if getattr(type(current), "LIGHT", False):
            if current._tree.own_text(current) is not None:
                continue
            current = materialize(current)
        found.append(current)
        stack.extend(reversed(_walk.children(current)))
    return found
