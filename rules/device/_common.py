"""What several rules of the ``device`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

import libcst as cst

from emberlint.rules._coach import string_value, table
from emberlint.syntax import code
from emberlint.walk import subtree


def device_string(node: cst.BaseExpression | None) -> str | None:
    value = string_value(node)
    if value is None:
        return None
    base = value.split(":", 1)[0]
    return base if base in table()["device"]["device_strings"] else None


def element_loop(context, loop: cst.For) -> str | None:
    """What a ``for`` loop iterates over when it walks an array: a dimension (``range(x.shape[i])``/``len(x)``)
    or the array's rows."""
    source = loop.iter
    if isinstance(source, cst.Call) and isinstance(source.func, cst.Name) and source.func.value == "range":
        if len(source.args) >= 3:
            return None  # range(0, n, step): one evaluation per chunk (bounded memory at load time), not per element
        for arg in source.args:
            for inner in subtree(arg.value):
                if isinstance(inner, cst.Attribute) and inner.attr.value == "shape":
                    return f"`{code(source)}`"
                if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "len":
                    if inner.args and context.is_array(inner.args[0].value):
                        return f"`{code(source)}`"
        return None
    if context.is_array(source):
        return f"the rows of `{code(source)}`"
    return None
