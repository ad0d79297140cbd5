"""Fuzzing, as ruff and LibCST do: generated modules rich in what broke real runs (module-level and function
``global``, ``nonlocal``, star-args, comments inside brackets, deep nesting, names bound then called) must lint
within a time bound with no internal error. A small example budget keeps it part of the suite."""

from __future__ import annotations

import warnings

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emberlint.budget import OverBudget, can_interrupt, time_budget
from emberlint.config import Config
from emberlint.engine import lint_source

STRICT = Config(profile="strict")
#: seconds one generated module may take (they are small: real ones take milliseconds)
BOUND = 10.0
FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

HEADERS = ("import mlx.core as mx\n", "import torch\n", "import numpy as np\n",
           "import torch as t\nfrom mlx import nn\n", "from mlx.core import multiply, array\n", "")
NAMES = st.sampled_from(["x", "y", "log", "mx", "torch", "np", "t", "nn", "a", "b", "array", "multiply"])
BACKEND_CALLS = st.sampled_from(["mx.ones(3)", "mx.array(0.5)", "torch.zeros(2, 3)", "np.ones(4)", "torch.ones(2)",
                                 "mx.zeros((2, 3), dtype=mx.float32)", "t.tensor([1.0])", "array(1.0)"])
COMMENT = st.sampled_from(["# a comment", "# noqa: F401", "# emberlint: ignore[EL301]", "# type: ignore", "#"])


def _atoms():
    return st.one_of(NAMES, BACKEND_CALLS, st.sampled_from(["0.5", "1", "2", "1e-6", "True", "None", "(-1)"]))


def _expressions():
    return st.recursive(
        _atoms(),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "@", "**", "//", "%"]), inner).map(" ".join),
            st.tuples(inner, st.lists(inner, max_size=3)).map(lambda p: f"{p[0]}({', '.join(p[1])})"),
            st.tuples(inner, inner, inner).map(lambda p: f"{p[0]}(*{p[1]}, **{{'k': {p[2]}}})"),
            st.tuples(inner, COMMENT, inner).map(lambda p: f"(\n    {p[1]}\n    {p[0]},\n    *{p[2]},\n)"),
            st.tuples(inner, COMMENT, inner).map(lambda p: f"[{p[0]},  {p[1]}\n {p[2]}]"),
            st.tuples(inner, st.integers(1, 40)).map(lambda p: "(" * p[1] + p[0] + ")" * p[1]),
            st.tuples(inner, st.integers(1, 30)).map(lambda p: "-" * p[1] + p[0]),
            inner.map(lambda e: f"{e}.astype(mx.float16)"),
            inner.map(lambda e: f"float({e})"),
            inner.map(lambda e: f"{e}.item()"),
            inner.map(lambda e: f"(lambda *a, **k: {e})"),
            st.tuples(inner, inner).map(lambda p: f"{p[0]}[{p[1]}]"),
        ),
        max_leaves=12,
    )


EXPR = _expressions()


@st.composite
def modules(draw) -> str:
    header = draw(st.sampled_from(HEADERS))
    lines = [header]
    for _ in range(draw(st.integers(1, 6))):
        name, other = draw(NAMES), draw(NAMES)
        kind = draw(st.sampled_from(["global", "assign", "call", "function", "nested", "class", "deep", "loop"]))
        if kind == "global":  # module-level ``global``: issue 17's hang
            lines.append(f"global {name}\n{name} = {draw(EXPR)}\n{name}({draw(EXPR)})\n")
        elif kind == "assign":
            lines.append(f"{name} = {draw(EXPR)}  {draw(COMMENT)}\n")
        elif kind == "call":
            lines.append(f"{name}(*{draw(EXPR)}, {draw(EXPR)})\n")
        elif kind == "function":
            lines.append(f"def f_{name}(a, *args, b=1, **kw):\n    global {other}\n    {other} = {draw(EXPR)}\n"
                         f"    return {other}(*args, {draw(EXPR)})\n")
        elif kind == "nested":
            lines.append(f"def outer_{name}(a, *rest):\n    {name} = {draw(EXPR)}\n\n"
                         f"    def inner(*b, **k):\n        nonlocal {name}\n        {name} = {draw(EXPR)}\n"
                         f"        return {name} * {draw(EXPR)}\n\n    return inner\n")
        elif kind == "class":
            lines.append(f"class C_{name}(nn.Module):\n    {name} = {draw(EXPR)}\n\n"
                         f"    def __call__(self, x, *args):\n        global {other}\n"
                         f"        return self.{name} + x * {draw(EXPR)}\n")
        elif kind == "deep":
            depth = draw(st.integers(1, 40))
            body = f"return {draw(EXPR)}"
            for level in range(depth, 0, -1):
                body = f"def g{level}(*a):\n" + "\n".join("    " + line for line in body.splitlines())
            lines.append(body + "\n")
        else:
            lines.append(f"for {name} in {draw(EXPR)}:\n    {other} = {name} + {draw(EXPR)}  {draw(COMMENT)}\n")
    return "\n".join(lines)


def _compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def assert_lints_in_time(source: str) -> None:
    assert can_interrupt()
    try:
        with time_budget(BOUND, "over the bound"):
            result = lint_source(source, "fuzz.py", STRICT)
    except OverBudget:
        raise AssertionError(f"linting took longer than {BOUND}s:\n{source}") from None
    internal = [error for error in result.errors if error.kind == "internal"]
    assert internal == [], (internal, source)


@FUZZ
@given(modules().filter(_compiles))
def test_generated_modules_lint_in_time_without_internal_errors(source):
    assert_lints_in_time(source)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hypothesmith.from_grammar(), st.sampled_from(["global x\n", "global torch, log\nlog = print\nlog(1)\n"]))
def test_grammar_generated_modules_with_global_lint_in_time(source, prefix):
    assert_lints_in_time("import torch\nimport mlx.core as mx\n" + prefix + source)


def test_the_fuzzer_generates_what_it_promises():
    needles = ("global ", "nonlocal ", "(*", "# ", "(((((", "def g10(")
    seen: set[str] = set()

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(modules().filter(_compiles))
    def collect(source):
        seen.update(needle for needle in needles if needle in source)

    collect()
    assert seen == set(needles)
