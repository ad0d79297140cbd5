"""Fix rounds after the first look only where the last round wrote over a fix it left out (a fix nested in, or
around, one it applied). Such a focused round must find exactly the fixes a lint of the whole text finds there,
and the text ``fix`` ends with must be the one whole-text rounds give: a lint of the whole text always decides
that nothing is left."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from emberlint import fixing
from emberlint.config import Config
from emberlint.edits import apply_edits, edit_spans, nested_lines
from emberlint.engine import lint_text
from emberlint.model import Edit, Fix, Position
from emberlint.registry import all_rules

STRICT = Config(profile="strict")

# a constructor without ``dtype=`` (EL401) inside two operations on arrays (EL301), all safe and nested: each round
# applies the outermost fix left and leaves the ones inside it to the next round
NESTED = textwrap.dedent('''\
    import mlx.core as mx


    def layer(x):
        scale = mx.array([1.0, 2.0])
        out = mx.exp(x) * scale
        return out - 0.25 * mx.ones(
            (2,)
        )


    def other(y):
        z = mx.zeros((2,)) + mx.array(1.5) * y
        return z
    ''')
NESTED_FIXED = textwrap.dedent('''\
    import mlx.core as mx


    def layer(x):
        scale = mx.array([1.0, 2.0], dtype=mx.float32)
        out = mx.multiply(mx.exp(x), scale)
        return mx.subtract(
            out,
            mx.multiply(
                0.25,
                mx.ones(
                    (2,),
                    dtype=mx.float32
                ),
            ),
        )


    def other(y):
        z = mx.zeros((2,), dtype=mx.float32) + mx.array(1.5) * y
        return z
    ''')


def _fix(source: str, unsafe: bool = False) -> fixing.FixOutcome:
    return fixing.fix_text(source, "example.py", STRICT, unsafe=unsafe)


@pytest.fixture
def lints(monkeypatch) -> list:
    """The ``focus`` of every lint ``fix_text`` runs (None: the whole text)."""
    seen: list = []
    real = fixing.lint_text

    def recording(text, path, config, fixes, focus=None):
        seen.append(focus)
        return real(text, path, config, fixes, focus=focus)

    monkeypatch.setattr(fixing, "lint_text", recording)
    return seen


def _whole_text_rounds(monkeypatch) -> None:
    monkeypatch.setattr(fixing, "nested_lines", lambda *args: [])


def test_nested_fix_is_found_by_a_focused_round(lints):
    outcome = _fix(NESTED)
    assert outcome.text == NESTED_FIXED
    assert outcome.rounds == 3
    # the source; the lines ``mx.subtract(...)`` was written on; those ``mx.multiply(...)`` was written on; the result
    assert lints == [None, [(7, 12)], [(9, 14)], None]


def test_focused_round_finds_the_fixes_a_whole_lint_finds_there():
    first, _ = lint_text(NESTED, "example.py", STRICT, "safe")
    candidates = fixing.fixable(first.findings, unsafe=False)
    chosen = fixing.compatible_fixes(f.fix for f in candidates)
    edits = fixing.merge_fix_edits(chosen)
    text = apply_edits(NESTED, edits)
    skipped = [f.fix for f in candidates if all(f.fix is not c for c in chosen)]
    assert [(f.code, f.start.line) for f in candidates if f.fix in skipped] == [("EL301", 7), ("EL401", 7)]
    focus = nested_lines(NESTED, text, edit_spans(NESTED, edits), skipped)
    focused, _ = lint_text(text, "example.py", STRICT, "safe", focus)
    whole, _ = lint_text(text, "example.py", STRICT, "safe")

    def on_focus(findings):
        return [(f.code, f.start, f.end, f.fix.edits) for f in fixing.fixable(findings, unsafe=False)
                if any(first <= f.start.line <= last for first, last in focus)]

    assert on_focus(focused.findings) == on_focus(whole.findings)
    assert [(code, start.line) for code, start, _, _ in on_focus(focused.findings)] == [("EL301", 9), ("EL401", 9)]
    # only fixable rules ran, only there: nothing of ``other`` and no finding without a fix
    assert all(first <= f.start.line <= last for f in focused.findings for first, last in [focus[0]])
    assert {f.code for f in focused.findings} <= {"EL201", "EL202", "EL301", "EL401"}


def test_a_fix_the_focus_misses_is_applied_after_the_whole_text_lint(monkeypatch, lints):
    monkeypatch.setattr(fixing, "nested_lines", lambda *args: [(1, 1)])  # a focus that holds no fix
    outcome = _fix(NESTED)
    assert outcome.text == NESTED_FIXED
    assert outcome.rounds == 3
    # each focused round is empty, and a lint of the whole text finds the nested fix
    assert lints == [None, [(1, 1)], None, [(1, 1)], None, [(1, 1)], None]


def test_nested_lines_maps_a_run_of_edits_to_the_rewritten_lines():
    old = "a = 1\nb = f(g(x))\nc = 3\n"
    outer = Fix(edits=(Edit(Position(2, 5), Position(2, 12), "F(\n    g(x),\n)"),), safe=True)
    inner = Fix(edits=(Edit(Position(2, 7), Position(2, 11), "G(x)"),), safe=True)
    elsewhere = Fix(edits=(Edit(Position(1, 5), Position(1, 6), "one"),), safe=True)
    edits = list(outer.edits) + list(elsewhere.edits)
    new = apply_edits(old, edits)
    assert new == "a = one\nb = F(\n    g(x),\n)\nc = 3\n"
    assert nested_lines(old, new, edit_spans(old, edits), [inner]) == [(2, 4)]
    assert nested_lines(old, new, edit_spans(old, edits), []) == []


def _examples() -> list[str]:
    sources = [NESTED]
    for rule in all_rules():
        sources.extend(example.code for example in rule.INVALID)
    return sources


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_focused_rounds_end_with_the_text_whole_text_rounds_give(monkeypatch, unsafe):
    focused = [_fix(source, unsafe) for source in _examples()]
    _whole_text_rounds(monkeypatch)
    whole = [_fix(source, unsafe) for source in _examples()]
    assert [(o.text, o.applied, o.applied_codes) for o in focused] == [
        (o.text, o.applied, o.applied_codes) for o in whole]
    assert [[(f.code, f.start, f.end) for f in o.remaining.findings] for o in focused] == [
        [(f.code, f.start, f.end) for f in o.remaining.findings] for o in whole]
    assert sum(o.rounds > 1 for o in focused) >= 1


def test_a_focused_round_whose_fixes_change_nothing_ends_with_the_whole_texts_findings(monkeypatch, lints):
    recording = fixing.lint_text

    def no_op_fixes_on_focus(text, path, config, fixes, focus=None):
        result, module = recording(text, path, config, fixes, focus=focus)
        if focus is not None:  # a fix that writes what is there (the engine no longer offers one: belt and braces)
            edit = Edit(Position(1, 1), Position(1, 7), text[:6])
            result.findings = [dataclasses.replace(result.findings[0], fix=Fix(True, (edit,)))]
        return result, module

    monkeypatch.setattr(fixing, "lint_text", no_op_fixes_on_focus)
    outcome = _fix(NESTED)
    # each focused round's fixes change nothing, so the whole text is linted and its fixes applied
    assert lints == [None, [(7, 12)], None, [(9, 14)], None, None]
    whole, _ = lint_text(outcome.text, "example.py", STRICT, "safe")
    assert [(f.code, f.start) for f in outcome.remaining.findings] == [(f.code, f.start) for f in whole.findings]
    assert outcome.text == NESTED_FIXED
