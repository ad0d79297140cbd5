"""The light tree of one source file (``LightTree``, the engine's ``ParsedFile``) and its source positions:
LibCST's syntactic positions (parentheses excluded), taken from ``ast``'s and converted from UTF-8 bytes to
characters; where parentheses are, and the text of one-line expressions, read off the source lines."""

from __future__ import annotations

import ast
import bisect
import re
from typing import TYPE_CHECKING, Any

import libcst as cst
from libcst.metadata import CodePosition, CodeRange

from emberlint.light.materialization import materialize, statement_lines
from emberlint.lines import first_line_end, split_lines
from emberlint.suppress import parse_suppressions
from emberlint.walk import nodes_of, walk_kinds, walk_kinds_on_lines

if TYPE_CHECKING:
    from emberlint.light.nodes import LightNode
    from emberlint.suppress import Suppressions


_UNDECIDED = object()
_SIMPLE_LINES = ("SimpleStatementLine", "SimpleStatementSuite")
_STATEMENT_HOLDERS = (*_SIMPLE_LINES, "IndentedBlock", "Module")


def _line_span(node: LightNode) -> tuple[int, int] | None:
    """The first and last line of ``node`` (its decorators included), None when its ``ast`` node has no lines or
    does not hold all of it (the statements after a compound statement's colon keep the first one's)."""
    source = node._ast
    if source is None or getattr(source, "lineno", None) is None or type(node).__name__ == "SimpleStatementSuite":
        return None
    return statement_lines(node)


def _statement_holding(node: LightNode) -> LightNode:
    """The statement (simple or compound) of a block or module that holds ``node``; the module for the module."""
    current = node
    while current._parent is not None and type(current._parent).__name__ not in _STATEMENT_HOLDERS:
        current = current._parent
    return current


class LightTree:
    """The light module of one source text (a ``ParsedFile``), and the source-level facts its nodes ask for:
    positions, parentheses, text."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = split_lines(source)
        self._byte_lines: dict[int, bytes] = {}
        self.real_statements: dict[int, cst.CSTNode] = {}  # statement id -> LibCST node (``materialize``)
        self.module: LightNode | None = None  # set by ``build``
        self._suppressions: Suppressions | None = None
        self._hash_lines: list[int] | None = None  # the lines holding a ``#`` (``comment_free_statement``)

    # --- ParsedFile ---------------------------------------------------------------------------------------
    def dispatch(self, visitor: cst.CSTVisitor, kinds: set[str] | frozenset[str],
                 lines: list[tuple[int, int]] | None = None) -> None:
        """``visitor.on_visit``/``on_leave`` for every node whose type is named in ``kinds``, in pre-order; with
        ``lines``, only for the nodes on those line ranges (and the nodes enclosing them)."""
        if lines is None:
            walk_kinds(self.module, visitor, kinds)
        else:
            walk_kinds_on_lines(self.module, visitor, kinds, lines, _line_span)

    def nodes_of(self, *kinds: str) -> list[LightNode]:
        return nodes_of(self.module, *kinds)

    def parent_of(self, node: LightNode) -> LightNode | None:
        return node._parent

    def ancestors(self, node: LightNode) -> list[LightNode]:
        """The module, ..., the parent of ``node``, ``node``."""
        path = []
        current: LightNode | None = node
        while current is not None:
            path.append(current)
            current = current._parent
        path.reverse()
        return path

    def suppressions(self) -> Suppressions:
        """The file's suppression comments (read from the source text: the light tree keeps no comments)."""
        if self._suppressions is None:
            self._suppressions = parse_suppressions(self.source)
        return self._suppressions

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
                # a comment ends an earlier line; nothing can group the node if its statement starts with it
                return (start, end) if self._starts_statement(node, start) else None
            after = self._next_significant(end)
            if before is None or after is None or self.char(before) != "(" or self.char(after) != ")":
                return start, end
            grouping = self._grouping(before)
            if grouping is None:
                return None
            if not grouping:
                return start, end
            start, end = before, (after[0], after[1] + 1)

    def comment_free_statement(self, node: LightNode) -> bool:
        """Whether no line of the statement holding ``node`` (its decorators included) has a ``#``: then neither
        the node nor parentheses around it hold a comment (all lie within the statement's lines)."""
        statement = _statement_holding(node)
        if getattr(statement._ast, "lineno", None) is None:
            return False
        first, last = statement_lines(statement)
        if self._hash_lines is None:
            self._hash_lines = [number for number, text in enumerate(self.lines, start=1) if "#" in text]
        at = bisect.bisect_left(self._hash_lines, first)
        return at == len(self._hash_lines) or self._hash_lines[at] > last

    def _starts_statement(self, node: LightNode, start: tuple[int, int]) -> bool:
        """Whether the simple statement holding ``node`` starts at ``start``."""
        current = _statement_holding(node)
        statement = current._ast
        return (current._parent is not None and type(current._parent).__name__ in _SIMPLE_LINES
                and isinstance(statement, ast.stmt)
                and (statement.lineno, self.column(statement.lineno, statement.col_offset)) == start)

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

    def line_text(self, node: LightNode, until: LightNode | None = None) -> str | None:
        """The source of ``node`` without its parentheses (with ``until``: from the end of ``node`` to the start of
        ``until``) when it lies on one line and holds no ``#``, else None."""
        bounds = self.bounds(node)
        if until is not None and bounds is not None:
            later = self.bounds(until)
            bounds = None if later is None else (bounds[1], later[0])
        if bounds is None or bounds[0][0] != bounds[1][0]:
            return None
        text = self.text(*bounds)
        return None if "#" in text else text

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

    def code_text(self, node: LightNode) -> str | None:
        """The code LibCST writes for an expression alone (its parentheses included, no indentation around it):
        its source text, where a continuation line loses the indentation of the block holding the statement
        (LibCST keeps that as "indented" whitespace). None when only LibCST can tell: comments, strings over
        several lines, backslash continuations, a tuple's or generator's parentheses."""
        if not node.EXPRESSION or isinstance(node._ast, (ast.stmt, ast.alias)):  # names in imports, def names
            return None
        text = self.own_text(node)
        if text is not None or type(node).__name__ in ("Tuple", "GeneratorExp") or not isinstance(node._ast, ast.expr):
            return text
        if type(node._parent).__name__ == "WithItem":  # ``with (\n item\n):``: the parentheses are the With's
            return None
        bounds = self.bounds(node)
        widened = self.outer(node, bounds) if bounds is not None else None
        if widened is None:
            return None
        text = self.text(*widened)
        if "#" in text or "\"\"\"" in text or "\'\'\'" in text or "\\\n" in text or "\\\r" in text:
            return None
        statement = node
        while statement._parent is not None and type(statement._parent).__name__ not in ("Module", "IndentedBlock"):
            statement = statement._parent
        first_line = self.lines[statement_lines(statement)[0] - 1]
        indent = first_line[: len(first_line) - len(first_line.lstrip(" \t\f"))]
        lines = split_lines(text)
        return lines[0] + "".join(line[len(indent):] if line.startswith(indent) else line for line in lines[1:])

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
