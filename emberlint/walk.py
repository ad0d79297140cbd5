"""A read-only traversal of a LibCST tree, several times faster than ``module.visit(visitor)``.

``CSTNode.visit`` rebuilds every node of the tree (``_visit_and_replace_children`` calls each node's constructor,
with its validation) even for a read-only ``CSTVisitor``, and that rebuild is most of the cost of a traversal.
``walk`` calls the same ``visitor.on_visit``/``visitor.on_leave`` on the same nodes in the same order (children in
lexical order, children skipped when ``on_visit`` returns a falsy value) without rebuilding anything. It does not
call ``on_visit_attribute``/``on_leave_attribute``: visitors that need ``visit_<Node>_<field>`` hooks must keep
using ``module.visit``.

``walk_kinds`` replays only the nodes of the types a visitor handles (its cost grows with their number, not the
tree's); ``nodes_of`` lists them. Both read an index by type kept with the pre-order.

The lexical order of each node type's fields is learnt once per type from LibCST itself: its
``_visit_and_replace_children`` announces each field through ``on_visit_attribute`` before visiting it.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import itertools
import operator
import sys
from typing import Any, Callable, Iterable, Iterator

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


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Visit ``node`` and its descendants with ``visitor`` exactly as ``node.visit(visitor)`` would, read-only.
    The tree's pre-order is computed once and replayed by later walks over the same root (the engine walks each
    module three times), without recursion."""
    nodes, ends, _ = _preorder(node)
    on_visit, on_leave = visitor.on_visit, visitor.on_leave
    open_nodes: list[tuple[cst.CSTNode, int]] = []
    index, count = 0, len(nodes)
    while index < count:
        current, end = nodes[index], ends[index]
        if on_visit(current):
            open_nodes.append((current, end))
            index += 1
        else:
            on_leave(current)
            index = end
        while open_nodes and open_nodes[-1][1] == index:
            on_leave(open_nodes.pop()[0])


def walk_kinds(node: cst.CSTNode, visitor: cst.CSTVisitor, kinds: set[str] | frozenset[str]) -> None:
    """``walk`` restricted to the nodes whose type is named in ``kinds``: ``visitor.on_visit``/``on_leave`` see
    only those, in the same relative order as in a full walk, at a cost proportional to their number. Nothing is
    skipped (``on_visit``'s result is ignored), so it serves visitors that never prune a subtree."""
    nodes, ends, by_type = _preorder(node)
    _replay(nodes, ends, _positions(by_type, kinds), visitor)


def walk_kinds_on_lines(node: cst.CSTNode, visitor: cst.CSTVisitor, kinds: set[str] | frozenset[str],
                        lines: list[tuple[int, int]], line_span: Callable[[cst.CSTNode], tuple[int, int] | None]
                        ) -> None:
    """``walk_kinds`` restricted to the nodes on ``lines`` (sorted, disjoint ``(first, last)`` line ranges,
    1-based, inclusive): a subtree whose ``line_span`` misses every range is skipped whole; a node without a span
    is entered. Each node seen is seen as in a full walk, with all its enclosing nodes of ``kinds`` open."""
    nodes, ends, _ = _preorder(node)
    _replay(nodes, ends, _positions_on_lines(nodes, ends, kinds, lines, line_span), visitor)


def _positions_on_lines(nodes: list[cst.CSTNode], ends: list[int], kinds, lines: list[tuple[int, int]],
                        line_span) -> Iterator[int]:
    """The pre-order positions of the nodes of ``kinds`` on ``lines``, ascending: subtrees off them skipped,
    subtrees within one range taken whole (their nodes' spans are not looked at)."""
    firsts = [first for first, _ in lines]
    index, count = 0, len(nodes)
    while index < count:
        current, end = nodes[index], ends[index]
        span = line_span(current)
        if span is not None:
            at = bisect.bisect_right(firsts, span[1]) - 1  # the last range starting on or before the span's end
            if at < 0 or lines[at][1] < span[0]:
                index = end
                continue
            if lines[at][0] <= span[0]:
                for inside in range(index, end):
                    if type(nodes[inside]).__name__ in kinds:
                        yield inside
                index = end
                continue
        if type(current).__name__ in kinds:
            yield index
        index += 1


def _replay(nodes: list[cst.CSTNode], ends: list[int], positions: Iterable[int], visitor: cst.CSTVisitor) -> None:
    """``on_visit`` for the node at each position (ascending) and ``on_leave`` once its subtree is passed."""
    on_visit, on_leave = visitor.on_visit, visitor.on_leave
    open_nodes: list[tuple[cst.CSTNode, int]] = []
    for index in positions:
        while open_nodes and open_nodes[-1][1] <= index:
            on_leave(open_nodes.pop()[0])
        current = nodes[index]
        on_visit(current)
        open_nodes.append((current, ends[index]))
    while open_nodes:
        on_leave(open_nodes.pop()[0])


def nodes_of(root: cst.CSTNode, *kinds: str) -> list[cst.CSTNode]:
    """The nodes under ``root`` whose type is named in ``kinds``, in pre-order (from the cached pre-order when
    ``root`` is the tree last walked)."""
    nodes, _, by_type = _preorder(root)
    return [nodes[index] for index in _positions(by_type, kinds)]


def _positions(by_type: dict[type, list[int]], kinds) -> list[int]:
    """The pre-order positions of the nodes whose type is named in ``kinds``, ascending."""
    runs = [positions for kind, positions in by_type.items() if kind.__name__ in kinds]
    if len(runs) == 1:
        return runs[0]
    return sorted(itertools.chain.from_iterable(runs))


#: ``(root, nodes, ends, positions by type)`` of the last module walked, replaced in one store: the LSP server may
#: lint in two threads, and a half-updated entry would pair one tree with another's pre-order.
_LAST: list = [None]


def forget_last_walk() -> None:
    """Drop the cached pre-order, which keeps the last tree walked alive (``fixing`` frees each round's tree)."""
    _LAST[0] = None


def _preorder(root: cst.CSTNode) -> tuple[list[cst.CSTNode], list[int], dict[type, list[int]]]:
    """Every node under ``root`` in pre-order, the index just past each one's subtree, and the indexes of each
    node type (parallel lists: a tuple per node was most of the cost of a 2 MB file's 870,000 nodes)."""
    last = _LAST[0]
    if last is not None and last[0] is root:
        return last[1], last[2], last[3]
    nodes: list = []
    ends: list[int] = []
    by_type: dict[type, list[int]] = {}
    light_children = _LIGHT_CHILDREN
    stack: list = [root]  # nodes to visit, and ints: the position of a node whose subtree ends here
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is int:
            ends[current] = len(nodes)
            continue
        at = len(nodes)
        seen = by_type.get(kind)
        if seen is None:
            by_type[kind] = [at]
        else:
            seen.append(at)
        nodes.append(current)
        listed = light_children.get(kind)
        below = listed(current) if listed is not None else children(current)
        if below:
            ends.append(0)  # set when the marker below is popped
            stack.append(at)
            below.reverse()
            stack.extend(below)
        else:
            ends.append(at + 1)
    if type(root).__name__ == "Module":  # a subtree's walk (a fixer's) must not push the module's out
        _LAST[0] = (root, nodes, ends, by_type)
    return nodes, ends, by_type


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` (the immediate child nodes in lexical order) without LibCST's rebuild of ``node``."""
    light = _LIGHT_CHILDREN.get(type(node))
    if light is not None:
        return light(node)
    getter = _FIELD_GETTER.get(type(node))
    if getter is None:
        getter = _field_getter(node)
    is_node = _IS_NODE  # a dict lookup: isinstance(..., CSTNode) goes through ABCMeta and is slow
    found: list[cst.CSTNode] = []
    for value in getter(node):
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:
                item_kind = type(item)
                if is_node.get(item_kind) or (item_kind not in is_node and _learn_kind(item_kind)):
                    found.append(item)
        elif is_node.get(kind) or (kind not in is_node and _learn_kind(kind)):
            found.append(value)
    return found


_FIELD_GETTER: dict[type, Callable[[cst.CSTNode], tuple]] = {}


def _field_getter(node: cst.CSTNode) -> Callable[[cst.CSTNode], tuple]:
    """All fields of a node type in lexical order, fetched by one C-level ``attrgetter`` call."""
    order = _FIELD_ORDER.get(type(node)) or _learn_order(node)
    getter = _FIELD_GETTER[type(node)] = _getter(order)
    return getter


def _getter(order: tuple[str, ...]) -> Callable[[cst.CSTNode], tuple]:
    if len(order) == 1:
        single = operator.attrgetter(order[0])
        return lambda n: (single(n),)
    if order:
        return operator.attrgetter(*order)
    return lambda n: ()


_IS_NODE: dict[type, bool] = {}


def register_light_type(kind: type, fields: tuple[str, ...], node_fields: tuple[str, ...]) -> None:
    """Walk a light node type (``emberlint.light``) by its declared fields, of which ``node_fields`` hold a node,
    a list of nodes or None (the others hold strings or flags)."""
    _FIELD_ORDER[kind] = fields
    _IS_NODE[kind] = True
    _FIELD_GETTER[kind] = _getter(fields)
    _LIGHT_CHILDREN[kind] = _children_function(node_fields)


#: Light node type -> its ``children``: every node walk lists the children of (the pre-order of a whole module)
#: is a light one, and reading the node fields without testing each value's type halves that cost.
_LIGHT_CHILDREN: dict[type, Callable[[cst.CSTNode], list[cst.CSTNode]]] = {}


def _children_function(node_fields: tuple[str, ...]) -> Callable[[cst.CSTNode], list[cst.CSTNode]]:
    lines = ["def children(node):", "    found = []"]
    for field in node_fields:
        lines += [f"    value = node.{field}",
                  "    if value is not None:",
                  "        if value.__class__ is list:",
                  "            found.extend(value)",
                  "        else:",
                  "            found.append(value)"]
    lines.append("    return found")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)
    return namespace["children"]


def _learn_kind(kind: type) -> bool:
    _IS_NODE[kind] = result = issubclass(kind, cst.CSTNode)
    return result


#: The recursion limit CPython's parser is consulted at. Its AST construction allows three C levels per unit of
#: the limit, and LibCST handles what CPython accepts at the default limit; a raised limit (Hypothesis raises it
#: while a test runs) would let through nesting that overflows the C stack in either parser.
PARSE_RECURSION_LIMIT = 1000


def parse_at_default_depth(source: str, parse: Callable[[str], Any] = ast.parse) -> Any:
    """``parse(source)`` (default ``ast.parse``) with the recursion limit at most ``PARSE_RECURSION_LIMIT``."""
    limit = sys.getrecursionlimit()
    lowered = False
    if limit > PARSE_RECURSION_LIMIT:
        try:
            sys.setrecursionlimit(PARSE_RECURSION_LIMIT)
            lowered = True
        except RecursionError:  # the caller is already deeper than that: judge at the current limit
            pass
    try:
        return parse(source)
    finally:
        if lowered:
            sys.setrecursionlimit(limit)


def is_too_deep(exc: SyntaxError) -> bool:
    """Whether CPython rejected the source for its nesting, not its syntax."""
    return "too many nested" in str(exc) or "too complex" in str(exc)


__all__ = ["FastVisitor", "children", "handled_kinds", "nodes_of", "subtree", "walk", "walk_kinds"]


def subtree(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node below it, in pre-order, lazily (a search can stop at its first match; read-only,
    leaves the replay cache of ``walk`` alone)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def handled_kinds(cls: type, base: type) -> frozenset[str]:
    """The node types ``cls`` defines ``visit_<Node>``/``leave_<Node>`` methods for, in its classes below
    ``base`` (what ``walk_kinds`` must show it; ``visit_<Node>_<field>`` hooks are not node types)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is base:
            break
        for attribute in vars(klass):
            prefix, _, kind = attribute.partition("_")
            if prefix in ("visit", "leave") and kind and "_" not in kind:
                names.add(kind)
    return frozenset(names)


class FastVisitor(cst.CSTVisitor):
    """A read-only ``CSTVisitor`` that finds its ``visit_<Node>``/``leave_<Node>`` methods once per node type
    (LibCST's ``on_visit`` formats the method name and calls ``getattr`` for every node)."""

    _visit_methods: dict
    _leave_methods: dict

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._visit_methods = {}
        cls._leave_methods = {}

    @classmethod
    def node_kinds(cls) -> frozenset[str]:
        """The node types this visitor handles (LibCST's no-op defaults, above ``FastVisitor``, do not count)."""
        return handled_kinds(cls, FastVisitor)

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        table = type(self)._visit_methods
        method = table.get(kind, _MISSING)
        if method is _MISSING:
            method = table[kind] = getattr(type(self), f"visit_{kind.__name__}", None)
        return method is None or method(self, node) is not False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        kind = type(original_node)
        table = type(self)._leave_methods
        method = table.get(kind, _MISSING)
        if method is _MISSING:
            method = table[kind] = getattr(type(self), f"leave_{kind.__name__}", None)
        if method is not None:
            method(self, original_node)


_MISSING = object()
