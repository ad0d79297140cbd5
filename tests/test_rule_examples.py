"""Runs every rule's VALID and INVALID examples: the examples next to each rule are its specification.

An INVALID example marks each finding on the line below it: carets under the reported code, then the code
(``    ^^^^^ EL301``); the test checks the code, the line, the column and the end of each finding against them."""

from __future__ import annotations

import pytest

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.fixing import fix_text
from emberlint.registry import all_rules
from emberlint.rule import FixAvailability, Invalid

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


def _marked(finding, code: str) -> tuple[str, int, int, int]:
    """What a marker under ``finding`` says: code, line, column, end of the carets (a finding that goes on to later
    lines is marked to the end of its first line; an empty range gets one caret)."""
    line = code.splitlines()[finding.start.line - 1]
    if finding.end.line != finding.start.line:
        end = len(line.rstrip()) + 1
    else:
        end = max(finding.end.column, finding.start.column + 1)
    return finding.code, finding.start.line, finding.start.column, end


@pytest.mark.parametrize("rule,index,case", CASES_INVALID, ids=lambda v: getattr(v, "CODE", str(v))[:40])
def test_invalid_example_is_reported_where_marked_and_fixed(rule, index, case):
    config = _config(rule)
    result = lint_source(case.code, "example.py", config)
    assert not result.errors, result.errors
    found = [f for f in result.findings if f.code == rule.CODE]
    assert case.markers, f"{rule.CODE} example {index} marks no finding:\n{case.example}"
    marked = sorted((m.code, m.line, m.column, m.end_column) for m in case.markers)
    assert sorted(_marked(f, case.code) for f in found) == marked, [f.message for f in result.findings]
    assert len(found) == case.count
    if case.fixed is None:
        assert all(f.fix is None for f in found)
        return
    assert any(f.fix is not None for f in found)
    outcome = fix_text(case.code, "example.py", config, unsafe=True)
    assert outcome.text == case.fixed
    if not case.unsafe:
        assert fix_text(case.code, "example.py", config, unsafe=False).text == case.fixed
    assert fix_text(outcome.text, "example.py", config, unsafe=True).text == outcome.text


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.CODE)
def test_fix_availability_is_what_the_examples_get(rule):
    """``FIX`` says which fixes the rule offers; its examples must show exactly that."""
    offered = []
    for case in rule.INVALID:
        findings = [f for f in lint_source(case.code, "example.py", _config(rule)).findings if f.code == rule.CODE]
        offered += [f.fix.safe for f in findings if f.fix is not None]
        if case.fixed is not None:
            assert case.unsafe == (not all(f.fix.safe for f in findings if f.fix is not None)), case.example
    expected = {
        FixAvailability.NONE: not offered,
        FixAvailability.UNSAFE: bool(offered) and not any(offered),
        FixAvailability.SAFE: bool(offered) and all(offered),
        FixAvailability.SAFE_WHEN_PROVEN: any(offered) and not all(offered),
    }
    assert expected[rule.FIX], f"{rule.CODE} says FIX = {rule.FIX.name}; its examples get fixes {offered}"


def test_example_markers():
    case = Invalid(
        """
        import mlx.core as mx
        y = x * 2
            ^^^^^ EL301
        z = a @ b
            ^^^^^ EL301
        """
    )
    assert case.code == "import mlx.core as mx\ny = x * 2\nz = a @ b\n"
    assert [(m.code, m.line, m.column, m.end_column) for m in case.markers] == [
        ("EL301", 2, 5, 10),
        ("EL301", 3, 5, 10),
    ]
    assert case.count == 2
    assert Invalid("x = 1").count == 1 and Invalid("x = 1").markers == ()
    with pytest.raises(ValueError, match="count=3 but marks 1"):
        Invalid("y = x * 2\n    ^ EL301\n", count=3)
    with pytest.raises(ValueError, match="no line above it"):
        Invalid("^ EL301\n")


def _shown(example: str) -> str:
    return "\n".join("    " + line for line in example.splitlines())


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.CODE)
def test_explain_prints_the_docstring_and_the_examples_as_written(rule):
    from emberlint.docs_commands import explain_text

    text = explain_text(rule.CODE)
    header, rest = text.split("\n\n", 1)
    assert header == f"{rule.CODE} {rule.NAME}"
    assert rest.split("\n\n", 1)[1].startswith(rule.docs() + "\n\nReported:\n\n")
    shown = [_shown(case.example) for case in rule.INVALID] + [_shown(case.fixed) for case in rule.INVALID if case.fixed]
    shown += [_shown(source) for source in rule.VALID]
    for example in shown:
        assert example in text
    position = 0
    for case in rule.INVALID:  # in order, each with its markers
        position = text.index(_shown(case.example), position)
        assert all(f"^ {rule.CODE}" in line for line in case.example.splitlines() if line.lstrip().startswith("^"))
    assert text.rindex("\n\nNot reported:\n\n") > position
