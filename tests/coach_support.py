"""Helpers of the numerics-coach tests: lint with the coach codes and list (code, line, column, message)."""

from __future__ import annotations

from pathlib import Path

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.fixing import fix_text

COACH = ("EL55", "EL6", "EL7", "EL8", "EL91")
DATA = Path(__file__).resolve().parent / "data" / "coach"
REFERENCE_PACKAGE = Path(__file__).resolve().parent.parent / "examples" / "m2bert_mlx" / "m2bert_mlx"


def config(*codes: str) -> Config:
    return Config(profile="strict", select=codes or COACH)


def findings(source: str, *codes: str) -> list[tuple[str, int, int, str]]:
    result = lint_source(source, "example.py", config(*codes))
    assert not result.errors, result.errors
    return [(f.code, f.start.line, f.start.column, f.message) for f in result.findings]


def positions(source: str, *codes: str) -> list[tuple[str, int, int]]:
    return [f[:3] for f in findings(source, *codes)]


def data_positions(name: str, prefix: str) -> list[tuple[str, int, int]]:
    """Findings of the coach codes starting with ``prefix`` in ``tests/data/coach/<name>``."""
    found = positions((DATA / name).read_text(), *COACH)
    return [f for f in found if f[0].startswith(prefix)]


def fixed(source: str, *codes: str, unsafe: bool = False) -> str:
    return fix_text(source, "example.py", config(*codes), unsafe=unsafe).text


def reference_findings(prefix: str) -> list[str]:
    """Coach findings of ``prefix`` in the reference MLX package (which must stay clean)."""
    out = []
    for path in sorted(REFERENCE_PACKAGE.glob("*.py")):
        result = lint_source(path.read_text(), str(path), config(*COACH))
        assert not result.errors, result.errors
        out += [f"{path.name}:{f.start.line}:{f.start.column} {f.code} {f.message}"
                for f in result.findings if f.code.startswith(prefix)]
    return out
