"""Which local names mean which backend module.

A pre-pass over the module records every import (``import mlx.core as mx``, ``from torch import nn``,
``from mlx.core import multiply``) and every other binding, per scope. ``Scope.qualified_name`` then maps a
``Name``/``Attribute`` expression to a dotted name such as ``mlx.core.multiply``. A name bound in a function by
anything but an import (a parameter, an assignment, a loop target) shadows the import of the enclosing scopes.
Imports at module level win over later module-level rebindings (``except ImportError: torch = None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from emberlint.backends import ARRAY_BACKENDS, BACKEND_ROOTS, backend_of
from emberlint.syntax import dotted_name as dotted, kind
from emberlint.walk import FastVisitor, walk_kinds

__all__ = ["ARRAY_BACKENDS", "BACKEND_ROOTS", "SCOPE_KINDS", "Scope", "ScopeBuilder", "backend_of", "build_scopes",
           "dotted"]

#: The node types that open a scope (the keys of ``ScopeBuilder.scopes``).
SCOPE_KINDS = frozenset({"Module", "FunctionDef", "Lambda", "ClassDef"})


@dataclass
class Scope:
    node: cst.CSTNode
    parent: Scope | None
    kind: str  # "module" | "class" | "function" | "lambda" | "comprehension"
    imports: dict[str, str] = field(default_factory=dict)
    bindings: set[str] = field(default_factory=set)
    globals_: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    #: ``resolve``'s answers, kept once the scope tree is complete (``seal``); None while it is being built
    resolved: dict[str, str | None] | None = field(default=None, repr=False, compare=False)

    def seal(self) -> None:
        """The scope tree is complete: ``resolve`` may keep its answers."""
        self.resolved = {}

    def chain(self) -> Iterator[Scope]:
        """This scope, then each enclosing one up to the module: every step goes to a parent, which is always a
        scope created before this one, so the walk ends."""
        scope: Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def visible(self, name: str | None = None) -> Iterator[Scope]:
        """The scopes a lookup of ``name`` from this scope consults, innermost first: this scope, then the
        enclosing ones up to the module, except class bodies (a class body's names are not visible in the
        functions it holds). ``global name`` in one of them sends the lookup to the module; ``nonlocal name``
        to the scopes enclosing the one that says it. Without ``name``: every scope a name could be found in."""
        for depth, scope in enumerate(self.chain()):
            if scope.kind == "class" and depth:
                continue
            if name is not None and scope.parent is not None:
                if name in scope.globals_:
                    yield self.module
                    return
                if name in scope.nonlocals:
                    continue
            yield scope

    def binding_scope(self, name: str) -> Scope:
        """The scope a binding of ``name`` made in this scope binds it in (the module for ``global name``)."""
        return next(self.visible(name))

    def resolve(self, name: str) -> str | None:
        """The dotted name of the import ``name`` means here; None when it is no import (or a local shadows it)."""
        known = self.resolved
        if known is not None and name in known:
            return known[name]
        found = None
        for scope in self.visible(name):
            if name in scope.imports:
                found = scope.imports[name]
                break
            if name in scope.bindings and scope.kind != "module":
                break
        if known is not None:
            known[name] = found
        return found

    @property
    def module(self) -> Scope:
        *_, outermost = self.chain()
        return outermost

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The dotted backend name an expression refers to, e.g. ``mlx.core.multiply``; None if not an import."""
        if kind(node) == "Name":
            return self.resolve(node.value)
        if kind(node) == "Attribute":
            base = self.qualified_name(node.value)
            return f"{base}.{node.attr.value}" if base else None
        return None


def _target_names(target: cst.BaseExpression) -> list[str]:
    if kind(target) == "Name":
        return [target.value]
    if kind(target) in ("Tuple", "List"):
        names: list[str] = []
        for element in target.elements:
            names.extend(_target_names(element.value))
        return names
    if kind(target) == "StarredElement":
        return _target_names(target.value)
    return []


class ScopeBuilder(FastVisitor):
    """Builds the scope tree of a module; ``scopes`` maps each scope-opening node to its Scope."""

    def __init__(self, module: cst.Module) -> None:
        self.root = Scope(module, None, "module")
        self.scopes: dict[cst.CSTNode, Scope] = {module: self.root}
        self.stack = [self.root]
        self.imported_roots: set[str] = set()

    @property
    def current(self) -> Scope:
        return self.stack[-1]

    def _open(self, node: cst.CSTNode, kind: str) -> None:
        scope = Scope(node, self.current, kind)
        self.scopes[node] = scope
        self.stack.append(scope)

    def _close(self) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.current.bindings.add(node.name.value)
        self._open(node, "function")
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self.current.bindings.add(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if kind(star) == "Param":
                self.current.bindings.add(star.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._close()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._open(node, "lambda")
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self.current.bindings.add(param.name.value)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._close()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.current.bindings.add(node.name.value)
        self._open(node, "class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._close()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if not full:
                continue
            self.imported_roots.add(full.split(".", 1)[0])
            if alias.asname is not None and kind(alias.asname.name) == "Name":
                self.current.imports[alias.asname.name.value] = full
            else:
                root = full.split(".", 1)[0]
                self.current.imports[root] = root

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = dotted(node.module)
        if not module:
            return
        self.imported_roots.add(module.split(".", 1)[0])
        if kind(node.names) == "ImportStar":
            return
        for alias in node.names:
            name = alias.name.value if kind(alias.name) == "Name" else None
            if name is None:
                continue
            local = name
            if alias.asname is not None and kind(alias.asname.name) == "Name":
                local = alias.asname.name.value
            self.current.imports[local] = f"{module}.{name}"

    def visit_Global(self, node: cst.Global) -> None:
        if self.current.parent is None:  # ``global`` at module level changes nothing
            return
        for item in node.names:
            self.current.globals_.add(item.name.value)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        if self.current.parent is None:  # a syntax error at module level
            return
        for item in node.names:
            self.current.nonlocals.add(item.name.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self.current.bindings.update(_target_names(target.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.current.bindings.update(_target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.current.bindings.update(_target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.current.bindings.update(_target_names(node.target))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.current.bindings.update(_target_names(node.asname.name))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.current.bindings.update(_target_names(node.target))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and kind(node.name.name) == "Name":
            self.current.bindings.add(node.name.name.value)


def build_scopes(module: cst.Module) -> ScopeBuilder:
    builder = ScopeBuilder(module)
    walk_kinds(module, builder, ScopeBuilder.node_kinds())
    for scope in builder.scopes.values():
        scope.seal()
    return builder
