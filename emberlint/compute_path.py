"""Which functions of a file are on its compute path, and which expressions only feed host output.

The compute path is ``__call__``/``forward`` of an ``nn.Module`` subclass (the names are ``module_methods`` in
``rules/api_facts.yaml``), the functions nested in them, and every function of the same file they call, directly
or through other such functions: ``self.method(...)`` resolves to a method of the same class, ``name(...)`` to a
function defined at module level. Calls into other files are not followed (a model file's helpers are in the
file; a cache class in another file is not the model's compute path).

Host output is what needs a Python value by construction: the arguments of ``print``, of logging and
``warnings.warn`` calls, of f-strings, of ``raise`` and ``assert`` statements.
"""

from __future__ import annotations

import libcst as cst

from emberlint.walk import subtree

LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


def _called_names(function: cst.FunctionDef) -> tuple[set[str], set[str]]:
    """(methods called as ``self.name(...)``, plain names called as ``name(...)``) in ``function``'s body."""
    methods: set[str] = set()
    names: set[str] = set()
    for node in subtree(function.body):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            methods.add(func.attr.value)
        elif isinstance(func, cst.Name):
            names.add(func.value)
    return methods, names


def compute_functions(context) -> frozenset[int]:
    """``id`` of every FunctionDef on the file's compute path (see the module docstring); cached on ``context``."""
    cached = getattr(context, "_compute_functions", None)
    if cached is not None:
        return cached
    facts = context.facts
    module_methods = facts.facts.module_methods
    module_functions: dict[str, cst.FunctionDef] = {}
    class_methods: dict[int, dict[str, cst.FunctionDef]] = {}
    owner: dict[int, int] = {}  # id(FunctionDef) -> id(class scope) for methods
    roots: list[cst.FunctionDef] = []
    for node, scope in context.scopes.items():
        if scope.kind != "function" or not isinstance(node, cst.FunctionDef) or scope.parent is None:
            continue
        parent = scope.parent
        if parent.kind == "module":
            module_functions[node.name.value] = node
        elif parent.kind == "class":
            class_methods.setdefault(id(parent), {})[node.name.value] = node
            owner[id(node)] = id(parent)
            if node.name.value in module_methods and facts.is_module_class(parent):
                roots.append(node)
    reached: set[int] = set()
    todo = list(roots)
    while todo:
        function = todo.pop()
        if id(function) in reached:
            continue
        reached.add(id(function))
        for inner in subtree(function.body):
            if isinstance(inner, cst.FunctionDef) and id(inner) not in reached:
                todo.append(inner)
        methods, names = _called_names(function)
        siblings = class_methods.get(owner.get(id(function), -1), {})
        todo.extend(siblings[m] for m in methods if m in siblings)
        todo.extend(module_functions[n] for n in names if n in module_functions)
    result = frozenset(reached)
    context._compute_functions = result
    return result


def in_compute_path(context) -> bool:
    """The node being visited is inside a function on the file's compute path."""
    functions = compute_functions(context)
    return any(isinstance(node, cst.FunctionDef) and id(node) in functions for node in context.ancestors)


def _is_output_call(call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value == "print"
    if isinstance(func, cst.Attribute):
        name = func.attr.value
        if name == "warn" and isinstance(func.value, cst.Name) and func.value.value == "warnings":
            return True
        if name in LOG_METHODS:
            base = func.value
            while isinstance(base, cst.Attribute):
                base = base.value
            text = base.value.lower() if isinstance(base, cst.Name) else ""
            return "log" in text
    return False


def _raises_only(block: cst.CSTNode) -> bool:
    body = getattr(block, "body", ())
    return len(body) == 1 and isinstance(body[0], cst.SimpleStatementLine) and len(body[0].body) == 1 \
        and isinstance(body[0].body[0], cst.Raise)


def in_host_output(context) -> bool:
    """The node being visited feeds host output: an argument of ``print``/logging/``warnings.warn``, a part of an
    f-string, inside a ``raise``/``assert`` statement, or the condition of an ``if`` whose body only raises."""
    ancestors = context.ancestors
    for index, node in enumerate(ancestors[:-1]):
        if isinstance(node, (cst.FormattedString, cst.Raise, cst.Assert)):
            return True
        if isinstance(node, cst.Call) and _is_output_call(node):
            return True
        if isinstance(node, cst.If) and ancestors[index + 1] is node.test and _raises_only(node.body):
            return True
    return False
