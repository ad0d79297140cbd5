"""Suppression comments: ``# emberlint: ignore[EL101,EL201]``, ``# noqa: EL101``, a bare ``# emberlint: ignore``
(every code on the line), and ``# emberlint: ignore-file[...]`` (the whole file): read (``build_suppressions``,
``parse_suppressions``) and written (``ignore_edit``, the LSP's "ignore CODE on this line")."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Iterable

_DIRECTIVE = re.compile(
    r"#\s*(?:emberlint:\s*(?P<kind>ignore-file|ignore)|(?P<noqa>noqa))(?P<codes>\s*(?:\[[^\]]*\]|:\s*[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_CODE = re.compile(r"[A-Z]+[0-9]+")
ALL = "*"


@dataclass
class Suppression:
    line: int
    column: int
    codes: frozenset[str]  # {"*"} for every code
    file_wide: bool = False
    used: set[str] = field(default_factory=set)
    reason: str = ""  # the text after the directive (``# emberlint: ignore[EL101]  # reason: ...``)
    noqa: bool = False  # a ``# noqa`` comment, which other linters read too

    def own_codes(self, known: frozenset[str] | set[str]) -> frozenset[str]:
        """The codes that are emberlint's business: all of an ``emberlint:`` directive's or a bare one's; of a
        ``# noqa: ...`` only emberlint's (``EL...`` or a registered rule's), since ``F401`` or ``SIM401``
        belong to other linters."""
        if not self.noqa or ALL in self.codes:
            return self.codes
        return frozenset(code for code in self.codes if code.startswith("EL") or code in known)

    def covers(self, code: str) -> bool:
        return ALL in self.codes or code in self.codes


@dataclass
class Suppressions:
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)
    file_wide: list[Suppression] = field(default_factory=list)

    def match(self, code: str, lines: tuple[int, ...]) -> Suppression | None:
        for entry in self.file_wide:
            if entry.covers(code):
                return entry
        for line in lines:
            for entry in self.by_line.get(line, ()):
                if entry.covers(code):
                    return entry
        return None

    def all(self) -> list[Suppression]:
        return self.file_wide + [s for entries in self.by_line.values() for s in entries]


def _parse_codes(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset({ALL})
    codes = frozenset(code.upper() for code in _CODE.findall(text.upper()))
    return codes or frozenset({ALL})


def _reason(text: str) -> str:
    """The explanation written after a directive, without comment markers and a ``reason:`` label."""
    text = _DIRECTIVE.split(text, maxsplit=1)[0]
    text = text.strip().lstrip("#").strip()
    if text.lower().startswith("reason:"):
        text = text[len("reason:"):].strip()
    return text


def is_directive(comment: str) -> bool:
    """Whether a comment's text holds a suppression directive (what ``build_suppressions`` looks at)."""
    return _DIRECTIVE.search(comment) is not None


def build_suppressions(comments: Iterable[tuple[int, int, str]]) -> Suppressions:
    """The suppressions of a file from its comments: ``(line, 0-based column, text)`` of each comment token, in
    source order. Shared by ``parse_suppressions`` (tokenize) and the engine (the CST's ``Comment`` nodes)."""
    result = Suppressions()
    for line, start, text in comments:
        for match in _DIRECTIVE.finditer(text):
            column = start + match.start() + 1
            codes = _parse_codes(match.group("codes"))
            file_wide = (match.group("kind") or "").lower() == "ignore-file"
            entry = Suppression(line, column, codes, file_wide, reason=_reason(text[match.end():]),
                                noqa=match.group("noqa") is not None)
            if file_wide:
                result.file_wide.append(entry)
            else:
                result.by_line.setdefault(line, []).append(entry)
    return result


def parse_suppressions(source: str) -> Suppressions:
    """The suppressions of a source text, found with ``tokenize`` (for files the engine has not parsed)."""
    lowered = source.lower()
    if "emberlint" not in lowered and "noqa" not in lowered:
        return Suppressions()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return Suppressions()
    return build_suppressions(
        (token.start[0], token.start[1], token.string) for token in tokens if token.type == tokenize.COMMENT
    )


def ignore_edit(line: str, code: str) -> tuple[int, int, str]:
    """How to make ``line`` (its text without the line break) suppress ``code``: replace ``line[start:end]`` by
    ``text``. ``code`` joins the codes of the line's ``# emberlint: ignore[...]``, else ``  # emberlint:
    ignore[CODE]`` is appended in place of the trailing whitespace."""
    for match in _DIRECTIVE.finditer(line):
        bracket = match.group("codes")
        if (match.group("kind") or "").lower() != "ignore" or not bracket or not bracket.lstrip().startswith("["):
            continue
        start, end = match.start("codes") + bracket.index("[") + 1, match.end("codes") - 1
        codes = [c.strip() for c in line[start:end].split(",") if c.strip()]
        if code not in codes:
            codes.append(code)
        return start, end, ", ".join(codes)
    return len(line.rstrip()), len(line), f"  # emberlint: ignore[{code}]"
