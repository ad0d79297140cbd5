"""The shared vocabulary: backends, the line splitter, node helpers, and scope lookups through
``Scope.visible`` (class bodies skipped, ``global`` and ``nonlocal`` honoured)."""

from __future__ import annotations

import ast
import re
import textwrap

import libcst as cst
import pytest

from emberlint import light
from emberlint.arrays import Kind, collect_facts
from emberlint.backends import BACKEND_MODULES, MLX_AND_TORCH, backend_of, is_mlx_or_torch, module_of
from emberlint.lines import first_line_end, line_starts, split_line_texts, split_lines
from emberlint.scope import build_scopes
from emberlint.syntax import argument, code, dotted_name, keyword_argument, source_text
from emberlint.walk import nodes_of, subtree


def test_backends():
    assert module_of("mlx") == BACKEND_MODULES["mlx"] == "mlx.core"
    assert backend_of("mlx.core.multiply") == "mlx" and backend_of("math.pi") == "math" and backend_of("jax.x") is None
    assert MLX_AND_TORCH == ("mlx", "torch")
    assert is_mlx_or_torch("torch.float16") and not is_mlx_or_torch("numpy.float16") and not is_mlx_or_torch(None)


@pytest.mark.parametrize("text", ["", "a", "a\n", "a\r\nb\rc\n\n", "\r", "x\x0cy\u2028z\x1c\r\n", "\n\n\nend"])
def test_lines_end_at_python_line_ends_only(text):
    reference = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", text)
    assert split_lines(text) == reference
    assert "".join(split_lines(text)) == text
    assert split_line_texts(text) == re.split(r"\r\n|\r|\n", text)
    assert [text[start:] for start in line_starts(text)][1:] == ["".join(reference[i:]) for i in range(1, len(reference) + 1)][: len(line_starts(text)) - 1]
    assert first_line_end(text) == (re.search(r"\r\n|\r|\n", text).group(0) if re.search(r"[\r\n]", text) else "\n")


def _call(source: str) -> cst.Call:
    return cst.parse_expression(source)


@pytest.mark.parametrize("source,position,keyword,expected", [
    ("f(a, b, dtype=c)", 1, "dtype", "c"),
    ("f(a, b)", 1, "dtype", "b"),
    ("f(a)", 1, "dtype", None),
    ("f(*xs, b)", 1, "dtype", None),  # the star may fill position 1
    ("f(a, *xs)", 0, None, "a"),
    ("f(a, **kw)", 1, "dtype", None),
    ("f(a, dtype=c)", None, "dtype", "c"),
])
def test_argument_by_keyword_or_position(source, position, keyword, expected):
    found = argument(_call(source), position, keyword)
    assert (code(found) if found is not None else None) == expected


def test_keyword_argument_and_dotted_name():
    call = _call("torch.nn.functional.gelu(x, approximate='tanh')")
    assert code(keyword_argument(call, "approximate").value) == "'tanh'"
    assert keyword_argument(call, "inplace") is None
    assert dotted_name(call.func) == "torch.nn.functional.gelu"
    assert dotted_name(_call("f()(x)").func) is None


SOURCE = """\
import mlx.core as mx
def f(a, b):
    y = ((a * b))  # note
    z = (a,
         b)
    w = mx.where(
        a > 0,
        (a
         + b),
    )
    return (y), z, w, "x" "y", f"{a}", f(x for x in a)
"""


def test_source_text_of_light_nodes_is_libcsts():
    tree = light.build(SOURCE, ast.parse(SOURCE))
    module = cst.parse_module(SOURCE)
    light_nodes = [n for n in subtree(tree.module) if n.EXPRESSION and type(n).__name__ != "Name"]
    real_nodes = [n for n in subtree(module) if isinstance(n, cst.BaseExpression) and not isinstance(n, cst.Name)]
    texts = [(source_text(n), code(n)) for n in light_nodes]
    assert len(light_nodes) == len(real_nodes) > 10
    assert texts == [(source_text(n), code(n)) for n in real_nodes]


def test_code_of_a_multi_line_expression_is_read_off_the_source():
    tree = light.build(SOURCE, ast.parse(SOURCE))
    where = next(n for n in nodes_of(tree.module, "Call") if code(n.func) == "mx.where")
    light.counters.reset()
    assert code(where) == "mx.where(\n    a > 0,\n    (a\n     + b),\n)"  # less the block's indentation, as LibCST
    assert light.counters.snapshot() == {"fallbacks": 0, "materialized": 0, "parses": 0}


def _module(source: str):
    module = cst.parse_module(textwrap.dedent(source))
    built = build_scopes(module)
    return module, built, collect_facts(module, built.scopes)


def test_visible_skips_enclosing_class_bodies_and_honours_global_and_nonlocal():
    module, built, _ = _module("""
    import mlx.core as mx
    class C:
        mx = None
        def m(self):
            return mx.zeros(3)
    def outer():
        mx = 1
        def inner():
            nonlocal mx
            global torch
            return mx
    """)
    method = nodes_of(module, "FunctionDef")[0]
    inner = nodes_of(module, "FunctionDef")[2]
    method_scope, inner_scope = built.scopes[method], built.scopes[inner]
    assert [s.kind for s in method_scope.visible("mx")] == ["function", "module"]
    assert method_scope.resolve("mx") == "mlx.core"
    assert [s.kind for s in inner_scope.visible("mx")] == ["function", "module"]  # inner's own scope skipped
    assert inner_scope.binding_scope("mx") is built.scopes[nodes_of(module, "FunctionDef")[1]]
    assert list(inner_scope.visible("torch")) == [built.root]
    assert [s.kind for s in inner_scope.visible()] == ["function", "function", "module"]


def test_global_binding_lands_in_the_module():
    module, built, facts = _module("""
    import mlx.core as mx
    def setup():
        global table
        table = mx.zeros(3)
    def use():
        return table
    """)
    use = nodes_of(module, "FunctionDef")[1]
    assert facts.name_value("table", built.scopes[use]).kind is Kind.ARRAY
