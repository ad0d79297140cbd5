"""The oracle the light tree is held to: a ``ParsedFile`` on LibCST's own tree (``libcst.parse_module``), its
traversal LibCST's ``visit``, its positions and parents LibCST's ``PositionProvider``/``ParentNodeProvider``, its
suppressions read from its comment nodes. ``use_libcst_oracle(monkeypatch)`` makes the engine detect on it."""

from __future__ import annotations

import ast
import re

import libcst as cst
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
)

import emberlint.context
import emberlint.engine as engine
from emberlint.layout import Layout
from emberlint.lines import split_lines
from emberlint.model import FileError, FileResult
from emberlint.suppress import Suppressions, build_suppressions, is_directive
from emberlint.walk import is_too_deep, nodes_of, parse_at_default_depth

#: CPython's own limit on nested brackets; LibCST's native parser overflows its stack (a segfault that takes
#: the whole process down) on a few thousand.
MAX_BRACKET_DEPTH = 200
_BRACKET = re.compile(r"[()\[\]{}]")


class LibcstFile:
    """``ParsedFile`` on LibCST's tree."""

    def __init__(self, source: str, module: cst.Module) -> None:
        self.source = source
        self.lines = split_lines(source)
        self.module = module
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self._positions = wrapper.resolve(PositionProvider)
        self._parents = wrapper.resolve(ParentNodeProvider)

    @property
    def default_newline(self) -> str:
        return self.module.default_newline

    def dispatch(self, visitor: cst.CSTVisitor, kinds, lines=None) -> None:
        self.module.visit(_Filtered(visitor, kinds, None if lines is None else self._on_lines(lines)))

    def _on_lines(self, lines):
        def on_lines(node: cst.CSTNode) -> bool:
            code_range = self._positions.get(node)
            if code_range is None:
                return True
            first = min([code_range.start.line] + [self._positions[d].start.line
                                                   for d in getattr(node, "decorators", ())])
            return any(start <= code_range.end.line and first <= end for start, end in lines)
        return on_lines

    def nodes_of(self, *kinds: str) -> list[cst.CSTNode]:
        return nodes_of(self.module, *kinds)

    def parent_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        path = []
        current: cst.CSTNode | None = node
        while current is not None:
            path.append(current)
            current = self._parents.get(current)
        return path[::-1]

    def range_of(self, node: cst.CSTNode) -> CodeRange | None:
        return self._positions.get(node)

    def positions(self, nodes) -> dict[cst.CSTNode, CodeRange]:
        return {node: self._positions[node] for node in nodes if node in self._positions}

    def suppressions(self) -> Suppressions:
        comments = [node for node in nodes_of(self.module, "Comment") if is_directive(node.value)]
        return build_suppressions(
            (self._positions[c].start.line, self._positions[c].start.column, c.value) for c in comments
        )


class _Filtered(cst.CSTVisitor):
    """LibCST's own traversal, forwarding only the nodes whose type is named in ``kinds``."""

    def __init__(self, visitor: cst.CSTVisitor, kinds, on_lines=None) -> None:
        self.visitor, self.kinds, self.on_lines = visitor, kinds, on_lines

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.on_lines is not None and not self.on_lines(node):
            return False
        if type(node).__name__ in self.kinds:
            self.visitor.on_visit(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.on_lines is not None and not self.on_lines(original_node):
            return
        if type(original_node).__name__ in self.kinds:
            self.visitor.on_leave(original_node)


class _OracleLayout(Layout):
    """``Layout`` finding a node's statement through LibCST's parents."""

    def _statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        current = node
        while (parent := self.tree.parent_of(current)) is not None:
            if isinstance(parent, (cst.Module, cst.IndentedBlock)):
                return current
            current = parent
        return None


def nesting_error(source: str) -> str | None:
    """Why ``source`` is too deeply nested to hand to LibCST, or None. CPython's parser is the judge (it fails
    cleanly, and LibCST handles whatever it accepts); for source it rejects for another reason a bracket count
    stands in."""
    try:
        parse_at_default_depth(source)
    except (RecursionError, MemoryError):
        return "too deeply nested to analyse"
    except SyntaxError as exc:
        if is_too_deep(exc):
            return "too deeply nested to analyse"
        if sum(source.count(c) for c in "([{") > MAX_BRACKET_DEPTH:
            depth = deepest = 0
            for match in _BRACKET.finditer(source):
                depth += 1 if match.group() in "([{" else -1
                deepest = max(deepest, depth)
            if deepest > MAX_BRACKET_DEPTH:
                return "too deeply nested to analyse"
    except ValueError:  # NUL bytes: LibCST reports them
        return None
    return None


def _parse_error(path: str, source: str, exc: cst.ParserSyntaxError) -> FileError:
    """Python's own message and position when it agrees the code is invalid (LibCST's are often less precise)."""
    try:
        compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        found = engine._python_syntax_error(path, python_error)
        if found is not None:
            return found
    except (ValueError, RecursionError, MemoryError):
        pass
    message = exc.message if exc.message else "invalid syntax"
    return FileError(path, f"syntax error: {message}", "parse", exc.raw_line, exc.raw_column + 1)


def parse_with_libcst(source: str, path: str, result: FileResult) -> LibcstFile | None:
    too_deep = nesting_error(source)  # LibCST's parser would crash the process on these
    if too_deep:
        result.errors.append(FileError(path, too_deep, "parse"))
        return None
    try:
        return LibcstFile(source, cst.parse_module(source))
    except cst.ParserSyntaxError as exc:
        result.errors.append(_parse_error(path, source, exc))
    except (RecursionError, MemoryError) as exc:
        result.errors.append(FileError(path, f"cannot parse: {type(exc).__name__}", "parse"))
    return None


def use_libcst_oracle(patch) -> None:
    """Detect on LibCST's tree for the rest of ``patch``'s context (a pytest ``MonkeyPatch``)."""
    patch.setattr(engine, "parse_file", parse_with_libcst)
    patch.setattr(emberlint.context, "Layout", _OracleLayout)
