"""Turn a Python number into a typed backend scalar: ``0.5`` -> ``mx.array(0.5, dtype=x.dtype)`` (MLX) or
``torch.tensor(0.5, dtype=x.dtype, device=x.device)`` (PyTorch). A pure rewrite: which dtype, and whether the
rewrite is exact, is ``emberlint.scalar_facts``' business.
"""

from __future__ import annotations

import libcst as cst

from emberlint.fixers.operators import dotted_expression
from emberlint.syntax import kind, without_parens

CONSTRUCTOR = {"mlx": "array", "torch": "tensor"}


def typed_scalar(
    value: cst.BaseExpression,
    ref_text: str,
    backend: str,
    dtype: cst.BaseExpression,
    device: cst.BaseExpression | None = None,
) -> cst.Call:
    """``<ref>.array(value, dtype=dtype)`` for MLX, ``<ref>.tensor(value, dtype=dtype[, device=device])`` for torch."""
    func = dotted_expression(f"{ref_text}.{CONSTRUCTOR[backend]}")
    args = [cst.Arg(without_parens(value)), _keyword("dtype", dtype)]
    if backend == "torch" and device is not None:
        args.append(_keyword("device", device))
    return cst.Call(func=func, args=args)


def typed_scalar_text(value_text: str, ref_text: str, backend: str, dtype_text: str,
                      device_text: str | None = None) -> str:
    """The code ``typed_scalar`` prints, from the code of its parts (``value_text`` without the value's own
    parentheses): what a message shows, without building the node."""
    device = f", device={device_text}" if backend == "torch" and device_text is not None else ""
    return f"{ref_text}.{CONSTRUCTOR[backend]}({value_text}, dtype={dtype_text}{device})"


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def is_plain_reference(node: cst.BaseExpression) -> bool:
    """A name or a dotted attribute chain (``x``, ``self.weight``): safe to evaluate twice."""
    while kind(node) == "Attribute":
        node = node.value
    return kind(node) == "Name"
