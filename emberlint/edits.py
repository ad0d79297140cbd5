"""Applying text edits (1-based line/column ranges) to a source text."""

from __future__ import annotations

import bisect
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


class _Taken:
    """Disjoint replaced ranges and insertion points chosen so far, sorted, for bisection."""

    def __init__(self) -> None:
        self.starts: list[tuple[int, int]] = []
        self.ends: list[tuple[int, int]] = []
        self.points: list[tuple[int, int]] = []

    def overlaps(self, start: tuple[int, int], end: tuple[int, int]) -> bool:
        """Whether ``[start, end)`` overlaps a chosen range (touching is allowed)."""
        index = bisect.bisect_left(self.starts, end) - 1  # the last chosen range starting before ``end``
        return index >= 0 and self.ends[index] > start

    def strictly_inside(self, point: tuple[int, int]) -> bool:
        index = bisect.bisect_left(self.starts, point) - 1
        return index >= 0 and self.ends[index] > point

    def holds_point(self, start: tuple[int, int], end: tuple[int, int]) -> bool:
        index = bisect.bisect_right(self.points, start)
        return index < len(self.points) and self.points[index] < end

    def add(self, spans: list[tuple[tuple[int, int], tuple[int, int]]], points: list[tuple[int, int]]) -> None:
        for start, end in spans:
            index = bisect.bisect_left(self.starts, start)
            self.starts.insert(index, start)
            self.ends.insert(index, end)
        for point in points:
            bisect.insort(self.points, point)


def _key(position: Position) -> tuple[int, int]:
    return position.line, position.column


def compatible_fixes(fixes: Iterable[Fix]) -> list[Fix]:
    """A maximal prefix-greedy set of fixes whose edits neither overlap nor touch each other's replaced ranges.
    An insertion (an import) strictly inside another fix's replaced range conflicts too. Pure insertions at the
    same point (imports) are merged by the caller keeping one copy. Bisection over the chosen ranges keeps this
    O(n log n) for a file with n fixes (plus list insertions, mostly at the end: fixes come in file order)."""
    chosen: list[Fix] = []
    taken = _Taken()
    for fix in fixes:
        spans = [(_key(e.start), _key(e.end)) for e in fix.edits if e.start != e.end]
        inserts = [_key(e.start) for e in fix.edits if e.start == e.end]
        if any(taken.overlaps(start, end) for start, end in spans):
            continue
        if any(taken.strictly_inside(p) for p in inserts) or any(taken.holds_point(s, e) for s, e in spans):
            continue
        chosen.append(fix)
        taken.add(spans, inserts)
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
