"""How a fix's replacement text is laid out, so that fixed code reads like code a person wrote.

- Indentation: LibCST stores a continuation line inside brackets as "the block's indentation" plus the rest
  (``ParenthesizedWhitespace(indent=True, last_line=...)``). A replacement is printed with the indentation of the
  block its statement is in (``block_indent``), so continuation lines keep their columns.
- Line breaks: a multi-line operator expression becomes a call with one argument per line
  (``BrokenCall``: each argument one indentation step deeper than the line the expression starts on, a trailing
  comma, the closing parenthesis back on that line's indentation); an argument's own continuation lines move
  right with it.
- Parentheses: grouping parentheses an operator needed are dropped when its replacement is a call
  (``droppable_parens``; only when they hold no comment).

Works the same on the light tree and on LibCST's own tree (``tests/test_light_tree.py`` compares the fixes).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import libcst as cst
from emberlint.syntax import kind
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_STATEMENT_PARENTS = ("Module", "IndentedBlock")
#: Operator expressions whose grouping parentheses a call does not need.
_OPERATOR_KINDS = (cst.BinaryOperation, cst.UnaryOperation, cst.BooleanOperation)


class _PlainState(CodegenState):
    """LibCST's code generation state without position recording (a context manager per node otherwise)."""

    __slots__ = ()

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _NO_POSITION


_NO_POSITION = contextlib.nullcontext()


def code_for(node: cst.CSTNode, newline: str, indent: str, default_indent: str = "    ") -> str:
    """The code of ``node`` printed inside a block indented by ``indent``."""
    state = _PlainState(default_indent=default_indent, default_newline=newline)
    if indent:
        state.increase_indent(indent)
    node._codegen(state)
    return "".join(state.tokens)


def has_comment(node: cst.CSTNode) -> bool:
    from emberlint.light import real_subtree

    return any(type(item) is cst.Comment for item in real_subtree(node))


def droppable_parens(old: cst.CSTNode, new: cst.CSTNode | str) -> bool:
    """Whether the grouping parentheses of ``old`` go when ``new`` replaces it: ``old`` is an operator
    expression (the parentheses set its precedence), ``new`` a call that does not keep them (the code of one, as
    fixers give it), and no comment sits in them. A call binds tighter than any operator, so the parse cannot
    change."""
    is_call = type(new) is str or (kind(new) == "Call" and not new.lpar)
    if not isinstance(old, _OPERATOR_KINDS) or not is_call:
        return False
    parens = [*old.lpar, *old.rpar]
    return bool(parens) and not any(has_comment(paren) for paren in parens)


class Layout:
    """Source facts a layout needs, for one file: lines, indentation, the ranges of nodes and parentheses."""

    def __init__(self, source: str, module: cst.Module, tree=None) -> None:
        self.source = source
        self.module = module
        self.tree = tree
        self._lines: list[str] | None = tree.lines if tree is not None else None
        self._parents: dict | None = None
        self._positions: dict | None = None
        self._unit: str | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = _LINE.findall(self.source)
        return self._lines

    def line_indent(self, line: int) -> str:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return text[: len(text) - len(text.lstrip(" \t\f"))].replace("\f", "")

    @property
    def indent_unit(self) -> str:
        """One indentation step of this file (its first indented block's), four spaces by default."""
        if self._unit is None:
            self._unit = "    "
            previous = ""
            for text in self.lines:
                stripped = text.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                indent = text[: len(text) - len(text.lstrip(" \t"))]
                if len(indent) > len(previous) and indent.startswith(previous):
                    self._unit = indent[len(previous):]
                    break
                previous = indent
        return self._unit

    def ranges(self, nodes: list[cst.CSTNode]) -> list[CodeRange | None]:
        if self.tree is not None:
            return [self.tree.range_of(node) for node in nodes]
        if self._positions is None:  # LibCST's own tree (the reference path): its PositionProvider
            from libcst.metadata import MetadataWrapper, PositionProvider

            self._positions = dict(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
        return [self._positions.get(node) for node in nodes]

    def spans_lines(self, node: cst.CSTNode) -> bool:
        if self.tree is not None:
            code_range = self.tree.range_of(node)
            return code_range is not None and code_range.start.line != code_range.end.line
        text = code_for(node.with_changes(lpar=[], rpar=[]) if getattr(node, "lpar", None) else node, "\n", "")
        return "\n" in text or "\r" in text

    def paren_range(self, node: cst.CSTNode) -> CodeRange | None:
        """The range of ``node`` with its grouping parentheses, read off the parentheses' own text next to the
        node's range (None when it has none, or the text there is not theirs)."""
        if not node.lpar:
            return None
        code_range = self.ranges([node])[0]
        if code_range is None:
            return None
        indent = self.block_indent(node)
        before = "".join(code_for(paren, "\n", indent) for paren in node.lpar)
        after = "".join(code_for(paren, "\n", indent) for paren in node.rpar)
        start = self._move(code_range.start, before, backwards=True)
        end = self._move(code_range.end, after, backwards=False)
        return CodeRange(start, end) if start is not None and end is not None else None

    def _move(self, position: CodePosition, text: str, backwards: bool) -> CodePosition | None:
        """The position ``text`` (with ``\n`` line ends) away from ``position``, if the source holds it there."""
        line, column = position.line, position.column
        pieces = text.split("\n")
        if backwards:
            pieces.reverse()
        for index, piece in enumerate(pieces):
            if index:
                line += -1 if backwards else 1
                if not 0 < line <= len(self.lines):
                    return None
                column = len(self.lines[line - 1].rstrip("\r\n")) if backwards else 0
            content = self.lines[line - 1].rstrip("\r\n") if 0 < line <= len(self.lines) else ""
            if backwards:
                if content[column - len(piece): column] != piece or column < len(piece):
                    return None
                column -= len(piece)
            else:
                if content[column: column + len(piece)] != piece:
                    return None
                column += len(piece)
        return CodePosition(line, column)

    def block_indent(self, node: cst.CSTNode) -> str:
        """The indentation of the block holding ``node``'s statement (what LibCST adds to indented lines)."""
        statement = self._statement(node)
        if statement is None:
            return ""
        code_range = self.ranges([statement])[0]
        return self.line_indent(code_range.start.line) if code_range is not None else ""

    def _statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        if self.tree is not None:
            current = node
            while current is not None and current._parent is not None:
                if type(current._parent).__name__ in _STATEMENT_PARENTS:
                    return current
                current = current._parent
            return None
        if self._parents is None:
            from libcst.metadata import MetadataWrapper, ParentNodeProvider

            self._parents = dict(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(ParentNodeProvider))
        current = node
        while current in self._parents:
            parent = self._parents[current]
            if kind(parent) in ("Module", "IndentedBlock"):
                return current
            current = parent
        return None

    def broken_call(self, node: cst.CSTNode, arguments: list[cst.CSTNode],
                    call: cst.Call | None = None) -> BrokenCall | None:
        """The one-argument-per-line layout of ``call`` (None: not a call) replacing the multi-line ``node``
        (None when ``node`` is on one line). The call starts where ``node``'s parentheses did when it drops them."""
        if not self.spans_lines(node):
            return None
        start = None
        if call is not None and droppable_parens(node, call):
            widened = self.paren_range(node)
            start = widened.start.line if widened is not None else None
        ranges = self.ranges([node, *arguments])
        if ranges[0] is None or any(r is None for r in ranges[1:]):
            return None
        line = start if start is not None else ranges[0].start.line
        outer = self.line_indent(line)
        inner = outer + self.indent_unit
        shifts = []
        for code_range in ranges[1:]:
            own = self.line_indent(code_range.start.line)
            multi = code_range.start.line != code_range.end.line
            shifts.append(inner[len(own):] if multi and inner.startswith(own) and inner != own else "")
        return BrokenCall(inner, outer, tuple(shifts), self.block_indent(node))


@dataclass(frozen=True)
class BrokenCall:
    """One argument per line: ``inner`` (absolute indentation) before each argument, ``outer`` before ``)``;
    ``shifts``: what each argument's own continuation lines gain; ``block``: the indentation the printer adds."""

    inner: str
    outer: str
    shifts: tuple[str, ...]
    block: str

    def line(self, indent: str) -> cst.ParenthesizedWhitespace:
        relative = indent.startswith(self.block)
        return cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(),
            indent=relative,
            last_line=cst.SimpleWhitespace(indent[len(self.block):] if relative else indent),
        )

    def apply(self, call: cst.Call) -> cst.Call:
        args = list(call.args)
        laid = []
        for index, arg in enumerate(args):
            value = arg.value
            shift = self.shifts[index] if index < len(self.shifts) else ""
            if shift:
                value = _real(value).visit(_Shift(shift))
            after = self.line(self.inner if index < len(args) - 1 else self.outer)
            laid.append(arg.with_changes(value=value, comma=cst.Comma(whitespace_after=after)))
        return call.with_changes(whitespace_before_args=self.line(self.inner), args=laid)


def _real(node: cst.CSTNode) -> cst.CSTNode:
    if getattr(type(node), "LIGHT", False):
        from emberlint.light import materialize

        return materialize(node)
    return node


class _Shift(cst.CSTTransformer):
    """Moves every continuation line (and comment line) inside brackets right by ``shift``."""

    def __init__(self, shift: str) -> None:
        super().__init__()
        self.shift = shift

    def leave_ParenthesizedWhitespace(self, original, updated):
        return updated.with_changes(last_line=cst.SimpleWhitespace(self.shift + updated.last_line.value))

    def leave_EmptyLine(self, original, updated):
        if updated.comment is None:
            return updated
        return updated.with_changes(whitespace=cst.SimpleWhitespace(self.shift + updated.whitespace.value))
