"""Applying text edits (1-based line/column ranges) to a source text."""

from __future__ import annotations

import re
from typing import Iterable

from emberlint.model import Edit, Fix, Position


_LINE_END = re.compile(r"\r\n|\r|\n")


def _line_offsets(text: str) -> list[int]:
    """Offsets of each line's start. Lines end at ``\n``, ``\r\n`` or ``\r`` only, as for Python's tokenizer
    and LibCST's positions (``str.splitlines`` also splits at form feeds and U+2028, which would shift edits)."""
    return [0] + [match.end() for match in _LINE_END.finditer(text)]


def offset_of(offsets: list[int], position: Position) -> int:
    index = min(position.line - 1, len(offsets) - 1)
    return offsets[index] + position.column - 1


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits; raises ValueError when two edits overlap."""
    offsets = _line_offsets(text)
    spans = sorted(
        ((offset_of(offsets, e.start), offset_of(offsets, e.end), e.text) for e in edits),
        key=lambda s: (s[0], s[1]),
    )
    for (start_a, end_a, _), (start_b, _, _) in zip(spans, spans[1:]):
        if start_b < end_a:
            raise ValueError("overlapping edits")
    pieces = []
    cursor = 0
    for start, end, replacement in spans:
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _span(edit: Edit) -> tuple[Position, Position]:
    return edit.start, edit.end


def compatible_fixes(fixes: Iterable[Fix]) -> list[Fix]:
    """A maximal prefix-greedy set of fixes whose edits neither overlap nor touch each other's replaced ranges.
    An insertion (an import) strictly inside another fix's replaced range conflicts too. Pure insertions at the
    same point (imports) are merged by the caller keeping one copy."""
    chosen: list[Fix] = []
    taken: list[tuple[Position, Position]] = []
    points: list[Position] = []
    for fix in fixes:
        spans = [_span(e) for e in fix.edits if e.start != e.end]
        inserts = [e.start for e in fix.edits if e.start == e.end]
        if any(not (end <= s or start >= e) for start, end in spans for s, e in taken):
            continue
        if any(s < p < e for p in inserts for s, e in taken) or any(s < p < e for s, e in spans for p in points):
            continue
        chosen.append(fix)
        taken.extend(spans)
        points.extend(inserts)
    return chosen


def merge_fix_edits(fixes: Iterable[Fix]) -> list[Edit]:
    """The edits of several compatible fixes; identical insertions (the same import) are kept once."""
    seen: set[tuple] = set()
    edits: list[Edit] = []
    for fix in fixes:
        for edit in fix.edits:
            key = (edit.start, edit.end, edit.text) if edit.start == edit.end else (id(edit),)
            if key in seen:
                continue
            seen.add(key)
            edits.append(edit)
    return edits
