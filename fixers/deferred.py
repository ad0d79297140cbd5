"""A replacement node built only when its text is needed.

A rule decides during its visit whether it offers a fix and whether the fix is safe (both read the traversal's
scope); building the replacement node and printing it cost more than finding the problem, and most fixes are
never printed: ``check`` prints ``[*]`` from ``safe`` alone and ``fix`` applies the safe ones only. So a rule may
hand the engine ``Deferred(build)``: ``build`` is a pure rewrite (nodes in, node out, no traversal state), run when
the engine turns the fix into text edits (``emberlint.positions.build_fix``). ``build`` may return the new code
itself, one line of text, where it can read it off the source (cheaper than building and printing a node).
"""

from __future__ import annotations

from typing import Callable

import libcst as cst


class Deferred:
    """The replacement ``build()`` returns, built once on first use."""

    __slots__ = ("_build", "_node")

    def __init__(self, build: Callable[[], cst.CSTNode | str]) -> None:
        self._build = build
        self._node: cst.CSTNode | str | None = None

    def node(self) -> cst.CSTNode | str:
        if self._node is None:
            self._node = self._build()
        return self._node


def resolved(node: cst.CSTNode | Deferred) -> cst.CSTNode | str:
    """The node itself, or the deferred one built (or its code)."""
    return node.node() if type(node) is Deferred else node
