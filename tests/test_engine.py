"""Engine behaviour: backend resolution through aliases, array inference, suppressions, single traversal."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from emberlint.arrays import Kind, collect_facts
from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.scope import build_scopes

STRICT_EL301 = Config(profile="strict", select=("EL301",))


def lint(source: str, config: Config = STRICT_EL301):
    return lint_source(textwrap.dedent(source), "t.py", config)


def codes_at(source: str, config: Config = STRICT_EL301) -> list[tuple[str, int, int]]:
    return [(f.code, f.start.line, f.start.column) for f in lint(source, config).findings]


def _qualified(source: str, expression: str) -> str | None:
    module = cst.parse_module(textwrap.dedent(source) + f"\n{expression}\n")
    built = build_scopes(module)
    expr = module.body[-1].body[0].value
    return built.root.qualified_name(expr)


@pytest.mark.parametrize(
    "imports,expression,expected",
    [
        ("import mlx.core as mx", "mx.multiply", "mlx.core.multiply"),
        ("import mlx.core as core", "core.multiply", "mlx.core.multiply"),
        ("from mlx import core as mx", "mx.multiply", "mlx.core.multiply"),
        ("from mlx.core import array, multiply", "multiply", "mlx.core.multiply"),
        ("import mlx.core", "mlx.core.add", "mlx.core.add"),
        ("import torch", "torch.mul", "torch.mul"),
        ("import torch as T", "T.mul", "torch.mul"),
        ("from torch import tensor", "tensor", "torch.tensor"),
        ("import torch.nn.functional as F", "F.gelu", "torch.nn.functional.gelu"),
        ("import numpy as np", "np.fft.rfft", "numpy.fft.rfft"),
        ("import math", "math.pi", "math.pi"),
        ("import mlx.core as mx", "other.multiply", None),
    ],
)
def test_backend_names_resolve_through_aliases(imports, expression, expected):
    assert _qualified(imports, expression) == expected


def test_local_name_shadowing_an_import_is_not_the_backend():
    source = """
    import mlx.core as mx

    def f(mx, a, b):
        return mx.multiply(a, b)
    """
    module = cst.parse_module(textwrap.dedent(source))
    built = build_scopes(module)
    function = module.body[1]
    scope = built.scopes[function]
    call = function.body.body[0].body[0].value
    assert scope.qualified_name(call.func) is None
    assert built.root.qualified_name(call.func) == "mlx.core.multiply"


def _kinds(source: str, names: list[str]) -> dict[str, Kind]:
    module = cst.parse_module(textwrap.dedent(source))
    built = build_scopes(module)
    facts = collect_facts(module, built.scopes)
    function = next(s for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef)))
    if isinstance(function, cst.ClassDef):
        function = next(s for s in function.body.body if isinstance(s, cst.FunctionDef) and s.name.value != "__init__")
    scope = built.scopes[function]
    return {name: facts.name_value(name, scope).kind for name in names}


def test_array_inference_follows_the_documented_rules():
    source = """
    import mlx.core as mx
    import math

    def f(x: mx.array, n: int, scale: float = 0.5, flag=False):
        y = mx.exp(x)
        z = y.reshape(2, -1).sum()
        b, l, d = x.shape
        s = x.shape
        width = x.shape[1]
        dims = x.ndim
        m = len(s)
        c = math.sqrt(2.0)
        h = 0
        h = h + y
        t = y.T
        host = y.item()
        for i in range(n):
            pass
        eps = 1e-8
        return z
    """
    kinds = _kinds(source, ["x", "n", "scale", "flag", "y", "z", "b", "s", "width", "dims", "m", "c", "h", "t", "host", "i", "eps"])
    assert kinds == {
        "x": Kind.ARRAY, "n": Kind.INT, "scale": Kind.FLOAT, "flag": Kind.BOOL, "y": Kind.ARRAY,
        "z": Kind.ARRAY, "b": Kind.INT, "s": Kind.SHAPE, "width": Kind.INT, "dims": Kind.INT, "m": Kind.INT,
        "c": Kind.FLOAT, "h": Kind.ARRAY, "t": Kind.ARRAY, "host": Kind.FLOAT, "i": Kind.INT, "eps": Kind.FLOAT,
    }


def test_module_call_parameters_and_self_attributes_are_arrays():
    source = """
    import mlx.core as mx
    import mlx.nn as nn

    class Block(nn.Module):
        def __init__(self, dims: int):
            super().__init__()
            self.w = mx.zeros((dims,), dtype=mx.float32)
            self.proj = nn.Linear(dims, dims)

        def __call__(self, x, mask=None):
            h = self.proj(x)
            return mx.add(h, self.w)
    """
    module = cst.parse_module(textwrap.dedent(source))
    built = build_scopes(module)
    facts = collect_facts(module, built.scopes)
    call = module.body[2].body.body[1]
    scope = built.scopes[call]
    assert facts.name_value("x", scope).kind is Kind.ARRAY
    assert facts.name_value("mask", scope).kind is Kind.ARRAY
    assert facts.name_value("h", scope).kind is Kind.ARRAY
    self_w = cst.parse_expression("self.w")
    assert facts.infer(self_w, scope).kind is Kind.ARRAY


def test_plain_integer_math_is_not_reported():
    source = """
    import mlx.core as mx

    def f(x: mx.array, n: int):
        k = n * 4
        m = x.shape[0] * 2 - 1
        banner = "=" * 70
        flag = not False
        return x[: n - 1], x[..., 0], k, m
    """
    assert codes_at(source) == []


def test_array_rules_need_a_backend_import():
    source = """
    def f(x: "mx.array", y):
        return x * y
    """
    assert codes_at(source) == []


def test_suppressions_on_the_line():
    source = """
    import mlx.core as mx
    def f(a: mx.array, b: mx.array):
        c = a * b  # emberlint: ignore[EL301]
        d = a + b  # noqa: EL301
        e = a - b  # emberlint: ignore
        g = a / b  # emberlint: ignore[EL101]
        return c, d, e, g
    """
    assert codes_at(source) == [("EL301", 7, 9)]


def test_file_wide_suppression():
    source = """
    # emberlint: ignore-file[EL301]
    import mlx.core as mx
    def f(a: mx.array, b: mx.array):
        return a * b
    """
    assert codes_at(source) == []


def test_unused_suppressions_are_reported_when_enabled():
    source = """
    import mlx.core as mx
    def f(a: mx.array, b: mx.array):
        c = mx.add(a, b)  # emberlint: ignore[EL301]
        return a * b  # noqa: EL301, EL101
    """
    config = Config(profile="strict", select=("EL301", "EL901"))
    found = [(f.code, f.start.line, f.message) for f in lint(source, config).findings]
    assert found == [
        ("EL901", 4, "Unused suppression of EL301: nothing is reported here; remove the comment"),
        ("EL901", 5, "Unused suppression of EL101: nothing is reported here; remove the comment"),
    ]


def test_per_file_ignores(tmp_path):
    config = Config(profile="strict", select=("EL301",), per_file_ignores=(("tests/*.py", ("EL3",)),), root=str(tmp_path))
    source = "import mlx.core as mx\ndef f(a: mx.array):\n    return -a\n"
    assert lint_source(source, str(tmp_path / "tests" / "t.py"), config).findings == []
    assert len(lint_source(source, str(tmp_path / "src" / "t.py"), config).findings) == 1


def test_syntax_error_is_a_file_error_not_a_crash():
    result = lint_source("import mlx.core as mx\ndef f(:\n", "bad.py", STRICT_EL301)
    assert result.findings == []
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.kind, error.line) == ("parse", 2)
    assert error.message.startswith("syntax error")


def test_a_crashing_rule_is_reported_and_the_others_still_run(monkeypatch):
    from emberlint.rules.operators.bare_operator_on_array import BareOperatorOnArray

    def boom(self, node):
        raise RuntimeError("boom")

    monkeypatch.setattr(BareOperatorOnArray, "visit_UnaryOperation", boom)
    source = "import mlx.core as mx\ndef f(a: mx.array):\n    return -a, a * a\n"
    result = lint_source(source, "t.py", STRICT_EL301)
    assert [(e.kind, e.code, e.line) for e in result.errors] == [("internal", "EL301", 3)]
    assert "RuntimeError: boom" in result.errors[0].message


def test_bom_is_ignored_for_positions():
    result = lint_source("\ufeffimport mlx.core as mx\ndef f(a: mx.array):\n    return -a\n", "t.py", STRICT_EL301)
    assert [(f.start.line, f.start.column) for f in result.findings] == [(3, 12)]


def test_positions_are_one_based_and_cover_the_node():
    source = "import mlx.core as mx\ndef f(a: mx.array, b: mx.array):\n    return (a *\n        b)\n"
    (finding,) = lint_source(source, "t.py", STRICT_EL301).findings
    assert (finding.start.line, finding.start.column, finding.end.line, finding.end.column) == (3, 13, 4, 10)


def test_suppressions_without_a_reason_are_reported_when_enabled():
    source = """
    import mlx.core as mx
    def f(a: mx.array, b: mx.array):
        c = a * b  # emberlint: ignore[EL301]  # reason: checked, exact in float32
        d = a + b  # noqa: EL301 -- a documented exception
        return c - d  # emberlint: ignore[EL301]
    """
    config = Config(profile="strict", select=("EL301", "EL902"))
    found = [(f.code, f.start.line, f.start.column) for f in lint(source, config).findings]
    assert found == [("EL902", 6, 19)]


def test_union_annotations_are_arrays_only_when_every_member_is():
    source = """
    from typing import Optional, Union
    import torch
    from torch import Tensor

    def f(a: Tensor | None, b: Optional[torch.Tensor], c: Tensor | float, d: Union[Tensor, float], e: float | None):
        return a
    """
    assert _kinds(source, ["a", "b", "c", "d", "e"]) == {
        "a": Kind.ARRAY, "b": Kind.ARRAY, "c": Kind.UNKNOWN, "d": Kind.UNKNOWN, "e": Kind.FLOAT,
    }


def test_casting_a_number_or_tensor_parameter_is_not_a_host_round_trip():
    source = """
    import torch
    from torch import Tensor

    def f(c1: Tensor | float, x: Tensor):
        return float(c1), float(x)
    """
    found = [(f.code, f.start.line, f.start.column) for f in lint(source, Config(profile="strict", select=("EL102",))).findings]
    assert found == [("EL102", 6, 23)]


def test_noqa_inside_a_string_literal_is_not_a_suppression():
    source = """
    import mlx.core as mx
    def f(a: mx.array, b: mx.array):
        return a * b, "# noqa: EL301"
    """
    assert codes_at(source) == [("EL301", 4, 12)]


def test_directive_in_a_multi_line_string_is_not_a_suppression():
    source = '''
    import mlx.core as mx
    def f(a: mx.array, b: mx.array):
        text = """
        # emberlint: ignore-file[EL301]
        """
        return a * b, """x  # noqa: EL301
        """
    '''
    assert codes_at(source) == [("EL301", 7, 12)]


def test_suppressions_from_the_tree_match_the_tokenize_path():
    from emberlint.suppress import parse_suppressions

    source = textwrap.dedent("""\
        # emberlint: ignore-file[EL101]  # reason: generated
        import mlx.core as mx
        def f(a: mx.array, b: mx.array):
            c = (a *  # noqa: EL301 -- inside brackets
                 b)
            return c  # emberlint: ignore
        """)
    config = Config(profile="strict", select=("EL301", "EL901", "EL902"))
    found = [(f.code, f.start.line, f.start.column, f.message) for f in lint_source(source, "t.py", config).findings]
    assert found == [
        ("EL901", 1, 1, "Unused suppression of EL101: nothing is reported here; remove the comment"),
        ("EL901", 6, 15, "Unused suppression: nothing is reported here; remove the comment"),
        ("EL902", 6, 15, "Suppression without a reason: add `# reason: ...` saying why the conversion is right"),
    ]
    tokenized = [(e.line, e.column, sorted(e.codes), e.reason) for e in parse_suppressions(source).all()]
    assert tokenized == [(1, 1, ["EL101"], "generated"), (4, 15, ["EL301"], "-- inside brackets"), (6, 15, ["*"], "")]
