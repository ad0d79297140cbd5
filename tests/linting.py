"""Small helpers for rule tests: lint a snippet with a few codes selected, or fix it."""

from __future__ import annotations

import textwrap

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.fixing import fix_text


def config(codes: tuple[str, ...], **changes) -> Config:
    return Config(profile="strict", select=codes, **changes)


def findings(source: str, codes: tuple[str, ...], **changes) -> list[tuple]:
    """(code, line, column, message, fix safety or None) of the findings with one of ``codes``."""
    result = lint_source(textwrap.dedent(source), "t.py", config(codes, **changes))
    assert not result.errors, result.errors
    return [
        (f.code, f.start.line, f.start.column, f.message, f.fix.safe if f.fix else None)
        for f in result.findings
        if f.code in codes
    ]


def fixed(source: str, codes: tuple[str, ...], unsafe: bool = True, **changes) -> str:
    return fix_text(textwrap.dedent(source), "t.py", config(codes, **changes), unsafe=unsafe).text
