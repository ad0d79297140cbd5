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

import dataclasses
import os

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
    """Visit ``node`` and its descendants with ``visitor`` exactly as ``node.visit(visitor)`` would, read-only."""
    if REFERENCE:
        node.visit(visitor)
    else:
        _walk(node, visitor)


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    if visitor.on_visit(node):
        order = _FIELD_ORDER.get(type(node))
        if order is None:
            order = _learn_order(node)
        for name in order:
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                _walk(value, visitor)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        _walk(item, visitor)
    visitor.on_leave(node)


__all__ = ["walk"]
