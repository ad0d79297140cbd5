"""Building the light tree from CPython's ``ast`` (about ten times cheaper than a LibCST parse): statements
grouped into LibCST's lines and blocks, expressions into its shapes (``Arg`` wrappers, ``Index`` subscript
elements, nested ``BooleanOperation``, concatenated strings split into their tokens...)."""

from __future__ import annotations

import ast
import re
from typing import Any

from emberlint.light.nodes import AUGMENTED, KINDS, OPERATORS, LightNode, constructor
from emberlint.light.source import LightTree

_UNDECIDED = object()
_STRING_START = re.compile(r"[rRbBuUfF]{0,2}('''|\"\"\"|'|\")")


def build(source: str, module: ast.Module) -> LightTree:
    tree = LightTree(source)
    builder = _Builder(tree)
    tree.module = builder.Module(None, body=builder.block_statements(module.body))
    return tree


_STATEMENT_METHODS: dict[type, Any] = {}  # ast type -> _Builder.s_<type> (None: built as Pass)
_EXPRESSION_METHODS: dict[type, Any] = {}  # ast type -> _Builder.e_<type>


class _Builder:
    """Builds the light tree of one file. Each light class has a constructor method named after it
    (``self.Name(source, value=...)``, added below the class): ``source`` is the ast node holding its position."""

    def __init__(self, tree: LightTree) -> None:
        self.tree = tree

    def new(self, kind: str, source: ast.AST | None, /, **fields: Any) -> LightNode:
        """A node of a kind known only at run time (an operator's)."""
        return getattr(self, kind)(source, **fields)

    # --- statements -------------------------------------------------------------------------------------
    def block_statements(self, statements: list[ast.stmt]) -> list[LightNode]:
        """Statements of a module or an indented block: small statements grouped into lines (``a; b``)."""
        result: list[LightNode] = []
        line: list[LightNode] = []
        last_line = None
        for statement in statements:
            if isinstance(statement, _COMPOUND):
                if line:
                    result.append(self.SimpleStatementLine(None, body=line))
                    line, last_line = [], None
                result.append(self.statement(statement))
                continue
            if line and statement.lineno != last_line:
                result.append(self.SimpleStatementLine(None, body=line))
                line = []
            line.append(self.statement(statement))
            last_line = statement.end_lineno
        if line:
            result.append(self.SimpleStatementLine(None, body=line))
        for item in result:
            if type(item).__name__ == "SimpleStatementLine":
                item._ast = item.body[0]._ast
        return result

    def suite(self, statements: list[ast.stmt]) -> LightNode:
        first = statements[0]
        text = self.tree.lines[first.lineno - 1][: first.col_offset] if first.lineno - 1 < len(self.tree.lines) else ""
        if text.strip():
            return self.SimpleStatementSuite(None, body=[self.statement(s) for s in statements])
        return self.IndentedBlock(None, body=self.block_statements(statements))

    def statement(self, node: ast.stmt) -> LightNode:
        method = _STATEMENT_METHODS.get(type(node), _UNDECIDED)
        if method is _UNDECIDED:
            method = _STATEMENT_METHODS[type(node)] = getattr(_Builder, "s_" + type(node).__name__, None)
        if method is None:
            return self.Pass(node)
        return method(self, node)

    def s_Expr(self, node):
        return self.Expr(node, value=self.expr(node.value))

    def s_Assign(self, node):
        targets = [self.AssignTarget(t, target=self.expr(t)) for t in node.targets]
        return self.Assign(node, targets=targets, value=self.expr(node.value))

    def s_AnnAssign(self, node):
        annotation = self.Annotation(node.annotation, annotation=self.expr(node.annotation))
        return self.AnnAssign(node, target=self.expr(node.target), annotation=annotation,
                              value=self.maybe(node.value))

    def s_AugAssign(self, node):
        return self.AugAssign(node, target=self.expr(node.target),
                              operator=self.new(AUGMENTED[type(node.op)], None), value=self.expr(node.value))

    def s_Return(self, node):
        return self.Return(node, value=self.maybe(node.value))

    def s_Raise(self, node):
        cause = self.From(None, item=self.expr(node.cause)) if node.cause is not None else None
        return self.Raise(node, exc=self.maybe(node.exc), cause=cause)

    def s_Assert(self, node):
        return self.Assert(node, test=self.expr(node.test), msg=self.maybe(node.msg))

    def s_Delete(self, node):
        targets = [self.expr(t) for t in node.targets]
        target = targets[0] if len(targets) == 1 else self.Tuple(None, elements=[
            self.Element(None, value=t) for t in targets])
        return self.Del(node, target=target)

    def s_Pass(self, node):
        return self.Pass(node)

    def s_Break(self, node):
        return self.Break(node)

    def s_Continue(self, node):
        return self.Continue(node)

    def s_Import(self, node):
        return self.Import(node, names=[self.alias(a) for a in node.names])

    def s_ImportFrom(self, node):
        if len(node.names) == 1 and node.names[0].name == "*":
            names: Any = self.ImportStar(None)
        else:
            names = [self.alias(a) for a in node.names]
        module = self.dotted(node.module, node) if node.module else None
        relative = [self.Dot(None) for _ in range(node.level or 0)]
        return self.ImportFrom(node, module=module, names=names, relative=relative)

    def alias(self, alias: ast.alias) -> LightNode:
        asname = self.AsName(None, name=self.Name(alias, value=alias.asname)) if alias.asname else None
        return self.ImportAlias(alias, name=self.dotted(alias.name, alias), asname=asname)

    def dotted(self, text: str, holder: ast.AST) -> LightNode:
        first, *rest = text.split(".")
        node = self.Name(holder, value=first)
        for part in rest:
            node = self.Attribute(None, value=node, attr=self.Name(None, value=part))
        return node

    def s_Global(self, node):
        return self.Global(node, names=[self.NameItem(None, name=self.Name(None, value=n))
                                        for n in node.names])

    def s_Nonlocal(self, node):
        return self.Nonlocal(node, names=[self.NameItem(None, name=self.Name(None, value=n))
                                          for n in node.names])

    def s_FunctionDef(self, node, asynchronous=None):
        decorators = [self.Decorator(d, decorator=self.expr(d)) for d in node.decorator_list]
        returns = self.Annotation(node.returns, annotation=self.expr(node.returns)) if node.returns else None
        return self.FunctionDef(node, decorators=decorators, name=self.Name(node, value=node.name),
                                params=self.parameters(node.args), returns=returns, body=self.suite(node.body),
                                asynchronous=asynchronous)

    def s_AsyncFunctionDef(self, node):
        return self.s_FunctionDef(node, asynchronous=self.Asynchronous(None))

    def parameters(self, args: ast.arguments) -> LightNode:
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        params = [self.param(a, d) for a, d in zip(positional, defaults)]
        posonly, regular = params[: len(args.posonlyargs)], params[len(args.posonlyargs):]
        kwonly = [self.param(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        if args.vararg is not None:
            star_arg: Any = self.param(args.vararg, None, "*")
        elif kwonly:
            star_arg = self.ParamStar(None)
        else:
            star_arg = None
        star_kwarg = self.param(args.kwarg, None, "**") if args.kwarg is not None else None
        return self.Parameters(None, posonly_params=posonly, params=regular, star_arg=star_arg,
                               kwonly_params=kwonly, star_kwarg=star_kwarg)

    def param(self, arg: ast.arg, default: ast.expr | None, star: str = "") -> LightNode:
        annotation = self.Annotation(arg.annotation, annotation=self.expr(arg.annotation)) \
            if arg.annotation is not None else None
        return self.Param(arg, name=self.Name(arg, value=arg.arg), annotation=annotation,
                          default=self.maybe(default), star=star)

    def s_ClassDef(self, node):
        decorators = [self.Decorator(d, decorator=self.expr(d)) for d in node.decorator_list]
        bases = [self.Arg(b, keyword=None, value=self.expr(b), star="") for b in node.bases]
        keywords = [self.keyword(k) for k in node.keywords]
        return self.ClassDef(node, decorators=decorators, name=self.Name(node, value=node.name),
                             bases=bases, keywords=keywords, body=self.suite(node.body))

    def orelse(self, statements: list[ast.stmt], owner: ast.stmt) -> LightNode | None:
        if not statements:
            return None
        first = statements[0]
        if isinstance(first, ast.If) and len(statements) == 1:
            text = self.tree.lines[first.lineno - 1]
            if text[first.col_offset: first.col_offset + 4] == "elif":
                return self.s_If(first)
        return self.Else(None, body=self.suite(statements))

    def s_If(self, node):
        return self.If(node, test=self.expr(node.test), body=self.suite(node.body),
                       orelse=self.orelse(node.orelse, node))

    def s_For(self, node, asynchronous=None):
        return self.For(node, target=self.expr(node.target), iter=self.expr(node.iter),
                        body=self.suite(node.body), orelse=self.orelse(node.orelse, node), asynchronous=asynchronous)

    def s_AsyncFor(self, node):
        return self.s_For(node, asynchronous=self.Asynchronous(None))

    def s_While(self, node):
        return self.While(node, test=self.expr(node.test), body=self.suite(node.body),
                          orelse=self.orelse(node.orelse, node))

    def s_Try(self, node, kind="Try", handler="ExceptHandler"):
        handlers = []
        for h in node.handlers:
            name = self.AsName(None, name=self.Name(None, value=h.name)) if h.name else None
            handlers.append(self.new(handler, h, type=self.maybe(h.type), name=name, body=self.suite(h.body)))
        orelse = self.Else(None, body=self.suite(node.orelse)) if node.orelse else None
        final = self.Finally(None, body=self.suite(node.finalbody)) if node.finalbody else None
        return self.new(kind, node, body=self.suite(node.body), handlers=handlers, orelse=orelse, finalbody=final)

    def s_TryStar(self, node):
        return self.s_Try(node, "TryStar", "ExceptStarHandler")

    def s_With(self, node, asynchronous=None):
        items = []
        for item in node.items:
            asname = self.AsName(None, name=self.expr(item.optional_vars)) if item.optional_vars else None
            items.append(self.WithItem(None, item=self.expr(item.context_expr), asname=asname))
        return self.With(node, items=items, body=self.suite(node.body), asynchronous=asynchronous)

    def s_AsyncWith(self, node):
        return self.s_With(node, asynchronous=self.Asynchronous(None))

    def s_Match(self, node):
        cases = [self.MatchCase(c, guard=self.maybe(c.guard), body=self.suite(c.body)) for c in node.cases]
        return self.Match(node, subject=self.expr(node.subject), cases=cases)

    # --- expressions ------------------------------------------------------------------------------------
    def maybe(self, node: ast.expr | None) -> LightNode | None:
        return self.expr(node) if node is not None else None

    def expr(self, node: ast.expr) -> LightNode:
        method = _EXPRESSION_METHODS.get(type(node))
        if method is None:
            method = _EXPRESSION_METHODS[type(node)] = getattr(_Builder, "e_" + type(node).__name__)
        return method(self, node)

    def e_Name(self, node):
        return self.Name(node, value=node.id)

    def e_Constant(self, node):
        value = node.value
        if value is None or value is True or value is False:
            return self.Name(node, value=repr(value))
        if value is Ellipsis:
            return self.Ellipsis(node)
        start, end = self.tree.bounds_of_ast(node)
        text = self.tree.text(start, end)
        if isinstance(value, bool):
            return self.Name(node, value=repr(value))
        if isinstance(value, int):
            return self.Integer(node, value=text)
        if isinstance(value, float):
            return self.Float(node, value=text)
        if isinstance(value, complex):
            return self.Imaginary(node, value=text)
        return self.string(node, text, value)

    def string(self, node, text, value):
        pieces = _string_pieces(text)
        if len(pieces) <= 1:
            return self.SimpleString(node, value=text, evaluated_value=value)
        result = self.SimpleString(None, value=pieces[-1], evaluated_value=None)
        for piece in reversed(pieces[:-1]):
            left = self.SimpleString(None, value=piece, evaluated_value=None)
            result = self.ConcatenatedString(None, left=left, right=result, evaluated_value=None)
        result._ast = node
        result.evaluated_value = value
        return result

    def e_JoinedStr(self, node):
        return self.FormattedString(node, parts=self.formatted_parts(node))

    def formatted_parts(self, node: ast.JoinedStr) -> list[LightNode]:
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = self.formatted_parts(value.format_spec) if value.format_spec is not None else None
                parts.append(self.FormattedStringExpression(None, expression=self.expr(value.value),
                                                            format_spec=spec))
            else:
                parts.append(self.FormattedStringText(None, value=value.value))
        return parts

    def e_Attribute(self, node):
        return self.Attribute(node, value=self.expr(node.value), attr=self.Name(node, value=node.attr))

    def e_Call(self, node):
        args = [self.Arg(a, keyword=None, value=self.expr(a.value), star="*") if isinstance(a, ast.Starred)
                else self.Arg(a, keyword=None, value=self.expr(a), star="") for a in node.args]
        args.extend(self.keyword(k) for k in node.keywords)
        if node.keywords and node.args:
            args.sort(key=lambda arg: (arg._ast.lineno, arg._ast.col_offset))
        return self.Call(node, func=self.expr(node.func), args=args)

    def keyword(self, node: ast.keyword) -> LightNode:
        if node.arg is None:
            return self.Arg(node, keyword=None, value=self.expr(node.value), star="**")
        return self.Arg(node, keyword=self.Name(node, value=node.arg), value=self.expr(node.value),
                        star="")

    def e_BinOp(self, node):
        return self.BinaryOperation(node, left=self.expr(node.left),
                                    operator=self.new(OPERATORS[type(node.op)], None), right=self.expr(node.right))

    def e_UnaryOp(self, node):
        return self.UnaryOperation(node, operator=self.new(OPERATORS[type(node.op)], None),
                                   expression=self.expr(node.operand))

    def e_BoolOp(self, node):
        values = [self.expr(v) for v in node.values]
        result = values[0]
        for index, value in enumerate(values[1:], start=1):
            holder = node if index == len(values) - 1 else _span(node.values[0], node.values[index])
            operator = self.new(OPERATORS[type(node.op)], None)
            result = self.BooleanOperation(holder, left=result, operator=operator, right=value)
        return result

    def e_Compare(self, node):
        comparisons = [self.ComparisonTarget(None, operator=self.new(OPERATORS[type(op)], None),
                                             comparator=self.expr(c)) for op, c in zip(node.ops, node.comparators)]
        return self.Comparison(node, left=self.expr(node.left), comparisons=comparisons)

    def elements(self, items: list[ast.expr]) -> list[LightNode]:
        return [self.StarredElement(e, value=self.expr(e.value)) if isinstance(e, ast.Starred)
                else self.Element(None, value=self.expr(e)) for e in items]

    def e_Tuple(self, node):
        return self.Tuple(node, elements=self.elements(node.elts))

    def e_List(self, node):
        return self.List(node, elements=self.elements(node.elts))

    def e_Set(self, node):
        return self.Set(node, elements=self.elements(node.elts))

    def e_Starred(self, node):
        return self.StarredElement(node, value=self.expr(node.value))

    def e_Dict(self, node):
        elements = [self.StarredDictElement(None, value=self.expr(v)) if k is None
                    else self.DictElement(None, key=self.expr(k), value=self.expr(v))
                    for k, v in zip(node.keys, node.values)]
        return self.Dict(node, elements=elements)

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
                elements = [i.value if isinstance(e, ast.Starred) else self.Element(None, value=i.value)
                            for e, i in zip(index.elts, items)]
                items = [self.Index(None, value=self.Tuple(index, elements=elements))]
        else:
            items = [self.slice(index)]
        elements = [self.SubscriptElement(None, slice=item) for item in items]
        return self.Subscript(node, value=self.expr(node.value), slice=elements)

    def slice(self, node: ast.expr) -> LightNode:
        if isinstance(node, ast.Slice):
            return self.Slice(node, lower=self.maybe(node.lower), upper=self.maybe(node.upper),
                              step=self.maybe(node.step))
        return self.Index(None, value=self.expr(node))

    def e_IfExp(self, node):
        return self.IfExp(node, body=self.expr(node.body), test=self.expr(node.test),
                          orelse=self.expr(node.orelse))

    def e_Lambda(self, node):
        return self.Lambda(node, params=self.parameters(node.args), body=self.expr(node.body))

    def comprehension(self, generators: list[ast.comprehension]) -> LightNode:
        result = None
        for generator in reversed(generators):
            ifs = [self.CompIf(None, test=self.expr(test)) for test in generator.ifs]
            result = self.CompFor(None, target=self.expr(generator.target), iter=self.expr(generator.iter),
                                  ifs=ifs, inner_for_in=result)
        return result

    def e_ListComp(self, node):
        return self.ListComp(node, elt=self.expr(node.elt), for_in=self.comprehension(node.generators))

    def e_SetComp(self, node):
        return self.SetComp(node, elt=self.expr(node.elt), for_in=self.comprehension(node.generators))

    def e_GeneratorExp(self, node):
        return self.GeneratorExp(node, elt=self.expr(node.elt), for_in=self.comprehension(node.generators))

    def e_DictComp(self, node):
        return self.DictComp(node, key=self.expr(node.key), value=self.expr(node.value),
                             for_in=self.comprehension(node.generators))

    def e_Yield(self, node):
        return self.Yield(node, value=self.maybe(node.value))

    def e_YieldFrom(self, node):
        return self.Yield(node, value=self.From(None, item=self.expr(node.value)))

    def e_Await(self, node):
        return self.Await(node, expression=self.expr(node.value))

    def e_NamedExpr(self, node):
        return self.NamedExpr(node, target=self.expr(node.target), value=self.expr(node.value))

    def e_Slice(self, node):
        return self.slice(node)


for _kind in KINDS:
    setattr(_Builder, _kind, constructor(_kind))

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
