"""Jupyter notebooks: the code cells linted as one module, findings mapped back to cells, fixes written back.

The code cells, in order, become one Python module (so a name defined in an earlier cell is known in a later
one). Each cell is preceded by a marker comment line, which lets a fixed module be split back into cells even when a
fix added lines (an import). IPython syntax (``%magic``, ``!shell``, ``obj?``, ``x = !cmd``) is masked line by line
with a ``pass`` placeholder of the same indentation; a cell run by a non-Python cell magic (``%%bash``...) is left
out. Positions are reported as (cell, line in the cell, column): the cell is its 1-based position among all of the
notebook's cells (markdown cells count), the number you reach by scrolling.

``fix`` changes only the JSON values of the changed cells' ``source``: every other byte of the file (outputs,
metadata, execution counts, key order, indentation, trailing newline) stays as it was, and unchanged lines of a
changed cell keep their original JSON spelling.
"""

from __future__ import annotations

import bisect
import io
import json
import re
import tokenize
from dataclasses import dataclass, field, replace
from typing import Iterable

from emberlint.config import Config
from emberlint.model import Edit, FileError, FileResult, Finding, Fix, Position

SUFFIX = ".ipynb"
#: cell magics whose body is Python (the magic line itself is masked)
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "pypy", "python", "python3"})
_MARKER = "# emberlint-notebook-cell {number}"
_MARKER_LINE = re.compile(r"^# emberlint-notebook-cell (\d+)$", re.MULTILINE)
_PLACEHOLDER = "{indent}pass  # emberlint-masked-ipython-{index}"
_PLACEHOLDER_LINE = re.compile(r"^[ \t]*pass  # emberlint-masked-ipython-(\d+)$")
_MAGIC_LINE = re.compile(
    r"^[ \t]*(?:[%!?]"                                  # %magic, %%magic, !shell, ?help
    r"|[\w.]+[ \t]*\?\??[ \t]*$"                        # obj? / obj??
    r"|[\w.,()\[\] \t*]+=[ \t]*[%!])"                   # x = !ls, x = %time f()
)
_INDENT = re.compile(r"^[ \t]*")


class NotebookError(Exception):
    """A notebook that cannot be read (not JSON, not a notebook) or written back."""


def is_notebook(path: str) -> bool:
    return str(path).lower().endswith(SUFFIX)


# --- the module of a notebook's code cells ----------------------------------------------------------------------

@dataclass
class MaskedCell:
    number: int  # 1-based position in the notebook
    source: str  # as in the notebook
    masked: str  # IPython lines replaced by placeholders
    originals: dict[int, str] = field(default_factory=dict)  # placeholder index -> original line (no newline)


@dataclass
class NotebookModule:
    """The Python module of a notebook's code cells, and how its lines map back to them."""

    cells: list[MaskedCell]
    text: str
    starts: list[int]  # 1-based module line of each cell's first line (the line after its marker)

    def to_cell(self, line: int) -> tuple[int, int] | None:
        """(cell number, line in the cell) of a module line; None on a marker line or before the first cell."""
        index = bisect.bisect_right(self.starts, line) - 1
        if index < 0:
            return None
        return self.cells[index].number, line - self.starts[index] + 1

    def split(self, text: str) -> dict[int, str]:
        """Cell number -> source, from a (fixed) module text; the masked IPython lines restored."""
        markers = list(_MARKER_LINE.finditer(text))
        numbers = [int(m.group(1)) for m in markers]
        if numbers != [cell.number for cell in self.cells]:
            raise NotebookError("the fixed code lost a cell marker")
        sources: dict[int, str] = {}
        for position, (cell, marker) in enumerate(zip(self.cells, markers)):
            begin = marker.end() + 1
            end = markers[position + 1].start() if position + 1 < len(markers) else len(text)
            body = text[begin:end]
            if position == 0 and marker.start() > 0:  # a fix put code (an import) above the first cell
                body = text[:marker.start()] + body
            if not cell.masked.endswith("\n") and body.endswith("\n"):
                body = body[:-1]
            sources[cell.number] = _unmask(body, cell)
        return sources


def mask_cell(number: int, source: str) -> MaskedCell | None:
    """The cell with its IPython lines masked; None when a non-Python cell magic runs it."""
    lines = source.splitlines(keepends=True)
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if name not in PYTHON_CELL_MAGICS:
            return None
    cell = MaskedCell(number, source, source)
    masked: list[str] = []
    continued = False  # the previous line ended with a backslash: this one continues it
    for line in lines:
        body = line.rstrip("\r\n")
        if not continued and _MAGIC_LINE.match(body):
            index = len(cell.originals)
            cell.originals[index] = body
            indent = _INDENT.match(body).group(0)
            masked.append(_PLACEHOLDER.format(indent=indent, index=index) + line[len(body):])
        else:
            masked.append(line)
        continued = body.endswith("\\")
    if not cell.originals:
        return cell
    cell.masked = "".join(masked)
    for _ in range(len(cell.originals)):  # a line that looked like a magic but continues a statement or string
        line_number = _first_continuation_placeholder(cell.masked)
        if line_number is None:
            break
        restored = cell.masked.splitlines(keepends=True)
        line = restored[line_number - 1]
        body = line.rstrip("\r\n")
        original = cell.originals.pop(int(_PLACEHOLDER_LINE.match(body).group(1)))
        restored[line_number - 1] = original + line[len(body):]
        cell.masked = "".join(restored)
    return cell


def _first_continuation_placeholder(text: str) -> int | None:
    """The first placeholder line that starts inside brackets or inside a multi-line string: its original
    (``% b)``, a ``!`` in a docstring) was not IPython syntax."""
    lines = text.splitlines()
    depth, seen_line = 0, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            line = token.start[0]
            if line > seen_line:
                seen_line = line
                if depth > 0 and _PLACEHOLDER_LINE.match(lines[line - 1]):
                    return line
            if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                for inner in range(token.start[0] + 1, token.end[0] + 1):
                    if _PLACEHOLDER_LINE.match(lines[inner - 1]):
                        return inner
                seen_line = max(seen_line, token.end[0])
            elif token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth = max(depth - 1, 0)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return None


def _unmask(text: str, cell: MaskedCell) -> str:
    if not cell.originals:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = _PLACEHOLDER_LINE.match(body)
        if match and int(match.group(1)) in cell.originals:
            out.append(cell.originals[int(match.group(1))] + line[len(body):])
        else:
            out.append(line)
    return "".join(out)


def build_module(cells: Iterable[tuple[int, str]]) -> NotebookModule:
    """The module of code cells given as (cell number, source), in order."""
    masked_cells: list[MaskedCell] = []
    parts: list[str] = []
    starts: list[int] = []
    line = 1
    for number, source in cells:
        cell = mask_cell(number, source)
        if cell is None:
            continue
        body = cell.masked if not cell.masked or cell.masked.endswith("\n") else cell.masked + "\n"
        parts.append(_MARKER.format(number=number) + "\n")
        parts.append(body)
        starts.append(line + 1)
        line += 1 + body.count("\n")
        masked_cells.append(cell)
    return NotebookModule(masked_cells, "".join(parts), starts)


# --- mapping results to cells -----------------------------------------------------------------------------------

def _cell_position(module: NotebookModule, position: Position) -> tuple[int, Position] | None:
    where = module.to_cell(position.line)
    if where is None:
        return None
    return where[0], Position(where[1], position.column)


def _map_fix(module: NotebookModule, fix: Fix | None) -> Fix | None:
    if fix is None:
        return None
    edits = []
    for edit in fix.edits:
        start, end = _cell_position(module, edit.start), _cell_position(module, edit.end)
        if start is None or end is None or start[0] != end[0]:
            if start is None and edit.start == edit.end and edit.start.line == 1:  # insertion above the first cell
                start = end = (module.cells[0].number, Position(1, 1))
            else:
                return None
        edits.append(Edit(start[1], end[1], edit.text, start[0]))
    return replace(fix, edits=tuple(edits))


def map_result(result: FileResult, module: NotebookModule, path: str) -> FileResult:
    """The module's findings and errors in cell coordinates."""
    mapped = FileResult(path)
    for finding in result.findings:
        start, end = _cell_position(module, finding.start), _cell_position(module, finding.end)
        if start is None:
            continue
        if end is None or end[0] != start[0]:
            end = start
        mapped.findings.append(Finding(path, start[1], end[1], finding.code, finding.severity, finding.message,
                                       _map_fix(module, finding.fix), start[0]))
    for error in result.errors:
        where = module.to_cell(error.line) if error.line else None
        if where is None:
            mapped.errors.append(replace(error, path=path, line=None, column=None, end_line=None, end_column=None))
            continue
        end_line = end_column = None
        if error.end_line:
            end = module.to_cell(error.end_line)
            if end is not None and end[0] == where[0]:
                end_line, end_column = end[1], error.end_column
        mapped.errors.append(replace(error, path=path, line=where[1], end_line=end_line, end_column=end_column,
                                     cell=where[0]))
    mapped.findings.sort(key=lambda f: f.sort_key)
    return mapped


# --- notebook files ---------------------------------------------------------------------------------------------

@dataclass
class Notebook:
    text: str
    code_cells: list[tuple[int, str]]  # (cell number, source)
    language: str
    nbformat: int


def read_notebook(text: str) -> Notebook:
    """The code cells of a notebook's JSON text (via nbformat). Raises NotebookError."""
    import logging

    import nbformat

    logger = logging.getLogger("nbformat")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # nbformat logs schema complaints; emberlint only needs the cells
    try:
        major = json.loads(text).get("nbformat") if text.strip() else None
        node = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises NotJSONError, ValidationError, KeyError... on broken files
        raise NotebookError(f"not a readable notebook: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    finally:
        logger.setLevel(level)
    metadata = node.get("metadata", {}) or {}
    language = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get(
        "language") or "python"
    cells = [(index + 1, cell.get("source", "")) for index, cell in enumerate(node.get("cells", []))
             if cell.get("cell_type") == "code"]
    return Notebook(text, cells, str(language).lower(), major if isinstance(major, int) else 4)


def lint_notebook_text(text: str, path: str, config: Config) -> FileResult:
    """Lint a notebook's JSON text; findings and errors carry their cell."""
    from emberlint.engine import lint_source

    try:
        notebook = read_notebook(text)
    except NotebookError as exc:
        return FileResult(path, errors=[FileError(path, str(exc), "read")])
    if notebook.language != "python":
        return FileResult(path)
    module = build_module(notebook.code_cells)
    return map_result(lint_source(module.text, path, config), module, path)


# --- writing fixed cells back -----------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()


def _members(text: str, index: int) -> Iterable[tuple[str, int, int]]:
    """(key, value start, value end) of the JSON object at ``index``."""
    if text[index] != "{":
        raise NotebookError("expected a JSON object")
    index = _skip(text, index + 1)
    if text[index] == "}":
        return
    while True:
        key, index = json.decoder.scanstring(text, index + 1)
        index = _skip(text, index)
        index = _skip(text, index + 1)  # the colon
        _, end = _DECODER.raw_decode(text, index)
        yield key, index, end
        index = _skip(text, end)
        if text[index] == "}":
            return
        index = _skip(text, index + 1)


def _elements(text: str, index: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the JSON array at ``index``."""
    if text[index] != "[":
        raise NotebookError("expected a JSON array")
    spans: list[tuple[int, int]] = []
    index = _skip(text, index + 1)
    if text[index] == "]":
        return spans
    while True:
        _, end = _DECODER.raw_decode(text, index)
        spans.append((index, end))
        index = _skip(text, end)
        if text[index] == "]":
            return spans
        index = _skip(text, index + 1)


def source_spans(text: str) -> list[tuple[int, int] | None]:
    """For each cell of the notebook's JSON text, the (start, end) of its ``source`` value."""
    start = _skip(text, 0)
    for key, value_start, _ in _members(text, start):
        if key == "cells":
            spans: list[tuple[int, int] | None] = []
            for cell_start, _ in _elements(text, value_start):
                found = None
                for cell_key, source_start, source_end in _members(text, cell_start):
                    if cell_key == "source":
                        found = (source_start, source_end)
                spans.append(found)
            return spans
    raise NotebookError("the notebook has no cells")


def _escapes_non_ascii(text: str) -> bool:
    """Did whoever wrote this file escape non-ASCII characters (``json.dumps(ensure_ascii=True)``)?"""
    return text.isascii() and re.search(r"\\u(?:00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])", text) is not None


def render_source(old: str, new_source: str, ensure_ascii: bool) -> str:
    """The JSON of ``new_source`` in the layout of the old ``source`` value (a list of lines or one string);
    lines that did not change keep their original spelling."""
    if old.lstrip().startswith('"'):
        return json.dumps(new_source, ensure_ascii=ensure_ascii)
    elements = _elements(old, 0)
    spelled = {}
    for start, end in elements:
        spelled.setdefault(json.loads(old[start:end]), old[start:end])
    lines = new_source.splitlines(keepends=True)
    items = [spelled.get(line) or json.dumps(line, ensure_ascii=ensure_ascii) for line in lines]
    if not elements:
        return "[" + ", ".join(items) + "]"
    prefix = old[1:elements[0][0]]
    suffix = old[elements[-1][1]:len(old) - 1]
    separator = old[elements[0][1]:elements[1][0]] if len(elements) > 1 else "," + prefix
    if not items:
        return "[]"
    return "[" + prefix + separator.join(items) + suffix + "]"


def write_cells(text: str, sources: dict[int, str]) -> str:
    """The notebook's JSON text with the ``source`` of the given cells (number -> new source) replaced."""
    spans = source_spans(text)
    ensure_ascii = _escapes_non_ascii(text)
    pieces: list[str] = []
    last = 0
    for number in sorted(sources):
        span = spans[number - 1] if 0 < number <= len(spans) else None
        if span is None:
            raise NotebookError(f"cell {number} has no source to write")
        start, end = span
        pieces.append(text[last:start])
        pieces.append(render_source(text[start:end], sources[number], ensure_ascii))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


@dataclass
class NotebookFix:
    text: str  # the notebook's new JSON text
    changed_cells: list[int]
    outcome: object  # fixing.FixOutcome (its ``remaining`` mapped to cells)
    remaining_in_source: list = field(default_factory=list)  # the same findings, in the notebook on disk


def fix_notebook_text(text: str, path: str, config: Config, unsafe: bool = False,
                      timeout: float | None = None) -> NotebookFix:
    """Fix a notebook's code cells. Raises ``fixing.FixError``/``FixTimeout`` and ``NotebookError``."""
    from emberlint import fixing
    from emberlint.engine import lint_source

    notebook = read_notebook(text)
    if notebook.language != "python":
        return NotebookFix(text, [], fixing.FixOutcome(text, 0, FileResult(path)))
    if notebook.nbformat != 4:
        raise NotebookError(f"only nbformat 4 notebooks are fixed (this one is {notebook.nbformat})")
    module = build_module(notebook.code_cells)
    outcome = fixing.fix_text(module.text, path, config, unsafe=unsafe, timeout=timeout)
    on_disk = FileResult(path, findings=[outcome.on_source(finding) for finding in outcome.remaining.findings])
    in_source = map_result(on_disk, module, path).findings
    old = {cell.number: cell.source for cell in module.cells}
    new = module.split(outcome.text)
    changed = {number: source for number, source in new.items() if source != old[number]}
    if not changed:
        outcome.remaining = map_result(outcome.remaining, module, path)
        return NotebookFix(text, [], outcome, in_source)
    new_text = write_cells(text, changed)
    check = read_notebook(new_text)
    expected = [(number, new.get(number, source)) for number, source in notebook.code_cells]
    if check.code_cells != expected:
        raise NotebookError("the rewritten notebook does not read back as the fixed cells; file left unchanged")
    new_module = build_module(check.code_cells)
    if new_module.text == outcome.text:
        outcome.remaining = map_result(outcome.remaining, new_module, path)
    else:  # a fix moved code across a cell boundary: lint the notebook as written
        outcome.remaining = map_result(lint_source(new_module.text, path, config), new_module, path)
    return NotebookFix(new_text, sorted(changed), outcome, in_source)


def fix_notebook_target(outcome, target, unsafe: bool, timeout: float | None):
    """``fix_command.fix_target`` for a notebook: ``outcome`` (a FileFix whose ``source`` is the notebook file)
    gets the new JSON text, or errors and the file is left unchanged."""
    from emberlint import fixing

    path, text = target.path, outcome.source.text
    try:
        fixed = fix_notebook_text(text, path, target.config, unsafe=unsafe, timeout=timeout)
    except fixing.FixTimeout as exc:
        outcome.errors.append(FileError(path, _without_path(path, exc), "fix"))
        return outcome
    except (fixing.FixError, NotebookError) as exc:
        outcome.errors.append(FileError(path, _without_path(path, exc), "fix"))
        try:
            outcome.remaining = outcome.remaining_in_source = lint_notebook_text(text, path, target.config).findings
        except Exception:
            pass
        return outcome
    except RecursionError:
        outcome.errors.append(FileError(path, "too deeply nested to fix; file left unchanged", "fix"))
        return outcome
    except Exception as exc:  # a fixer bug: report it, keep the file
        outcome.errors.append(FileError(
            path, f"internal error while fixing ({type(exc).__name__}: {exc}); file left unchanged", "internal"))
        return outcome
    remaining = fixed.outcome.remaining
    outcome.remaining = remaining.findings
    outcome.remaining_in_source = fixed.remaining_in_source
    if remaining.errors:
        outcome.errors.extend(remaining.errors)
        return outcome
    outcome.new_text = fixed.text
    outcome.applied_codes = dict(fixed.outcome.applied_codes)
    return outcome


def _without_path(path: str, exc: BaseException) -> str:
    text = str(exc)
    return text[len(path) + 2:] if text.startswith(f"{path}: ") else text


__all__ = ["NotebookError", "NotebookModule", "build_module", "fix_notebook_text", "is_notebook",
           "lint_notebook_text", "map_result", "read_notebook", "write_cells"]
