"""Keyword renames for PyTorch-to-MLX ports (``dim=`` -> ``axis=``, ``keepdim=`` -> ``keepdims=``)."""

from __future__ import annotations

import libcst as cst


def rename_keyword(keyword: cst.Name, new: str) -> cst.Name:
    """The keyword name of an argument, renamed (the node replaced is the name alone: value, spacing and comma
    stay as written)."""
    return keyword.with_changes(value=new)


def method_to_function(call: cst.Call, module_text: str, function: str) -> cst.Call:
    """``x.method(a, b)`` -> ``module.function(x, a, b)`` (the receiver becomes the first argument)."""
    assert isinstance(call.func, cst.Attribute)
    receiver = cst.Arg(value=call.func.value)
    args = [receiver, *call.args]
    return call.with_changes(
        func=cst.Attribute(value=cst.parse_expression(module_text), attr=cst.Name(function)), args=args
    )
