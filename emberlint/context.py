"""Per-file state shared by every rule during the single traversal."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from emberlint.arrays import ArrayFacts, Inferred
from emberlint.backends import BACKEND_MODULES, CONVENTIONAL_ALIASES, MLX_AND_TORCH
from emberlint.layout import Layout
from emberlint.scope import Scope
from emberlint.syntax import kind

#: Appended to a finding whose fix is unsafe only because an operand's type is assumed.
ASSUMED_NOTE = " (operand types assumed, not proven by dataflow: the fix is unsafe)"

if TYPE_CHECKING:
    from emberlint.config import Config
    from emberlint.parsed_file import ParsedFile
    from emberlint.rule import RawFinding

_UNSET = object()


@dataclass(frozen=True)
class ModuleRef:
    """How the file spells a backend module, and the import to add when it does not import it yet."""

    text: str
    import_line: str | None


class FileContext:
    def __init__(
        self,
        path: str,
        source: str,
        module: cst.Module,
        config: Config,
        scopes: dict[cst.CSTNode, Scope],
        facts: ArrayFacts,
        imported_roots: set[str],
        parsed: ParsedFile,
    ) -> None:
        self.path = path
        self.source = source
        self.module = module
        self.config = config
        self.scopes = scopes
        self.facts = facts
        self.imported_roots = imported_roots
        #: The parsed file ``module`` is the root of (positions, parents, source lines).
        self.parsed = parsed
        self.scope_stack: list[Scope] = [scopes[module]]
        #: The node being visited.
        self.current: cst.CSTNode | None = None
        self.findings: list[RawFinding] = []
        self._layout: Layout | None = None
        self._qualified: dict[tuple[int, int], str | None] = {}

    @property
    def layout(self) -> Layout:
        """Lines, indentation and ranges for fixes that keep the file's layout (``emberlint.layout``)."""
        if self._layout is None:
            self._layout = Layout(self.source, self.module, self.parsed)
        return self._layout

    # --- traversal state ---------------------------------------------------------------------------------
    @property
    def tree(self) -> ParsedFile:
        """The former name of ``parsed``."""
        return self.parsed

    @property
    def scope(self) -> Scope:
        return self.scope_stack[-1]

    @property
    def module_scope(self) -> Scope:
        return self.scope_stack[0]

    def _upward(self) -> Iterator[cst.CSTNode]:
        """The node being visited, its parent, ..., the module."""
        parent_of = self.parsed.parent_of
        node = self.current
        while node is not None:
            yield node
            node = parent_of(node)

    @property
    def ancestors(self) -> list[cst.CSTNode]:
        """The module, ..., the parent, the node being visited."""
        return self.parsed.ancestors(self.current) if self.current is not None else []

    def parent(self, depth: int = 1) -> cst.CSTNode | None:
        """The ancestor ``depth`` levels above the node being visited (1: its parent)."""
        return next(itertools.islice(self._upward(), depth, None), None)

    def enclosing(self, *types: type) -> cst.CSTNode | None:
        """The nearest ancestor of one of ``types`` (the node being visited excluded)."""
        return next((node for node in itertools.islice(self._upward(), 1, None) if isinstance(node, types)), None)

    def enclosing_function(self) -> cst.FunctionDef | None:
        node = self.enclosing(cst.FunctionDef)
        return node if kind(node) == "FunctionDef" else None

    def in_compute_method(self) -> bool:
        """Inside ``__call__``/``forward`` (or a function they nest) of an ``nn.Module`` subclass."""
        for scope in reversed(self.scope_stack):
            if scope.kind == "function" and kind(scope.node) == "FunctionDef":
                if scope.node.name.value in self.facts.facts.module_methods and scope.parent is not None:
                    if scope.parent.kind == "class" and self.facts.is_module_class(scope.parent):
                        return True
        return False

    # --- questions rules ask -----------------------------------------------------------------------------
    def infer(self, node: cst.CSTNode) -> Inferred:
        return self.facts.infer(node, self.scope)

    def is_array(self, node: cst.CSTNode) -> bool:
        return self.facts.is_array(node, self.scope)

    def dtype_of(self, node: cst.CSTNode) -> str | None:
        """The exact dtype of an array expression where the code states it (``emberlint/dtypes.py``), else None."""
        from emberlint.dtypes import dtype_of

        return dtype_of(node, self)

    def in_compute_path(self) -> bool:
        """Inside ``__call__``/``forward`` of a module or a function of this file they call
        (``emberlint/compute_path.py``)."""
        from emberlint.compute_path import in_compute_path

        return in_compute_path(self)
    def proven_operands(self, backend: str, *nodes: cst.CSTNode) -> bool:
        """Every node is proven by dataflow to be an array of ``backend`` or a Python number: what a safe fix that
        rewrites an operation on them needs (an assumed fact, from a parameter or an annotation, is not enough)."""
        for node in nodes:
            inferred = self.infer(node)
            if not inferred.proven:
                return False
            if inferred.is_array:
                if inferred.backend != backend:
                    return False
            elif not inferred.kind.is_python_number:
                return False
        return True

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        scope = self.scope_stack[-1]
        key = (id(node), id(scope))
        qualified = self._qualified.get(key, _UNSET)
        if qualified is _UNSET:
            qualified = self._qualified[key] = scope.qualified_name(node)
        return qualified

    def imports_backend(self, backend: str) -> bool:
        return backend in self.imported_roots

    def array_backend(self, *nodes: cst.CSTNode) -> str | None:
        """The backend of the first array among ``nodes``, else the only array backend the file imports."""
        for node in nodes:
            inferred = self.infer(node)
            if inferred.is_array and inferred.backend in BACKEND_MODULES:
                return inferred.backend
        imported = [b for b in MLX_AND_TORCH if b in self.imported_roots]
        if len(imported) == 1:
            return imported[0]
        return None

    def module_ref(self, module: str) -> ModuleRef:
        """How to spell ``module`` (e.g. ``mlx.core``) here: an existing alias, or the conventional one plus an import."""
        module_scope = self.module_scope
        for local, qualified in module_scope.imports.items():
            if qualified == module and self.scope.resolve(local) == module:
                return ModuleRef(local, None)
        root = module.split(".", 1)[0]
        if module_scope.imports.get(root) == root and self.scope.resolve(root) == root:
            return ModuleRef(module, None)
        alias = CONVENTIONAL_ALIASES.get(module, module.rsplit(".", 1)[-1])
        if module_scope.imports.get(alias, module) != module or module_scope.resolve(alias) not in (None, module):
            alias = "_" + alias
        line = f"import {module} as {alias}" if alias != module else f"import {module}"
        return ModuleRef(alias, line)

    def function_ref(self, module: str, function: str) -> ModuleRef:
        """How to spell ``module.function`` here: a name imported directly (``from mlx.core import multiply`` ->
        ``multiply``) that still means it, else ``<module_ref>.function`` (with the import to add, if any)."""
        target = f"{module}.{function}"
        for scope in self.scope.visible():
            for local, qualified in scope.imports.items():
                if qualified == target and self.scope.resolve(local) == target:
                    return ModuleRef(local, None)
        ref = self.module_ref(module)
        return ModuleRef(f"{ref.text}.{function}", ref.import_line)

    def line_of(self, node: cst.CSTNode) -> int:
        """The line a node starts on."""
        return self.parsed.range_of(node).start.line

    def parent_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The node holding ``node`` (any node, not only the one being visited)."""
        return self.parsed.parent_of(node)

    def add(self, finding: RawFinding) -> None:
        self.findings.append(finding)
