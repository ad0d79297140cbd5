"""A light, read-only tree with LibCST's shapes, built from CPython's ``ast``, on which the rules detect.

``nodes``: the node classes (LibCST's names and fields, virtual subclasses of LibCST's classes); ``builder``:
``ast`` -> light nodes; ``source``: ``LightTree``, the ``ParsedFile`` of one source text, with LibCST's positions
read off ``ast``'s and the source lines; ``materialize``: the LibCST node of a light node, parsed on demand from its
piece of source, for fixes (what the tree does not model: whitespace, comments, parentheses).
"""

from __future__ import annotations

from emberlint.light.builder import build
from emberlint.light.materialization import counters, materialize, real_subtree
from emberlint.light.nodes import LightNode
from emberlint.light.source import LightTree

__all__ = ["LightNode", "LightTree", "build", "counters", "materialize", "real_subtree"]
