"""Lints one source text: parse once, build scopes and array facts, run every enabled rule in one traversal,
then filter by suppressions and per-file ignores."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Callable

import libcst as cst

from emberlint import light
from emberlint.arrays import collect_facts
from emberlint.backends import ARRAY_BACKENDS
from emberlint.config import Config
from emberlint.context import FileContext
from emberlint.model import FileError, FileResult, Finding, Position, Severity
from emberlint.parsed_file import ParsedFile
from emberlint.positions import build_fix, end_of, fix_nodes, offered_fix, start_of
from emberlint.registry import enabled_rules
from emberlint.rule import FixAvailability, Rule
from emberlint.scope import SCOPE_KINDS, build_scopes
from emberlint.suppress import Suppressions, parse_suppressions
from emberlint.walk import is_too_deep, parse_at_default_depth

UNUSED_SUPPRESSION = "EL901"
UNEXPLAINED_SUPPRESSION = "EL902"
_HOUSEKEEPING = (UNUSED_SUPPRESSION, UNEXPLAINED_SUPPRESSION)
_SAFE_FIXES = frozenset({FixAvailability.SAFE, FixAvailability.SAFE_WHEN_PROVEN})
_BACKEND_WORD = re.compile(r"\b(?:mlx|torch|numpy)\b")


class _Dispatcher(cst.CSTVisitor):
    """Calls each rule's ``visit_<Node>``/``leave_<Node>`` while keeping the context's current node and scope.
    Driven by ``ParsedFile.dispatch``: it sees only the nodes some rule has a method for and the nodes that open
    a scope; the context reads ancestors from the parsed file."""

    def __init__(self, context: FileContext, rules: list[Rule], on_crash: Callable[[Rule, BaseException], None]):
        self.context = context
        self.rules = rules
        self.on_crash = on_crash
        self.broken: set[int] = set()
        self._visit: dict[type, list[tuple[Rule, Callable]]] = {}
        self._leave: dict[type, list[tuple[Rule, Callable]]] = {}

    def _methods(self, table: dict, prefix: str, node: cst.CSTNode) -> list[tuple[Rule, Callable]]:
        kind = type(node)
        methods = table.get(kind)
        if methods is None:
            methods = []
            for rule in self.rules:
                method = getattr(rule, f"{prefix}{kind.__name__}", None)
                if method is not None and id(rule) not in self.broken:
                    methods.append((rule, method))
            table[kind] = methods
        return methods

    def _call(self, methods: list[tuple[Rule, Callable]], node: cst.CSTNode) -> None:
        for rule, method in methods:
            try:
                method(node)
            except Exception as exc:  # a rule bug must not stop the other rules or files
                if id(rule) not in self.broken:
                    self._switch_off(rule)
                    self.on_crash(rule, exc)

    def _switch_off(self, rule: Rule) -> None:
        """A crashed rule visits nothing more in this file: its methods leave the tables (as new lists: the
        caller may be iterating over one)."""
        self.broken.add(id(rule))
        for table in (self._visit, self._leave):
            for kind, methods in table.items():
                table[kind] = [entry for entry in methods if entry[0] is not rule]

    def on_visit(self, node: cst.CSTNode) -> bool:
        context = self.context
        context.current = node
        scope = context.scopes.get(node)
        if scope is not None and scope is not context.scope_stack[0]:  # the module's scope is always there
            context.scope_stack.append(scope)
        methods = self._methods(self._visit, "visit_", node)
        if methods:
            self._call(methods, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.context.current = original_node
        methods = self._methods(self._leave, "leave_", original_node)
        if methods:
            self._call(methods, original_node)
        stack = self.context.scope_stack
        if stack[-1].node is original_node and len(stack) > 1:
            stack.pop()


def _cannot_fire_without_backend(rule: type[Rule], source: str) -> bool:
    """True when ``rule`` needs an array backend, or declares ``TRIGGER`` regexes (text it can only fire on,
    e.g. ``except``) one of which ``source`` lacks: a file no enabled rule can fire on is not parsed at all."""
    if rule.NEEDS_BACKEND:
        return True
    trigger = rule.TRIGGER
    patterns = (trigger,) if isinstance(trigger, str) else trigger or ()
    return any(re.search(pattern, source) is None for pattern in patterns)


def parse_file(source: str, path: str, result: FileResult) -> ParsedFile | None:
    """CPython's parser (at the default recursion limit) and the light tree built from its ``ast``; None (and the
    parse error in ``result``) when the source does not parse."""
    try:
        parsed = parse_at_default_depth(source)
    except SyntaxError as exc:
        if is_too_deep(exc):
            result.errors.append(FileError(path, "too deeply nested to analyse", "parse"))
        else:
            result.errors.append(_python_syntax_error(path, exc) or FileError(path, "syntax error", "parse"))
        return None
    except ValueError as exc:  # NUL bytes
        result.errors.append(FileError(path, f"syntax error: {exc}", "parse"))
        return None
    except (RecursionError, MemoryError):
        result.errors.append(FileError(path, "too deeply nested to analyse", "parse"))
        return None
    return light.build(source, parsed)


def _compile(source: str) -> None:
    with warnings.catch_warnings():  # SyntaxWarnings (invalid escapes...) are not the linter's to print
        warnings.simplefilter("ignore")
        compile(source, "<source>", "exec", dont_inherit=True)


def _syntax_errors(source: str, path: str) -> list[FileError]:
    """The parse errors of a file the pre-filter does not analyse. Compiling to bytecode is the cheapest full
    syntax check CPython offers (cheaper than ``ast.parse``, which builds Python objects); when it fails, the
    engine's own parse decides what to report, so a file gets the same errors with or without a backend."""
    try:
        parse_at_default_depth(source, _compile)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        result = FileResult(path)
        parse_file(source, path, result)
        return result.errors
    return []


def _python_syntax_error(path: str, python_error: SyntaxError) -> FileError | None:
    if not python_error.lineno:
        return None
    start = (python_error.lineno, max(python_error.offset or 1, 1))
    end = (python_error.end_lineno, python_error.end_offset)
    if not (end[0] and end[1] and end > start):
        end = (None, None)
    return FileError(path, f"syntax error: {python_error.msg}", "parse", *start, None, *end)


@dataclass
class Analysis:
    """What linting one text found before the file-level judgements (``finish``): the findings that no
    suppression covers (their suppressions marked used), the errors, and what ``finish`` reports from.
    ``suppressions`` None: the unused ones are not judged (the file was not analysed, or only partly)."""

    result: FileResult
    module: cst.Module | None
    suppressions: Suppressions | None
    severities: dict[type[Rule], Severity]


def lint_module_text(source: str, path: str, config: Config, fixes: str = "all",
                     focus: list[tuple[int, int]] | None = None) -> tuple[FileResult, cst.Module | None]:
    """Lint ``source`` (already decoded, without BOM); returns the result and the parsed module (None if skipped).
    ``fixes="safe"``: only safe fixes get their edits; an unsafe one is a ``Fix`` without edits (``fix`` without
    ``--unsafe-fixes`` needs no more). ``focus``: line ranges (sorted, disjoint, 1-based, inclusive) where a fix
    round rewrote code; only the rules whose fixes ``fixes`` applies run, only on those lines (and the nodes
    around them), and suppressions are not judged: a partial result, for ``fixing`` to find the fixes that
    nested in the round's rewrites."""
    analysis = analyse(source, path, config, fixes, focus)
    return finish(analysis, path), analysis.module


def analyse(source: str, path: str, config: Config, fixes: str = "all", focus: list[tuple[int, int]] | None = None,
            share: tuple[int, int] | None = None) -> Analysis:
    """``lint_module_text`` up to the file-level judgements. ``share``: ``(k, n)``, only the ``k``-th of ``n``
    consecutive runs of the module's top-level statements (``shares``; the rules that keep state across the
    file, ``Rule.WHOLE_FILE``, over all of it in share 0): one of ``split_lint``'s workers."""
    result = FileResult(path)
    severities = rule_severities(config, path, fixes, focus)
    active = [rule for rule in severities if rule.CODE not in _HOUSEKEEPING]
    if not active:
        return Analysis(result, None, parse_suppressions(source), severities)
    if not _BACKEND_WORD.search(source) and all(_cannot_fire_without_backend(rule, source) for rule in active):
        result.errors.extend(_syntax_errors(source, path))
        return Analysis(result, None, None, severities)
    parsed = parse_file(source, path, result)
    if parsed is None:
        return Analysis(result, None, None, severities)
    module = parsed.module
    scopes = build_scopes(module)
    has_backend = bool(scopes.imported_roots & set(ARRAY_BACKENDS))
    if not has_backend:
        active = [rule for rule in active if not rule.NEEDS_BACKEND]
        if not active:
            return Analysis(result, module, None, severities)
    facts = collect_facts(module, scopes.scopes)
    context = FileContext(path, source, module, config, scopes.scopes, facts, scopes.imported_roots, parsed)
    crashes: list[tuple[Rule, BaseException, cst.CSTNode | None]] = []

    def on_crash(rule: Rule, exc: BaseException) -> None:
        crashes.append((rule, exc, context.current))

    for rules, lines in _passes(parsed, active, focus, share):
        instances = [rule(context) for rule in rules]
        dispatcher = _Dispatcher(context, instances, on_crash)
        parsed.dispatch(dispatcher, SCOPE_KINDS.union(*(rule.node_kinds() for rule in rules)), lines)

    raw = context.findings
    wanted = [f.node for f in raw] + [node for _, _, node in crashes if node is not None]
    for finding in raw:
        if finding.fix is not None:
            wanted.extend(fix_nodes(finding.fix, module))
    positions = parsed.positions(wanted)

    for rule, exc, node in crashes:
        where = positions.get(node) if node is not None else None
        result.errors.append(
            FileError(
                path,
                f"internal error in rule {rule.CODE} ({type(rule).__name__}): {type(exc).__name__}: {exc}",
                "internal",
                where.start.line if where else None,
                where.start.column + 1 if where else None,
                rule.CODE,
            )
        )

    suppressions = parsed.suppressions()
    seen: set[tuple] = set()
    broken: set[type[Rule]] = set()  # rules whose fix crashed while being built (a crash of the rule)
    for finding in raw:
        if finding.rule in broken:
            continue
        code_range = positions.get(finding.node)
        if code_range is None:
            continue
        start, end = start_of(code_range), end_of(code_range)
        key = (finding.rule.CODE, start, end, finding.message)
        if key in seen:
            continue
        seen.add(key)
        lines = (start.line, end.line) if end.line != start.line else (start.line,)
        match = suppressions.match(finding.rule.CODE, lines)
        if match is not None:
            match.used.add(finding.rule.CODE)
            continue
        fix = finding.fix
        if fix is not None:
            try:
                if fixes == "all" or fix.safe:
                    fix = build_fix(fix, parsed, positions, context.layout)
                else:
                    fix = offered_fix(fix, positions)
            except Exception as exc:  # a deferred replacement (``fixers.deferred``) is the rule's code: its crash
                broken.add(finding.rule)
                result.errors.append(FileError(
                    path, f"internal error in rule {finding.rule.CODE} ({finding.rule.__name__}): "
                    f"{type(exc).__name__}: {exc}", "internal", start.line, start.column, finding.rule.CODE))
                continue
        result.findings.append(
            Finding(path, start, end, finding.rule.CODE, severities[finding.rule], finding.message, fix)
        )
    return Analysis(result, module, suppressions, severities)


def rule_severities(config: Config, path: str, fixes: str = "all",
                    focus: list[tuple[int, int]] | None = None) -> dict[type[Rule], Severity]:
    """The rules that lint ``path`` (with ``focus``: only those whose fixes ``fixes`` applies) and their
    severities."""
    severities = enabled_rules(config)
    ignored = config.ignored_codes_for(path) if config.per_file_ignores else ()
    severities = {rule: sev for rule, sev in severities.items() if not any(rule.CODE.startswith(c) for c in ignored)}
    if focus is not None:
        applied = _SAFE_FIXES if fixes == "safe" else _SAFE_FIXES | {FixAvailability.UNSAFE}
        severities = {rule: sev for rule, sev in severities.items()
                      if rule.CODE not in _HOUSEKEEPING and rule.FIX in applied}
    return severities


def finish(analysis: Analysis, path: str) -> FileResult:
    """The file-level judgements of an analysis: unused and unexplained suppressions (EL901/EL902), and the
    findings in file order."""
    result = analysis.result
    if analysis.suppressions is not None:
        _report_unused(result, analysis.suppressions, analysis.severities, path)
    if analysis.module is not None:
        result.findings.sort(key=lambda f: f.sort_key)
    return result


def _passes(parsed: ParsedFile, active: list[type[Rule]], focus: list[tuple[int, int]] | None,
            share: tuple[int, int] | None) -> list[tuple[list[type[Rule]], list[tuple[int, int]] | None]]:
    """The traversals of one analysis: ``(rules, lines)`` each (``lines`` None: the whole file)."""
    if share is None:
        return [(active, focus)]
    index, count = share
    lines = shares(parsed, count)[index]
    if focus is not None:
        lines = overlap(lines, focus)
    passes = [([rule for rule in active if not rule.WHOLE_FILE], lines)]
    whole_file = [rule for rule in active if rule.WHOLE_FILE]
    if index == 0 and whole_file:
        passes.append((whole_file, focus))
    return passes


def shares(parsed: ParsedFile, count: int) -> list[list[tuple[int, int]]]:
    """The lines of ``count`` consecutive runs of the module's top-level statements, of about as many lines each:
    one ``(first, last)`` range per share (none for an empty one). A share boundary is the first line (decorators
    included) of a top-level statement, so every statement lies in exactly one share."""
    last_line = max(len(parsed.lines), 1)
    starts = []
    for statement in parsed.module.body:
        lines = [parsed.range_of(node) for node in (statement, *getattr(statement, "decorators", ()))]
        starts.append(min(code_range.start.line for code_range in lines if code_range is not None))
    bounds = [1]
    for index in range(1, count):
        wanted = 1 + last_line * index // count
        later = [line for line in starts if line >= max(wanted, bounds[-1] + 1)]
        bounds.append(later[0] if later else last_line + 1)
    bounds.append(last_line + 1)
    return [[(first, end - 1)] if end > first else [] for first, end in zip(bounds, bounds[1:])]


def overlap(lines: list[tuple[int, int]], focus: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``focus``'s ranges within ``lines``' (both sorted, disjoint, inclusive)."""
    found = []
    for first, last in lines:
        for start, end in focus:
            if start <= last and first <= end:
                found.append((max(first, start), min(last, end)))
    return found


def _known_codes() -> frozenset[str]:
    from emberlint.registry import all_rules

    return frozenset(rule.CODE for rule in all_rules())


def _report_unused(result: FileResult, suppressions, severities, path: str) -> None:
    """EL901 for suppressions that suppressed nothing, EL902 for suppressions that do not say why."""
    by_code = {rule.CODE: severity for rule, severity in severities.items() if rule.CODE in _HOUSEKEEPING}
    if not by_code:
        return
    known = _known_codes()
    ours = [(entry, entry.own_codes(known)) for entry in suppressions.all()]
    ours = [(entry, codes) for entry, codes in ours if codes]  # ``# noqa: F401`` is another linter's
    if UNEXPLAINED_SUPPRESSION in by_code:
        for entry, _ in ours:
            if not entry.reason:
                position = Position(entry.line, entry.column)
                result.findings.append(
                    Finding(path, position, position, UNEXPLAINED_SUPPRESSION, by_code[UNEXPLAINED_SUPPRESSION],
                            "Suppression without a reason: add `# reason: ...` saying why the conversion is right")
                )
    if UNUSED_SUPPRESSION not in by_code:
        return
    for entry, codes in ours:
        if "*" in codes:
            if entry.used:
                continue
            what = "suppression"
        else:
            unused = sorted(codes - entry.used)
            if not unused:
                continue
            what = "suppression of " + ", ".join(unused)
        position = Position(entry.line, entry.column)
        result.findings.append(
            Finding(
                path,
                position,
                position,
                UNUSED_SUPPRESSION,
                by_code[UNUSED_SUPPRESSION],
                f"Unused {what}: nothing is reported here; remove the comment",
            )
        )


def lint_text(source: str, path: str = "<string>", config: Config | None = None, fixes: str = "all",
              focus: list[tuple[int, int]] | None = None) -> tuple[FileResult, cst.Module | None]:
    """Lint a source text; also returns the parsed module (None when the file was not parsed: skipped by the
    pre-filter, or invalid, which ``FileResult.errors`` then says). ``fixes``, ``focus``: see
    ``lint_module_text``."""
    if source.startswith("\ufeff"):
        source = source[1:]
    try:
        return lint_module_text(source, path, config or Config(), fixes, focus)
    except RecursionError:  # nesting CPython accepts can still be too deep for the recursive analyses
        return FileResult(path, errors=[FileError(path, "too deeply nested to analyse", "internal")]), None


def lint_source(source: str, path: str = "<string>", config: Config | None = None) -> FileResult:
    """Lint a source text (the API the CLI, the fixer and the LSP server share)."""
    return lint_text(source, path, config)[0]


__all__ = ["Analysis", "analyse", "finish", "rule_severities", "lint_source", "lint_text", "lint_module_text", "Severity"]
