"""Baselines: record today's findings, then fail only on new ones (``check --write-baseline`` / ``--baseline``).

A finding is keyed by its path (as a POSIX path relative to the baseline file's folder when it lies below it),
its rule code, the flagged source text with whitespace collapsed (the whole line for a zero-width finding), and
its occurrence index among findings with the same path, code and text in file order. Line numbers are not part of
the key, so inserting or moving code does not break a baseline; editing the flagged code makes it new.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from emberlint.lines import split_line_texts
from emberlint.model import Finding

FORMAT_VERSION = 1


class BaselineError(Exception):
    """An unreadable or malformed baseline file."""


def _source_of(path: str, sources: dict[str, str]) -> str:
    if path not in sources:
        from emberlint.sources import SourceError, read_source

        try:
            sources[path] = read_source(path).text
        except (SourceError, OSError):
            sources[path] = ""
    return sources[path]


def _cell_source(finding: Finding, sources: dict[str, str]) -> str:
    """The source of the notebook cell a finding's lines count (its key keeps out the notebook's JSON layout)."""
    key = f"{finding.path}\0cell {finding.cell}"
    if key not in sources:
        from emberlint.notebooks import NotebookError, read_notebook

        try:
            cells = dict(read_notebook(_source_of(finding.path, sources)).code_cells)
        except NotebookError:
            cells = {}
        sources[key] = cells.get(finding.cell, "")
    return sources[key]


def flagged_text(finding: Finding, source: str) -> str:
    """The finding's source text with runs of whitespace collapsed; its whole line when the range is empty."""
    lines = split_line_texts(source)  # the lines positions count (not at form feeds, as str.splitlines)
    start, end = finding.start, finding.end
    if not 0 < start.line <= len(lines):
        return ""
    if (end.line, end.column) <= (start.line, start.column) or end.line > len(lines):
        return " ".join(lines[start.line - 1].split())
    if start.line == end.line:
        text = lines[start.line - 1][start.column - 1:end.column - 1]
    else:
        text = "\n".join([lines[start.line - 1][start.column - 1:], *lines[start.line:end.line - 1],
                          lines[end.line - 1][:end.column - 1]])
    return " ".join(text.split())


def _relative(path: str, root: Path | None) -> str:
    if root is not None:
        try:
            return PurePosixPath(Path(path).resolve().relative_to(root.resolve())).as_posix()
        except ValueError:
            pass
    return PurePosixPath(Path(path)).as_posix()


@dataclass(frozen=True)
class Key:
    path: str
    code: str
    text: str
    occurrence: int


def keys_for(findings: list[Finding], sources: dict[str, str], root: Path | None = None) -> list[Key]:
    """One key per finding, in the order given (findings of one file must be in file order)."""
    seen: Counter = Counter()
    keys = []
    for finding in findings:
        source = _cell_source(finding, sources) if finding.cell is not None else _source_of(finding.path, sources)
        base = (_relative(finding.path, root), finding.code, flagged_text(finding, source))
        keys.append(Key(*base, seen[base]))
        seen[base] += 1
    return keys


def fingerprints_for(findings: list[Finding], sources: dict[str, str]) -> dict[int, str]:
    """id(finding) -> a stable hash of its key (SARIF ``partialFingerprints``)."""
    sources = dict(sources)
    result = {}
    for finding, key in zip(findings, keys_for(findings, sources)):
        digest = hashlib.sha256("\0".join((key.path, key.code, key.text, str(key.occurrence))).encode("utf-8"))
        result[id(finding)] = digest.hexdigest()[:32]
    return result


def write_baseline(path: Path, findings: list[Finding], sources: dict[str, str]) -> int:
    root = path.resolve().parent
    keys = keys_for(findings, sources, root)
    entries = sorted({(k.path, k.code, k.text, k.occurrence) for k in keys})
    payload = {
        "version": FORMAT_VERSION,
        "tool": "emberlint",
        "findings": [{"path": p, "code": c, "text": t, "occurrence": o} for p, c, t, o in entries],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(entries)


def load_baseline(path: Path) -> set[Key]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a JSON baseline: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("version") != FORMAT_VERSION:
        raise BaselineError(f"{path}: not an emberlint baseline (version {FORMAT_VERSION})")
    try:
        return {Key(e["path"], e["code"], e["text"], int(e["occurrence"])) for e in payload["findings"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"{path}: malformed baseline entry: {exc}") from exc


def new_findings(path: Path, findings: list[Finding], sources: dict[str, str]) -> tuple[list[Finding], int]:
    """The findings not recorded in the baseline at ``path``, and how many were recorded (hidden)."""
    known = load_baseline(path)
    keys = keys_for(findings, sources, path.resolve().parent)
    fresh = [finding for finding, key in zip(findings, keys) if key not in known]
    return fresh, len(findings) - len(fresh)
