"""``emberlint fix``: apply the findings' fixes to files, safely.

Each file is read once (keeping its encoding, BOM and newlines), fixed in memory by ``fixing.fix_text`` (a
bounded loop whose every round must re-parse) within a time budget, and written back atomically only when the
whole loop succeeded and the file did not change on disk meanwhile. ``--diff`` and ``--check`` write nothing.

Every position printed is one of the file on disk: the remaining findings of a written file are placed in the
fixed text; those of a file left unchanged (``--diff``, ``--check``, a failed write, a timeout) in the original
text (``FixOutcome.on_source`` maps them back through each round's edits). With the result cache on (the default,
as for ``check``), a file whose cached result has no fix to apply is not linted again.
"""

from __future__ import annotations

import functools
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from emberlint.config import ConfigError
from emberlint.diffs import unified_diff
from emberlint.model import FileError, Finding
from emberlint.options import config_path, overrides_from, selection_options
from emberlint.terminal import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, exit_code, use_color

if TYPE_CHECKING:
    from emberlint.edits import PositionMap

DEFAULT_TIMEOUT = 30.0


@dataclass
class FileFix:
    """What fixing one file produced; ``source`` is None when it could not be read."""

    path: str
    source: object | None = None  # emberlint.sources.SourceFile
    new_text: str | None = None
    applied_codes: dict[str, int] = field(default_factory=dict)
    remaining: list[Finding] = field(default_factory=list)  # positions in ``new_text`` (the file once written)
    errors: list[FileError] = field(default_factory=list)
    positions: PositionMap | None = None  # maps positions in ``new_text`` back to ``source``; None: the same
    _in_source: list[Finding] | None = field(default=None, repr=False)

    @property
    def remaining_in_source(self) -> list[Finding]:
        """The remaining findings placed in ``source`` (mapped back when first asked: a written file's report
        does not need it, and on a large file the mapping costs seconds)."""
        if self._in_source is None:
            from emberlint.fixing import on_source

            self._in_source = [on_source(finding, self.positions) for finding in self.remaining]
        return self._in_source

    @remaining_in_source.setter
    def remaining_in_source(self, findings: list[Finding]) -> None:
        self._in_source = findings

    @property
    def changed_lines(self) -> list[tuple[int, int, int, int]] | None:
        """The regions of ``source`` the fix changed (``--diff`` compares only those); None: unknown."""
        return self.positions.changed_lines() if self.positions is not None else None

    @property
    def changed(self) -> bool:
        return self.source is not None and self.new_text is not None and self.new_text != self.source.text

    @property
    def applied(self) -> int:
        return sum(self.applied_codes.values())


def fix_target(target, unsafe: bool = False, timeout: float | None = DEFAULT_TIMEOUT, cache: bool = False,
               source=None, workers: int = 1) -> FileFix:
    """Fix one file in memory (``source``: its SourceFile already read, e.g. from stdin). Any failure leaves
    ``new_text`` None and records an error (never raises); the file's findings are still reported when they could
    be computed. ``timeout`` None: the file's ``timeout`` setting. With ``cache``, a file whose cached result
    (``check``'s, or an earlier ``fix``'s) has no fix to apply is answered from it, and fresh results are stored.
    ``workers``: processes a large file's lints may be split over (``split_lint``)."""
    from emberlint import fixing
    from emberlint.sources import SourceError, read_source

    outcome = FileFix(target.path)
    try:
        source = source or read_source(target.path)
    except SourceError as exc:
        outcome.errors.append(FileError(target.path, _message(target.path, exc), "read"))
        return outcome
    outcome.source = source
    if timeout is None:
        timeout = target.config.timeout
    if target.path.endswith(".ipynb"):
        from emberlint.notebooks import fix_notebook_target

        return fix_notebook_target(outcome, target, unsafe, timeout)
    if cache:
        known = _cached(source.raw, target)
        if known is not None and not known.errors and not fixing.fixable(known.findings, unsafe):
            outcome.remaining = outcome.remaining_in_source = known.findings
            return outcome
    try:
        fixed = fixing.fix_text(source.text, target.path, target.config, unsafe=unsafe, timeout=timeout,
                                workers=workers)
    except (fixing.FixTimeout, fixing.FixError) as exc:
        message = _message(target.path, exc)
        if isinstance(exc, fixing.FixTimeout) and exc.source_result is None:
            message += " (linting it did not finish: its findings are not known)"
        outcome.errors.append(FileError(target.path, message, "fix"))
        if exc.source_result is not None:
            outcome.remaining = exc.source_result.findings
        elif isinstance(exc, fixing.FixError):
            outcome.remaining = _unfixed_findings(source.text, target)
        outcome.remaining_in_source = outcome.remaining
        return outcome
    except RecursionError:
        outcome.errors.append(FileError(target.path, "too deeply nested to fix; file left unchanged", "fix"))
        return outcome
    except Exception as exc:  # a fixer bug: report it, keep the file
        outcome.errors.append(
            FileError(target.path, f"internal error while fixing ({type(exc).__name__}: {exc}); file left unchanged",
                      "internal")
        )
        return outcome
    outcome.remaining = fixed.remaining.findings
    outcome.positions = fixed.positions
    if fixed.remaining.errors:
        outcome.errors.extend(fixed.remaining.errors)
        return outcome
    try:
        data = _check_round_trip(source, fixed.text)
    except ValueError as exc:
        outcome.errors.append(FileError(target.path, _message(target.path, exc), "fix"))
        return outcome
    outcome.new_text = fixed.text
    outcome.applied_codes = dict(fixed.applied_codes)
    if cache and fixing.complete(fixed.remaining):  # the result of the text as it will be on disk
        _store(data if fixed.changed else source.raw, target, fixed.remaining)
    return outcome


def _cached(raw: bytes, target):
    from emberlint.cache import ResultCache, cache_root, entry_key

    return ResultCache(cache_root(target.config.root)).get(entry_key(raw, target.path, target.config), target.path)


def _store(raw: bytes, target, result) -> None:
    from emberlint.cache import ResultCache, cache_root, entry_key

    ResultCache(cache_root(target.config.root)).put(entry_key(raw, target.path, target.config), result)


def _message(path: str, exc: BaseException) -> str:
    """The exception's text without the leading ``path: `` (the report prints the path already)."""
    text = str(exc)
    return text[len(path) + 2:] if text.startswith(f"{path}: ") else text


def _unfixed_findings(text: str, target) -> list[Finding]:
    """The findings of a file left unchanged (they all remain); none when even linting it fails."""
    from emberlint.engine import lint_source

    try:
        return lint_source(text, target.path, target.config).findings
    except Exception:  # the error already reported covers this file
        return []


def _check_round_trip(source, text: str) -> bytes:
    """The bytes to write, which must decode back (same encoding cookie, BOM) to exactly ``text``."""
    from emberlint.sources import SourceError, decode_source

    try:
        data = source.encode(text)
        again = decode_source(data, source.path).text
    except (UnicodeError, SourceError) as exc:
        raise ValueError(f"{source.path}: fixed text cannot be stored as {source.encoding} ({exc}); "
                         "file left unchanged") from exc
    if again != text:
        raise ValueError(f"{source.path}: fixed text does not survive its encoding round trip; file left unchanged")
    return data


def _counts(codes: dict[str, int]) -> str:
    return ", ".join(f"{code} \u00d7{count}" for code, count in sorted(codes.items()))


def _write(result: FileFix) -> FileError | None:
    from emberlint.sources import ChangedOnDisk, ReadOnlyFile, SourceError, write_atomically

    try:
        write_atomically(result.source, result.new_text)
    except (ChangedOnDisk, ReadOnlyFile) as exc:
        return FileError(result.path, _message(result.path, exc), "write")
    except (SourceError, OSError) as exc:
        return FileError(result.path, f"cannot write: {_message(result.path, exc)}; file left unchanged", "write")
    return None


def run_fix(paths, overrides, explicit_config, jobs, unsafe, timeout, cache: bool = False):
    """Fix ``paths`` in memory; returns (per-file results, discovery errors, targets)."""
    from emberlint.runner import ConfigResolver, discover_targets, lint_targets, processes_per_file

    resolver = ConfigResolver(overrides, explicit_config)
    targets, errors = discover_targets(paths, resolver)
    work = functools.partial(fix_target, unsafe=unsafe, timeout=timeout, cache=cache,
                             workers=processes_per_file(len(targets), jobs))
    return lint_targets(targets, jobs, work=work), errors, targets


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@selection_options
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that may change values or behaviour.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the fixes; write nothing.")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 when any fix would apply (remaining findings are listed, they do not fail).")
@click.option("--timeout", type=click.FloatRange(min=0), default=None,
              help="Seconds allowed per file (default: the `timeout` setting, else 30; 0: no limit); a file that "
                   "takes longer is left unchanged and reported.")
@click.option("--warnings-as-errors", is_flag=True, help="Fail (exit 1) on remaining warnings too.")
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
@click.option("--jobs", "-j", type=int, default=None,
              help="Worker processes (default: one per core); a file of 32 KB or more fixed alone has its lints "
                   "split over them.")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the result cache (.emberlint_cache/ or $EMBERLINT_CACHE_DIR).")
@click.option("--stdin-filename", help="With PATH `-`: the file name stdin stands for (its config applies); the "
              "fixed source is printed on stdout, what remains on stderr.")
def fix(paths, select, ignore, profile, config_file, exclude, force_exclude, unsafe_fixes, show_diff, check_only,
        timeout, warnings_as_errors, no_color, jobs, no_cache, stdin_filename):
    """Apply fixes to PATHS (files or folders; default: the current folder; `-`: stdin) and report what remains.

    Exit status: 0 nothing remains, 1 failing findings remain, 2 errors (a file that cannot be read, parsed,
    fixed or written). With --diff or --check (nothing written), as ruff's --diff: 0 no fix would apply, 1 a fix
    would apply, 2 errors; the findings no fix removes are listed but do not set the status.
    """
    from emberlint.reporters import RenderOptions, Report, reporter
    from emberlint.stdin_input import fix_stdin, wants_stdin

    if wants_stdin(paths):
        try:
            overrides = overrides_from(select, ignore, profile, exclude, warnings_as_errors, timeout, force_exclude)
            sys.exit(fix_stdin(paths, stdin_filename, overrides, config_path(config_file), unsafe_fixes, timeout,
                               show_diff, check_only, warnings_as_errors, fix_file=fix_target))
        except ConfigError as exc:
            click.echo(f"emberlint: configuration error: {exc}", err=True)
            sys.exit(EXIT_ERROR)

    try:
        overrides = overrides_from(select, ignore, profile, exclude, warnings_as_errors, timeout, force_exclude)
        results, errors, targets = run_fix(list(paths) or ["."], overrides, config_path(config_file), jobs,
                                           unsafe_fixes, timeout, cache=not no_cache)
    except ConfigError as exc:
        click.echo(f"emberlint: configuration error: {exc}", err=True)
        sys.exit(EXIT_ERROR)

    dry_run = show_diff or check_only
    # With --diff the diff owns stdout (it can be piped to `patch`); the summary goes to stderr.
    to_stderr = show_diff
    report = Report(files_checked=len(targets), errors=list(errors))
    fixed_codes: Counter = Counter()
    fixed_files = 0
    for result in results:
        report.errors.extend(result.errors)
        if not result.changed:
            report.findings.extend(result.remaining_in_source)
            continue
        if show_diff:
            click.echo(unified_diff(result.path, result.source.text, result.new_text, result.changed_lines), nl=False)
        if not dry_run:
            error = _write(result)
            if error is not None:  # the file on disk is the original: its findings, placed there
                report.errors.append(error)
                report.findings.extend(result.remaining_in_source)
                continue
        report.findings.extend(result.remaining_in_source if dry_run else result.remaining)
        fixed_codes.update(result.applied_codes)
        fixed_files += 1
        verb = "Would fix" if dry_run else "Fixed"
        click.echo(f"{verb} {result.path}: {result.applied} ({_counts(result.applied_codes)})", err=to_stderr)

    report.findings.sort(key=lambda f: f.sort_key)
    unsafe_left = sum(1 for f in report.findings if f.fix is not None and not f.fix.safe)
    color = not to_stderr and use_color(no_color)
    click.echo(reporter("text")(report, RenderOptions(color=color)), nl=False, err=to_stderr)
    total = sum(fixed_codes.values())
    verb = "would be fixed" if dry_run else "fixed"
    summary = f"{total} finding(s) {verb} in {fixed_files} file(s)"
    if fixed_codes:
        summary += f" ({_counts(dict(fixed_codes))})"
    if unsafe_left and not unsafe_fixes:
        summary += f"; {unsafe_left} more with --unsafe-fixes"
    click.echo(summary + ".", err=to_stderr)

    fail_on_warnings = warnings_as_errors or any(t.config.warnings_as_errors for t in targets)
    if dry_run:
        status = EXIT_ERROR if report.errors else EXIT_FINDINGS if fixed_files else EXIT_CLEAN
    else:
        status = exit_code(report, fail_on_warnings)
    sys.exit(status)


__all__ = ["fix", "fix_target", "run_fix", "unified_diff", "EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_ERROR"]
