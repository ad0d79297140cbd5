"""``--format github``: GitHub Actions workflow commands, shown as annotations on the pull request's diff.

``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::message`` (``::warning`` for warnings).
``endColumn`` is the last character of the finding (GitHub counts it inclusively). Property values escape
``% \\r \\n : ,``; the message escapes ``% \\r \\n``. A notebook's finding is a file-level annotation whose title
names the cell and line (the file's own lines are JSON).
"""

from __future__ import annotations

from emberlint.reporters import RenderOptions, Report


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{kind} {props}::{escape_data(message)}" if props else f"::{kind}::{escape_data(message)}"


def render(report: Report, options: RenderOptions) -> str:
    lines = []
    for error in report.errors:
        if error.cell is not None:  # a notebook's lines are not the file's: name the place in the title
            lines.append(command("error", error.message, file=error.path,
                                 title=f"emberlint {error.kind} error (cell {error.cell}, line {error.line})"))
            continue
        lines.append(command("error", error.message, file=error.path, line=error.line, col=error.column,
                             title=f"emberlint {error.kind} error"))
    for finding in report.findings:
        if finding.cell is not None:
            lines.append(command("error" if finding.severity.fails else "warning", finding.message,
                                 file=finding.path,
                                 title=f"{finding.code} (cell {finding.cell}, line {finding.start.line})"))
            continue
        start, end = finding.start, finding.end
        end_column = end.column - 1 if (end.line, end.column) > (start.line, start.column) else end.column
        lines.append(command(
            "error" if finding.severity.fails else "warning",
            finding.message,
            file=finding.path, line=start.line, col=start.column, endLine=end.line,
            endColumn=max(end_column, 1), title=finding.code,
        ))
    return "".join(line + "\n" for line in lines)
