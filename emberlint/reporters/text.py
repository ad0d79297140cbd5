"""Text output: ``path:line:col: CODE message``, with a code frame and colour on a terminal (rich)."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from emberlint.reporters import RenderOptions, Report


def _why(code: str) -> str | None:
    from emberlint.registry import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        return None
    paragraphs = [p for p in rule.docs().split("\n\n") if p.lower().startswith("why")]
    text = paragraphs[0] if paragraphs else rule.summary()
    return " ".join(text.split())


def render(report: Report, options: RenderOptions) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=options.color, no_color=not options.color, width=120, highlight=False,
        soft_wrap=True,
    )
    for error in report.errors:
        where = f"{error.path}:{error.line}:{error.column}" if error.line else error.path
        console.print(f"[bold red]{escape(where)}: error:[/] {escape(error.message)}")
    for finding in report.findings:
        style = "red" if finding.severity.value == "error" else "yellow"
        fixable = " [dim]\\[*][/]" if finding.fix is not None and finding.fix.safe else ""
        console.print(
            f"[bold]{escape(finding.path)}:{finding.start.line}:{finding.start.column}:[/] "
            f"[{style}]{finding.code}[/] {escape(finding.message)}{fixable}"
        )
        if options.coach:
            why = _why(finding.code)
            if why:
                console.print(f"    [dim]{escape(why)}[/]")
        if options.color and options.show_frames and finding.path in report.sources:
            first = max(1, finding.start.line - 1)
            last = finding.end.line + 1
            console.print(
                Syntax(
                    report.sources[finding.path], "python", line_numbers=True, line_range=(first, last),
                    highlight_lines={finding.start.line}, theme="ansi_dark", word_wrap=False,
                )
            )
    if options.statistics and report.findings:
        console.print()
        for code, count in sorted(Counter(f.code for f in report.findings).items()):
            console.print(f"{count:6d}  {code}")
    errors = sum(1 for f in report.findings if f.severity.value == "error")
    warnings = len(report.findings) - errors
    fixable = sum(1 for f in report.findings if f.fix is not None and f.fix.safe)
    if report.findings or report.errors:
        summary = f"Found {len(report.findings)} problem(s) ({errors} error(s), {warnings} warning(s))"
        summary += f" in {report.files_checked} file(s)"
        if fixable:
            summary += f"; {fixable} fixable with `emberlint fix`"
        if report.errors:
            summary += f"; {len(report.errors)} file error(s)"
        console.print(summary + ".")
    else:
        console.print(f"All checks passed ({report.files_checked} file(s)).")
    return buffer.getvalue()
