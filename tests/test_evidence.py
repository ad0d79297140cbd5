"""Safe fixes need evidence: facts proven by dataflow, never assumed from a parameter or an annotation."""

from __future__ import annotations

import textwrap

import libcst as cst

from emberlint.arrays import collect_facts
from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.fixing import fix_text
from emberlint.scope import build_scopes

STRICT = Config(profile="strict")


def safe_fixed(source: str) -> str:
    return fix_text(textwrap.dedent(source), "case.py", STRICT, unsafe=False).text


def findings(source: str, code: str):
    return [f for f in lint_source(textwrap.dedent(source), "case.py", STRICT).findings if f.code == code]


# Gemma 4 pads its list of layer caches: `cache` is a parameter of __call__, so it is only *assumed* an array, and
# here it is a list. `mx.add(cache, [None] * k)` raised "Invalid type list received in array initialization".
PADDED_CACHE = """\
import mlx.core as mx
import mlx.nn as nn

class Stack(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.blocks = [nn.Linear(4, 4) for _ in range(n)]

    def __call__(self, x, cache=None):
        if cache is None:
            cache = [None] * len(self.blocks)
        else:
            cache = cache + [None] * (len(self.blocks) - len(cache))
        return x, cache
"""


def test_padding_a_cache_list_parameter_gets_no_safe_fix():
    assert safe_fixed(PADDED_CACHE) == PADDED_CACHE
    # the finding stays (the parameter may be an array), says the type is assumed, and its fix is unsafe
    [finding] = findings(PADDED_CACHE, "EL301")
    assert "assumed" in finding.message
    assert finding.fix is not None and not finding.fix.safe


# Encodec's padding helper: Python ints added in a function whose return annotation says `-> mx.array`.
PADDING_INTS = """\
import mlx.core as mx

def extra_padding(length: int, stride: int) -> mx.array:
    return length % stride

def pad(x: mx.array, stride: int):
    padding_right = 3
    extra = extra_padding(x.shape[1], stride)
    total = padding_right + extra
    return mx.pad(x, [(0, 0), (0, total), (0, 0)])
"""


def test_ints_added_next_to_an_array_return_annotation_get_no_safe_fix():
    fixed = safe_fixed(PADDING_INTS)
    assert "padding_right + extra" in fixed
    assert "mx.add" not in fixed


def test_the_same_operators_on_proven_arrays_are_fixed_safely():
    source = """\
    import mlx.core as mx

    def f(n: int):
        a = mx.zeros((n,), dtype=mx.float32)
        b = mx.arange(n, dtype=mx.int32).astype(mx.float32)
        return a + b, -a
    """
    assert safe_fixed(source).splitlines()[-1] == "    return mx.add(a, b), mx.negative(a)"


def _facts(source: str, function: str):
    module = cst.parse_module(textwrap.dedent(source))
    built = build_scopes(module)
    facts = collect_facts(module, built.scopes)
    node = next(n for n in built.scopes if isinstance(n, cst.FunctionDef) and n.name.value == function)
    return facts, built.scopes[node]


def test_strength_of_facts():
    source = """\
    import mlx.core as mx
    import mlx.nn as nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(4, 4)

        def __call__(self, x, mask=None):
            h = self.proj(x)
            y = x * 2
            w = mx.ones((4,), dtype=mx.float32)
            m = None
            m = mx.ones((4,), dtype=mx.float32)
            parts = mx.split(w, 2)
            first = parts[0]
            n = w.shape[0]
            k = 4
            k /= 2
            return h, y, m, first, n, k
    """
    facts, scope = _facts(source, "__call__")
    value = {name: facts.name_value(name, scope) for name in ("x", "mask", "h", "y", "w", "m", "parts", "first", "n", "k")}
    assert {name: (v.kind.value, v.proven) for name, v in value.items()} == {
        "x": ("array", False),  # a parameter of __call__: assumed
        "mask": ("array", False),
        "h": ("array", True),  # a backend layer's output, whatever its input
        "y": ("array", False),  # arithmetic with an assumed operand
        "w": ("array", True),
        "m": ("array", False),  # also bound to None
        "parts": ("arrays", True),  # mx.split returns a list of arrays, not an array
        "first": ("array", True),
        "n": ("int", True),
        "k": ("float", True),  # `/=` makes the int a float
    }


def test_annotations_and_defaults_are_assumed():
    source = """\
    import mlx.core as mx

    def helper(a: mx.array, s: float, n=3) -> mx.array:
        return a

    def made() -> mx.array:
        return mx.zeros((2,), dtype=mx.float32)

    def use(z: mx.array):
        r = helper(z, 1.0)
        p = made()
        return r, p
    """
    facts, scope = _facts(source, "helper")
    assert [(facts.name_value(n, scope).kind.value, facts.name_value(n, scope).proven) for n in ("a", "s", "n")] == [
        ("array", False), ("float", False), ("int", False)]
    facts, scope = _facts(source, "use")
    assert (facts.name_value("r", scope).kind.value, facts.name_value("r", scope).proven) == ("array", False)
    assert (facts.name_value("p", scope).kind.value, facts.name_value("p", scope).proven) == ("array", True)


def test_identity_tests_are_python_bools_not_arrays():
    # transformers' `(input_ids is None) ^ (inputs_embeds is not None)`: `is` gives a Python bool even for a tensor
    # parameter; torch.bitwise_xor(bool, bool) raises TypeError.
    source = """\
    import torch

    class M(torch.nn.Module):
        def forward(self, input_ids=None, inputs_embeds=None):
            if (input_ids is None) ^ (inputs_embeds is not None):
                raise ValueError("exactly one")
            return input_ids, "x" in inputs_embeds.names
    """
    assert findings(source, "EL301") == []
