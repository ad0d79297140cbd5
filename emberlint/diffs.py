"""The unified diff ``fix --diff`` prints, in time linear in the file size.

``difflib.unified_diff`` compares the two texts line by line from scratch, which costs quadratic time on a large
file with many changed and many repeated lines (measured: 0.4 s for 160 KB, 6.5 s for 640 KB). A fix knows where
it changed the text (``edits.PositionMap.changed_lines``): the lines between those regions are equal, so only the
regions themselves are compared, and the hunks are grouped and printed as ``difflib.unified_diff`` does.
"""

from __future__ import annotations

import difflib
import io

Opcode = tuple[str, int, int, int, int]


def split_lines(text: str) -> list[str]:
    """Lines ending at ``\\n``, ``\\r\\n`` or ``\\r`` only (not at form feeds, as ``str.splitlines`` does)."""
    return io.StringIO(text, newline="").readlines()


def unified_diff(path: str, before: str, after: str, regions: list[tuple[int, int, int, int]] | None = None,
                 context: int = 3) -> str:
    """``difflib.unified_diff`` of ``before`` and ``after`` (files ``a/path`` and ``b/path``), marking a missing
    final newline. ``regions``: the changed line ranges ``(first, end)`` in ``before`` and in ``after``, outside
    which both texts hold the same lines; without them the whole texts are compared."""
    old, new = split_lines(before), split_lines(after)
    opcodes = _opcodes_within(old, new, regions) if regions is not None else None
    if opcodes is None:
        opcodes = difflib.SequenceMatcher(None, old, new).get_opcodes()
    lines: list[str] = []
    for group in _hunks(opcodes, context):
        if not lines:
            lines += [f"--- a/{path}\n", f"+++ b/{path}\n"]
        first, last = group[0], group[-1]
        lines.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [" " + line for line in old[i1:i2]]
                continue
            lines += ["-" + line for line in old[i1:i2]]
            lines += ["+" + line for line in new[j1:j2]]
    marked = []
    for line in lines:
        marked.append(line)
        if not line.endswith(("\n", "\r")):
            marked.append("\n\\ No newline at end of file\n")
    return "".join(marked)


def _opcodes_within(old: list[str], new: list[str], regions) -> list[Opcode] | None:
    """Opcodes for the whole texts from comparisons of the changed regions only (None when the regions do not
    describe the two texts: then the caller compares them whole)."""
    opcodes: list[Opcode] = []
    at_old = at_new = 0
    for old_first, old_end, new_first, new_end in regions:
        if old_first - at_old != new_first - at_new or old_first < at_old or old_end > len(old) or new_end > len(new):
            return None
        if old_first > at_old:
            opcodes.append(("equal", at_old, old_first, at_new, new_first))
        matcher = difflib.SequenceMatcher(None, old[old_first:old_end], new[new_first:new_end], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            opcodes.append((tag, old_first + i1, old_first + i2, new_first + j1, new_first + j2))
        at_old, at_new = old_end, new_end
    if len(old) - at_old != len(new) - at_new:
        return None
    if at_old < len(old):
        opcodes.append(("equal", at_old, len(old), at_new, len(new)))
    joined: list[Opcode] = []
    for opcode in opcodes:
        if opcode[1] == opcode[2] and opcode[3] == opcode[4]:
            continue
        if joined and (opcode[0] == "equal") == (joined[-1][0] == "equal"):
            # two changes in a row (two regions that touch) are one change, as a whole-text comparison says
            i1, j1 = joined[-1][1], joined[-1][3]
            i2, j2 = opcode[2], opcode[4]
            tag = "equal" if opcode[0] == "equal" else "insert" if i1 == i2 else "delete" if j1 == j2 else "replace"
            joined[-1] = (tag, i1, i2, j1, j2)
        else:
            joined.append(opcode)
    if any(tag == "equal" and old[i1:i2] != new[j1:j2] for tag, i1, i2, j1, j2 in joined):
        return None
    return joined


def _hunks(opcodes: list[Opcode], context: int) -> list[list[Opcode]]:
    """The opcodes grouped into hunks with ``context`` equal lines around each change (difflib's grouping)."""
    if not opcodes or all(tag == "equal" for tag, *_ in opcodes):
        return []
    codes = list(opcodes)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (1-based start, a length unless it is 1)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"
