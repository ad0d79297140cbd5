"""What the commands tell the terminal: whether to colour their output, and the exit status of a run."""

from __future__ import annotations

import os
import sys

#: 0 clean, 1 failing findings, 2 errors (a file that cannot be read, parsed, fixed or written; bad settings; an
#: internal error): a CI job tells "findings" from "broken" by the status alone
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def use_color(no_color: bool, stream=None) -> bool:
    """Colour only for a terminal, and never with ``--no-color`` or ``NO_COLOR`` set."""
    stream = stream or sys.stdout
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def exit_code(report, warnings_as_errors: bool) -> int:
    """The status of a report: errors 2, else failing findings (errors, or warnings too) 1, else 0."""
    if report.errors:
        return EXIT_ERROR
    for finding in report.findings:
        if finding.severity.fails or warnings_as_errors:
            return EXIT_FINDINGS
    return EXIT_CLEAN
