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
        if not report.files_checked:
            return "No Python files checked."
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


def merged(findings: list) -> list[tuple]:
    """One entry per (path, code, position): ``(finding, same, also)``, where ``same`` counts the other findings
    there with the same message and ``also`` lists ``(message, fixable, count)`` of the ones with another message.
    Nested expressions share a start (``0.5 * x * y`` holds two ``*`` whose expressions both start at ``0.5``;
    ``x.double().float()`` two casts): separate findings, each with its own fix, but one line to read."""
    entries: list[list] = []
    index: dict[tuple, list] = {}
    for finding in findings:
        key = (finding.path, finding.code, finding.start)
        entry = index.get(key)
        if entry is None:
            entry = index[key] = [finding, 0, {}]
            entries.append(entry)
        elif finding.message == entry[0].message:
            entry[1] += 1
        else:
            also = entry[2].setdefault(finding.message, [_fixable(finding), 0])
            also[1] += 1
    return [(finding, same, [(message, mark, count) for message, (mark, count) in also.items()])
            for finding, same, also in entries]


def _fixable(finding) -> str:
    return " [*]" if finding.fix is not None and finding.fix.safe else ""


def _times(count: int) -> str:
    return f" (\u00d7{count} at this position)" if count > 1 else ""


def _also_lines(also: list[tuple]) -> list[str]:
    return [f"    also here: {message}{mark}{_times(count)}" for message, mark, count in also]


def render(report: Report, options: RenderOptions) -> str:
    if options.color:
        return _render_rich(report, options)
    lines: list[str] = []
    whys: dict[str, str | None] = {}
    for error in report.errors:
        where = error.location
        lines.append(f"{where}: error: {error.message}")
    for finding, same, also in merged(report.findings):
        lines.append(
            f"{finding.location}: {finding.code} {finding.message}{_fixable(finding)}{_times(same + 1)}"
        )
        lines.extend(_also_lines(also))
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


def code_frame(source_lines: list[str], line: int, columns: list[int]) -> list[str]:
    """The line before ``line`` and ``line`` itself with their numbers, then a caret under each of ``columns``
    (1-based, in characters; tabs in the line are copied so the carets stay aligned)."""
    if not 0 < line <= len(source_lines):
        return []
    width = len(str(line))
    frame = [f"{number:>{width}} | {source_lines[number - 1]}" for number in range(max(1, line - 1), line + 1)]
    text = source_lines[line - 1]
    marks: list[str] = []
    for column in sorted(set(columns)):
        while len(marks) < column - 1:
            position = len(marks)
            marks.append("\t" if position < len(text) and text[position] == "\t" else " ")
        if len(marks) == column - 1:
            marks.append("^")
    frame.append(f"{' ' * width} | {''.join(marks)}")
    return frame


def _render_rich(report: Report, options: RenderOptions) -> str:
    import io

    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, highlight=False, soft_wrap=True)
    for error in report.errors:
        where = error.location
        console.print(f"[bold red]{escape(where)}: error:[/] {escape(error.message)}")
    entries = merged(report.findings)
    split_sources: dict[str, list[str]] = {}
    for number, (finding, same, also) in enumerate(entries):
        style = "red" if finding.severity.value == "error" else "yellow"
        fixable = " [dim]\\[*][/]" if _fixable(finding) else ""
        console.print(
            f"[bold]{escape(finding.location)}:[/] "
            f"[{style}]{finding.code}[/] {escape(finding.message)}{fixable}{escape(_times(same + 1))}"
        )
        for line in _also_lines(also):
            console.print(escape(line))
        if options.coach:
            why = _why(finding.code)
            if why:
                console.print(f"    [dim]{escape(why)}[/]")
        following = entries[number + 1][0] if number + 1 < len(entries) else None
        same_line = following is not None and (following.path, following.start.line) == (
            finding.path, finding.start.line)
        if options.show_frames and finding.path in report.sources and not same_line and finding.cell is None:
            # one frame per line, after the last finding on it, with a caret under each finding's column
            if finding.path not in split_sources:
                split_sources[finding.path] = report.sources[finding.path].split("\n")
            columns = [f.start.column for f, _, _ in entries if (f.path, f.start.line) == (finding.path,
                                                                                           finding.start.line)]
            for row in code_frame(split_sources[finding.path], finding.start.line, columns):
                number_part, _, code = row.partition(" | ")
                console.print(f"[dim]{escape(number_part)} |[/] {escape(code)}", highlight=False)
    if options.statistics and report.findings:
        console.print()
        for line in _statistics(report):
            console.print(line)
    console.print(escape(_summary(report)))
    return buffer.getvalue()
