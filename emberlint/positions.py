"""Turning node replacements into text edits, at the positions the parsed file gives."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import CodeRange

from emberlint.fixers.deferred import resolved
from emberlint.layout import code_for, droppable_parens
from emberlint.model import Edit, Fix, Position
from emberlint.rule import RawFix

if TYPE_CHECKING:
    from emberlint.layout import Layout
    from emberlint.parsed_file import ParsedFile


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


def build_fix(fix: RawFix, parsed: ParsedFile, positions: dict[cst.CSTNode, CodeRange],
              layout: Layout | None = None) -> Fix | None:
    """The text edits of a fix in the file ``parsed``. ``layout``: the file's ``emberlint.layout.Layout``
    (continuation lines keep their block's indentation, parentheses a call does not need are dropped)."""
    module = parsed.module
    newline = parsed.default_newline
    default_indent = layout.indent_unit if layout else "    "
    edits: list[Edit] = []
    for old, new in fix.replacements:
        code_range = positions.get(old)
        if code_range is None:
            return None
        new = resolved(new)
        if type(new) is str:  # the code of a call, one line, read off the source by the fixer
            text = new
        else:
            if getattr(old, "lpar", None) and getattr(new, "lpar", None):
                new = new.with_changes(lpar=[], rpar=[])  # the old node's parentheses lie outside its range, stay
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
    if edits and all(_source_between(parsed.lines, edit.start, edit.end) == edit.text for edit in edits):
        return None  # it would write what is there (the finding stands; there is nothing to fix)
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


def _source_between(lines: list[str], start: Position, end: Position) -> str:
    """The source text from ``start`` to ``end`` (1-based lines and columns; ``lines`` keep their line ends)."""
    if end.line > len(lines):
        return "".join(lines[start.line - 1:])[start.column - 1:]
    text = "".join(lines[start.line - 1: end.line])
    return text[start.column - 1: len(text) - len(lines[end.line - 1]) + end.column - 1]


def offered_fix(fix: RawFix, positions: dict[cst.CSTNode, CodeRange]) -> Fix | None:
    """What ``build_fix`` says of a fix without its edits: None where it gives none, else the fix with no edits
    (for a report that needs only whether a fix exists and whether it is safe)."""
    if any(positions.get(old) is None for old, _ in fix.replacements):
        return None
    return Fix(fix.safe, (), fix.description)
