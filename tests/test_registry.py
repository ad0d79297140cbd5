"""Rule discovery: built-in modules, third-party packs through the `emberlint.rules` entry-point group, profiles."""

from __future__ import annotations

import types

import libcst as cst
import pytest

from emberlint import registry
from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.model import Severity
from emberlint.rule import Invalid, Rule


class NoPrintInCompute(Rule):
    """Flags print() calls (a stand-in third-party rule used by this test)."""

    CODE = "XY101"
    NAME = "no-print"
    MESSAGE = "print() in compute code"
    SEVERITY = Severity.ERROR
    NEEDS_BACKEND = False
    VALID = ["log('x')"]
    INVALID = [Invalid("print('x')")]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "print":
            self.report(node)


class FakeEntryPoint:
    def __init__(self, target):
        self.target = target

    def load(self):
        return self.target


@pytest.fixture
def with_plugin(monkeypatch):
    module = types.ModuleType("third_party_pack")
    module.NoPrintInCompute = NoPrintInCompute
    NoPrintInCompute.__module__ = "third_party_pack"
    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEntryPoint(module)] if group == "emberlint.rules" else [])
    registry.all_rules.cache_clear()
    yield
    registry.all_rules.cache_clear()


def test_third_party_rules_load_through_the_entry_point_group(with_plugin):
    assert registry.rule_by_code("XY101") is NoPrintInCompute
    result = lint_source("print('hi')\n", "t.py", Config())
    assert [(f.code, f.severity, f.start.line, f.start.column) for f in result.findings] == [
        ("XY101", Severity.ERROR, 1, 1)
    ]


def test_profiles_decide_enablement_and_severity():
    recommended = registry.enabled_rules(Config(profile="recommended"))
    strict = registry.enabled_rules(Config(profile="strict"))
    unused = registry.rule_by_code("EL901")
    assert unused not in recommended and strict[unused] is Severity.ERROR
    assert all(severity is Severity.ERROR for severity in strict.values())
    assert set(recommended) <= set(strict)
    operators = registry.rule_by_code("EL301")
    assert operators not in recommended and strict[operators] is Severity.ERROR  # a policy: strict only (issue 14)
    assert recommended[registry.rule_by_code("EL101")] is Severity.ERROR
    assert recommended[registry.rule_by_code("EL412")] is Severity.WARNING
    only = registry.enabled_rules(Config(select=("EL901",)))
    assert list(only) == [unused] and only[unused] is Severity.WARNING
    assert operators not in registry.enabled_rules(Config(profile="strict", ignore=("EL3",)))
