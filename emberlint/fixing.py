"""Fix a source text: apply the findings' fixes, re-parse, re-lint, repeat until nothing changes.

The loop is bounded (``MAX_ROUNDS``, a text seen twice means two fixes undo each other, an optional time budget)
and refuses rather than guesses: a round whose text does not parse, a rule that crashes while the file is being
fixed, or edits that cannot be applied raise ``FixError`` and the caller keeps the original text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
import libcst as cst

from emberlint import collector
from emberlint.budget import time_budget
from emberlint.config import Config
from emberlint.edits import PositionMap, apply_mapped, compatible_fixes, merge_fix_edits, nested_lines
from emberlint.engine import lint_text
from emberlint.model import FileError, FileResult, Finding
from emberlint.split_lint import Workers
from emberlint.walk import forget_last_walk

MAX_ROUNDS = 64


class FixError(Exception):
    """A fix produced code that does not parse, a fix crashed, or the loop did not settle. ``source_result``:
    the findings of the source text, when they were computed before the failure."""

    source_result: FileResult | None = None


class FixTimeout(BaseException):
    """Fixing one file took longer than its time budget. A BaseException, so that the engine's guard against
    crashing rules (``except Exception``) does not swallow it when the alarm rings inside a rule."""

    source_result: FileResult | None = None


@dataclass
class FixOutcome:
    text: str
    applied: int
    remaining: FileResult
    applied_codes: dict[str, int] = field(default_factory=dict)
    rounds: int = 0
    #: maps positions in ``text`` back to the source it was fixed from
    positions: PositionMap | None = None

    def on_source(self, finding: Finding) -> Finding:
        """``finding`` (of the fixed text) placed in the source text (``on_source``)."""
        return on_source(finding, self.positions)

    @property
    def changed(self) -> bool:
        return self.applied > 0


def on_source(finding: Finding, positions: PositionMap | None) -> Finding:
    """``finding`` of a fixed text placed in the source text ``positions`` maps back to; its fix's edits, which
    belong to the fixed text, are left out."""
    if positions is None or not positions.rounds:
        return finding
    fix = finding.fix
    if fix is not None:
        fix = dataclasses.replace(fix, edits=())
    return dataclasses.replace(finding, start=positions.back(finding.start), end=positions.back(finding.end), fix=fix)


def complete(result: FileResult) -> bool:
    """Whether every fix of ``result`` has its edits (a result of ``fix`` without ``--unsafe-fixes`` leaves the
    unsafe fixes' edits out: it is not what ``check`` would report, so it is not cached)."""
    return all(f.fix is None or f.fix.edits for f in result.findings)


def fixable(findings: list[Finding], unsafe: bool) -> list[Finding]:
    """The findings whose fix is applied (safe ones; unsafe ones too with ``unsafe``)."""
    return [f for f in findings if f.fix is not None and f.fix.edits and (unsafe or f.fix.safe)]


def _lint(text: str, path: str, config: Config, first: bool, unsafe: bool,
          focus: list[tuple[int, int]] | None = None, workers: Workers | None = None) -> tuple[FileResult, bool]:
    """The findings of ``text`` (only the fixable ones on ``focus``'s lines, with ``focus``) and whether it
    parsed (the lint's own parse is the re-parse check of a round). Without ``unsafe`` only the safe fixes get
    edits (the others are never applied). ``workers``: split a large text's lint over processes."""
    fixes = "all" if unsafe else "safe"
    split = workers.lint(text, path, config, fixes, focus) if workers is not None else None
    if split is not None:
        return _checked(split[0], text, path, first, not split[1])
    # a round builds a tree of the whole file (parent links make cycles), garbage once its findings are known:
    # paused, the collector walks it once, afterwards
    with collector.paused():
        result, parsed = lint_text(text, path, config, fixes, focus=focus)
        module_missing = parsed is None
        del parsed
        forget_last_walk()  # else the walk's cache keeps the round's tree alive past the collection below
    return _checked(result, text, path, first, module_missing)


def _lint_whole(text: str, path: str, config: Config, unsafe: bool, workers: Workers | None) -> FileResult:
    """The findings of the whole of ``text``, a round's result that was linted only where the round wrote."""
    return _linted(_lint(text, path, config, first=False, unsafe=unsafe, workers=workers)[0], path)


def _linted(result: FileResult, path: str) -> FileResult:
    """A fixed text's result, which must have no error."""
    if result.errors:
        raise FixError(f"{path}: fixed code fails to lint ({result.errors[0].message}); file left unchanged")
    return result


def _checked(result: FileResult, text: str, path: str, first: bool, module_missing: bool) -> tuple[FileResult, bool]:
    crashes = [e for e in result.errors if e.kind == "internal"]
    if crashes:
        when = "" if first else " after a round of fixes"
        raise FixError(f"{path}: a rule crashed{when} ({crashes[0].message}); file left unchanged")
    if module_missing and not result.errors:  # not parsed (no rule can fire on it): check it parses anyway
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            result.errors.append(FileError(path, f"syntax error: {exc.message}", "parse", exc.raw_line))
    return result, not any(e.kind == "parse" for e in result.errors)


def fix_text(
    source: str,
    path: str = "<string>",
    config: Config | None = None,
    unsafe: bool = False,
    timeout: float | None = None,
    workers: int = 1,
) -> FixOutcome:
    """Apply every safe fix (and the unsafe ones with ``unsafe``) until a fixed point; the result re-parses.
    Raises ``FixError`` (``FixTimeout`` after ``timeout`` seconds) and then nothing of the fixes is kept.
    ``workers`` > 1: a large text is linted in that many processes (``split_lint``); the budget is the CPU time of
    all of them."""
    config = config or Config()
    state: dict = {}
    try:
        return _fix_loop(source, path, config, unsafe, timeout, state, workers)
    except (FixError, FixTimeout) as exc:
        exc.source_result = state.get("first")  # the source's findings, when linting it finished
        raise


def _fix_loop(source: str, path: str, config: Config, unsafe: bool, timeout: float | None, state: dict,
              workers: int) -> FixOutcome:
    over = f"{path}: fixing took longer than {timeout:g}s; file left unchanged" if timeout else ""
    processes = Workers(workers, timeout or None, lambda: FixTimeout(over)) if workers > 1 else None
    # Split over processes, the lints leave no tree here, but each reads back many findings, none of them garbage:
    # with the collector running, its full collections walk all of them again and again (on 2 MB: 2 s of this
    # process's 4.5 s)
    paused = (collector.paused(collect_young=False) if processes is not None and processes.usable(source)
              else contextlib.nullcontext())
    # CPU time through the signal in the main thread (as ``check``); between rounds, wall time, the only bound a
    # thread (the LSP server's) can have
    deadline = time.monotonic() + timeout if timeout else None
    with time_budget(timeout, over, FixTimeout), paused:
        text = source
        applied = 0
        codes: dict[str, int] = {}
        seen = {text}
        positions = PositionMap(source)
        result, _ = _lint(text, path, config, first=True, unsafe=unsafe, workers=processes)
        if result.errors:  # the file does not parse: nothing to fix, the caller reports the errors
            return FixOutcome(text, 0, result, codes, positions=positions)
        state["first"] = result
        focused = False  # ``result`` holds only the fixable findings where the last round wrote
        for round_number in range(MAX_ROUNDS):
            candidates = fixable(result.findings, unsafe)
            if not candidates and focused:  # nothing nested left: the whole text's findings decide
                result, focused = _lint_whole(text, path, config, unsafe, processes), False
                candidates = fixable(result.findings, unsafe)
            if not candidates:
                return FixOutcome(text, applied, result, codes, round_number, positions)
            if deadline is not None and time.monotonic() > deadline:
                raise FixTimeout(over)
            by_fix = {id(f.fix): f for f in candidates}
            chosen = compatible_fixes(f.fix for f in candidates)
            chosen_ids = {id(fix) for fix in chosen}
            try:
                new_text, spans = apply_mapped(text, merge_fix_edits(chosen))
            except (ValueError, IndexError) as exc:
                raise FixError(f"{path}: fixes could not be applied ({exc}); file left unchanged") from exc
            if new_text == text:
                if focused:  # what was found where the last round wrote changes nothing: the whole text decides
                    result, focused = _lint_whole(text, path, config, unsafe, processes), False
                    continue
                return FixOutcome(text, applied, result, codes, round_number, positions)
            if new_text in seen:
                raise FixError(f"{path}: fixes undo each other (the text repeats); file left unchanged")
            seen.add(new_text)
            for fix in chosen:
                code = by_fix[id(fix)].code
                codes[code] = codes.get(code, 0) + 1
            applied += len(chosen)
            focus = nested_lines(text, new_text, spans, [f.fix for f in candidates if id(f.fix) not in chosen_ids])
            new_result, parses = _lint(new_text, path, config, first=False, unsafe=unsafe, focus=focus or None,
                                       workers=processes)
            focused = bool(focus)
            if not parses:
                codes_tried = ", ".join(sorted({by_fix[id(fix)].code for fix in chosen}))
                raise FixError(
                    f"{path}: a fix ({codes_tried}) produced code that does not parse "
                    f"({new_result.errors[0].message}); file left unchanged"
                )
            positions.add_round(spans, text, new_text)
            text, result = new_text, _linted(new_result, path)
    raise FixError(f"{path}: fixes did not settle after {MAX_ROUNDS} rounds; file left unchanged")
