"""Source positions for reported nodes, and turning node replacements into text edits."""

from __future__ import annotations

from typing import Iterable

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from emberlint.model import Edit, Fix, Position
from emberlint.rule import RawFix


def resolve_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    """Positions of ``nodes`` (computed only when a file has something to report)."""
    wanted = list(nodes)
    if not wanted:
        return {}
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: positions[node] for node in wanted if node in positions}


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


def build_fix(fix: RawFix, module: cst.Module, positions: dict[cst.CSTNode, CodeRange]) -> Fix | None:
    edits: list[Edit] = []
    for old, new in fix.replacements:
        code_range = positions.get(old)
        if code_range is None:
            return None
        if getattr(old, "lpar", None) and getattr(new, "lpar", None):
            new = new.with_changes(lpar=[], rpar=[])  # the old node's parentheses lie outside its range and stay
        edits.append(Edit(start_of(code_range), end_of(code_range), module.code_for_node(new)))
    if fix.imports:
        text = "".join(line + module.default_newline for line in dict.fromkeys(fix.imports))
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
