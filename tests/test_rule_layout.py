"""The layout of the built-in rules: ``rules/<family>/<rule_name>.py``, one rule per module, and no rule module
importing another: what rules share lives in ``rules/_shared.py``, ``rules/_coach.py`` or their family's
``_common.py`` (or behind ``FileContext``)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import emberlint.rules
from emberlint.registry import all_rules
from emberlint.rule import Rule

RULES_DIR = Path(emberlint.rules.__file__).parent
MODULES = sorted(p for p in RULES_DIR.rglob("*.py") if p.name != "__init__.py")


def _module_name(path: Path) -> str:
    return ".".join(("emberlint", "rules", *path.relative_to(RULES_DIR).with_suffix("").parts))


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _is_rule_module(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split(".")[2:])


def test_every_built_in_rule_has_its_own_module_in_its_family_folder():
    built_in = [rule for rule in all_rules() if rule.__module__.startswith("emberlint.rules.")]
    assert len(built_in) >= 40
    for rule in built_in:
        parts = rule.__module__.split(".")
        assert len(parts) == 4, f"{rule.CODE} lives in {rule.__module__}, not in a family folder"
        assert parts[3] == rule.NAME.replace("-", "_"), f"{rule.CODE}'s module is not named for what it catches"
        assert parts[2] == rule.family()
    for path in MODULES:
        name = _module_name(path)
        if not _is_rule_module(name):
            continue
        module = importlib.import_module(name)
        rules = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Rule) and v.CODE
                 and v.__module__ == name]
        assert len(rules) == 1, f"{name} defines {[r.CODE for r in rules]}: one rule per module"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(RULES_DIR)))
def test_no_rule_module_imports_another(path: Path):
    name = _module_name(path)
    family = name.split(".")[2]
    for imported in _imported_modules(path):
        if not imported.startswith("emberlint.rules.") or imported.startswith(name + "."):
            continue
        parts = imported.split(".")
        # a shared module of rules/ (``_shared``, ``_coach``), or a name imported from one
        if parts[2].startswith("_"):
            continue
        assert len(parts) >= 4 and parts[3] == "_common", f"{name} imports {imported}: another rule module"
        assert parts[2] == family, f"{name} imports {imported}: another family's helpers"
