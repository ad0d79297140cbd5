"""``emberlint/dtypes.py``: the dtype of an array expression where the code states it, else unknown (None)."""

from __future__ import annotations

import textwrap

import libcst as cst
import mlx.core as mx
import pytest

import emberlint.engine as engine
from emberlint.config import Config
from emberlint.dtypes import promote, unrepresentable
from emberlint.model import Severity
from emberlint.rule import Rule


class Reveal(Rule):
    """Test helper: reports the inferred dtype of the argument of every ``reveal(...)`` call."""

    CODE = "ZZ999"
    NAME = "reveal"
    MESSAGE = "{dtype}"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "reveal":
            self.report(node, dtype=str(self.context.dtype_of(node.args[0].value)))


def revealed(source: str, monkeypatch) -> list[str]:
    monkeypatch.setattr(engine, "enabled_rules", lambda config: {Reveal: Severity.WARNING})
    result = engine.lint_source(textwrap.dedent(source), "t.py", Config())
    assert not result.errors, result.errors
    return [f.message for f in result.findings]


def test_constructors_casts_and_dtype_keywords(monkeypatch):
    source = """\
    import mlx.core as mx
    import torch
    def f(x: mx.array, t: torch.Tensor, n: int, d: int):
        reveal(mx.array(d ** -0.5))
        reveal(mx.array(0.5, dtype=mx.bfloat16))
        reveal(mx.zeros((n,), mx.float16))
        reveal(mx.arange(n))
        reveal(torch.tensor(3))
        reveal(x.astype(mx.float16))
        reveal(t.half())
        reveal(t.to(torch.bfloat16))
        h = x.astype(mx.float16)
        reveal(mx.array(1e-8, dtype=h.dtype))
        reveal(x)
    """
    assert revealed(source, monkeypatch) == [
        "float32", "bfloat16", "float16", "int32", "int64", "float16", "float16", "bfloat16", "float16", "None"]


def test_arithmetic_promotion_and_weak_python_numbers(monkeypatch):
    source = """\
    import mlx.core as mx
    def f(x: mx.array, y: mx.array):
        h = x.astype(mx.float16)
        b = y.astype(mx.bfloat16)
        i = mx.arange(4)
        reveal(h * 0.5)
        reveal(h * mx.array(0.5))
        reveal(h + b)
        reveal(i * 2)
        reveal(i * 0.5)
        reveal(i / 2)
        reveal(-h[0])
        reveal(mx.softmax(h, axis=-1))
        reveal(x.astype(mx.float32) @ y)
    """
    assert revealed(source, monkeypatch) == [
        "float16", "float32", "float32", "int32", "float32", "float32", "float16", "float16", "float32"]


def test_rebinding_in_straight_line_code_and_split(monkeypatch):
    source = """\
    import mlx.core as mx
    def f(proj, x: mx.array):
        gates = proj(x)
        reveal(gates)
        gates = gates.astype(mx.float32)
        reveal(gates)
        a, b = mx.split(x.astype(mx.bfloat16), 2, axis=-1)
        reveal(b)
        for _ in range(2):
            c = x.astype(mx.float16)
        reveal(c)
    """
    assert revealed(source, monkeypatch) == ["None", "float32", "bfloat16", "float16"]


def test_promotion_table_matches_mlx():
    names = ["float16", "bfloat16", "float32", "int32", "int64", "bool"]
    for a in names:
        for b in names:
            x = mx.ones((1,), dtype=getattr(mx, a if a != "bool" else "bool_"))
            y = mx.ones((1,), dtype=getattr(mx, b if b != "bool" else "bool_"))
            expected = str((x + y).dtype).rsplit(".", 1)[-1]
            assert promote(a, b) == expected, (a, b)


@pytest.mark.parametrize("value,dtype,expected", [
    (-1e9, "float16", "overflow"), (1e-8, "float16", "zero"), (-1e9, "bfloat16", None), (1e-8, "bfloat16", None),
    (-3e4, "float16", None), (6e4, "float16", None), (65520.0, "float16", "overflow"), (3e-8, "float16", None),
])
def test_representability_matches_mlx(value, dtype, expected):
    assert unrepresentable(value, dtype) == expected
    held = mx.array(value, dtype=getattr(mx, dtype)).item()
    actual = "overflow" if abs(held) == float("inf") else "zero" if held == 0 else None
    assert actual == expected
