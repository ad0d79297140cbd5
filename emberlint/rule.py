"""The plugin interface: a ``Rule`` visits the tree and reports findings through its ``FileContext``."""

from __future__ import annotations

import enum
import inspect
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from emberlint.model import Severity
from emberlint.walk import handled_kinds

if TYPE_CHECKING:
    from emberlint.context import FileContext

#: an RST inline literal without a backtick inside (with one, the double backticks are Markdown too)
_RST_LITERAL = re.compile(r"``([^`]+?)``")


#: A line of an example that marks a finding: carets under the reported code, then the rule's code
#: (``    ^^^^^ EL301``). It belongs to the line above it and is not part of the example's code.
_MARKER = re.compile(r"^(?P<indent> *)(?P<carets>\^+) (?P<code>[A-Z]+[0-9]{3})$")


def example_text(text: str) -> str:
    """An example written as a triple-quoted block: dedented, without the line break after the opening quotes."""
    text = textwrap.dedent(text)
    return text[1:] if text.startswith("\n") else text


@dataclass(frozen=True)
class Marker:
    """Where an example says a finding is: its 1-based line and column in the example's code, and the column
    its carets end before (a finding that goes on to later lines is marked to the end of its first line)."""

    code: str
    line: int
    column: int
    end_column: int


def parse_markers(example: str) -> tuple[str, tuple[Marker, ...]]:
    """The code of an example (its marker lines removed) and its markers."""
    lines: list[str] = []
    markers: list[Marker] = []
    for text in example.splitlines(keepends=True):
        match = _MARKER.match(text.rstrip("\n"))
        if match is None:
            lines.append(text)
            continue
        if not lines:
            raise ValueError(f"example marker {text.strip()!r} has no line above it")
        start = len(match["indent"]) + 1
        markers.append(Marker(match["code"], len(lines), start, start + len(match["carets"])))
    return "".join(lines), tuple(markers)


@dataclass(frozen=True)
class Invalid:
    """An example the rule must report, written as a triple-quoted block (dedented) with a marker line under each
    finding: carets under the reported code, then the rule's code. ``fixed`` is the code after the rule's fix
    (None: no fix offered), ``unsafe`` says that fix is unsafe; ``count`` is the number of findings (default: the
    number of markers, or 1 in an example without markers).

    ``example`` is the text as written (``emberlint explain`` prints it), ``code`` the code without the markers."""

    example: str
    fixed: str | None = None
    unsafe: bool = False
    count: int | None = None
    code: str = field(init=False)
    markers: tuple[Marker, ...] = field(init=False)

    def __post_init__(self) -> None:
        example = example_text(self.example)
        code, markers = parse_markers(example)
        if self.count is not None and markers and self.count != len(markers):
            raise ValueError(f"example says count={self.count} but marks {len(markers)} findings:\n{example}")
        object.__setattr__(self, "example", example)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "markers", markers)
        object.__setattr__(self, "count", self.count if self.count is not None else len(markers) or 1)
        if self.fixed is not None:
            object.__setattr__(self, "fixed", example_text(self.fixed))


class FixAvailability(str, enum.Enum):
    """Which fixes a rule offers (a test checks it against the fixes its INVALID examples get)."""

    NONE = "none"
    #: only unsafe fixes: ``fix --unsafe-fixes`` applies them, the author reviews the change
    UNSAFE = "unsafe"
    #: safe when the facts the fix depends on are proven by dataflow (a backend constructor, a literal), unsafe
    #: when they are only assumed (a parameter, an annotation)
    SAFE_WHEN_PROVEN = "safe when proven"
    #: always safe: the program computes exactly the same values
    SAFE = "safe"


@dataclass
class RawFix:
    """A fix as rules build it: node replacements plus imports the replacement needs."""

    safe: bool
    replacements: list[tuple[cst.CSTNode, cst.CSTNode]]
    imports: list[str] = field(default_factory=list)  # full import statements, e.g. "import mlx.core as mx"
    description: str = ""


@dataclass
class RawFinding:
    rule: type[Rule]
    node: cst.CSTNode
    message: str
    fix: RawFix | None = None


class Rule:
    """Base class of every rule. Subclasses set the class attributes and define ``visit_<Node>`` methods."""

    CODE: ClassVar[str] = ""
    NAME: ClassVar[str] = ""
    MESSAGE: ClassVar[str] = ""
    #: Severity in the ``recommended`` profile; None: only enabled by the strict profile or ``select``.
    SEVERITY: ClassVar[Severity | None] = Severity.WARNING
    #: Array rules only run on files that import an array backend (mlx, torch, numpy).
    NEEDS_BACKEND: ClassVar[bool] = True
    #: For a rule that does not need a backend: regexes a file without the words mlx/torch/numpy must all
    #: contain for the rule to possibly fire there (when no enabled rule can, the file is not parsed at all).
    TRIGGER: ClassVar[str | tuple[str, ...] | None] = None
    #: The fixes the rule offers.
    FIX: ClassVar[FixAvailability] = FixAvailability.NONE
    #: What the rule reports on one top-level statement depends on what it saw in others (state kept across the
    #: file): a lint split over processes (``emberlint.split_lint``) runs it over the whole file in one of them.
    WHOLE_FILE: ClassVar[bool] = False
    #: Examples that must not be reported, written as triple-quoted blocks (dedented when the class is created).
    VALID: ClassVar[list[str]] = []
    #: Examples that must be reported, with a marker under each finding (``Invalid``).
    INVALID: ClassVar[list[Invalid]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "VALID" in cls.__dict__:
            cls.VALID = [example_text(source) for source in cls.VALID]

    def __init__(self, context: FileContext) -> None:
        self.context = context

    def report(self, node: cst.CSTNode, message: str | None = None, *, fix: RawFix | None = None, **fmt: Any) -> None:
        text = message if message is not None else self.MESSAGE.format(**fmt)
        self.context.add(RawFinding(type(self), node, text, fix))

    @classmethod
    def node_kinds(cls) -> frozenset[str]:
        """The node types this rule has ``visit_<Node>``/``leave_<Node>`` methods for."""
        kinds = cls.__dict__.get("_node_kinds")
        if kinds is None:
            kinds = cls._node_kinds = handled_kinds(cls, Rule)
        return kinds

    @classmethod
    def docs(cls) -> str:
        """The docstring as Markdown: RST's ``code`` spans become `code` (terminals, SARIF and editors show
        Markdown or plain text)."""
        return _RST_LITERAL.sub(r"`\1`", textwrap.dedent(inspect.getdoc(cls) or "").strip())

    @classmethod
    def summary(cls) -> str:
        return cls.docs().split("\n\n", 1)[0].replace("\n", " ")

    @classmethod
    def family(cls) -> str:
        """The family folder of a built-in rule (``emberlint.rules.<family>.<rule>``), else its module's name."""
        parts = cls.__module__.split(".")
        return parts[2] if parts[:2] == ["emberlint", "rules"] and len(parts) > 3 else parts[-1]
