"""``emberlint check``: lint files and report; the exit code makes it a CI gate."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from emberlint.config import ConfigError, Overrides
from emberlint.options import config_path, overrides_from, selection_options
from emberlint.terminal import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, exit_code, use_color

PROGRESS_MIN_FILES = 200


def run_check(paths, overrides: Overrides, explicit_config, jobs, progress_enabled, cache=False):
    """Lint ``paths``; returns (report, targets). Raises ConfigError for bad configuration."""
    from emberlint.reporters import Report
    from emberlint.runner import ConfigResolver, discover_targets, lint_targets

    resolver = ConfigResolver(overrides, explicit_config)
    targets, errors = discover_targets(paths, resolver)
    if progress_enabled and len(targets) >= PROGRESS_MIN_FILES:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(transient=True, console=Console(stderr=True)) as progress:  # stdout carries the report
            task = progress.add_task("Checking", total=len(targets))
            results = lint_targets(targets, jobs, lambda n: progress.advance(task, n), cache=cache)
    else:
        results = lint_targets(targets, jobs, cache=cache)
    report = Report(files_checked=len(targets), errors=list(errors))
    for result in results:
        report.findings.extend(result.findings)
        report.errors.extend(result.errors)
    return report, targets


def show_progress(output_format: str, output_file) -> bool:
    """A progress bar only for a person watching: text output, stderr a terminal, not under CI."""
    import os

    return (output_format == "text" and output_file is None and sys.stderr.isatty()
            and not os.environ.get("CI") and not os.environ.get("GITHUB_ACTIONS"))


def write_report_file(name: str, write) -> object:
    """``write(path)`` after creating the missing folders of ``name`` (as ruff does for ``--output-file``);
    raises OSError, which the caller reports as an error (exit 2)."""
    path = Path(name)
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
    return write(path)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def warn_if_nothing_checked(report, targets) -> None:
    """Like ruff: a warning (exit status unchanged) when the paths held no Python file to check."""
    if not targets and not report.errors:
        click.echo("emberlint: warning: no Python files found under the given path(s)", err=True)


def _apply_baseline(report, baseline_file, write_baseline_file) -> None:
    """Write the baseline (then exit) or drop the findings it records from ``report``."""
    from emberlint.baseline import BaselineError, new_findings, write_baseline

    if write_baseline_file:
        try:
            count = write_report_file(write_baseline_file, lambda path: write_baseline(path, report.findings,
                                                                                       report.sources))
        except OSError as exc:
            click.echo(f"emberlint: error: cannot write baseline {write_baseline_file}: {_reason(exc)}", err=True)
            sys.exit(EXIT_ERROR)
        click.echo(f"emberlint: wrote {count} finding(s) to baseline {write_baseline_file}", err=True)
        sys.exit(EXIT_ERROR if report.errors else EXIT_CLEAN)
    try:
        report.findings, known = new_findings(Path(baseline_file), report.findings, report.sources)
    except BaselineError as exc:
        click.echo(f"emberlint: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if known:
        click.echo(f"emberlint: {known} finding(s) recorded in baseline {baseline_file} not shown", err=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@selection_options
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("--statistics", is_flag=True, help="Show a count of findings per rule.")
@click.option("--warnings-as-errors", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
@click.option("--coach", is_flag=True, help="Explain under each finding why it matters numerically.")
@click.option("--jobs", "-j", type=int, default=None, help="Worker processes (default: one per core).")
@click.option("--timeout", type=click.FloatRange(min=0), default=None,
              help="Seconds of CPU time allowed per file (default: the `timeout` setting, else 30; 0: no limit); "
                   "a file that takes more is reported as an error (exit 2) and the other files are still checked.")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the result cache (.emberlint_cache/ or $EMBERLINT_CACHE_DIR).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
              help="Report (and fail on) only findings not recorded in this baseline file.")
@click.option("--write-baseline", "write_baseline_file", type=click.Path(dir_okay=False),
              help="Record today's findings in this baseline file and exit 0.")
@click.option("--stdin-filename", help="With PATH `-`: the file name the code on stdin stands for (its config, "
              "per-file ignores and excludes apply; `.ipynb` reads a notebook).")
def check(paths, select, ignore, profile, config_file, exclude, force_exclude, output_format, output_file,
          statistics, warnings_as_errors, no_color, coach, jobs, timeout, baseline_file, write_baseline_file,
          no_cache, stdin_filename):
    """Check PATHS (files or folders; default: the current folder; `-`: stdin)."""
    from emberlint.reporters import RenderOptions, reporter
    from emberlint.stdin_input import check_stdin, wants_stdin

    try:
        overrides = overrides_from(select, ignore, profile, exclude, warnings_as_errors, timeout, force_exclude)
        if wants_stdin(paths):
            report, targets = check_stdin(paths, stdin_filename, overrides, config_path(config_file))
        else:
            report, targets = run_check(list(paths) or ["."], overrides, config_path(config_file), jobs,
                                        progress_enabled=show_progress(output_format, output_file),
                                        cache=not no_cache)
    except ConfigError as exc:
        click.echo(f"emberlint: configuration error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    warn_if_nothing_checked(report, targets)
    if baseline_file or write_baseline_file:
        _apply_baseline(report, baseline_file, write_baseline_file)
    color = output_format == "text" and output_file is None and use_color(no_color)
    if color:
        for target in targets:
            if target.path in report.sources or target.path.endswith(".ipynb"):
                continue
            if any(f.path == target.path for f in report.findings):
                try:
                    report.sources[target.path] = Path(target.path).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    pass
    text = reporter(output_format)(report, RenderOptions(color=color, statistics=statistics, coach=coach))
    if output_file:
        try:
            write_report_file(output_file, lambda path: path.write_text(text, encoding="utf-8"))
        except OSError as exc:
            click.echo(f"emberlint: error: cannot write report {output_file}: {_reason(exc)}", err=True)
            sys.exit(EXIT_ERROR)
    else:
        click.echo(text, nl=False)
    fail_on_warnings = warnings_as_errors or any(t.config.warnings_as_errors for t in targets)
    sys.exit(exit_code(report, fail_on_warnings))


__all__ = ["check", "run_check", "exit_code", "EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_ERROR"]  # exit codes: terminal's
