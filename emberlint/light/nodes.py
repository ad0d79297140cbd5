"""The light node classes: one per LibCST node type the tree models, named after it (``Call``, ``Arg``,
``BinaryOperation``...), with the fields rules read (``func``, ``args``, ``keyword``...) in LibCST's structure, and
registered as virtual subclasses of LibCST's classes, so rule code written against LibCST (``isinstance(node,
cst.Call)``) runs on them unchanged. No whitespace, commas or comments are kept."""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst

from emberlint import walk as _walk
from emberlint.light.materialization import counters, materialize


class LightNode:
    """Base of the light node classes. ``_ast``: the ast node holding the position (or None); ``_parent``."""

    __slots__ = ("_ast", "_parent", "_tree", "_real")
    FIELDS: tuple[str, ...] = ()
    EXPRESSION = False
    LIGHT = True

    def __getattr__(self, name: str) -> Any:
        """A field the light tree does not model: read from the LibCST node (parsed on demand), and counted."""
        if name.startswith("__") or name in LightNode.__slots__:
            raise AttributeError(name)
        counters.fallbacks += 1
        return getattr(materialize(self), name)

    def __repr__(self) -> str:
        return f"light.{type(self).__name__}"

    # LibCST API used by rules and fixers ------------------------------------------------------------------
    @property
    def lpar(self) -> Any:
        if not self.EXPRESSION or not self._tree.parenthesized(self):
            return ()
        return materialize(self).lpar

    @property
    def rpar(self) -> Any:
        if not self.EXPRESSION or not self._tree.parenthesized(self):
            return ()
        return materialize(self).rpar

    def with_changes(self, **changes: Any) -> cst.CSTNode:
        return materialize(self).with_changes(**changes)

    def visit(self, visitor: cst.CSTVisitor) -> LightNode:
        """Read-only visits only (what rules and fixers do): ``visitor`` sees the light nodes."""
        _walk.walk(self, visitor)
        return self

    def _codegen(self, state: Any, *args: Any, **kwargs: Any) -> None:
        text = None
        if not args and not kwargs:
            # outside any block (no indentation to add) a multi-line expression is its source text too
            text = self._tree.own_text(self) if state.indent_tokens else self._tree.code_text(self)
        if text is not None:
            state.add_token(text)
        else:
            materialize(self)._codegen(state, *args, **kwargs)


_CLASSES: dict[str, type] = {}


class _Number:
    __slots__ = ()

    @property
    def evaluated_value(self) -> Any:
        return ast.literal_eval(self.value)


class _Operator:
    """An operator's surrounding whitespace, read from the source when it is plain spaces on one line (LibCST
    is asked otherwise: comments, line breaks)."""

    __slots__ = ()

    @property
    def whitespace_before(self) -> Any:
        return self._tree.operator_whitespace(self, 0)

    @property
    def whitespace_after(self) -> Any:
        return self._tree.operator_whitespace(self, 1)


_DATA_FIELDS = {"star", "evaluated_value"}  # fields that hold no node (strings, flags); ``value`` too in these:
_VALUE_IS_DATA = {"Name", "Integer", "Float", "Imaginary", "SimpleString", "FormattedStringText"}


def _data_fields(name: str) -> set[str]:
    return _DATA_FIELDS | ({"value"} if name in _VALUE_IS_DATA else set())


def _define(name: str, fields: str = "", expression: bool = False, mixin: type | None = None) -> type:
    names = tuple(fields.split())
    bases = (mixin, LightNode) if mixin is not None else (LightNode,)
    cls = type(name, bases, {"__slots__": names, "FIELDS": names, "EXPRESSION": expression})
    getattr(cst, name).register(cls)
    _CLASSES[name] = cls
    data = _data_fields(name)
    _walk.register_light_type(cls, names, tuple(field for field in names if field not in data))
    return cls


for _name, _fields in {
    "Name": "value", "Attribute": "value attr", "Call": "func args",
    "BinaryOperation": "left operator right", "UnaryOperation": "operator expression",
    "BooleanOperation": "left operator right", "Comparison": "left comparisons", "SimpleString": "value evaluated_value",
    "ConcatenatedString": "left right evaluated_value", "FormattedString": "parts", "Tuple": "elements",
    "List": "elements", "Set": "elements", "Dict": "elements", "Subscript": "value slice", "IfExp": "body test orelse",
    "Lambda": "params body", "ListComp": "elt for_in", "SetComp": "elt for_in", "GeneratorExp": "elt for_in",
    "DictComp": "key value for_in", "Yield": "value", "Await": "expression", "NamedExpr": "target value",
    "Ellipsis": "",
}.items():
    _define(_name, _fields, expression=True)
for _name in ("Integer", "Float", "Imaginary"):
    _define(_name, "value", expression=True, mixin=_Number)

for _name, _fields in {
    "Module": "body", "Arg": "keyword value star", "SimpleStatementLine": "body", "SimpleStatementSuite": "body", "IndentedBlock": "body",
    "Expr": "value", "Assign": "targets value", "AssignTarget": "target", "AnnAssign": "target annotation value",
    "Annotation": "annotation", "AugAssign": "target operator value", "Return": "value", "Raise": "exc cause",
    "From": "item", "Assert": "test msg", "Del": "target", "Pass": "", "Break": "", "Continue": "",
    "Import": "names", "ImportFrom": "module names relative", "ImportAlias": "name asname", "AsName": "name",
    "ImportStar": "", "Global": "names", "Nonlocal": "names", "NameItem": "name",
    "FunctionDef": "decorators asynchronous name params returns body", "Decorator": "decorator",
    "Parameters": "posonly_params params star_arg kwonly_params star_kwarg", "Param": "name annotation default star",
    "ParamStar": "", "ClassDef": "decorators name bases keywords body", "If": "test body orelse", "Else": "body",
    "For": "asynchronous target iter body orelse", "While": "test body orelse",
    "Try": "body handlers orelse finalbody", "TryStar": "body handlers orelse finalbody",
    "ExceptHandler": "type name body", "ExceptStarHandler": "type name body", "Finally": "body",
    "With": "asynchronous items body", "WithItem": "item asname", "Element": "value", "StarredElement": "value",
    "DictElement": "key value", "StarredDictElement": "value", "SubscriptElement": "slice", "Index": "value",
    "Slice": "lower upper step", "CompFor": "target iter ifs inner_for_in", "CompIf": "test",
    "ComparisonTarget": "operator comparator", "FormattedStringText": "value",
    "FormattedStringExpression": "expression format_spec", "Match": "subject cases", "MatchCase": "guard body",
    "Asynchronous": "", "Dot": "",
}.items():
    _define(_name, _fields)

_OPERATORS = {
    ast.Add: "Add", ast.Sub: "Subtract", ast.Mult: "Multiply", ast.Div: "Divide", ast.FloorDiv: "FloorDivide",
    ast.Mod: "Modulo", ast.Pow: "Power", ast.MatMult: "MatrixMultiply", ast.LShift: "LeftShift",
    ast.RShift: "RightShift", ast.BitOr: "BitOr", ast.BitAnd: "BitAnd", ast.BitXor: "BitXor",
    ast.USub: "Minus", ast.UAdd: "Plus", ast.Not: "Not", ast.Invert: "BitInvert", ast.And: "And", ast.Or: "Or",
    ast.Eq: "Equal", ast.NotEq: "NotEqual", ast.Lt: "LessThan", ast.LtE: "LessThanEqual", ast.Gt: "GreaterThan",
    ast.GtE: "GreaterThanEqual", ast.In: "In", ast.NotIn: "NotIn", ast.Is: "Is", ast.IsNot: "IsNot",
}
_AUGMENTED = {kind: name + "Assign" for kind, name in _OPERATORS.items() if kind not in
              (ast.USub, ast.UAdd, ast.Not, ast.Invert, ast.And, ast.Or) and not issubclass(kind, ast.cmpop)}
for _name in {*_OPERATORS.values(), *_AUGMENTED.values()}:
    _define(_name, mixin=_Operator)


def constructor(kind: str) -> Any:
    """The constructor of the light class named ``kind``, as a method of the tree builder (which holds the
    ``tree``): ``builder.Name(source, value="x")``. Fields are set directly and children linked to their parent;
    named parameters, not ``**fields``: packing and unpacking a dict made a node cost four times as much."""
    cls = _CLASSES[kind]
    fields = cls.FIELDS
    data = _data_fields(kind)
    lines = [f"def {kind}(builder, source{''.join(', ' + f + '=None' for f in fields)}):",
             "    node = new(cls)", "    node._ast = source", "    node._tree = builder.tree", "    node._parent = None",
             "    node._real = None"]
    for field in fields:
        lines.append(f"    node.{field} = {field}")
        if field not in data:
            lines += [f"    if {field} is not None:",
                      f"        if {field}.__class__ is list:",
                      f"            for item in {field}:",
                      "                item._parent = node",
                      "        else:",
                      f"            {field}._parent = node"]
    lines.append("    return node")
    namespace = {"new": object.__new__, "cls": cls}
    exec("\n".join(lines), namespace)
    return namespace[kind]


KINDS = tuple(_CLASSES)
OPERATORS = _OPERATORS
AUGMENTED = _AUGMENTED
