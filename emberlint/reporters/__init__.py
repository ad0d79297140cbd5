"""Output formats of ``emberlint check``. Each reporter renders a ``Report`` to a string."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from emberlint import collector
from emberlint.model import FileError, Finding

#: format name -> "module:function" taking (report, options) and returning the text to print.
REPORTERS = {
    "text": "emberlint.reporters.text:render",
    "json": "emberlint.reporters.json_format:render",
    "sarif": "emberlint.reporters.sarif:render",
    "github": "emberlint.reporters.github:render",
}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_checked: int = 0
    sources: dict[str, str] = field(default_factory=dict)  # path -> text, for code frames


@dataclass
class RenderOptions:
    color: bool = False
    statistics: bool = False
    coach: bool = False
    show_frames: bool = True


def reporter(name: str) -> Callable[[Report, RenderOptions], str]:
    """The format's render function, run with the garbage collector paused (``emberlint.collector``: a report of
    many findings allocates many small containers, none of them garbage until it is printed)."""
    module, function = REPORTERS[name].split(":")
    render = getattr(importlib.import_module(module), function)

    def paused_render(report: Report, options: RenderOptions) -> str:
        with collector.paused():
            return render(report, options)

    return paused_render
