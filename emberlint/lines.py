"""Splitting source text into lines the way Python's tokenizer and LibCST's positions do: a line ends at
``\\n``, ``\\r\\n`` or ``\\r`` only (``str.splitlines`` also splits at form feeds, ``\\x1c``-``\\x1e``, U+2028...,
which would shift every position after them)."""

from __future__ import annotations

import io
import re

#: One line end.
LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` with their line ends (``"a\\r\\nb"`` -> ``["a\\r\\n", "b"]``; ``""`` -> ``[]``)."""
    return io.StringIO(text, newline="").readlines()


def split_line_texts(text: str) -> list[str]:
    """The lines of ``text`` without their line ends; a text ending in a line end has an empty last line (as
    editors count lines: ``"a\\n"`` -> ``["a", ""]``)."""
    return LINE_END.split(text)


def line_starts(text: str) -> list[int]:
    """The offset of each line's first character (the first line starts at 0)."""
    return [0] + [match.end() for match in LINE_END.finditer(text)]


def first_line_end(text: str, default: str = "\n") -> str:
    """The line end the text uses first (what code written into it should use), else ``default``."""
    match = LINE_END.search(text)
    return match.group(0) if match else default
