"""Helpers that rules of several families share. Not a rule module (the leading underscore keeps the registry out);
rule modules import helpers from here or from their family's ``_common``, never from another rule module."""

from __future__ import annotations

import libcst as cst

from emberlint.scope import backend_of

_EMPTY = cst.Module([])


def source(node: cst.CSTNode) -> str:
    """The code of ``node`` as reported: without grouping parentheses (positions exclude them), tuples keep theirs."""
    if getattr(node, "lpar", None) and not isinstance(node, cst.Tuple):
        node = node.with_changes(lpar=[], rpar=[])
    return _EMPTY.code_for_node(node)


def array_backend(qualified: str | None) -> str | None:
    backend = backend_of(qualified)
    return backend if backend in ("mlx", "torch") else None
