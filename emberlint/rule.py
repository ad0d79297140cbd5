"""The plugin interface: a ``Rule`` visits the tree and reports findings through its ``FileContext``."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Invalid:
    """An example the rule must report. ``fixed`` is the source after the rule's fix (None: no fix offered)."""

    code: str
    fixed: str | None = None
    unsafe: bool = False
    count: int = 1


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
    VALID: ClassVar[list[str]] = []
    INVALID: ClassVar[list[Invalid]] = []

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
        return cls.__module__.rsplit(".", 1)[-1]
