"""Rewrite ``a * b`` into ``mx.multiply(a, b)`` (or ``torch.mul(a, b)``), ``-a`` into ``mx.negative(a)`` and
``x *= y`` into ``x = mx.multiply(x, y)``."""

from __future__ import annotations

import functools

import libcst as cst

from emberlint.api_facts import load_table


@functools.lru_cache(maxsize=1)
def operator_table() -> dict:
    return load_table("operators")


def function_for(operator: cst.CSTNode, backend: str) -> str | None:
    """The backend function name for a LibCST operator node (``Multiply`` -> ``multiply``/``mul``)."""
    table = operator_table()
    name = type(operator).__name__
    name = table["augmented"].get(name, name)
    entry = table["binary"].get(name) or table["unary"].get(name)
    return entry.get(backend) if entry else None


def symbol_of(operator: cst.CSTNode) -> str:
    table = operator_table()
    name = type(operator).__name__
    return table["symbols"].get(table["augmented"].get(name, name), name)


def strip_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    """Operands become call arguments, where their grouping parentheses are not needed (tuples keep theirs)."""
    if isinstance(node, (cst.Tuple, cst.GeneratorExp, cst.Yield)) or not getattr(node, "lpar", None):
        return node
    return node.with_changes(lpar=[], rpar=[])


def call(module_text: str, function: str, *args: cst.BaseExpression) -> cst.Call:
    func = cst.parse_expression(f"{module_text}.{function}")
    arguments = [cst.Arg(strip_parens(arg)) for arg in args]
    return cst.Call(func=func, args=arguments)


def binary_to_call(node: cst.BinaryOperation, module_text: str, function: str) -> cst.Call:
    return call(module_text, function, node.left, node.right).with_changes(lpar=node.lpar, rpar=node.rpar)


def unary_to_call(node: cst.UnaryOperation, module_text: str, function: str) -> cst.Call:
    return call(module_text, function, node.expression).with_changes(lpar=node.lpar, rpar=node.rpar)


def augmented_to_assign(node: cst.AugAssign, module_text: str, function: str) -> cst.Assign:
    target = node.target
    value = call(module_text, function, target, node.value)
    return cst.Assign(targets=[cst.AssignTarget(target=target)], value=value, semicolon=node.semicolon)
