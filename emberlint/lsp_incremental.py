"""Provisional diagnostics for an edit inside one function of a large file, for the language server.

Re-linting a 5,000-line file takes longer than an editor should wait after a keystroke. When an edit stays inside
the body of one function (a module-level function or a method of a module-level class), its findings are mostly
those of that function: this module lints a reduced copy of the new text (module- and class-level code, the
edited function and its class's ``__init__``; every other function left out, a class keeping a ``pass``; its lines
mapped back to the whole text's)
and merges the findings inside the edited function with the previous findings elsewhere (shifted by the number of
lines the edit added). The server publishes that at once and then publishes the full lint's result (exact) when
it is done; the full result is what code actions and hover use.

Anything the heuristic cannot vouch for returns None (the caller waits for the full lint): an edit that crosses a
function's boundary, a function whose extent the indentation does not tell (the reduced copy or the function
alone does not parse), a reduced copy with an error, ``ignore-file`` anywhere. Findings in the edited function
that depend on other functions (``self.x`` set in another method, a local function's return) can differ from the
exact lint's until it arrives; ``benchmarks/lsp_latency.py`` measures how often they agree.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from emberlint.config import Config
from emberlint.model import FileResult, Position

_DEF = re.compile(r"^( {0,8}|\t{0,2})(?:async[ \t]+)?def[ \t]")
_CLASS = re.compile(r"^class[ \t]")
_INIT = re.compile(r"^[ \t]*def[ \t]+__init__[ \t]*\(")
_DECORATOR = re.compile(r"^( {0,8}|\t{0,2})@")
MIN_LINES = 400  # below this a full lint is fast enough


def _indent(line: str) -> int:
    """The indentation's width, tabs to the next multiple of 8 as Python counts them."""
    if "\t" not in line:
        return len(line) - len(line.lstrip(" "))
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" "))


def _code_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def function_blocks(lines: list[str], owners: dict | None = None) -> list[tuple[int, int]]:
    """0-based (first, last) line ranges of module-level functions and methods of module-level classes, decorators
    included, as the indentation tells them (a guess the caller verifies by parsing). ``owners`` receives each
    block's class line (-1 for a function)."""
    owners = {} if owners is None else owners
    stripped = [line.lstrip(" \t") for line in lines]
    code = [bool(text) and text[0] != "#" for text in stripped]
    indents = [len(line) - len(text) if "\t" not in line[:len(line) - len(text)] else _indent(line)
               for line, text in zip(lines, stripped)]
    closing = [text[:1] in (")", "]", "}") for text in stripped]
    blocks: list[tuple[int, int]] = []
    in_class = False
    owner = -1
    index = 0
    count = len(lines)
    while index < count:
        line = lines[index]
        if code[index] and indents[index] == 0 and not closing[index]:
            in_class = bool(_CLASS.match(line))
            owner = index if in_class else -1
        indent = indents[index]
        if "def" in line and _DEF.match(line) and (indent == 0 or in_class):
            first = index
            while first > 0 and _DECORATOR.match(lines[first - 1]) and indents[first - 1] == indent:
                first -= 1
            last = index
            scan = index + 1
            while scan < count:
                if code[scan]:
                    if indents[scan] <= indent and not closing[scan]:  # `) -> T:` ends a signature
                        break
                    last = scan
                elif stripped[scan] and indents[scan] > indent:  # a comment of the body
                    last = scan
                scan += 1
            blocks.append((first, last))
            owners[(first, last)] = owner if indent else -1
            index = scan
            continue
        index += 1
    return blocks


def changed_range(old: list[str], new: list[str]) -> tuple[int, int, int]:
    """(first changed line, last changed line in the old text, last changed line in the new text), 0-based;
    the last lines are first - 1 when nothing was removed / added."""
    first = 0
    limit = min(len(old), len(new))
    while first < limit and old[first] == new[first]:
        first += 1
    old_last, new_last = len(old) - 1, len(new) - 1
    while old_last >= first and new_last >= first and old[old_last] == new[new_last]:
        old_last -= 1
        new_last -= 1
    return first, old_last, new_last


def _parses_as_one_function(lines: list[str], first: int, last: int) -> bool:
    block = "\n".join(lines[first:last + 1]) + "\n"
    method = _indent(lines[first]) > 0
    try:
        body = ast.parse("class _:\n" + block if method else block).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if method:
        if len(body) != 1 or not isinstance(body[0], ast.ClassDef):
            return False
        body = body[0].body
    return len(body) == 1 and isinstance(body[0], (ast.FunctionDef, ast.AsyncFunctionDef))


def provisional_lint(old_text: str, old_result: FileResult, new_text: str, path: str,
                     config: Config) -> FileResult | None:
    """The findings of ``new_text`` computed from the edited function alone, or None (see the module's doc)."""
    from emberlint.engine import lint_source

    if old_result.errors or "ignore-file" in new_text:
        return None
    old, new = old_text.split("\n"), new_text.split("\n")
    if len(new) < MIN_LINES:
        return None
    first, old_last, new_last = changed_range(old, new)
    if first >= len(new):
        return None
    owners: dict[tuple[int, int], int] = {}
    blocks = function_blocks(new, owners)
    delta = len(new) - len(old)
    last_touched = new_last if new_last >= first else first - 1  # lines only removed: the line above the cut
    edited = next((b for b in blocks if b[0] < first and last_touched <= b[1]), None)
    if edited is None or not _parses_as_one_function(new, *edited):
        return None
    old_edited = (edited[0], edited[1] - delta)
    if not (old_edited[0] < first and old_last <= old_edited[1]):
        return None
    dropped = [False] * len(new)
    stubs: dict[int, str] = {}  # line -> indentation of the ``pass`` that keeps a class body non-empty
    stubbed_classes: set[int] = set()
    for start, end in blocks:
        if (start, end) == edited:
            continue
        header = new[next(i for i in range(start, end + 1) if _DEF.match(new[i]))]
        owner = owners[(start, end)]
        if owner >= 0 and owner == owners[edited] and _INIT.match(header):
            continue  # the class's ``self.x = ...`` facts live in its __init__
        for index in range(start, end + 1):
            dropped[index] = True
        if owner >= 0 and owner not in stubbed_classes:
            stubbed_classes.add(owner)
            stubs[start] = header[:len(header) - len(header.lstrip(" \t"))]
    # the reduced copy holds the kept lines only (no long runs of blank lines to scan); ``kept`` maps its lines back
    kept: list[int] = []
    texts: list[str] = []
    for index, line in enumerate(new):
        if index in stubs:
            kept.append(index)
            texts.append(stubs[index] + "pass")
        elif not dropped[index]:
            kept.append(index)
            texts.append(line)
    try:
        partial = lint_source("\n".join(texts), path, config)
    except Exception:
        return None
    if partial.errors:
        return None
    partial.findings = [_moved(finding, kept) for finding in partial.findings]
    low, high = edited[0] + 1, edited[1] + 1  # 1-based lines of the edited function (new text)
    old_low, old_high = old_edited[0] + 1, old_edited[1] + 1
    merged = FileResult(path, errors=[])
    for finding in old_result.findings:
        if finding.start.line < old_low:
            merged.findings.append(finding)
        elif finding.start.line > old_high:
            merged.findings.append(_shift(finding, delta, old_high + 1))
    merged.findings.extend(f for f in partial.findings if low <= f.start.line <= high)
    merged.findings.sort(key=lambda f: f.sort_key)
    return merged


def _moved(finding, kept: list[int]):
    """A finding of the reduced copy at its place in the whole text (``kept[i]`` is the 0-based line of the reduced
    copy's line ``i + 1``)."""

    def place(position: Position) -> Position:
        line = kept[position.line - 1] + 1 if 0 < position.line <= len(kept) else position.line
        return Position(line, position.column)

    fix = finding.fix
    if fix is not None:
        fix = replace(fix, edits=tuple(replace(e, start=place(e.start), end=place(e.end)) for e in fix.edits))
    return replace(finding, start=place(finding.start), end=place(finding.end), fix=fix)


def _shift(finding, delta: int, after: int):
    """``finding`` (below the edited function) with its lines and those of its fix's edits from line ``after`` on
    moved by ``delta``."""
    if not delta:
        return finding

    def moved(position: Position) -> Position:
        return Position(position.line + delta, position.column)

    fix = finding.fix
    if fix is not None:  # an edit above the change (an import at the top) stays where it is
        fix = replace(fix, edits=tuple(
            replace(e, start=moved(e.start), end=moved(e.end)) if e.start.line >= after else e for e in fix.edits))
    return replace(finding, start=moved(finding.start), end=moved(finding.end), fix=fix)
