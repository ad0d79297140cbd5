"""Applying text edits (1-based line/column ranges) to a source text."""

from __future__ import annotations

import bisect
import difflib
import functools
import re
from typing import Iterable

from emberlint.model import Edit, Fix, Position


_LINE_END = re.compile(r"\r\n|\r|\n")


@functools.lru_cache(maxsize=4)  # a fix round asks for the same texts' offsets several times (read-only lists)
def _line_offsets(text: str) -> list[int]:
    """Offsets of each line's start. Lines end at ``\n``, ``\r\n`` or ``\r`` only, as for Python's tokenizer
    and LibCST's positions (``str.splitlines`` also splits at form feeds and U+2028, which would shift edits)."""
    return [0] + [match.end() for match in _LINE_END.finditer(text)]


def offset_of(offsets: list[int], position: Position) -> int:
    index = min(position.line - 1, len(offsets) - 1)
    return offsets[index] + position.column - 1


def _sorted_spans(text: str, edits: Iterable[Edit]) -> list[tuple[int, int, str]]:
    offsets = _line_offsets(text)
    spans = sorted(
        ((offset_of(offsets, e.start), offset_of(offsets, e.end), e.text) for e in edits),
        key=lambda s: (s[0], s[1]),
    )
    for (start_a, end_a, _), (start_b, _, _) in zip(spans, spans[1:]):
        if start_b < end_a:
            raise ValueError("overlapping edits")
    return spans


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits; raises ValueError when two edits overlap."""
    return apply_mapped(text, edits)[0]


def edit_spans(text: str, edits: Iterable[Edit]) -> list[tuple[int, int, int, int]]:
    """Where ``apply_edits`` puts each edit: ``(old_start, old_end, new_start, new_end)`` offsets."""
    return apply_mapped(text, edits)[1]


def apply_mapped(text: str, edits: Iterable[Edit]) -> tuple[str, list[tuple[int, int, int, int]]]:
    """``apply_edits`` and ``edit_spans`` of the same edits at once (they are sorted once)."""
    pieces = []
    mapped = []
    cursor = shift = 0
    for start, end, replacement in _sorted_spans(text, edits):
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
        mapped.append((start, end, start + shift, start + shift + len(replacement)))
        shift += len(replacement) - (end - start)
    pieces.append(text[cursor:])
    return "".join(pieces), mapped


def nested_lines(old_text: str, new_text: str, spans: list[tuple[int, int, int, int]],
                 skipped: Iterable[Fix]) -> list[tuple[int, int]]:
    """Where fixes left out of a round (they overlapped a chosen one: nested in it, or around it) are to be looked
    for again: the lines of ``new_text`` (``(first, last)``, 1-based, sorted and disjoint) holding each run of
    overlapping or touching edits, chosen (``spans``: ``edit_spans`` of ``old_text``) or skipped, that holds a
    skipped fix's edit."""
    offsets = _line_offsets(old_text)
    intervals = [(start, end, False) for start, end, _, _ in spans]
    for fix in skipped:
        intervals.extend((offset_of(offsets, e.start), offset_of(offsets, e.end), True) for e in fix.edits)
    if not any(is_skipped for _, _, is_skipped in intervals):
        return []
    intervals.sort(key=lambda item: (item[0], item[1]))
    runs: list[list] = []
    for start, end, is_skipped in intervals:
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
            runs[-1][2] = runs[-1][2] or is_skipped
        else:
            runs.append([start, end, is_skipped])
    starts = [span[0] for span in spans]
    shifts = [0]  # shifts[i]: how much the first i chosen edits lengthened the text
    for old_start, old_end, new_start, new_end in spans:
        shifts.append(shifts[-1] + (new_end - new_start) - (old_end - old_start))
    new_offsets = _line_offsets(new_text)
    lines: list[tuple[int, int]] = []
    for start, end, has_skipped in runs:
        if not has_skipped:
            continue
        new_start = start + shifts[bisect.bisect_left(starts, start)]  # the edits before the run
        new_end = end + shifts[bisect.bisect_right(starts, end)]  # ... and the run's own
        first = bisect.bisect_right(new_offsets, new_start)
        last = bisect.bisect_right(new_offsets, new_end)
        if lines and first <= lines[-1][1] + 1:
            lines[-1] = (lines[-1][0], max(lines[-1][1], last))
        else:
            lines.append((first, last))
    return lines


class PositionMap:
    """Maps positions in a fixed text back to the text it was fixed from, through every round's edits. Inside a
    rewritten span, text the rewrite kept (an operand, a literal) maps to where it was; anything else maps to the
    nearest kept text before it, or to the start of the span."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.final = original
        self.rounds: list[tuple[list[int], list[tuple[int, int, int, int]], str, str]] = []
        #: ``(original_start, original_end, final_start, final_end)``: outside them both texts are equal
        self.blocks: list[tuple[int, int, int, int]] = []
        self._offsets: dict[int, list[int]] = {}

    def add_round(self, spans: list[tuple[int, int, int, int]], old_text: str, new_text: str) -> None:
        self.rounds.append(([span[2] for span in spans], spans, old_text, new_text))
        self.final = new_text
        self.blocks = _merge_round(self.blocks, spans)

    def changed_lines(self) -> list[tuple[int, int, int, int]]:
        """The changed regions as whole lines: ``(first, end)`` line indexes (0-based, end exclusive) in the
        original text and the same in the fixed text; between two regions both texts hold the same lines."""
        if not self.rounds:
            return []
        original, final = self._line_starts(self.original), self._line_starts(self.final)
        widened: list[list[int]] = []
        for o_start, o_end, f_start, f_end in self.blocks:
            first = bisect.bisect_right(original, o_start) - 1
            back = o_start - original[first]
            last = bisect.bisect_left(original, o_end) if o_end > o_start else first + 1
            last = max(last, first + 1)
            forward = (original[last] if last < len(original) else len(self.original)) - o_end
            region = [first, last, f_start - back, f_end + forward]
            if widened and region[0] < widened[-1][1]:
                widened[-1][1], widened[-1][3] = max(widened[-1][1], region[1]), region[3]
            else:
                widened.append(region)
        result = []
        for first, last, f_start, f_end in widened:
            f_first = bisect.bisect_right(final, f_start) - 1
            f_last = bisect.bisect_left(final, f_end) if f_end > f_start else f_first
            result.append((first, last, f_first, f_last))
        return result

    def offset_back(self, offset: int) -> int:
        for starts, spans, old_text, new_text in reversed(self.rounds):
            index = bisect.bisect_right(starts, offset) - 1
            if index < 0:
                continue
            old_start, old_end, new_start, new_end = spans[index]
            if offset >= new_end:
                offset = old_end + (offset - new_end)
                continue
            inside = offset - new_start
            kept = old_start
            matcher = difflib.SequenceMatcher(None, old_text[old_start:old_end], new_text[new_start:new_end],
                                              autojunk=False)
            for a, b, size in matcher.get_matching_blocks():
                if b <= inside < b + size:
                    kept = old_start + a + (inside - b)
                    break
                if b + size <= inside and size:
                    kept = old_start + a + size
            offset = kept
        return offset

    def back(self, position: Position) -> Position:
        """The position in the original text of ``position`` (1-based line and column) in the fixed text."""
        if not self.rounds:
            return position
        offset = offset_of(self._line_starts(self.final), position)
        return position_at(self._line_starts(self.original), self.offset_back(offset))

    def _line_starts(self, text: str) -> list[int]:
        found = self._offsets.get(id(text))
        if found is None:
            found = self._offsets[id(text)] = _line_offsets(text)
        return found


def _merge_round(blocks: list[tuple[int, int, int, int]],
                 spans: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Blocks ``(original_start, original_end, current_start, current_end)`` (outside them the original and the
    current text are equal) after one more round of ``spans`` (``edit_spans`` of the current text): blocks and
    spans that overlap or touch become one block, all in one sweep."""
    items = sorted([(b[2], b[3], 0, b) for b in blocks] + [(s[0], s[1], 1, s) for s in spans],
                   key=lambda item: (item[0], item[1]))
    merged: list[tuple[int, int, int, int]] = []
    original_shift = 0  # current - original, outside the blocks passed
    new_shift = 0  # new - current, after the spans passed
    index = 0
    while index < len(items):
        start, end = items[index][0], items[index][1]
        block_change = span_change = 0
        while index < len(items) and items[index][0] <= end:
            item_start, item_end, kind, item = items[index]
            end = max(end, item_end)
            if kind == 0:
                block_change += (item[3] - item[2]) - (item[1] - item[0])
            else:
                span_change += (item[3] - item[2]) - (item[1] - item[0])
            index += 1
        merged.append((start - original_shift, end - original_shift - block_change,
                       start + new_shift, end + new_shift + span_change))
        original_shift += block_change
        new_shift += span_change
    return merged


def position_at(offsets: list[int], offset: int) -> Position:
    index = bisect.bisect_right(offsets, offset) - 1
    return Position(index + 1, offset - offsets[index] + 1)


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
        spans, inserts = [], []
        for edit in fix.edits:
            start, end = _key(edit.start), _key(edit.end)
            if start == end:
                inserts.append(start)
            else:
                spans.append((start, end))
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
