"""Fix a source text: apply the findings' fixes, re-parse, re-lint, repeat until nothing changes."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from emberlint.config import Config
from emberlint.edits import apply_edits, compatible_fixes, merge_fix_edits
from emberlint.engine import lint_source
from emberlint.model import FileResult

MAX_ROUNDS = 64


class FixError(Exception):
    """A fix produced code that does not parse, or the loop did not settle."""


@dataclass
class FixOutcome:
    text: str
    applied: int
    remaining: FileResult
    applied_codes: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.applied > 0


def fix_text(source: str, path: str = "<string>", config: Config | None = None, unsafe: bool = False) -> FixOutcome:
    """Apply every safe fix (and the unsafe ones with ``unsafe``) until a fixed point; the result re-parses."""
    config = config or Config()
    text = source
    applied = 0
    codes: dict[str, int] = {}
    result = lint_source(text, path, config)
    for _ in range(MAX_ROUNDS):
        candidates = [f for f in result.findings if f.fix is not None and f.fix.edits and (unsafe or f.fix.safe)]
        if not candidates:
            return FixOutcome(text, applied, result, codes)
        by_fix = {id(f.fix): f for f in candidates}
        chosen = compatible_fixes(f.fix for f in candidates)
        new_text = apply_edits(text, merge_fix_edits(chosen))
        try:
            cst.parse_module(new_text)
        except cst.ParserSyntaxError as exc:
            raise FixError(f"{path}: a fix produced code that does not parse ({exc.message}); file left unchanged")
        if new_text == text:
            return FixOutcome(text, applied, result, codes)
        for fix in chosen:
            code = by_fix[id(fix)].code
            codes[code] = codes.get(code, 0) + 1
        applied += len(chosen)
        text = new_text
        result = lint_source(text, path, config)
    raise FixError(f"{path}: fixes did not settle after {MAX_ROUNDS} rounds; file left unchanged")
