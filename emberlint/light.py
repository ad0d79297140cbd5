"""A light, read-only tree with LibCST's shapes, built from CPython's ``ast`` (about ten times cheaper than a
LibCST parse), on which the rules detect.

Every class is named after its LibCST node (``Call``, ``Arg``, ``BinaryOperation``...), has the fields rules read
(``func``, ``args``, ``keyword``, ``left``, ``operator``...) with LibCST's structure (``Arg`` wrappers, ``Index``
subscript elements, ``AssignTarget``, nested ``BooleanOperation``...) and is registered as a virtual subclass of
that LibCST class, so rule code written against LibCST (``isinstance(node, cst.Call)``) runs on it unchanged. No
whitespace, commas or comments are kept: the ``walk`` of a light module visits about a third of the nodes of a
LibCST module.

What it does not model, it gets from LibCST when asked: ``materialize(node)`` parses the smallest piece of source
that holds the node (its own text for a one-line expression, else the statement of its block) and follows the
same path down the real tree. Fixers use that for whitespace, comments and parentheses; ``_codegen`` of a one-line
expression writes its own source text, which is what LibCST would write. Positions are LibCST's syntactic
positions (parentheses excluded), taken from ``ast``'s and converted from UTF-8 bytes to characters.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import libcst as cst
from libcst.metadata import CodePosition, CodeRange

from emberlint import walk as _walk
from emberlint.lines import first_line_end, split_lines


class LightNode:
    """Base of the light node classes. ``_ast``: the ast node holding the position (or None); ``_parent``."""

    __slots__ = ("_ast", "_parent", "_tree", "_real")
    FIELDS: tuple[str, ...] = ()
    EXPRESSION = False
    LIGHT = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in LightNode.__slots__:
            raise AttributeError(name)
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
        text = self._tree.own_text(self) if not args and not kwargs else None
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


def _define(name: str, fields: str = "", expression: bool = False, mixin: type | None = None) -> type:
    names = tuple(fields.split())
    bases = (mixin, LightNode) if mixin is not None else (LightNode,)
    cls = type(name, bases, {"__slots__": names, "FIELDS": names, "EXPRESSION": expression})
    getattr(cst, name).register(cls)
    _CLASSES[name] = cls
    _walk.register_light_type(cls, names)
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


_DATA_FIELDS = {"star", "evaluated_value"}
_VALUE_IS_DATA = {"Name", "Integer", "Float", "Imaginary", "SimpleString", "FormattedStringText"}
_MAKERS: dict[str, Any] = {}


def _maker(cls: type) -> Any:
    """A constructor for one light class: fields set directly, children linked to their parent."""
    fields = cls.FIELDS
    data = _DATA_FIELDS | ({"value"} if cls.__name__ in _VALUE_IS_DATA else set())
    lines = [f"def make(source, tree{''.join(', ' + f + '=None' for f in fields)}):",
             "    node = new(cls)", "    node._ast = source", "    node._tree = tree", "    node._parent = None",
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
    return namespace["make"]


_UNDECIDED = object()
_STRING_START = re.compile(r"[rRbBuUfF]{0,2}('''|\"\"\"|'|\")")


class LightTree:
    """The light module of one source text, and the source-level facts its nodes ask for."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = split_lines(source)
        self._byte_lines: dict[int, bytes] = {}
        self._real_statements: dict[int, cst.CSTNode] = {}
        self.module: LightNode | None = None  # set by ``build``

    @property
    def default_newline(self) -> str:
        return first_line_end(self.source)

    def positions(self, nodes) -> dict:
        found = {}
        for node in nodes:
            if node not in found:
                code_range = self.range_of(node)
                if code_range is not None:
                    found[node] = code_range
        return found

    # --- positions --------------------------------------------------------------------------------------
    def column(self, line: int, byte_column: int) -> int:
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        if text.isascii():
            return byte_column
        data = self._byte_lines.get(line)
        if data is None:
            data = self._byte_lines[line] = text.encode("utf-8")
        return len(data[:byte_column].decode("utf-8", "replace"))

    def range_of(self, node: LightNode) -> CodeRange | None:
        """LibCST's syntactic range of ``node`` (0-based columns): its own parentheses excluded."""
        bounds = self.bounds(node)
        if bounds is None:
            return None
        (line, col), (end_line, end_col) = bounds
        return CodeRange(CodePosition(line, col), CodePosition(end_line, end_col))

    def bounds(self, node: LightNode) -> tuple[tuple[int, int], tuple[int, int]] | None:
        special = _BOUNDS.get(type(node).__name__)
        if special is not None:
            return special(self, node)
        source = node._ast
        if source is None or getattr(source, "lineno", None) is None:
            return None
        start, end = self.bounds_of_ast(source)
        if type(node).__name__ in ("Tuple", "GeneratorExp") and self._owns_parens(node, start, end):
            start, end = (start[0], start[1] + 1), (end[0], end[1] - 1)
        return start, end

    def bounds_of_ast(self, source: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
        start = (source.lineno, self.column(source.lineno, source.col_offset))
        end = (source.end_lineno, self.column(source.end_lineno, source.end_col_offset))
        return start, end

    def _owns_parens(self, node: LightNode, start, end) -> bool:
        """A Tuple's/GeneratorExp's ast range includes its own parentheses (LibCST's does not)."""
        if self.char(start) != "(":
            return False
        if type(node).__name__ == "GeneratorExp":
            return True
        elements = node.elements
        owns = self.tuple_owns_paren(start, elements[0].value if elements else None)
        if owns is None:
            return node._parent is not None and bool(materialize(node).lpar)
        return owns

    def tuple_owns_paren(self, start, first: LightNode | None) -> bool | None:
        """Whether the ``(`` at ``start`` is the tuple's own rather than its first element's (``(a), b``);
        None when a comment keeps the source scan from telling."""
        if first is None:
            return True
        bounds = self.bounds(first)
        if bounds is None:
            return False
        widened = self.outer(first, bounds)
        return None if widened is None else widened[0] != start

    def char(self, position: tuple[int, int]) -> str:
        line, col = position
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return text[col] if col < len(text) else "\n"

    # --- parentheses and text ---------------------------------------------------------------------------
    def parenthesized(self, node: LightNode) -> bool:
        bounds = self.bounds(node)
        if bounds is None:
            return False
        if type(node).__name__ == "GeneratorExp":
            return self._genexp_has_own_parens(node, bounds)
        widened = self.outer(node, bounds)
        if widened is None:
            return bool(materialize(node).lpar)
        return widened != bounds

    def _genexp_has_own_parens(self, node: LightNode, bounds) -> bool:
        parent = node._parent
        call = parent._parent if parent is not None and type(parent).__name__ == "Arg" else None
        if call is not None and type(call).__name__ == "Call" and len(call.args) == 1 and call._ast is not None:
            source = node._ast
            if (source.end_lineno, source.end_col_offset) == (call._ast.end_lineno, call._ast.end_col_offset):
                return False  # ``f(x for x in y)``: the call's parentheses
        return True

    def outer(self, node: LightNode, bounds) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """``bounds`` widened over the grouping parentheses around the node (what LibCST's codegen writes); None
        when a comment stands between the node and what precedes it (then only LibCST can tell)."""
        start, end = bounds
        if type(node).__name__ == "GeneratorExp":
            if not self._genexp_has_own_parens(node, bounds):
                return bounds
            start, end = (start[0], start[1] - 1), (end[0], end[1] + 1)
        elif type(node).__name__ == "Tuple" and node._ast is not None:
            if self.bounds_of_ast(node._ast)[0] != start:
                start, end = (start[0], start[1] - 1), (end[0], end[1] + 1)
        while True:
            before = self._previous_significant(start)
            if before is _UNDECIDED:
                return None
            after = self._next_significant(end)
            if before is None or after is None or self.char(before) != "(" or self.char(after) != ")":
                return start, end
            grouping = self._grouping(before)
            if grouping is None:
                return None
            if not grouping:
                return start, end
            start, end = before, (after[0], after[1] + 1)

    def _previous_significant(self, position):
        line, col = position
        while True:
            text = self.lines[line - 1][:col] if line - 1 < len(self.lines) else ""
            stripped = text.rstrip(" \t\f")
            if stripped.endswith("\\") and not text[len(stripped):].strip(" \t\f"):
                stripped = stripped[:-1].rstrip(" \t\f")
            if stripped:
                return line, len(stripped) - 1
            line -= 1
            if line < 1:
                return None
            previous = self.lines[line - 1].rstrip("\r\n")
            if "#" in previous:
                return _UNDECIDED  # a comment may end that line: LibCST decides
            col = len(previous)

    def _next_significant(self, position):
        line, col = position
        while line - 1 < len(self.lines):
            text = self.lines[line - 1]
            index = col
            while index < len(text) and text[index] in " \t\f":
                index += 1
            if index < len(text) and text[index] == "\\" and text[index + 1:].strip() == "":
                line, col = line + 1, 0
                continue
            if index < len(text) and text[index] not in "#\r\n":
                return line, index
            line, col = line + 1, 0
        return None

    _KEYWORDS = frozenset(
        "and or not in is if else elif while for return yield await assert del lambda with as from import "
        "raise global nonlocal case match except".split()
    )

    def _grouping(self, paren) -> bool | None:
        """Whether the ``(`` at ``paren`` groups an expression (not a call's, a def's or a class's)."""
        before = self._previous_significant(paren)
        if before is _UNDECIDED:
            return None
        if before is None:
            return True
        ch = self.char(before)
        if ch in ")]" or ch in "'\"":
            return False
        if ch.isalnum() or ch == "_":
            text = self.lines[before[0] - 1][: before[1] + 1]
            word = re.search(r"[A-Za-z_0-9]+$", text)
            return word is not None and word.group(0) in self._KEYWORDS
        return True

    def text(self, start, end) -> str:
        (line, col), (end_line, end_col) = start, end
        if line == end_line:
            return self.lines[line - 1][col:end_col]
        parts = [self.lines[line - 1][col:], *self.lines[line: end_line - 1], self.lines[end_line - 1][:end_col]]
        return "".join(parts)

    def own_text(self, node: LightNode) -> str | None:
        """The source LibCST's codegen writes for a one-line expression (parentheses included), else None."""
        if not node.EXPRESSION:
            return None
        bounds = self.bounds(node)
        if bounds is None:
            return None
        widened = self.outer(node, bounds)
        if widened is None:
            return None
        start, end = widened
        if start[0] != end[0]:
            return None
        text = self.text(start, end)
        return None if "#" in text else text

    def inner_text(self, node: LightNode) -> str | None:
        """The source of a one-line expression without its grouping parentheses (a tuple keeps its own), which
        is what LibCST writes for it once they are dropped; None when only LibCST can tell."""
        if type(node).__name__ == "Tuple":
            return self.own_text(node)
        if not node.EXPRESSION or isinstance(node._ast, (ast.stmt, ast.alias)):  # names in imports, def names
            return None
        bounds = self.bounds(node)
        if bounds is None or bounds[0][0] != bounds[1][0]:
            return None
        text = self.text(*bounds)
        return None if "#" in text else text

    def operator_whitespace(self, operator: LightNode, side: int) -> Any:
        parent = operator._parent
        kind = type(parent).__name__
        gap = None
        if kind in ("BinaryOperation", "BooleanOperation", "AugAssign"):
            first, second = (parent.left, parent.right) if kind != "AugAssign" else (parent.target, parent.value)
            a, b = self.bounds(first), self.bounds(second)
            left = self.outer(first, a) if a is not None else None
            right = self.outer(second, b) if b is not None else None
            if left is not None and right is not None:
                gap = self.text(left[1], right[0])
        elif kind == "UnaryOperation":
            a, b = self.bounds(parent), self.bounds(parent.expression)
            right = self.outer(parent.expression, b) if b is not None else None
            if a is not None and right is not None:
                gap = self.text(a[0], right[0])
        if gap is None or "\n" in gap or "\r" in gap or "#" in gap or "\\" in gap or "(" in gap:
            return getattr(materialize(operator), ("whitespace_before", "whitespace_after")[side])
        symbol = gap.strip(" \t\f")
        index = gap.index(symbol) if symbol else 0
        text = gap[:index] if side == 0 else gap[index + len(symbol):]
        return cst.SimpleWhitespace(text)

    # --- LibCST counterparts ----------------------------------------------------------------------------
    def real_statement(self, statement: LightNode) -> cst.CSTNode:
        """The LibCST node of a statement of a block, parsed alone (memoized). An indented statement is parsed
        inside ``if 1:`` at its own indentation, so LibCST splits its whitespace as in the whole file."""
        found = self._real_statements.get(id(statement))
        if found is None:
            first, last = self.statement_lines(statement)
            text = "".join(self.lines[first - 1: last])
            indent = text[: len(text) - len(text.lstrip(" \t\f"))]
            if indent:
                found = cst.parse_module("if 1:\n" + text).body[0].body.body[0]
            else:
                found = cst.parse_module(text).body[0]
            self._real_statements[id(statement)] = found
        return found

    def statement_lines(self, statement: LightNode) -> tuple[int, int]:
        source = statement._ast if statement._ast is not None else statement.body[0]._ast
        first = min([source.lineno, *(d.lineno for d in getattr(source, "decorator_list", ()))])
        last = source.end_lineno
        if type(statement).__name__ == "SimpleStatementLine":
            last = statement.body[-1]._ast.end_lineno
        return first, last


def materialize(node: LightNode) -> cst.CSTNode:
    """The LibCST node ``node`` stands for (parsed on demand, memoized)."""
    if node._real is not None:
        return node._real
    tree: LightTree = node._tree
    real = None
    # A tuple's or generator's own text is not parsed alone (its parentheses may be its own or its parent's);
    # asking for it would also ask ``bounds``, which asks ``materialize`` when a comment hides the parentheses.
    text = None if type(node).__name__ in ("Tuple", "GeneratorExp") else tree.own_text(node)
    if text is not None:
        parsed = cst.parse_expression(f"({text})")
        real = parsed.with_changes(lpar=parsed.lpar[1:], rpar=parsed.rpar[:-1])
    if real is None:
        parent = node._parent
        if parent is None:
            raise AttributeError("the light module has no LibCST counterpart")
        if type(parent).__name__ in ("Module", "IndentedBlock"):
            real = tree.real_statement(node)
        else:
            real_parent = materialize(parent)
            real = _follow(parent, real_parent, node)
    node._real = real
    return real


def _follow(parent: LightNode, real_parent: cst.CSTNode, child: LightNode) -> cst.CSTNode:
    for field in parent.FIELDS:
        value = getattr(parent, field)
        if value is child:
            return getattr(real_parent, field)
        if type(value) is list:
            for index, item in enumerate(value):
                if item is child:
                    return getattr(real_parent, field)[index]
    raise AttributeError(f"no path from {type(parent).__name__} to {type(child).__name__}")


def _name_bounds(tree: LightTree, node: LightNode):
    """Bounds of a Name built from an identifier that ast gives no node of (def/class names, attributes...)."""
    holder = node._ast
    if holder is None:
        return None
    if isinstance(holder, ast.Name):
        return tree.bounds_of_ast(holder)
    value = node.value
    if isinstance(holder, ast.Attribute):
        end = (holder.end_lineno, tree.column(holder.end_lineno, holder.end_col_offset))
        return (end[0], end[1] - len(value)), end
    line, col = holder.lineno, tree.column(holder.lineno, holder.col_offset)
    if isinstance(holder, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        text = tree.lines[line - 1]
        found = re.compile(r"\b" + re.escape(value) + r"\b").search(text, col)
        if found is None:
            return None
        return (line, found.start()), (line, found.end())
    return (line, col), (line, col + len(value))


def _line_bounds(tree: LightTree, node: LightNode):
    first, last = tree.bounds(node.body[0]), tree.bounds(node.body[-1])
    return (first[0], last[1]) if first and last else None


_BOUNDS = {"Name": _name_bounds, "SimpleStatementLine": _line_bounds}


def build(source: str, module: ast.Module) -> LightTree:
    tree = LightTree(source)
    builder = _Builder(tree)
    tree.module = builder.new("Module", None, body=builder.block_statements(module.body))
    return tree


_STATEMENT_METHODS: dict[type, Any] = {}  # ast type -> _Builder.s_<type> (None: built as Pass)
_EXPRESSION_METHODS: dict[type, Any] = {}  # ast type -> _Builder.e_<type>


class _Builder:
    def __init__(self, tree: LightTree) -> None:
        self.tree = tree

    def new(self, kind: str, source: ast.AST | None, /, **fields: Any) -> LightNode:
        make = _MAKERS.get(kind)
        if make is None:
            make = _MAKERS[kind] = _maker(_CLASSES[kind])
        return make(source, self.tree, **fields)

    # --- statements -------------------------------------------------------------------------------------
    def block_statements(self, statements: list[ast.stmt]) -> list[LightNode]:
        """Statements of a module or an indented block: small statements grouped into lines (``a; b``)."""
        result: list[LightNode] = []
        line: list[LightNode] = []
        last_line = None
        for statement in statements:
            if isinstance(statement, _COMPOUND):
                if line:
                    result.append(self.new("SimpleStatementLine", None, body=line))
                    line, last_line = [], None
                result.append(self.statement(statement))
                continue
            if line and statement.lineno != last_line:
                result.append(self.new("SimpleStatementLine", None, body=line))
                line = []
            line.append(self.statement(statement))
            last_line = statement.end_lineno
        if line:
            result.append(self.new("SimpleStatementLine", None, body=line))
        for item in result:
            if type(item).__name__ == "SimpleStatementLine":
                item._ast = item.body[0]._ast
        return result

    def suite(self, statements: list[ast.stmt]) -> LightNode:
        first = statements[0]
        text = self.tree.lines[first.lineno - 1][: first.col_offset] if first.lineno - 1 < len(self.tree.lines) else ""
        if text.strip():
            return self.new("SimpleStatementSuite", None, body=[self.statement(s) for s in statements])
        return self.new("IndentedBlock", None, body=self.block_statements(statements))

    def statement(self, node: ast.stmt) -> LightNode:
        method = _STATEMENT_METHODS.get(type(node), _UNDECIDED)
        if method is _UNDECIDED:
            method = _STATEMENT_METHODS[type(node)] = getattr(_Builder, "s_" + type(node).__name__, None)
        if method is None:
            return self.new("Pass", node)
        return method(self, node)

    def s_Expr(self, node):
        return self.new("Expr", node, value=self.expr(node.value))

    def s_Assign(self, node):
        targets = [self.new("AssignTarget", t, target=self.expr(t)) for t in node.targets]
        return self.new("Assign", node, targets=targets, value=self.expr(node.value))

    def s_AnnAssign(self, node):
        annotation = self.new("Annotation", node.annotation, annotation=self.expr(node.annotation))
        return self.new("AnnAssign", node, target=self.expr(node.target), annotation=annotation,
                        value=self.maybe(node.value))

    def s_AugAssign(self, node):
        return self.new("AugAssign", node, target=self.expr(node.target),
                        operator=self.new(_AUGMENTED[type(node.op)], None), value=self.expr(node.value))

    def s_Return(self, node):
        return self.new("Return", node, value=self.maybe(node.value))

    def s_Raise(self, node):
        cause = self.new("From", None, item=self.expr(node.cause)) if node.cause is not None else None
        return self.new("Raise", node, exc=self.maybe(node.exc), cause=cause)

    def s_Assert(self, node):
        return self.new("Assert", node, test=self.expr(node.test), msg=self.maybe(node.msg))

    def s_Delete(self, node):
        targets = [self.expr(t) for t in node.targets]
        target = targets[0] if len(targets) == 1 else self.new("Tuple", None, elements=[
            self.new("Element", None, value=t) for t in targets])
        return self.new("Del", node, target=target)

    def s_Pass(self, node):
        return self.new("Pass", node)

    def s_Break(self, node):
        return self.new("Break", node)

    def s_Continue(self, node):
        return self.new("Continue", node)

    def s_Import(self, node):
        return self.new("Import", node, names=[self.alias(a) for a in node.names])

    def s_ImportFrom(self, node):
        if len(node.names) == 1 and node.names[0].name == "*":
            names: Any = self.new("ImportStar", None)
        else:
            names = [self.alias(a) for a in node.names]
        module = self.dotted(node.module, node) if node.module else None
        relative = [self.new("Dot", None) for _ in range(node.level or 0)]
        return self.new("ImportFrom", node, module=module, names=names, relative=relative)

    def alias(self, alias: ast.alias) -> LightNode:
        asname = self.new("AsName", None, name=self.new("Name", alias, value=alias.asname)) if alias.asname else None
        return self.new("ImportAlias", alias, name=self.dotted(alias.name, alias), asname=asname)

    def dotted(self, text: str, holder: ast.AST) -> LightNode:
        first, *rest = text.split(".")
        node = self.new("Name", holder, value=first)
        for part in rest:
            node = self.new("Attribute", None, value=node, attr=self.new("Name", None, value=part))
        return node

    def s_Global(self, node):
        return self.new("Global", node, names=[self.new("NameItem", None, name=self.new("Name", None, value=n))
                                               for n in node.names])

    def s_Nonlocal(self, node):
        return self.new("Nonlocal", node, names=[self.new("NameItem", None, name=self.new("Name", None, value=n))
                                                 for n in node.names])

    def s_FunctionDef(self, node, asynchronous=None):
        decorators = [self.new("Decorator", d, decorator=self.expr(d)) for d in node.decorator_list]
        returns = self.new("Annotation", node.returns, annotation=self.expr(node.returns)) if node.returns else None
        return self.new("FunctionDef", node, decorators=decorators, name=self.new("Name", node, value=node.name),
                        params=self.parameters(node.args), returns=returns, body=self.suite(node.body),
                        asynchronous=asynchronous)

    def s_AsyncFunctionDef(self, node):
        return self.s_FunctionDef(node, asynchronous=self.new("Asynchronous", None))

    def parameters(self, args: ast.arguments) -> LightNode:
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        params = [self.param(a, d) for a, d in zip(positional, defaults)]
        posonly, regular = params[: len(args.posonlyargs)], params[len(args.posonlyargs):]
        kwonly = [self.param(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        if args.vararg is not None:
            star_arg: Any = self.param(args.vararg, None, "*")
        elif kwonly:
            star_arg = self.new("ParamStar", None)
        else:
            star_arg = None
        star_kwarg = self.param(args.kwarg, None, "**") if args.kwarg is not None else None
        return self.new("Parameters", None, posonly_params=posonly, params=regular, star_arg=star_arg,
                        kwonly_params=kwonly, star_kwarg=star_kwarg)

    def param(self, arg: ast.arg, default: ast.expr | None, star: str = "") -> LightNode:
        annotation = self.new("Annotation", arg.annotation, annotation=self.expr(arg.annotation)) \
            if arg.annotation is not None else None
        return self.new("Param", arg, name=self.new("Name", arg, value=arg.arg), annotation=annotation,
                        default=self.maybe(default), star=star)

    def s_ClassDef(self, node):
        decorators = [self.new("Decorator", d, decorator=self.expr(d)) for d in node.decorator_list]
        bases = [self.new("Arg", b, keyword=None, value=self.expr(b), star="") for b in node.bases]
        keywords = [self.keyword(k) for k in node.keywords]
        return self.new("ClassDef", node, decorators=decorators, name=self.new("Name", node, value=node.name),
                        bases=bases, keywords=keywords, body=self.suite(node.body))

    def orelse(self, statements: list[ast.stmt], owner: ast.stmt) -> LightNode | None:
        if not statements:
            return None
        first = statements[0]
        if isinstance(first, ast.If) and len(statements) == 1:
            text = self.tree.lines[first.lineno - 1]
            if text[first.col_offset: first.col_offset + 4] == "elif":
                return self.s_If(first)
        return self.new("Else", None, body=self.suite(statements))

    def s_If(self, node):
        return self.new("If", node, test=self.expr(node.test), body=self.suite(node.body),
                        orelse=self.orelse(node.orelse, node))

    def s_For(self, node, asynchronous=None):
        return self.new("For", node, target=self.expr(node.target), iter=self.expr(node.iter),
                        body=self.suite(node.body), orelse=self.orelse(node.orelse, node), asynchronous=asynchronous)

    def s_AsyncFor(self, node):
        return self.s_For(node, asynchronous=self.new("Asynchronous", None))

    def s_While(self, node):
        return self.new("While", node, test=self.expr(node.test), body=self.suite(node.body),
                        orelse=self.orelse(node.orelse, node))

    def s_Try(self, node, kind="Try", handler="ExceptHandler"):
        handlers = []
        for h in node.handlers:
            name = self.new("AsName", None, name=self.new("Name", None, value=h.name)) if h.name else None
            handlers.append(self.new(handler, h, type=self.maybe(h.type), name=name, body=self.suite(h.body)))
        orelse = self.new("Else", None, body=self.suite(node.orelse)) if node.orelse else None
        final = self.new("Finally", None, body=self.suite(node.finalbody)) if node.finalbody else None
        return self.new(kind, node, body=self.suite(node.body), handlers=handlers, orelse=orelse, finalbody=final)

    def s_TryStar(self, node):
        return self.s_Try(node, "TryStar", "ExceptStarHandler")

    def s_With(self, node, asynchronous=None):
        items = []
        for item in node.items:
            asname = self.new("AsName", None, name=self.expr(item.optional_vars)) if item.optional_vars else None
            items.append(self.new("WithItem", None, item=self.expr(item.context_expr), asname=asname))
        return self.new("With", node, items=items, body=self.suite(node.body), asynchronous=asynchronous)

    def s_AsyncWith(self, node):
        return self.s_With(node, asynchronous=self.new("Asynchronous", None))

    def s_Match(self, node):
        cases = [self.new("MatchCase", c, guard=self.maybe(c.guard), body=self.suite(c.body)) for c in node.cases]
        return self.new("Match", node, subject=self.expr(node.subject), cases=cases)

    # --- expressions ------------------------------------------------------------------------------------
    def maybe(self, node: ast.expr | None) -> LightNode | None:
        return self.expr(node) if node is not None else None

    def expr(self, node: ast.expr) -> LightNode:
        method = _EXPRESSION_METHODS.get(type(node))
        if method is None:
            method = _EXPRESSION_METHODS[type(node)] = getattr(_Builder, "e_" + type(node).__name__)
        return method(self, node)

    def e_Name(self, node):
        return self.new("Name", node, value=node.id)

    def e_Constant(self, node):
        value = node.value
        if value is None or value is True or value is False:
            return self.new("Name", node, value=repr(value))
        if value is Ellipsis:
            return self.new("Ellipsis", node)
        start, end = self.tree.bounds_of_ast(node)
        text = self.tree.text(start, end)
        if isinstance(value, bool):
            return self.new("Name", node, value=repr(value))
        if isinstance(value, int):
            return self.new("Integer", node, value=text)
        if isinstance(value, float):
            return self.new("Float", node, value=text)
        if isinstance(value, complex):
            return self.new("Imaginary", node, value=text)
        return self.string(node, text, value)

    def string(self, node, text, value):
        pieces = _string_pieces(text)
        if len(pieces) <= 1:
            return self.new("SimpleString", node, value=text, evaluated_value=value)
        result = self.new("SimpleString", None, value=pieces[-1], evaluated_value=None)
        for piece in reversed(pieces[:-1]):
            left = self.new("SimpleString", None, value=piece, evaluated_value=None)
            result = self.new("ConcatenatedString", None, left=left, right=result, evaluated_value=None)
        result._ast = node
        result.evaluated_value = value
        return result

    def e_JoinedStr(self, node):
        return self.new("FormattedString", node, parts=self.formatted_parts(node))

    def formatted_parts(self, node: ast.JoinedStr) -> list[LightNode]:
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = self.formatted_parts(value.format_spec) if value.format_spec is not None else None
                parts.append(self.new("FormattedStringExpression", None, expression=self.expr(value.value),
                                      format_spec=spec))
            else:
                parts.append(self.new("FormattedStringText", None, value=value.value))
        return parts

    def e_Attribute(self, node):
        return self.new("Attribute", node, value=self.expr(node.value), attr=self.new("Name", node, value=node.attr))

    def e_Call(self, node):
        args = [self.new("Arg", a, keyword=None, value=self.expr(a.value), star="*") if isinstance(a, ast.Starred)
                else self.new("Arg", a, keyword=None, value=self.expr(a), star="") for a in node.args]
        args.extend(self.keyword(k) for k in node.keywords)
        if node.keywords and node.args:
            args.sort(key=lambda arg: (arg._ast.lineno, arg._ast.col_offset))
        return self.new("Call", node, func=self.expr(node.func), args=args)

    def keyword(self, node: ast.keyword) -> LightNode:
        if node.arg is None:
            return self.new("Arg", node, keyword=None, value=self.expr(node.value), star="**")
        return self.new("Arg", node, keyword=self.new("Name", node, value=node.arg), value=self.expr(node.value),
                        star="")

    def e_BinOp(self, node):
        return self.new("BinaryOperation", node, left=self.expr(node.left),
                        operator=self.new(_OPERATORS[type(node.op)], None), right=self.expr(node.right))

    def e_UnaryOp(self, node):
        return self.new("UnaryOperation", node, operator=self.new(_OPERATORS[type(node.op)], None),
                        expression=self.expr(node.operand))

    def e_BoolOp(self, node):
        values = [self.expr(v) for v in node.values]
        result = values[0]
        for index, value in enumerate(values[1:], start=1):
            holder = node if index == len(values) - 1 else _span(node.values[0], node.values[index])
            result = self.new("BooleanOperation", holder, left=result, operator=self.new(_OPERATORS[type(node.op)],
                                                                                        None), right=value)
        return result

    def e_Compare(self, node):
        comparisons = [self.new("ComparisonTarget", None, operator=self.new(_OPERATORS[type(op)], None),
                                comparator=self.expr(c)) for op, c in zip(node.ops, node.comparators)]
        return self.new("Comparison", node, left=self.expr(node.left), comparisons=comparisons)

    def elements(self, items: list[ast.expr]) -> list[LightNode]:
        return [self.new("StarredElement", e, value=self.expr(e.value)) if isinstance(e, ast.Starred)
                else self.new("Element", None, value=self.expr(e)) for e in items]

    def e_Tuple(self, node):
        return self.new("Tuple", node, elements=self.elements(node.elts))

    def e_List(self, node):
        return self.new("List", node, elements=self.elements(node.elts))

    def e_Set(self, node):
        return self.new("Set", node, elements=self.elements(node.elts))

    def e_Starred(self, node):
        return self.new("StarredElement", node, value=self.expr(node.value))

    def e_Dict(self, node):
        elements = [self.new("StarredDictElement", None, value=self.expr(v)) if k is None
                    else self.new("DictElement", None, key=self.expr(k), value=self.expr(v))
                    for k, v in zip(node.keys, node.values)]
        return self.new("Dict", node, elements=elements)

    def e_Subscript(self, node):
        """``x[a, b]`` has one SubscriptElement per item; ``x[(a, b)]`` one, holding the tuple."""
        index = node.slice
        if isinstance(index, ast.Tuple) and index.elts:
            items = [self.slice(item) for item in index.elts]
            start = self.tree.bounds_of_ast(index)[0]
            first = items[0].value if type(items[0]).__name__ == "Index" else None
            if type(first).__name__ == "StarredElement":
                first = first.value
            if first is not None and self.tree.char(start) == "(" and self.tree.tuple_owns_paren(start, first):
                elements = [i.value if isinstance(e, ast.Starred) else self.new("Element", None, value=i.value)
                            for e, i in zip(index.elts, items)]
                items = [self.new("Index", None, value=self.new("Tuple", index, elements=elements))]
        else:
            items = [self.slice(index)]
        elements = [self.new("SubscriptElement", None, slice=item) for item in items]
        return self.new("Subscript", node, value=self.expr(node.value), slice=elements)

    def slice(self, node: ast.expr) -> LightNode:
        if isinstance(node, ast.Slice):
            return self.new("Slice", node, lower=self.maybe(node.lower), upper=self.maybe(node.upper),
                            step=self.maybe(node.step))
        return self.new("Index", None, value=self.expr(node))

    def e_IfExp(self, node):
        return self.new("IfExp", node, body=self.expr(node.body), test=self.expr(node.test),
                        orelse=self.expr(node.orelse))

    def e_Lambda(self, node):
        return self.new("Lambda", node, params=self.parameters(node.args), body=self.expr(node.body))

    def comprehension(self, generators: list[ast.comprehension]) -> LightNode:
        result = None
        for generator in reversed(generators):
            ifs = [self.new("CompIf", None, test=self.expr(test)) for test in generator.ifs]
            result = self.new("CompFor", None, target=self.expr(generator.target), iter=self.expr(generator.iter),
                              ifs=ifs, inner_for_in=result)
        return result

    def e_ListComp(self, node):
        return self.new("ListComp", node, elt=self.expr(node.elt), for_in=self.comprehension(node.generators))

    def e_SetComp(self, node):
        return self.new("SetComp", node, elt=self.expr(node.elt), for_in=self.comprehension(node.generators))

    def e_GeneratorExp(self, node):
        return self.new("GeneratorExp", node, elt=self.expr(node.elt), for_in=self.comprehension(node.generators))

    def e_DictComp(self, node):
        return self.new("DictComp", node, key=self.expr(node.key), value=self.expr(node.value),
                        for_in=self.comprehension(node.generators))

    def e_Yield(self, node):
        return self.new("Yield", node, value=self.maybe(node.value))

    def e_YieldFrom(self, node):
        return self.new("Yield", node, value=self.new("From", None, item=self.expr(node.value)))

    def e_Await(self, node):
        return self.new("Await", node, expression=self.expr(node.value))

    def e_NamedExpr(self, node):
        return self.new("NamedExpr", node, target=self.expr(node.target), value=self.expr(node.value))

    def e_Slice(self, node):
        return self.slice(node)


_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.Try, ast.With, ast.AsyncWith, ast.Match, getattr(ast, "TryStar", ast.Try))


class _Span:
    __slots__ = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def _span(first: ast.AST, last: ast.AST) -> _Span:
    span = _Span()
    span.lineno, span.col_offset = first.lineno, first.col_offset
    span.end_lineno, span.end_col_offset = last.end_lineno, last.end_col_offset
    return span


_STRING_REST = {quote: re.compile(r"(?:\\.|[^\\])*?" + re.escape(quote), re.DOTALL)
                for quote in ("'''", '"""', "'", '"')}


def _string_pieces(text: str) -> list[str]:
    """The string tokens of an implicitly concatenated literal (``"a" "b"``); one piece for a plain one."""
    pieces: list[str] = []
    index = 0
    while index < len(text):
        match = _STRING_START.match(text, index)
        if match is None:
            if text[index] in " \t\f\r\n\\()":
                index += 1
                continue
            return [text]
        rest = _STRING_REST[match.group(1)].match(text, match.end())  # a backslash escapes the next character
        cursor = rest.end() if rest is not None else len(text)
        pieces.append(text[index:cursor])
        index = cursor
    return pieces


def real_subtree(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``walk.subtree`` with comments and whitespace: light nodes are replaced by their LibCST counterparts, except
    one-line expressions without a ``#`` (nothing below them can be a comment)."""
    found: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if getattr(type(current), "LIGHT", False):
            if current._tree.own_text(current) is not None:
                continue
            current = materialize(current)
        found.append(current)
        stack.extend(reversed(_walk.children(current)))
    return found


__all__ = ["LightNode", "LightTree", "build", "materialize", "real_subtree"]
