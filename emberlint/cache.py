"""A content-hash cache of lint results, so that re-checking an unchanged tree costs a hash and a small read per file.

Key: SHA-256 of the file's bytes, its path, the configuration, the emberlint version and a fingerprint of the
installed emberlint/rule/fixer code and rule plug-ins (file sizes and mtimes, so an edited rule never reuses old
results); configuration plus code decide the enabled rule set and each rule's severity. Value: the file's findings and errors as JSON (never pickle: a cache folder
that came with a checkout must not be able to run code). One file per entry, written to a temporary file and
renamed into place, so parallel writers never leave a torn entry; an unreadable entry is a miss.

Folder: ``$EMBERLINT_CACHE_DIR`` if set, else ``.emberlint_cache/`` at the project root (the folder of the config
file, else the current folder). ``emberlint check --no-cache`` neither reads nor writes it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from emberlint import __version__
from emberlint.model import Edit, ErrorKind, FileError, FileResult, Finding, Fix, Position, Severity
from emberlint.sources import replace_atomically

CACHE_DIR_ENV = "EMBERLINT_CACHE_DIR"
DEFAULT_DIR = ".emberlint_cache"
FORMAT = "1"


def cache_root(config_root: str | None) -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    return Path(config_root or ".") / DEFAULT_DIR


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The emberlint version, the sizes and mtimes of the emberlint, rule and fixer modules and data files, and
    the rule plug-ins registered by other packages: with the configuration these decide the enabled rule set
    and what each rule reports, and they are known without importing any rule (a warm run stays light)."""
    digest = hashlib.sha256(f"{FORMAT}:{__version__};".encode())
    folders: set[str] = set()
    for name in ("emberlint", "emberlint.rules", "emberlint.fixers"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders.update(spec.submodule_search_locations)
    for folder in sorted(folders):
        for entry in _source_files(folder):
            stat = entry.stat()
            digest.update(f"{entry.path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    for plugin in sorted(importlib.metadata.entry_points(group="emberlint.rules"), key=lambda e: e.name):
        version = plugin.dist.version if plugin.dist is not None else "?"
        digest.update(f"{plugin.name}={plugin.value}@{version};".encode())
    return digest.hexdigest()


def _source_files(folder: str) -> list[os.DirEntry]:
    """The ``.py`` and ``.yaml`` files in ``folder`` and its subfolders (rules live in family folders), by path."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.endswith((".py", ".yaml")) and entry.is_file():
            found.append(entry)
        elif entry.is_dir() and not entry.name.startswith((".", "__")):
            found.extend(_source_files(entry.path))
    return found


@lru_cache(maxsize=64)
def settings_fingerprint(config) -> str:
    return hashlib.sha256(f"{code_fingerprint()}\n{config!r}".encode()).hexdigest()


def entry_key(raw: bytes, path: str, config) -> str:
    digest = hashlib.sha256(settings_fingerprint(config).encode())
    digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(raw)
    return digest.hexdigest()


def result_to_json(result: FileResult) -> dict[str, Any]:
    return {"findings": [f.to_json() for f in result.findings], "errors": [e.to_json() for e in result.errors]}


def _position(data: dict, line: str = "line", column: str = "column") -> Position:
    return Position(int(data[line]), int(data[column]))


def _edit(data: dict) -> Edit:
    return Edit(_position(data), _position(data, "end_line", "end_column"), str(data["text"]), data.get("cell"))


def result_from_json(path: str, data: dict[str, Any]) -> FileResult:
    findings = []
    for item in data["findings"]:
        fix = item.get("fix")
        findings.append(
            Finding(
                path,
                _position(item),
                _position(item, "end_line", "end_column"),
                str(item["code"]),
                Severity(item["severity"]),
                str(item["message"]),
                Fix(bool(fix["safe"]), tuple(_edit(e) for e in fix["edits"]), str(fix["description"]))
                if fix else None,
                item.get("cell"),
            )
        )
    errors = [
        FileError(path, str(e["message"]), ErrorKind(e["kind"]), e.get("line"), e.get("column"), e.get("code"),
                  e.get("end_line"), e.get("end_column"), e.get("cell"))
        for e in data["errors"]
    ]
    return FileResult(path, findings, errors)


class ResultCache:
    """Lint results by content key under ``root`` (created on first write, with a ``.gitignore`` of ``*``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.folder = self.root / f"v{FORMAT}"

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str, path: str) -> FileResult | None:
        try:
            data = json.loads(self._file(key).read_bytes())
            return result_from_json(path, data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: FileResult) -> None:
        """Store ``result`` atomically; a cache that cannot be written is silently skipped."""
        if any(error.kind is ErrorKind.INTERNAL for error in result.errors):
            return  # a crash may be transient (memory, recursion): recompute it next time
        target = self._file(key)
        try:
            if not self.root.exists():
                self.root.mkdir(parents=True, exist_ok=True)
                (self.root / ".gitignore").write_text("# created by emberlint\n*\n", encoding="utf-8")
            target.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps(result_to_json(result), separators=(",", ":")).encode("utf-8")
            replace_atomically(target, data, durable=False)  # a lost entry is only a cache miss
        except OSError:
            pass


__all__ = ["CACHE_DIR_ENV", "ResultCache", "cache_root", "entry_key"]
