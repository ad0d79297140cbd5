"""Text output: ``path:line:col: CODE message``. Plain text when colour is off (no rich import at all); on a
terminal, rich adds colour and a code frame under each finding."""

from __future__ import annotations

from collections import Counter

from emberlint.reporters import RenderOptions, Report


def _why(code: str) -> str | None:
    from emberlint.registry import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        return None
    paragraphs = [p for p in rule.docs().split("\n\n") if p.lower().startswith("why")]
    text = paragraphs[0] if paragraphs else rule.summary()
    return " ".join(text.split())


def _summary(report: Report) -> str:
    errors = sum(1 for f in report.findings if f.severity.value == "error")
    warnings = len(report.findings) - errors
    fixable = sum(1 for f in report.findings if f.fix is not None and f.fix.safe)
    if not (report.findings or report.errors):
        return f"All checks passed ({report.files_checked} file(s))."
    summary = f"Found {len(report.findings)} problem(s) ({errors} error(s), {warnings} warning(s))"
    summary += f" in {report.files_checked} file(s)"
    if fixable:
        summary += f"; {fixable} fixable with `emberlint fix`"
    if report.errors:
        summary += f"; {len(report.errors)} file error(s)"
    return summary + "."


def _statistics(report: Report) -> list[str]:
    return [f"{count:6d}  {code}" for code, count in sorted(Counter(f.code for f in report.findings).items())]


def render(report: Report, options: RenderOptions) -> str:
    if options.color:
        return _render_rich(report, options)
    lines: list[str] = []
    whys: dict[str, str | None] = {}
    for error in report.errors:
        where = error.location
        lines.append(f"{where}: error: {error.message}")
    for finding in report.findings:
        fixable = " [*]" if finding.fix is not None and finding.fix.safe else ""
        lines.append(
            f"{finding.location}: {finding.code} {finding.message}{fixable}"
        )
        if options.coach:
            if finding.code not in whys:
                whys[finding.code] = _why(finding.code)
            if whys[finding.code]:
                lines.append(f"    {whys[finding.code]}")
    if options.statistics and report.findings:
        lines.append("")
        lines.extend(_statistics(report))
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _render_rich(report: Report, options: RenderOptions) -> str:
    import io

    from rich.console import Console
    from rich.markup import escape
    from rich.syntax import Syntax

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, highlight=False, soft_wrap=True)
    for error in report.errors:
        where = error.location
        console.print(f"[bold red]{escape(where)}: error:[/] {escape(error.message)}")
    for finding in report.findings:
        style = "red" if finding.severity.value == "error" else "yellow"
        fixable = " [dim]\\[*][/]" if finding.fix is not None and finding.fix.safe else ""
        console.print(
            f"[bold]{escape(finding.location)}:[/] "
            f"[{style}]{finding.code}[/] {escape(finding.message)}{fixable}"
        )
        if options.coach:
            why = _why(finding.code)
            if why:
                console.print(f"    [dim]{escape(why)}[/]")
        if options.show_frames and finding.path in report.sources and finding.cell is None:
            first = max(1, finding.start.line - 1)
            console.print(
                Syntax(
                    report.sources[finding.path], "python", line_numbers=True,
                    line_range=(first, finding.end.line + 1), highlight_lines={finding.start.line},
                    theme="ansi_dark", word_wrap=False,
                )
            )
    if options.statistics and report.findings:
        console.print()
        for line in _statistics(report):
            console.print(line)
    console.print(escape(_summary(report)))
    return buffer.getvalue()
