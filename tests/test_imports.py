"""Module structure: no import cycles among emberlint's modules, and a warm cached run stays light (no LibCST)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: package name -> its folder in the repository (as pyproject.toml maps them)
PACKAGES = {"emberlint": ROOT / "emberlint", "emberlint.rules": ROOT / "rules", "emberlint.fixers": ROOT / "fixers"}


def module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for file in sorted(folder.rglob("*.py")):
            parts = file.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = file
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(module: str, file: Path) -> set[str]:
    """Every name an ``import`` statement of the file can load at run time (module level or inside a function;
    not under ``if TYPE_CHECKING:``): ``import a.b`` gives ``a.b``, ``from a import b`` ``a.b`` (a module, or the
    name ``b`` of module ``a``)."""
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for statement in child.orelse:
                    visit(ast.Module(body=[statement], type_ignores=[]))
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    source = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    source = child.module or ""
                names.update(f"{source}.{alias.name}" for alias in child.names)  # a module, or a name in source
            visit(child)

    visit(ast.parse(file.read_text(encoding="utf-8"), str(file)))
    return names


def imported_modules(module: str, file: Path, modules: set[str]) -> set[str]:
    """The modules among ``modules`` that ``module`` imports (``emberlint.model.Severity``: ``emberlint.model``)."""
    found = set()
    for name in imported_names(module, file):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def dynamic_imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """The imports done with ``importlib``: the registry loads every public rule module, the CLI its commands."""
    from emberlint.cli import LAZY_COMMANDS

    rules = {name for name in modules if name.startswith("emberlint.rules.") and not name.split(".")[2].startswith("_")}
    return {"emberlint.registry": rules,
            "emberlint.cli": {target.split(":")[0] for target in LAZY_COMMANDS.values()}}


def import_graph() -> dict[str, set[str]]:
    """Module -> the emberlint modules it imports names from. (A package's ``__init__`` runs before its modules
    without an edge: it is finished before any of them runs unless it imports them itself.)"""
    modules = module_files()
    graph = {module: imported_modules(module, file, set(modules)) for module, file in modules.items()}
    for module, extra in dynamic_imports(modules).items():
        graph[module] |= extra
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None (depth-first search, in sorted order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert {"emberlint.engine", "emberlint.rules.operators", "emberlint.fixers.operators"} <= set(graph)
    assert "emberlint.model" in graph["emberlint.engine"] and "emberlint.rule" in graph["emberlint.registry"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_names_a_cycle_through_function_level_imports(tmp_path):
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from c import x\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\n"
                                   "def g():\n    import a\n")
    graph = {name: imported_modules(name, tmp_path / f"{name}.py", set("abc")) for name in "abc"}
    assert graph == {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_a_warm_cached_check_with_a_config_section_imports_no_libcst(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.emberlint]
        profile = "strict"
        select = ["EL1", "EL3"]
        ignore = ["EL902"]
        per-file-ignores = { "tests/*" = ["EL301"] }
        """))
    (tmp_path / "m.py").write_text("import mlx.core as mx\n\na = mx.ones((2,))\nb = a * a\n")
    script = ("import runpy, sys\nsys.argv = ['emberlint', 'check', 'm.py']\n"
              "try:\n    runpy.run_module('emberlint', run_name='__main__')\nexcept SystemExit as exit:\n"
              "    print(sorted(m for m in sys.modules if m.split('.')[0] == 'libcst'), exit.code)\n")
    env = {key: value for key, value in os.environ.items() if key != "EMBERLINT_CACHE_DIR"}

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        return done.stdout.strip().splitlines()[-1]

    cold, warm = run(), run()
    assert cold.startswith("['libcst'") and cold.endswith(" 1")  # linted: LibCST loaded
    assert warm == "[] 1"  # answered from the cache, the config section read: no LibCST
    (tmp_path / "pyproject.toml").write_text("[tool.emberlint]\nselect = ['EL777']\n")
    assert run().endswith(" 2")  # a new setting misses the cache: its rule codes are checked
