"""A lint split over processes (``emberlint.split_lint``) must give exactly the result of one lint: every rule's
examples, cut at every top-level statement, in both profiles and both fix modes; and the forked workers, their
failures and their time budget, on real processes."""

from __future__ import annotations

import marshal
import os
import textwrap

import pytest

from emberlint import fixing, runner, split_lint
from emberlint.config import Config
from emberlint.engine import analyse, lint_text, rule_severities
from emberlint.registry import all_rules

STRICT = Config(profile="strict")
PROFILES = {"strict": STRICT, "recommended": Config()}

# two devices (EL703 keeps the first one it saw), a used and an unused suppression, nested fixes, in separate
# top-level statements
ACROSS = textwrap.dedent('''\
    import mlx.core as mx
    import torch

    DEVICE = torch.device("cuda")


    def layer(x):
        y = mx.exp(x) * 0.5  # emberlint: ignore[EL201]  # reason: a test
        return mx.exp(y) + mx.zeros((2,))


    def other(t):
        z = t.to("cpu")  # noqa: EL101
        return mx.ones((2,)) * mx.array(1.5)
    ''')


def _examples() -> list[str]:
    sources = [ACROSS]
    for rule in all_rules():
        sources.extend(rule.VALID)
        sources.extend(example.code for example in rule.INVALID)
    return sources


def _in_one_process(source: str, config: Config, fixes: str, count: int, focus=None):
    """What ``Workers.lint`` computes, with the workers' replies made here (through the same encoding)."""
    replies = []
    for index in range(count):
        reply = ("ok", *split_lint._encode(analyse(source, "example.py", config, fixes, focus, (index, count))))
        replies.append(split_lint._decode(marshal.loads(marshal.dumps(reply)), "example.py")[1:])
    return split_lint._merge(source, "example.py", rule_severities(config, "example.py", fixes, focus), replies)


def _as_one(source: str, config: Config, fixes: str, focus=None):
    result, module = lint_text(source, "example.py", config, fixes, focus)
    return result, module is not None


@pytest.mark.parametrize("fixes", ["all", "safe"])
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_cut_between_top_level_statements_gives_the_lint_of_the_whole_file(profile, fixes):
    config = PROFILES[profile]
    compared = 0
    for source in _examples():
        whole = _as_one(source, config, fixes)
        statements = source.count("\n") + 1
        for count in sorted({2, 3, statements}):  # ``statements`` shares: each statement alone
            assert _in_one_process(source, config, fixes, count) == whole, (count, source)
            compared += 1
    assert compared > 600


def test_focused_lints_split_give_the_focused_lint():
    lines = ACROSS.count("\n")
    for focus in ([(8, 9)], [(9, 9), (14, 14)], [(1, lines)]):
        whole = _as_one(ACROSS, STRICT, "safe", focus)
        assert whole[0].findings
        for count in (2, lines):
            assert _in_one_process(ACROSS, STRICT, "safe", count, focus) == whole


def test_the_suppressions_shares_used_are_judged_together():
    result, _ = _in_one_process(ACROSS, STRICT, "all", ACROSS.count("\n"))
    codes = [(f.code, f.start.line) for f in result.findings]
    assert ("EL201", 8) not in codes  # suppressed in its share
    assert ("EL901", 13) in codes  # EL101 is not reported on that line: unused
    assert ("EL901", 8) not in codes


def test_a_rule_that_keeps_state_across_the_file_runs_whole_in_one_share(monkeypatch):
    whole = _as_one(ACROSS, STRICT, "all")
    assert [f.message for f in whole[0].findings if f.code == "EL703"]
    rule = next(r for r in all_rules() if r.CODE == "EL703")
    monkeypatch.setattr(rule, "WHOLE_FILE", False)  # each share then sees one device: the second is never found
    split = _in_one_process(ACROSS, STRICT, "all", ACROSS.count("\n"))
    assert [f.code for f in split[0].findings if f.code == "EL703"] == []


# --- the forked workers -----------------------------------------------------------------------------------------

LARGE = "import mlx.core as mx\n" + "".join(
    f"\n\ndef layer_{i}(x, w):\n    y = x @ w + 0.5 * mx.zeros((4, 4))\n    return mx.exp(-y) * mx.array(1.5)\n"
    for i in range(60)
)

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked processes")


@pytest.fixture
def small_is_large(monkeypatch):
    monkeypatch.setattr(split_lint, "MIN_BYTES", 0)


@needs_fork
def test_workers_give_the_lint_of_one_process(small_is_large):
    workers = split_lint.Workers(2)
    for fixes in ("all", "safe"):
        assert workers.lint(LARGE, "example.py", STRICT, fixes) == _as_one(LARGE, STRICT, fixes)
    assert workers.cpu > 0


@needs_fork
def test_fix_with_workers_ends_where_fix_in_one_process_does(small_is_large):
    for unsafe in (False, True):
        split = fixing.fix_text(LARGE, "example.py", STRICT, unsafe=unsafe, workers=2)
        alone = fixing.fix_text(LARGE, "example.py", STRICT, unsafe=unsafe)
        assert (split.text, split.applied_codes, split.rounds) == (alone.text, alone.applied_codes, alone.rounds)
        assert split.remaining == alone.remaining
        assert split.applied > 100


@needs_fork
def test_a_worker_that_dies_leaves_the_lint_to_this_process(small_is_large, monkeypatch):
    monkeypatch.setattr(split_lint, "_work", lambda *args: os._exit(3))
    assert split_lint.Workers(2).lint(LARGE, "example.py", STRICT) is None
    outcome = fixing.fix_text(LARGE, "example.py", STRICT, workers=2)
    assert outcome.text == fixing.fix_text(LARGE, "example.py", STRICT).text


@needs_fork
def test_a_worker_that_cannot_start_leaves_the_lint_to_this_process(small_is_large, monkeypatch):
    started = []
    real_fork = os.fork

    def second_fails():
        if started:
            raise OSError(11, "Resource temporarily unavailable")
        started.append(real_fork())
        return started[-1]

    monkeypatch.setattr(split_lint.os, "fork", second_fails)
    assert split_lint.Workers(2).lint(LARGE, "example.py", STRICT) is None
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0], os.WNOHANG)  # the worker that did start was stopped and reaped


@needs_fork
def test_workers_over_the_budget_raise_the_callers_timeout(small_is_large):
    with pytest.raises(fixing.FixTimeout, match="took longer"):
        fixing.fix_text(LARGE * 8, "example.py", STRICT, timeout=0.05, workers=2)
    spent = split_lint.Workers(2, seconds=1e-9, over=lambda: RuntimeError("spent"))
    with pytest.raises(RuntimeError, match="spent"):
        spent.lint(LARGE, "example.py", STRICT)


def test_workers_are_used_only_where_they_pay_and_are_safe(monkeypatch):
    assert not split_lint.Workers(1).usable("x" * split_lint.MIN_BYTES)
    assert not split_lint.Workers(2).usable("x" * (split_lint.MIN_BYTES - 1))
    assert split_lint.Workers(2).usable("x" * split_lint.MIN_BYTES) == hasattr(os, "fork")
    monkeypatch.setattr(split_lint.threading, "active_count", lambda: 2)  # a thread could hold a lock at the fork
    assert not split_lint.Workers(2).usable("x" * split_lint.MIN_BYTES)


def test_one_file_gets_the_cores_a_pool_would_have(monkeypatch):
    monkeypatch.setattr(runner, "_cores", lambda: 2)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)
    assert runner.processes_per_file(1, None) == 2
    assert runner.processes_per_file(1, 1) == 1  # -j 1: one process
    assert runner.processes_per_file(1, 8) == 2
    assert runner.processes_per_file(runner.PARALLEL_THRESHOLD, None) == 1  # the pool's workers use the cores
