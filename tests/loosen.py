"""A mechanical "loosener": the inverse of ``emberlint fix`` on strict MLX code, for round-trip tests.

``loosen_source(text)`` rewrites

* ``mx.add/subtract/multiply/divide/matmul/power(a, b)`` into ``a + b``, ``a - b``, ``a * b``, ``a / b``,
  ``a @ b``, ``a ** b`` and ``mx.negative(a)`` into ``-a``, with exactly the parentheses Python's precedence
  needs (``mx.subtract(a, mx.subtract(b, c))`` -> ``a - (b - c)``, ``mx.power(mx.negative(a), b)`` ->
  ``(-a) ** b``); calls with keywords, ``*args`` or another arity are left alone;
* a typed scalar of a number literal, ``mx.array(0.5, dtype=x.dtype)`` or ``typed_scalar(0.5, x.dtype)``, that is
  an operand of such a call into the bare literal (``x * 0.5``), never both operands of one call (that would be
  Python arithmetic); a local constant ``half = typed_scalar(0.5, x.dtype)`` whose every use is such an operand
  is inlined and its assignment dropped.

Why the literals are exact: MLX treats a Python number as weakly typed, it takes the dtype of the array it meets
(float literals next to floating arrays, int literals next to any numeric array), and is rounded to that dtype
once, exactly as ``mx.array(value, dtype=...)`` rounds it. That holds when the typed scalar's dtype is the other
operand's dtype, which the loosener cannot see; the round-trip test checks it on the model outputs.

Everything is counted (``Loosening.operators`` by symbol, ``Loosening.literals``, ``Loosening.inlined``) so
tests can assert exactly what was loosened.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import libcst as cst

BINARY = {
    "add": cst.Add, "subtract": cst.Subtract, "multiply": cst.Multiply, "divide": cst.Divide,
    "matmul": cst.MatrixMultiply, "power": cst.Power,
}
SYMBOL = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "matmul": "@", "power": "**", "negative": "unary -"}

# Python's operator precedence, loosest to tightest (only what operands can be).
LAMBDA, IFEXP, OR, AND, NOT, COMPARE, BIT_OR, BIT_XOR, BIT_AND, SHIFT, SUM, PRODUCT, UNARY, POWER, AWAIT, ATOM = \
    range(16)
BINARY_PRECEDENCE = {
    cst.BitOr: BIT_OR, cst.BitXor: BIT_XOR, cst.BitAnd: BIT_AND, cst.LeftShift: SHIFT, cst.RightShift: SHIFT,
    cst.Add: SUM, cst.Subtract: SUM, cst.Multiply: PRODUCT, cst.Divide: PRODUCT, cst.FloorDivide: PRODUCT,
    cst.Modulo: PRODUCT, cst.MatrixMultiply: PRODUCT, cst.Power: POWER,
}


def precedence(node: cst.BaseExpression) -> int:
    """How tightly ``node`` binds as written (a parenthesized expression is an atom)."""
    if getattr(node, "lpar", None):
        return ATOM
    if isinstance(node, cst.BinaryOperation):
        return BINARY_PRECEDENCE[type(node.operator)]
    if isinstance(node, cst.UnaryOperation):
        return NOT if isinstance(node.operator, cst.Not) else UNARY
    if isinstance(node, cst.BooleanOperation):
        return AND if isinstance(node.operator, cst.And) else OR
    if isinstance(node, cst.Comparison):
        return COMPARE
    if isinstance(node, cst.IfExp):
        return IFEXP
    if isinstance(node, cst.Await):
        return AWAIT
    if isinstance(node, (cst.Lambda, cst.NamedExpr, cst.Yield)):
        return LAMBDA - 1
    return ATOM


def parenthesized(node: cst.BaseExpression, needed: bool) -> cst.BaseExpression:
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if needed else node


def binary(name: str, left: cst.BaseExpression, right: cst.BaseExpression) -> cst.BinaryOperation:
    """``left <op> right`` with the parentheses the operands need."""
    operator = BINARY[name]
    own = BINARY_PRECEDENCE[operator]
    if own == POWER:  # right-associative; binds tighter than a unary minus on its left, looser on its right
        left = parenthesized(left, precedence(left) <= POWER)
        right = parenthesized(right, precedence(right) < UNARY)
    else:
        left = parenthesized(left, precedence(left) < own)
        right = parenthesized(right, precedence(right) <= own)
    return cst.BinaryOperation(left=left, operator=operator(), right=right)


def negative(operand: cst.BaseExpression) -> cst.UnaryOperation:
    return cst.UnaryOperation(operator=cst.Minus(), expression=parenthesized(operand, precedence(operand) < UNARY))


def _is_number(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float)) and not node.lpar


def _is_dtype_of(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "dtype"


def _mx_function(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "mx":
        return func.attr.value
    return None


def typed_literal(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The literal of ``mx.array(LIT, dtype=E.dtype)`` / ``typed_scalar(LIT, E.dtype)``, else None."""
    if not isinstance(node, cst.Call) or node.lpar:
        return None
    args = node.args
    if _mx_function(node) == "array" and len(args) == 2:
        value, dtype = args
        if value.keyword is None and dtype.keyword is not None and dtype.keyword.value == "dtype":
            return value.value if _is_number(value.value) and _is_dtype_of(dtype.value) else None
    if isinstance(node.func, cst.Name) and node.func.value == "typed_scalar" and len(args) == 2:
        value, dtype = args
        if value.keyword is None and dtype.keyword is None and not value.star and not dtype.star:
            return value.value if _is_number(value.value) and _is_dtype_of(dtype.value) else None
    return None


def operands(call: cst.Call) -> list[cst.BaseExpression] | None:
    """The operands of a loosenable ``mx`` arithmetic call, else None."""
    name = _mx_function(call)
    arity = 1 if name == "negative" else 2 if name in BINARY else 0
    if not arity or len(call.args) != arity or any(a.keyword is not None or a.star for a in call.args):
        return None
    return [a.value for a in call.args]


@dataclass
class Loosening:
    """What ``loosen_source`` changed."""

    text: str
    operators: Counter = field(default_factory=Counter)
    literals: int = 0
    inlined: list[str] = field(default_factory=list)

    @property
    def operator_count(self) -> int:
        return sum(self.operators.values())


class _Constants(cst.CSTVisitor):
    """Local typed-literal constants of one function body whose every use is an operand of a loosenable call."""

    def __init__(self) -> None:
        self.values: dict[str, cst.BaseExpression] = {}
        self.assignments: Counter = Counter()
        self.uses: Counter = Counter()
        self.operand_uses: Counter = Counter()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # nested functions have their own scope (handled when the transformer reaches them)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.assignments[target.target.value] += 1
                literal = typed_literal(node.value)
                if literal is not None and len(node.targets) == 1:
                    self.values[target.target.value] = literal

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return False  # a target is not a use

    def visit_Name(self, node: cst.Name) -> None:
        self.uses[node.value] += 1

    def visit_Call(self, node: cst.Call) -> None:
        found = operands(node)
        if found is None or len(found) != 2:
            return
        for index, operand in enumerate(found):
            other = found[1 - index]
            other_is_constant = isinstance(other, cst.Name) and other.value in self.values
            if isinstance(operand, cst.Name) and not other_is_constant and typed_literal(other) is None:
                self.operand_uses[operand.value] += 1

    def inlinable(self) -> dict[str, cst.BaseExpression]:
        return {
            name: literal for name, literal in self.values.items()
            if self.assignments[name] == 1 and self.uses[name] == self.operand_uses[name] > 0
        }


class Loosener(cst.CSTTransformer):
    """The rewriting described in the module docstring; counts land in ``self.result``."""

    def __init__(self) -> None:
        super().__init__()
        self.result = Loosening("")
        self._constants: list[dict[str, cst.BaseExpression]] = [{}]
        self._ours: list[cst.CSTNode] = []  # operations this transformer built (kept alive: compared by id)

    def _is_ours(self, node: cst.CSTNode) -> bool:
        return any(node is mine for mine in self._ours)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scan = _Constants()
        node.body.visit(scan)
        self._constants.append(scan.inlinable())

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.result.inlined.extend(self._constants.pop())
        return updated

    def leave_SimpleStatementLine(self, original, updated):
        body = updated.body
        if len(body) == 1 and isinstance(body[0], cst.Assign) and len(body[0].targets) == 1:
            target = body[0].targets[0].target
            if isinstance(target, cst.Name) and target.value in self._constants[-1]:
                return cst.RemoveFromParent()
        return updated

    def _literal(self, operand: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(operand, cst.Name) and operand.value in self._constants[-1]:
            return self._constants[-1][operand.value]
        return typed_literal(operand)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        found = operands(updated)
        if found is None:
            return updated
        name = _mx_function(updated)
        if name == "negative":
            new: cst.BaseExpression = negative(found[0])
        else:
            literals = [self._literal(op) for op in found]
            if (literals[0] is None) != (literals[1] is None):  # exactly one operand is a typed literal
                self.result.literals += 1
                found = [lit if lit is not None else op for lit, op in zip(literals, found)]
            new = binary(name, *found)
        self.result.operators[SYMBOL[name]] += 1
        # Parenthesized until its context shows they are not needed (``_unwrap``): always correct, rarely redundant.
        new = parenthesized(new, True)
        self._ours.append(new)
        return new

    def _unwrap(self, node: cst.BaseExpression) -> cst.BaseExpression:
        """Our parenthesized operation without its parentheses, where the context never needs them (call
        arguments, which includes the operands of a call loosened next: ``binary`` adds what they need)."""
        return node.with_changes(lpar=[], rpar=[]) if self._is_ours(node) else node

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated if updated.star else updated.with_changes(value=self._unwrap(updated.value))

    def leave_Element(self, original: cst.Element, updated: cst.Element) -> cst.Element:
        return updated.with_changes(value=self._unwrap(updated.value))

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        return updated.with_changes(value=self._unwrap(updated.value)) if updated.value else updated

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        return updated.with_changes(value=self._unwrap(updated.value))


def loosen_source(text: str) -> Loosening:
    """``text`` with its ``mx`` arithmetic calls turned into operators and typed literals into bare ones."""
    loosener = Loosener()
    module = cst.parse_module(text).visit(loosener)
    loosener.result.text = module.code
    return loosener.result
