"""Runs every rule's VALID and INVALID examples: the examples next to each rule are its specification."""

from __future__ import annotations

import pytest

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.fixing import fix_text
from emberlint.registry import all_rules

CASES_VALID = [(rule, i, src) for rule in all_rules() for i, src in enumerate(rule.VALID)]
CASES_INVALID = [(rule, i, case) for rule in all_rules() for i, case in enumerate(rule.INVALID)]


def _config(rule) -> Config:
    return Config(profile="strict", select=(rule.CODE,))


def test_every_rule_has_examples_and_docs():
    for rule in all_rules():
        assert rule.VALID, f"{rule.CODE} has no VALID examples"
        assert rule.INVALID, f"{rule.CODE} has no INVALID examples"
        assert len(rule.docs()) > 80, f"{rule.CODE} needs a docstring that teaches"
        assert rule.NAME and rule.MESSAGE


@pytest.mark.parametrize("rule,index,source", CASES_VALID, ids=lambda v: getattr(v, "CODE", str(v))[:40])
def test_valid_example_is_not_reported(rule, index, source):
    result = lint_source(source, "example.py", _config(rule))
    assert not result.errors, result.errors
    assert [f for f in result.findings if f.code == rule.CODE] == []


@pytest.mark.parametrize("rule,index,case", CASES_INVALID, ids=lambda v: getattr(v, "CODE", str(v))[:40])
def test_invalid_example_is_reported_and_fixed(rule, index, case):
    config = _config(rule)
    result = lint_source(case.code, "example.py", config)
    assert not result.errors, result.errors
    found = [f for f in result.findings if f.code == rule.CODE]
    assert len(found) == case.count, [f.message for f in result.findings]
    if case.fixed is None:
        assert all(f.fix is None for f in found)
        return
    assert any(f.fix is not None for f in found)
    outcome = fix_text(case.code, "example.py", config, unsafe=True)
    assert outcome.text == case.fixed
    if not case.unsafe:
        assert fix_text(case.code, "example.py", config, unsafe=False).text == case.fixed
    assert fix_text(outcome.text, "example.py", config, unsafe=True).text == outcome.text
