"""What the engine and the rules' context need of a parsed source file. The light tree (``emberlint.light``)
implements it; the equivalence tests implement it on LibCST's own tree, as the oracle the light tree is held to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange

    from emberlint.suppress import Suppressions


@runtime_checkable
class ParsedFile(Protocol):
    #: The source text it was parsed from, and its lines (with their line ends; ``emberlint.lines``).
    source: str
    lines: list[str]
    #: The root node (LibCST's node classes and fields: rules test ``isinstance(node, cst.Call)``).
    module: cst.Module

    @property
    def default_newline(self) -> str:
        """The line end code written into the file uses."""

    def dispatch(self, visitor: cst.CSTVisitor, kinds: set[str] | frozenset[str],
                 lines: list[tuple[int, int]] | None = None) -> None:
        """Call ``visitor.on_visit``/``on_leave`` for every node whose type is named in ``kinds``, in pre-order
        (``on_leave`` after the node's subtree). ``lines``: sorted, disjoint ``(first, last)`` line ranges; only
        the nodes on them and the nodes enclosing those are seen (a fix round looking where the last one wrote)."""

    def nodes_of(self, *kinds: str) -> list[cst.CSTNode]:
        """The nodes whose type is named in ``kinds``, in pre-order."""

    def parent_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The node holding ``node`` (None for the module)."""

    def ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """The module, ..., the parent of ``node``, ``node``."""

    def range_of(self, node: cst.CSTNode) -> CodeRange | None:
        """LibCST's syntactic range of ``node`` (1-based lines, 0-based columns, its own parentheses excluded)."""

    def positions(self, nodes) -> dict[cst.CSTNode, CodeRange]:
        """``range_of`` of each node that has one."""

    def suppressions(self) -> Suppressions:
        """The file's ``# emberlint: ignore[...]`` / ``# noqa`` comments."""
