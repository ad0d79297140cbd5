"""``--format json``: one JSON object, a stable shape that CI tools read."""

from __future__ import annotations

import json

from emberlint import __version__
from emberlint.reporters import RenderOptions, Report


def render(report: Report, options: RenderOptions) -> str:
    payload = {
        "version": __version__,
        "files_checked": report.files_checked,
        "findings": [finding.to_json() for finding in report.findings],
        "errors": [error.to_json() for error in report.errors],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
