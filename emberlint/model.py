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

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.start.line,
            "column": self.start.column,
            "end_line": self.end.line,
            "end_column": self.end.column,
            "text": self.text,
        }


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

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.start.line, self.start.column, self.code, self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.start.line,
            "column": self.start.column,
            "end_line": self.end.line,
            "end_column": self.end.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix.to_json() if self.fix else None,
        }


@dataclass(frozen=True)
class FileError:
    """A file that could not be read or parsed, or a rule that crashed on it."""

    path: str
    message: str
    kind: str = "parse"  # "read" | "parse" | "internal" | "config" | "timeout" | "write" | "fix"
    line: int | None = None
    column: int | None = None
    code: str | None = None
    end_line: int | None = None  # where Python says a syntax error ends, when it says so
    end_column: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
        }


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
