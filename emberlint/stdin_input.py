"""``emberlint check - --stdin-filename PATH`` and ``emberlint fix - --stdin-filename PATH``: lint or fix the code
on stdin as if it were the file PATH (its configuration, per-file ignores and excludes; a ``.ipynb`` name reads a
notebook). Editors and formatter chains pipe a buffer through these.

``fix -`` prints the fixed source on stdout (the input unchanged when it cannot be fixed, so a pipeline never loses
code) and the findings that remain on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from emberlint.terminal import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, exit_code

STDIN = "-"


def wants_stdin(paths: tuple[str, ...]) -> bool:
    return STDIN in paths


def _read(stdin_filename: str | None):
    """The bytes on stdin as a SourceFile named after ``stdin_filename``; raises SourceError."""
    from emberlint.sources import decode_source

    raw = sys.stdin.buffer.read()
    return decode_source(raw, stdin_filename or STDIN)


def _check_arguments(paths: tuple[str, ...]) -> None:
    if paths != (STDIN,):
        raise click.UsageError("`-` (read stdin) cannot be combined with other paths")


def _target(stdin_filename: str | None, overrides, explicit_config):
    """The Target stdin stands for (config found from the file name's folder), or None when excluded; raises
    ConfigError for bad settings (rule codes included)."""
    from emberlint.runner import ConfigResolver, Target, check_codes

    name = stdin_filename or STDIN
    path = Path(stdin_filename) if stdin_filename else Path.cwd() / "stdin.py"
    config = ConfigResolver(overrides, explicit_config).for_path(path)
    check_codes([config])
    if stdin_filename and config.force_exclude and config.is_excluded(path):
        return None
    return Target(name, config)


def _lint(text: str, target):
    from emberlint.engine import lint_text
    from emberlint.notebooks import is_notebook, lint_notebook_text

    if is_notebook(target.path):
        return lint_notebook_text(text, target.path, target.config)
    return lint_text(text, target.path, target.config)[0]


def check_stdin(paths, stdin_filename, overrides, explicit_config):
    """(report, targets) for the code on stdin, as ``check_command.run_check`` returns them."""
    from emberlint.model import ErrorKind, FileError
    from emberlint.reporters import Report
    from emberlint.sources import SourceError

    _check_arguments(paths)
    target = _target(stdin_filename, overrides, explicit_config)
    if target is None:  # excluded and --force-exclude: nothing to check
        sys.stdin.buffer.read()
        return Report(files_checked=0), []
    report = Report(files_checked=1)
    try:
        source = _read(stdin_filename)
    except SourceError as exc:
        report.errors.append(FileError(target.path, str(exc).removeprefix(f"{target.path}: "), ErrorKind.READ))
        return report, [target]
    report.sources[target.path] = source.text
    result = _lint(source.text, target)
    report.findings.extend(result.findings)
    report.errors.extend(result.errors)
    return report, [target]


def fix_stdin(paths, stdin_filename, overrides, explicit_config, unsafe: bool, timeout, show_diff: bool,
              check_only: bool, warnings_as_errors: bool, fix_file) -> int:
    """Fix the code on stdin with ``fix_file`` (``fix_command.fix_target``); prints the fixed source (or a diff
    with ``show_diff``, nothing with ``check_only``) on stdout and what remains on stderr. Returns the exit
    status."""
    from emberlint.diffs import unified_diff
    from emberlint.model import ErrorKind, FileError
    from emberlint.reporters import RenderOptions, Report, reporter
    from emberlint.sources import SourceError

    _check_arguments(paths)
    target = _target(stdin_filename, overrides, explicit_config)
    raw = sys.stdin.buffer.read()
    if target is None:
        if not (show_diff or check_only):
            sys.stdout.buffer.write(raw)
        return EXIT_CLEAN
    report = Report(files_checked=1)
    try:
        from emberlint.sources import decode_source

        source = decode_source(raw, target.path)
    except SourceError as exc:
        if not (show_diff or check_only):
            sys.stdout.buffer.write(raw)
        report.errors.append(FileError(target.path, str(exc).removeprefix(f"{target.path}: "), ErrorKind.READ))
        click.echo(reporter("text")(report, RenderOptions()), nl=False, err=True)
        return EXIT_ERROR
    outcome = fix_file(target, unsafe=unsafe, timeout=timeout, source=source)
    new_text = outcome.new_text if outcome.changed else source.text
    if show_diff:
        if outcome.changed:
            click.echo(unified_diff(target.path, source.text, new_text), nl=False)
    elif not check_only:
        sys.stdout.buffer.write(source.encode(new_text))
        sys.stdout.flush()
    report.findings.extend(outcome.remaining)
    report.errors.extend(outcome.errors)
    if report.findings or report.errors:
        click.echo(reporter("text")(report, RenderOptions()), nl=False, err=True)
    status = exit_code(report, warnings_as_errors or target.config.warnings_as_errors)
    if check_only and outcome.changed and status == EXIT_CLEAN:
        status = EXIT_FINDINGS
    return status
