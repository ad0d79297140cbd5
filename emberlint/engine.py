"""Lints one source text: parse once, build scopes and array facts, run every enabled rule in one traversal,
then filter by suppressions and per-file ignores."""

from __future__ import annotations

import ast
import os
import re
import warnings
from typing import Callable

import libcst as cst

from emberlint import light
from emberlint.arrays import collect_facts
from emberlint.config import Config
from emberlint.context import FileContext
from emberlint.model import FileError, FileResult, Finding, Position, Severity
from emberlint.positions import build_fix, end_of, fix_nodes, offered_fix, resolve_positions, start_of
from emberlint.registry import enabled_rules
from emberlint.rule import Rule
from emberlint.scope import ARRAY_BACKENDS, SCOPE_KINDS, build_scopes
from emberlint.suppress import build_suppressions, is_directive, parse_suppressions
from emberlint.walk import is_too_deep, nesting_error, parse_at_default_depth, walk, walk_kinds

#: ``libcst``: detect on LibCST's own tree instead of the light tree (the reference the light tree is tested
#: against, ``EMBERLINT_TREE=libcst``).
TREE = os.environ.get("EMBERLINT_TREE", "light")

UNUSED_SUPPRESSION = "EL901"
UNEXPLAINED_SUPPRESSION = "EL902"
_HOUSEKEEPING = (UNUSED_SUPPRESSION, UNEXPLAINED_SUPPRESSION)
_BACKEND_WORD = re.compile(r"\b(?:mlx|torch|numpy)\b")


class _Dispatcher(cst.CSTVisitor):
    """Calls each rule's ``visit_<Node>``/``leave_<Node>`` while keeping the context's scope and ancestors."""

    def __init__(self, context: FileContext, rules: list[Rule], on_crash: Callable[[Rule, BaseException], None]):
        self.context = context
        self.rules = rules
        self.on_crash = on_crash
        self.broken: set[int] = set()
        self._visit: dict[type, list[tuple[Rule, Callable]]] = {}
        self._leave: dict[type, list[tuple[Rule, Callable]]] = {}
        self.directives: list[cst.Comment] = []  # comments holding a suppression directive (no tokenize needed)

    def _methods(self, table: dict, prefix: str, node: cst.CSTNode) -> list[tuple[Rule, Callable]]:
        kind = type(node)
        methods = table.get(kind)
        if methods is None:
            methods = []
            for rule in self.rules:
                method = getattr(rule, f"{prefix}{kind.__name__}", None)
                if method is not None:
                    methods.append((rule, method))
            table[kind] = methods
        return methods

    def _call(self, methods: list[tuple[Rule, Callable]], node: cst.CSTNode) -> None:
        for rule, method in methods:
            if id(rule) in self.broken:
                continue
            try:
                method(node)
            except Exception as exc:  # a rule bug must not stop the other rules or files
                self.broken.add(id(rule))
                self.on_crash(rule, exc)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.context.stack.append(node)
        if type(node) is cst.Comment and is_directive(node.value):
            self.directives.append(node)
        self._enter(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._exit(original_node)
        self.context.stack.pop()

    def _enter(self, node: cst.CSTNode) -> None:
        context = self.context
        scope = context.scopes.get(node)
        if scope is not None and scope is not context.scope_stack[0]:  # the module's scope is always there
            context.scope_stack.append(scope)
        methods = self._methods(self._visit, "visit_", node)
        if methods:
            self._call(methods, node)

    def _exit(self, node: cst.CSTNode) -> None:
        methods = self._methods(self._leave, "leave_", node)
        if methods:
            self._call(methods, node)
        stack = self.context.scope_stack
        if stack[-1].node is node and len(stack) > 1:
            stack.pop()


class _LightDispatcher(_Dispatcher):
    """The dispatcher of a light tree, driven by ``walk_kinds``: it sees only the nodes some rule has a method
    for and the nodes that open a scope; the context reads ancestors from parent links."""

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.context.current = node
        self._enter(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.context.current = original_node
        self._exit(original_node)


def _cannot_fire_without_backend(rule: type[Rule], source: str) -> bool:
    """True when ``rule`` needs an array backend, or declares ``TRIGGER`` regexes (text it can only fire on,
    e.g. ``except``) one of which ``source`` lacks: a file no enabled rule can fire on is not parsed at all."""
    if rule.NEEDS_BACKEND:
        return True
    trigger = rule.TRIGGER
    patterns = (trigger,) if isinstance(trigger, str) else trigger or ()
    return any(re.search(pattern, source) is None for pattern in patterns)


def _parse_error(path: str, source: str, exc: cst.ParserSyntaxError) -> FileError:
    """Python's own message and position when it agrees the code is invalid (LibCST's are often less precise)."""
    try:
        compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        found = _python_syntax_error(path, python_error)
        if found is not None:
            return found
    except (ValueError, RecursionError, MemoryError):
        pass
    message = exc.message if exc.message else "invalid syntax"
    return FileError(path, f"syntax error: {message}", "parse", exc.raw_line, exc.raw_column + 1)


def _parse_libcst(source: str, path: str, result: FileResult) -> cst.Module | None:
    too_deep = nesting_error(source)  # LibCST's parser would crash the process on these
    if too_deep:
        result.errors.append(FileError(path, too_deep, "parse"))
        return None
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        result.errors.append(_parse_error(path, source, exc))
    except (RecursionError, MemoryError) as exc:
        result.errors.append(FileError(path, f"cannot parse: {type(exc).__name__}", "parse"))
    return None


def _parse_light(source: str, path: str, result: FileResult) -> light.LightTree | None:
    """CPython's parser (at the default recursion limit) and the light tree built from its ``ast``."""
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
        _parse_light(source, path, result)
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


def lint_module_text(source: str, path: str, config: Config,
                     fixes: str = "all") -> tuple[FileResult, cst.Module | None]:
    """Lint ``source`` (already decoded, without BOM); returns the result and the parsed module (None if skipped).
    ``fixes="safe"``: only safe fixes get their edits; an unsafe one is a ``Fix`` without edits (``fix`` without
    ``--unsafe-fixes`` needs no more)."""
    result = FileResult(path)
    severities = enabled_rules(config)
    ignored = config.ignored_codes_for(path) if config.per_file_ignores else ()
    severities = {rule: sev for rule, sev in severities.items() if not any(rule.CODE.startswith(c) for c in ignored)}
    active = [rule for rule in severities if rule.CODE not in _HOUSEKEEPING]
    if not active:
        _report_unused(result, parse_suppressions(source), severities, path)
        return result, None
    if not _BACKEND_WORD.search(source) and all(_cannot_fire_without_backend(rule, source) for rule in active):
        result.errors.extend(_syntax_errors(source, path))
        return result, None
    tree: light.LightTree | None = None
    if TREE == "libcst":
        module = _parse_libcst(source, path, result)
    else:
        tree = _parse_light(source, path, result)
        module = tree.module if tree is not None else None
    if module is None:
        return result, None
    scopes = build_scopes(module)
    has_backend = bool(scopes.imported_roots & set(ARRAY_BACKENDS))
    if not has_backend:
        active = [rule for rule in active if not rule.NEEDS_BACKEND]
        if not active:
            return result, module
    facts = collect_facts(module, scopes.scopes)
    context = FileContext(path, source, module, config, scopes.scopes, facts, scopes.imported_roots, tree)
    crashes: list[tuple[Rule, BaseException, cst.CSTNode | None]] = []

    def on_crash(rule: Rule, exc: BaseException) -> None:
        crashes.append((rule, exc, context.ancestors[-1] if context.ancestors else None))

    instances = [rule(context) for rule in active]
    if tree is not None:
        dispatcher = _LightDispatcher(context, instances, on_crash)
        walk_kinds(module, dispatcher, SCOPE_KINDS.union(*(rule.node_kinds() for rule in active)))
    else:
        dispatcher = _Dispatcher(context, instances, on_crash)
        walk(module, dispatcher)

    raw = context.findings
    wanted = [f.node for f in raw] + [node for _, _, node in crashes if node is not None] + dispatcher.directives
    for finding in raw:
        if finding.fix is not None:
            wanted.extend(fix_nodes(finding.fix, module))
    if tree is not None:
        positions = tree.positions(wanted)
    else:
        positions = resolve_positions(module, wanted) if wanted else {}

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

    if tree is not None:
        suppressions = parse_suppressions(source)
    else:
        suppressions = build_suppressions(
            (positions[comment].start.line, positions[comment].start.column, comment.value)
            for comment in dispatcher.directives
        )
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
                    fix = build_fix(fix, module, positions, tree, context.layout)
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
    _report_unused(result, suppressions, severities, path)
    result.findings.sort(key=lambda f: f.sort_key)
    return result, module


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


def lint_text(source: str, path: str = "<string>", config: Config | None = None,
              fixes: str = "all") -> tuple[FileResult, cst.Module | None]:
    """Lint a source text; also returns the parsed module (None when the file was not parsed: skipped by the
    pre-filter, or invalid, which ``FileResult.errors`` then says). ``fixes``: see ``lint_module_text``."""
    if source.startswith("\ufeff"):
        source = source[1:]
    try:
        return lint_module_text(source, path, config or Config(), fixes)
    except RecursionError:  # nesting CPython accepts can still be too deep for the recursive analyses
        return FileResult(path, errors=[FileError(path, "too deeply nested to analyse", "internal")]), None


def lint_source(source: str, path: str = "<string>", config: Config | None = None) -> FileResult:
    """Lint a source text (the API the CLI, the fixer and the LSP server share)."""
    return lint_text(source, path, config)[0]


__all__ = ["lint_source", "lint_text", "lint_module_text", "Severity"]
