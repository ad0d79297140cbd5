"""Source positions for reported nodes, and turning node replacements into text edits."""

from __future__ import annotations

import contextlib
import re
from typing import Iterable

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from emberlint import walk
from emberlint.fixers.deferred import resolved
from emberlint.layout import code_for, droppable_parens
from emberlint.model import Edit, Fix, Position
from emberlint.rule import RawFix


class _Done(Exception):
    """Every wanted node has its final position: the rest of the code generation is skipped."""


class _Recording:
    """Context manager of ``record_syntactic_position`` for a node whose position is kept."""

    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(self, state: _PositionState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = CodePosition(self.state.line, self.state.column)

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:  # stopping early (or failing): nothing to record
            return
        state = self.state
        computed = state.computed
        start = computed[self.start_node].start if self.start_node is not None else self.start
        end = computed[self.end_node].end if self.end_node is not None else CodePosition(state.line, state.column)
        computed[self.node] = CodeRange(start, end)


class _PositionState:
    """A LibCST code-generation state that tracks line/column like ``PositionProvider`` but records ranges only
    for the wanted nodes (and the children LibCST takes their start or end from), and stops as
    soon as every wanted node is done. Ranges are identical to ``PositionProvider``'s (tested)."""

    def __init__(self, module: cst.Module, wanted: set[cst.CSTNode]) -> None:
        self.default_indent = module.default_indent
        self.default_newline = module.default_newline
        self.indent_tokens: list[str] = []
        self.tokens: list[str] = []
        self.line = 1
        self.column = 0
        self.wanted = wanted
        self.remaining = len(wanted)
        self.computed: dict[cst.CSTNode, CodeRange] = {}
        self.hoisted: set[cst.CSTNode] = set()  # children whose ranges a kept node's range is made of
        self._stack: list[CodePosition] = []

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.tokens.append(token)
            self._advance(token)

    def increase_indent(self, value: str) -> None:
        self.indent_tokens.append(value)

    def decrease_indent(self) -> None:
        self.indent_tokens.pop()

    def pop_trailing_newline(self) -> None:
        if self.tokens:  # like LibCST: the token goes, the position stays
            self.tokens.pop()

    def _keeps(self, node: cst.CSTNode) -> bool:
        return node in self.wanted or node in self.hoisted

    def before_codegen(self, node: cst.CSTNode) -> None:
        if self._keeps(node):
            self._stack.append(CodePosition(self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if not self._keeps(node):
            return
        start = self._stack.pop()
        if node not in self.computed:
            self.computed[node] = CodeRange(start, CodePosition(self.line, self.column))
        if node in self.wanted:
            self.remaining -= 1
            if self.remaining == 0:
                raise _Done

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        if not self._keeps(node):
            return _NOTHING
        if start_node is not None:  # the range comes from children's: keep theirs too
            self.hoisted.add(start_node)
        if end_node is not None:
            self.hoisted.add(end_node)
        return _Recording(self, node, start_node, end_node)


_NEWLINE = re.compile(r"\r\n?|\n")
_NOTHING = contextlib.nullcontext()


def resolve_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    """Positions of ``nodes`` (computed only when a file has something to report), the same ranges LibCST's
    ``PositionProvider`` gives, from one code-generation pass that records only what is asked for."""
    wanted = set(nodes)
    if not wanted:
        return {}
    if walk.REFERENCE:
        return full_positions(module, wanted)
    state = _PositionState(module, wanted)
    try:
        module._codegen(state)
    except _Done:
        pass
    computed = state.computed
    return {node: computed[node] for node in wanted if node in computed}


def full_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    """The reference: LibCST's ``PositionProvider`` over the whole tree."""
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: positions[node] for node in nodes if node in positions}


def start_of(code_range: CodeRange) -> Position:
    return Position(code_range.start.line, code_range.start.column + 1)


def end_of(code_range: CodeRange) -> Position:
    return Position(code_range.end.line, code_range.end.column + 1)


def import_anchor(module: cst.Module) -> cst.CSTNode | None:
    """The statement after which a new import goes: the last leading import (or docstring), else None."""
    anchor = None
    for index, statement in enumerate(module.body):
        if isinstance(statement, cst.SimpleStatementLine):
            small = statement.body
            if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in small):
                anchor = statement
                continue
            if index == 0 and len(small) == 1 and isinstance(small[0], cst.Expr) and isinstance(
                small[0].value, (cst.SimpleString, cst.ConcatenatedString)
            ):
                anchor = statement
                continue
        if isinstance(statement, cst.Try) and anchor is not None:
            continue
        break
    return anchor


def fix_nodes(fix: RawFix, module: cst.Module) -> list[cst.CSTNode]:
    nodes: list[cst.CSTNode] = [old for old, _ in fix.replacements]
    if fix.imports:
        anchor = import_anchor(module)
        nodes.append(anchor if anchor is not None else (module.body[0] if module.body else module))
    return nodes


def build_fix(fix: RawFix, module: cst.Module, positions: dict[cst.CSTNode, CodeRange], tree=None,
              layout=None) -> Fix | None:
    """The text edits of a fix. ``tree``: the light tree ``module`` belongs to (None for a LibCST module);
    ``layout``: the file's ``emberlint.layout.Layout`` (continuation lines keep their block's indentation,
    parentheses a call does not need are dropped)."""
    newline = tree.default_newline if tree is not None else module.default_newline
    default_indent = module.default_indent if tree is None else (layout.indent_unit if layout else "    ")
    edits: list[Edit] = []
    for old, new in fix.replacements:
        code_range = positions.get(old)
        if code_range is None:
            return None
        new = resolved(new)
        if getattr(old, "lpar", None) and getattr(new, "lpar", None):
            new = new.with_changes(lpar=[], rpar=[])  # the old node's parentheses lie outside its range and stay
        text = code_for(new, newline, "", default_indent)
        if layout is not None and ("\n" in text or "\r" in text):
            text = code_for(new, newline, layout.block_indent(old), default_indent)
        start, end = start_of(code_range), end_of(code_range)
        if layout is not None and droppable_parens(old, new):
            widened = layout.paren_range(old)
            multi_line = "\n" in text or "\r" in text
            if widened is not None and (multi_line or (widened.start.line, widened.end.line) == (
                    code_range.start.line, code_range.end.line)):
                start, end = start_of(widened), end_of(widened)
                before = layout.lines[widened.start.line - 1][: widened.start.column]
                if before[-1:].isalnum() or before[-1:] == "_":  # ``return(a*b)``: keep the words apart
                    text = " " + text
        edits.append(Edit(start, end, text))
    if fix.imports:
        text = "".join(line + newline for line in dict.fromkeys(fix.imports))
        anchor = import_anchor(module)
        if anchor is not None:
            line = positions[anchor].end.line + 1
        elif module.body:
            line = positions[module.body[0]].start.line
        else:
            line = positions[module].end.line + 1 if module in positions else 1
        where = Position(line, 1)
        edits.append(Edit(where, where, text))
    edits.sort(key=lambda e: (e.start, e.end))
    return Fix(fix.safe, tuple(edits), fix.description)


def offered_fix(fix: RawFix, positions: dict[cst.CSTNode, CodeRange]) -> Fix | None:
    """What ``build_fix`` says of a fix without its edits: None where it gives none, else the fix with no edits
    (for a report that needs only whether a fix exists and whether it is safe)."""
    if any(positions.get(old) is None for old, _ in fix.replacements):
        return None
    return Fix(fix.safe, (), fix.description)
