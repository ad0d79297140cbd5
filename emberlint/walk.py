"""A read-only traversal of a LibCST tree, several times faster than ``module.visit(visitor)``.

``CSTNode.visit`` rebuilds every node of the tree (``_visit_and_replace_children`` calls each node's constructor,
with its validation) even for a read-only ``CSTVisitor``, and that rebuild is most of the cost of a traversal.
``walk`` calls the same ``visitor.on_visit``/``visitor.on_leave`` on the same nodes in the same order (children in
lexical order, children skipped when ``on_visit`` returns a falsy value) without rebuilding anything. It does not
call ``on_visit_attribute``/``on_leave_attribute``: visitors that need ``visit_<Node>_<field>`` hooks must keep
using ``module.visit``.

The lexical order of each node type's fields is learnt once per type from LibCST itself: its
``_visit_and_replace_children`` announces each field through ``on_visit_attribute`` before visiting it.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re

import libcst as cst

_FIELD_ORDER: dict[type, tuple[str, ...]] = {}


class _FieldRecorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.names.append(attribute)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False


def _learn_order(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _FieldRecorder()
    try:
        node._visit_and_replace_children(recorder)
    except Exception:  # rebuilding may fail validation; every field was announced before that
        pass
    names = list(dict.fromkeys(recorder.names))
    # Fields visited only conditionally (e.g. a format spec that is None here) come last, as in LibCST.
    names.extend(f.name for f in dataclasses.fields(node) if f.name not in names)
    order = tuple(names)
    _FIELD_ORDER[type(node)] = order
    return order


#: True: ``walk`` and ``positions.resolve_positions`` use LibCST's own ``visit``/``PositionProvider`` (the
#: reference the fast paths are tested against; also ``EMBERLINT_REFERENCE_TRAVERSAL=1``).
REFERENCE = os.environ.get("EMBERLINT_REFERENCE_TRAVERSAL") == "1"


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Visit ``node`` and its descendants with ``visitor`` exactly as ``node.visit(visitor)`` would, read-only.
    The tree's pre-order is computed once and replayed by later walks over the same root (the engine walks each
    module three times), without recursion."""
    if REFERENCE:
        node.visit(visitor)
        return
    order = _preorder(node)
    on_visit, on_leave = visitor.on_visit, visitor.on_leave
    open_nodes: list[tuple[cst.CSTNode, int]] = []
    index, count = 0, len(order)
    while index < count:
        current, end = order[index]
        if on_visit(current):
            open_nodes.append((current, end))
            index += 1
        else:
            on_leave(current)
            index = end
        while open_nodes and open_nodes[-1][1] == index:
            on_leave(open_nodes.pop()[0])


_LAST: list = [None, None]  # the last root walked and its pre-order


def _preorder(root: cst.CSTNode) -> list[tuple[cst.CSTNode, int]]:
    """``(node, index just past its subtree)`` for every node under ``root``, in pre-order."""
    if _LAST[0] is root:
        return _LAST[1]
    order: list = []
    stack: list = [(root, False)]
    while stack:
        current, done = stack.pop()
        if done:
            order[current] = (order[current], len(order))
            continue
        position = len(order)
        order.append(current)
        stack.append((position, True))
        stack.extend((child, False) for child in reversed(children(current)))
    _LAST[0], _LAST[1] = root, order
    return order


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` (the immediate child nodes in lexical order) without LibCST's rebuild of ``node``."""
    order = _FIELD_ORDER.get(type(node))
    if order is None:
        order = _learn_order(node)
    is_node = _IS_NODE  # a dict lookup: isinstance(..., CSTNode) goes through ABCMeta and is slow
    found: list[cst.CSTNode] = []
    for name in order:
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:
                item_kind = type(item)
                if is_node.get(item_kind) or (item_kind not in is_node and _learn_kind(item_kind)):
                    found.append(item)
        elif is_node.get(kind) or (kind not in is_node and _learn_kind(kind)):
            found.append(value)
    return found


_IS_NODE: dict[type, bool] = {}


def _learn_kind(kind: type) -> bool:
    _IS_NODE[kind] = result = issubclass(kind, cst.CSTNode)
    return result


#: CPython's own limit on nested brackets; LibCST's native parser overflows its stack (a segfault that takes
#: the whole process down) on a few thousand.
MAX_BRACKET_DEPTH = 200
_BRACKET = re.compile(r"[()\[\]{}]")


def nesting_error(source: str) -> str | None:
    """Why ``source`` is too deeply nested to hand to LibCST, or None. CPython's parser is the judge (it fails
    cleanly, and LibCST handles whatever it accepts); for source it rejects for another reason (e.g. syntax of a
    newer Python) a bracket count stands in."""
    try:
        ast.parse(source)
    except (RecursionError, MemoryError):
        return "too deeply nested to analyse"
    except SyntaxError as exc:
        if "too many nested" in str(exc) or "too complex" in str(exc):
            return "too deeply nested to analyse"
        if sum(source.count(c) for c in "([{") > MAX_BRACKET_DEPTH:
            depth = deepest = 0
            for match in _BRACKET.finditer(source):
                depth += 1 if match.group() in "([{" else -1
                deepest = max(deepest, depth)
            if deepest > MAX_BRACKET_DEPTH:
                return "too deeply nested to analyse"
    except ValueError:  # NUL bytes: LibCST reports them
        return None
    return None


__all__ = ["children", "nesting_error", "walk"]


def subtree(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node`` and every node below it, in pre-order (read-only; leaves the replay cache of ``walk`` alone)."""
    found: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(children(current)))
    return found
