"""The values that flow from rules to reporters: severities, edits, fixes and findings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    @property
    def fails(self) -> bool:
        return self is Severity.ERROR


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and a 1-based column (in characters of that line)."""

    line: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between ``start`` (inclusive) and ``end`` (exclusive) by ``text``."""

    start: Position
    end: Position
    text: str
    cell: int | None = None  # in a notebook: the 1-based cell the positions count lines of

    def to_json(self) -> dict[str, Any]:
        data = {
            "line": self.start.line,
            "column": self.start.column,
            "end_line": self.end.line,
            "end_column": self.end.column,
            "text": self.text,
        }
        return _with_cell(data, self.cell)


@dataclass(frozen=True)
class Fix:
    """A rewrite offered with a finding. ``safe`` means the program computes exactly the same values."""

    safe: bool
    edits: tuple[Edit, ...]
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "safe": self.safe,
            "description": self.description,
            "edits": [edit.to_json() for edit in self.edits],
        }


@dataclass(frozen=True)
class Finding:
    path: str
    start: Position
    end: Position
    code: str
    severity: Severity
    message: str
    fix: Fix | None = None
    cell: int | None = None  # in a notebook: the 1-based cell (position in the notebook) of start/end's lines

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.start.line, self.start.column, self.code, self.message)

    @property
    def location(self) -> str:
        """``path:line:col``, or ``path:cell N:line:col`` in a notebook."""
        return location(self.path, self.cell, self.start.line, self.start.column)

    def to_json(self) -> dict[str, Any]:
        return _with_cell({
            "path": self.path,
            "line": self.start.line,
            "column": self.start.column,
            "end_line": self.end.line,
            "end_column": self.end.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix.to_json() if self.fix else None,
        }, self.cell)


class ErrorKind(str, enum.Enum):
    """What went wrong with a file (JSON ``"kind"``, SARIF/GitHub titles, the LSP's ``<kind>-error`` code)."""

    READ = "read"  # missing, unreadable or undecodable
    PARSE = "parse"  # a syntax error, or nested too deeply to parse
    INTERNAL = "internal"  # a crash of emberlint on this file (never cached)
    TIMEOUT = "timeout"  # over the per-file time budget
    FIX = "fix"  # fixing failed; the file is left unchanged
    WRITE = "write"  # the fixed file could not be written

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


@dataclass(frozen=True)
class FileError:
    """A file that could not be read or parsed, or a rule that crashed on it."""

    path: str
    message: str
    kind: ErrorKind = ErrorKind.PARSE  # a plain string is converted (ValueError if it names no kind)
    line: int | None = None
    column: int | None = None
    code: str | None = None
    end_line: int | None = None  # where Python says a syntax error ends, when it says so
    end_column: int | None = None
    cell: int | None = None  # in a notebook: the 1-based cell that line counts lines of

    def __post_init__(self) -> None:
        if type(self.kind) is not ErrorKind:
            object.__setattr__(self, "kind", ErrorKind(self.kind))

    @property
    def location(self) -> str:
        return location(self.path, self.cell, self.line, self.column) if self.line else self.path

    def to_json(self) -> dict[str, Any]:
        return _with_cell({
            "path": self.path,
            "kind": self.kind.value,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
        }, self.cell)


def location(path: str, cell: int | None, line: int | None, column: int | None) -> str:
    """How the text output names a place: ``path:line:col``; in a notebook ``path:cell N:line:col``."""
    where = f"{path}:cell {cell}" if cell is not None else path
    return f"{where}:{line}:{column}" if column is not None else f"{where}:{line}"


def _with_cell(data: dict[str, Any], cell: int | None) -> dict[str, Any]:
    """Notebook positions add a ``cell`` key; a ``.py`` file's JSON keeps its shape exactly."""
    if cell is not None:
        data["cell"] = cell
    return data


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
