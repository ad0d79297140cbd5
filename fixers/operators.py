"""Rewrite ``a * b`` into ``mx.multiply(a, b)`` (or ``torch.mul(a, b)``), ``-a`` into ``mx.negative(a)`` and
``x *= y`` into ``x = mx.multiply(x, y)``."""

from __future__ import annotations

import functools

import libcst as cst

from emberlint.fixers.deferred import Deferred
from emberlint.light import real_subtree

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


def has_comment(node: cst.CSTNode) -> bool:
    """Whether ``node`` (whitespace included) holds a comment."""
    return any(type(item) is cst.Comment for item in real_subtree(node))


def comments_of(node: cst.CSTNode) -> list[str]:
    return [item.value for item in real_subtree(node) if type(item) is cst.Comment]


def dotted_expression(text: str) -> cst.BaseExpression:
    """``mx.multiply`` -> Attribute(Name("mx"), Name("multiply")), without running the parser."""
    first, *rest = text.split(".")
    expression: cst.BaseExpression = cst.Name(first)
    for part in rest:
        expression = cst.Attribute(value=expression, attr=cst.Name(part))
    return expression


#: operands whose parentheses stay when they become call arguments
_KEEP_PARENS = (cst.Tuple, cst.GeneratorExp, cst.Yield)


def strip_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    """Operands become call arguments, where their grouping parentheses are not needed (tuples keep theirs, and
    so do parentheses that hold a comment)."""
    if isinstance(node, _KEEP_PARENS) or not getattr(node, "lpar", None):
        return node
    if any(has_comment(paren) for paren in (*node.lpar, *node.rpar)):
        return node
    return node.with_changes(lpar=[], rpar=[])


def call(callee: str, *args: cst.BaseExpression, comma: cst.Comma | None = None) -> cst.Call:
    """``callee(args...)``; ``callee`` is how the file spells the function (``mx.multiply`` or ``multiply``).
    ``comma`` separates the first two arguments (it carries the comments around a binary operator)."""
    arguments = [cst.Arg(strip_parens(arg)) for arg in args]
    if comma is not None and len(arguments) > 1:
        arguments[0] = arguments[0].with_changes(comma=comma)
    return cst.Call(func=dotted_expression(callee), args=arguments)


def _operator_comma(operator: cst.CSTNode) -> cst.Comma | None:
    """A comma keeping the comments written before and after the operator (``a  # note\n * b``), else None."""
    if getattr(type(operator), "LIGHT", False) and operator._parent is not None and no_comment(operator._parent):
        return None  # no ``#`` in the operation's source: no comment to keep (and no LibCST parse to find out)
    before = getattr(operator, "whitespace_before", None)
    after = getattr(operator, "whitespace_after", None)
    before_comment = before is not None and has_comment(before)
    after_comment = after is not None and has_comment(after)
    if not (before_comment or after_comment):
        return None
    if before_comment and not after_comment:
        return cst.Comma(whitespace_after=before)
    return cst.Comma(whitespace_before=before if before_comment else cst.SimpleWhitespace(""), whitespace_after=after)


def no_comment(node: cst.CSTNode) -> bool:
    """A light node whose source text (parentheses included) has no ``#``: it holds no comment. False when that
    cannot be told from the source alone (then LibCST's tree decides)."""
    if not getattr(type(node), "LIGHT", False):
        return False
    tree = node._tree
    if tree.comment_free_statement(node):
        return True
    bounds = tree.bounds(node)
    if bounds is None:
        return False
    widened = tree.outer(node, bounds) if node.EXPRESSION else bounds
    return widened is not None and "#" not in tree.text(*widened)


def keeps_comments(old: cst.CSTNode, new: cst.CSTNode) -> bool:
    """Whether the replacement holds every comment of the original (else the rule offers no fix). A light node
    whose source text (parentheses included) has no ``#`` has no comment to lose, and replacements add none."""
    if no_comment(old):
        return True
    return sorted(comments_of(old)) == sorted(comments_of(new))


def lossless(old: cst.CSTNode, build) -> cst.CSTNode | Deferred | None:
    """The replacement ``build()`` makes of ``old``, None when it would lose a comment. Without a comment in
    ``old`` there is nothing to compare: the node is built only when the fix is printed (``Deferred``)."""
    if no_comment(old):
        return Deferred(build)
    new = build()
    return new if keeps_comments(old, new) else None


def binary_to_call(node: cst.BinaryOperation, callee: str) -> cst.Call:
    """``f(left, right)``. The operation's own parentheses are not copied: the fix keeps them where they are, or
    drops them when a call does not need them (``emberlint.layout.droppable_parens``)."""
    comma = _operator_comma(node.operator)
    return call(callee, node.left, node.right, comma=comma).with_changes(**_commented_parens(node))


def binary_call_text(node: cst.BinaryOperation, callee: str) -> str | None:
    """The code ``binary_to_call`` gives, read off the source where that is plain: an operation of the light tree
    on one line with no ``#`` (its parentheses included), whose operands lose their grouping parentheses as call
    arguments (not tuples, generators or ``yield``). None otherwise (the node is built)."""
    tree = getattr(node, "_tree", None)
    if tree is None or not no_comment(node) or tree.line_text(node) is None:
        return None
    operands = []
    for operand in (node.left, node.right):
        if isinstance(operand, _KEEP_PARENS):
            return None
        text = tree.line_text(operand)
        if text is None:
            return None
        operands.append(text)
    return f"{callee}({operands[0]}, {operands[1]})"


def broken_call_text(node: cst.BinaryOperation, callee: str, layout) -> str | None:
    """The code ``binary_to_call`` laid out one argument per line (``Layout.broken_call``) gives for a multi-line
    operation, read off the source where that is plain: a light node with no ``#``, backslash, carriage return,
    triple quote or blank line, whose operands are not tuples, generators or ``yield``. None otherwise."""
    tree = getattr(node, "_tree", None)
    if tree is None or tree.default_newline != "\n" or not no_comment(node):
        return None
    broken = layout.broken_call(node, [node.left, node.right], callee)
    if broken is None:
        return None
    arguments = []
    for operand, shift in zip((node.left, node.right), broken.shifts):
        bounds = tree.bounds(operand)
        if bounds is None or isinstance(operand, _KEEP_PARENS):
            return None
        text = tree.text(*bounds)
        lines = text.split("\n")
        if any(mark in text for mark in ("\\", "\r", '"""', "'''")) or not all(line.strip() for line in lines):
            return None
        arguments.append("\n".join([lines[0], *(_shifted(line, shift, broken.block) for line in lines[1:])]))
    inner, outer = broken.inner, broken.outer
    return f"{callee}(\n{inner}{arguments[0]},\n{inner}{arguments[1]},\n{outer})"


def _shifted(line: str, shift: str, block: str) -> str:
    """A continuation line moved right by ``shift``, which the printer puts after the block's indentation."""
    return block + shift + line[len(block):] if line.startswith(block) else shift + line


def _commented_parens(node: cst.CSTNode) -> dict:
    """The node's parentheses when a comment sits in them (they stay, with the comment), else none."""
    parens = [*node.lpar, *node.rpar]
    if parens and any(has_comment(paren) for paren in parens):
        return {"lpar": node.lpar, "rpar": node.rpar}
    return {}


def operator_has_comment(node: cst.CSTNode) -> bool:
    """Whether the whitespace around the operator of a binary operation or augmented assignment holds a comment."""
    return _operator_comma(node.operator) is not None


def unary_to_call(node: cst.UnaryOperation, callee: str) -> cst.Call:
    result = call(callee, node.expression).with_changes(**_commented_parens(node))
    after = node.operator.whitespace_after
    if has_comment(after):
        result = result.with_changes(whitespace_before_args=after)
    return result


def augmented_to_assign(node: cst.AugAssign, callee: str) -> cst.Assign:
    """``x op= y`` -> ``x = f(x, y)``. The statement's semicolon lies outside its range and stays where it is."""
    target = node.target
    comma = _operator_comma(node.operator)
    value = call(callee, target, node.value, comma=comma)
    return cst.Assign(targets=[cst.AssignTarget(target=target)], value=value)
