"""Issue 14: the recommended profile reports what can change a value on real code, and little else; the strict
profile stays the reference package's policy. The snippets are shaped like the real cases (mlx-lm and
transformers models) that the labelled set of ``benchmarks/real_code_precision.py`` was built from."""

from __future__ import annotations

import textwrap

import pytest

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.fixing import fix_text
from emberlint.registry import enabled_rules

RECOMMENDED = Config()
STRICT = Config(profile="strict")


def codes(source: str, config: Config = RECOMMENDED, prefix: str = "EL") -> list[tuple[str, int]]:
    result = lint_source(textwrap.dedent(source), "model.py", config)
    assert not result.errors, result.errors
    return [(f.code, f.start.line) for f in result.findings if f.code.startswith(prefix)]


def messages(source: str, code: str, config: Config = RECOMMENDED) -> list[str]:
    result = lint_source(textwrap.dedent(source), "model.py", config)
    return [f.message for f in result.findings if f.code == code]


def test_recommended_enables_only_the_measured_rules():
    recommended = {rule.CODE for rule in enabled_rules(RECOMMENDED)}
    for policy in ("EL201", "EL202", "EL301", "EL401", "EL402", "EL403", "EL404", "EL501", "EL502", "EL701", "EL806"):
        assert policy not in recommended, policy
    for kept in ("EL101", "EL102", "EL103", "EL410", "EL411", "EL412", "EL414", "EL415", "EL601", "EL809"):
        assert kept in recommended, kept
    assert {rule.CODE for rule in enabled_rules(STRICT)} >= recommended | {"EL301", "EL401", "EL501"}


# --- 1. host round trips: the compute path only; never in host output ------------------------------------------

MOE = """\
import mlx.core as mx
import mlx.nn as nn
import numpy as np

def route(inds: mx.array):
    return inds.tolist()

class MoE(nn.Module):
    def __call__(self, x: mx.array) -> mx.array:
        inds = mx.argpartition(-x, kth=2, axis=-1)
        order = route(inds)
        return self.mix(x, order)

    def mix(self, x: mx.array, order):
        return x * float(mx.max(x))

    def sanitize(self, weights: dict) -> dict:
        signs = weights["signs"]
        if mx.any(signs > 1).item():
            raise ValueError("bad signs")
        return {k: np.array(v) for k, v in weights.items() if mx.sum(v).item() > 0}

def generate(model, prompt: mx.array):
    tokens = []
    for _ in range(4):
        tokens.append(mx.argmax(model(prompt)).item())
    print(f"loss {mx.mean(prompt).item():.3f}")
    return tokens
"""


def test_host_round_trips_only_on_the_compute_path_in_recommended():
    # `route` and `mix` are called from `__call__`: compute path. sanitize (load time) and generate (token ids on
    # the host) are not.
    assert codes(MOE, prefix="EL10") == [("EL101", 6), ("EL102", 15)]


def test_strict_reports_host_round_trips_everywhere_but_host_output():
    found = codes(MOE, STRICT, prefix="EL10")
    assert ("EL101", 19) not in found  # the condition of `if ...: raise` is host output
    assert ("EL101", 27) not in found  # an f-string argument of print
    assert found == [("EL101", 6), ("EL102", 15), ("EL101", 21), ("EL101", 26)]


@pytest.mark.parametrize("line", [
    "print(x.item())",
    "logger.info('max %f', float(mx.max(x)))",
    "warnings.warn(f'{x.sum().item()} is large')",
    "assert x.sum().item() > 0, 'empty'",
    "raise ValueError(f'bad {x.tolist()}')",
])
def test_host_output_is_never_reported(line: str):
    source = ("import warnings\nimport mlx.core as mx\nimport mlx.nn as nn\nclass M(nn.Module):\n"
              f"    def __call__(self, x: mx.array):\n        {line}\n        return x\n")
    assert codes(source, STRICT, prefix="EL10") == []
    assert codes(source, prefix="EL10") == []


# --- 2./3. integer arithmetic and non-operand parameters (both profiles) ----------------------------------------

def test_integer_arithmetic_is_not_a_python_scalar_finding():
    source = """\
    import mlx.core as mx
    def mask(offset: int, n: int, window: int, num_buckets: int, x: mx.array):
        rinds = mx.arange(offset + n)
        linds = mx.arange(offset, offset + n)
        keep = linds[:, None] < rinds[None] + window
        buckets = x.astype(mx.int16) * num_buckets
        return keep, buckets, mx.maximum(rinds, 0)
    """
    assert codes(source, STRICT, prefix="EL20") == []


def test_non_operand_parameters_are_not_operands():
    source = """\
    import mlx.core as mx
    import torch
    def f(x: mx.array, w: mx.array, t: torch.Tensor):
        a = mx.argpartition(x, kth=3, axis=-1)
        b = mx.roll(x, shift=1, axis=0)
        c = mx.allclose(x, x, rtol=1e-4, atol=1e-5) and mx.allclose(x, x, 1e-4, 1e-5)
        d = mx.conv1d(x, w, stride=2, padding=1, dilation=2)
        e = torch.isclose(t, t, atol=1e-6) & torch.allclose(t, t, 1e-5, 1e-8)
        return a, b, c, d, e
    """
    assert codes(source, STRICT, prefix="EL202") == []


# --- 5. EL401: strict only, and its fix never locks in a float32 promotion --------------------------------------

ATTENTION = """\
import mlx.core as mx
import mlx.nn as nn

class Attention(nn.Module):
    def __init__(self, dims: int, heads: int):
        super().__init__()
        self.head_dim = dims // heads
        self.scale = mx.array(self.head_dim ** -0.5)
        self.q_proj = nn.Linear(dims, dims)

    def __call__(self, x: mx.array) -> mx.array:
        q = self.q_proj(x)
        return q * self.scale
"""


def test_float32_scalar_promotion_is_reported_with_its_consequence():
    assert codes(ATTENTION) == [("EL411", 13)]
    [message] = messages(ATTENTION, "EL411")
    assert message == ("`self.scale` is a float32 array: if `q` is float16/bfloat16, `q * self.scale` promotes the "
                       "result to float32; use a Python float or dtype=q.dtype")


def test_el401_fix_does_not_add_float32_to_a_scalar_that_meets_an_array():
    source = textwrap.dedent(ATTENTION)
    strict_401 = Config(profile="strict", select=("EL401",))
    [finding] = [f for f in lint_source(source, "model.py", strict_401).findings if f.start.line == 8]
    assert finding.fix is None  # through `self.scale`: `q` is not in scope in __init__, so no dtype to name
    fixed = fix_text(source, "model.py", strict_401, unsafe=True).text
    assert "dtype=mx.float32" not in fixed and "self.scale = mx.array(self.head_dim ** -0.5)\n" in fixed
    direct = "import mlx.core as mx\ndef f(x: mx.array, d: int):\n    return x * mx.array(d ** -0.5)\n"
    assert fix_text(direct, "m.py", Config(profile="strict", select=("EL401",)), unsafe=False).text == direct
    assert fix_text(direct, "m.py", Config(profile="strict", select=("EL401",)), unsafe=True).text == (
        "import mlx.core as mx\ndef f(x: mx.array, d: int):\n    return x * mx.array(d ** -0.5, dtype=x.dtype)\n")


def test_el401_noise_of_real_code_is_not_in_recommended():
    source = """\
    import mlx.core as mx
    import numpy as np
    import mlx.nn as nn
    class Norm(nn.Module):
        def __init__(self, dims: int):
            super().__init__()
            self.weight = mx.ones((dims,))
        def __call__(self, x: mx.array, offset: int) -> mx.array:
            positions = mx.arange(offset, offset + x.shape[1])
            table = mx.array(np.zeros((4, 4), dtype=np.float32))
            return x * self.weight + table[positions]
    """
    assert codes(source) == []
    assert {c for c, _ in codes(source, STRICT)} >= {"EL401"}


# --- 6./7./8./9. casts, faithful GELU ports, other backends, fallbacks -------------------------------------------

def test_exact_upcasts_are_not_casts_in_recommended_but_strict_keeps_its_policy():
    source = """\
    import mlx.core as mx
    def route(gates: mx.array) -> mx.array:
        return mx.softmax(gates.astype(mx.float32), axis=-1).astype(gates.dtype)
    """
    assert codes(source, Config(select=("EL402",))) == []
    assert codes(source, STRICT, prefix="EL402") == [("EL402", 3)]


def test_faithful_tanh_gelu_ports_are_not_reported():
    mlp = "import mlx.core as mx\nimport mlx.nn as nn\ndef mlp(x: mx.array):\n    return nn.gelu_approx(x)\n"
    for path in ("models/gemma2.py", "models/gpt2.py", "models/phi3.py", "models/recurrent_gemma.py"):
        assert [f.code for f in lint_source(mlp, path, STRICT).findings if f.code == "EL806"] == [], path
    assert [f.code for f in lint_source(mlp, "models/bert.py", STRICT).findings] == ["EL806"]
    commented = mlp.replace("def mlp", "# hidden_act gelu_new, as the original\ndef mlp")
    assert [f.code for f in lint_source(commented, "models/bert.py", STRICT).findings] == []


def test_torch_in_parity_tests_and_triton_values_are_not_torch_api_in_mlx():
    parity = """\
    import mlx.core as mx
    import torch
    def test_gelu_matches():
        with torch.no_grad():
            ref = torch.nn.functional.gelu(torch.ones(3).to("cpu"))
        assert mx.allclose(mx.array(ref.numpy()), mx.ones(3))
    """
    assert codes(parity, STRICT, prefix="EL803") == []
    triton = "import mlx.core as mx\nimport triton.language as tl\ndef k(p):\n    return tl.load(p).to(tl.float32)\n"
    assert codes(triton, STRICT, prefix="EL803") == []


def test_non_numeric_fallbacks_and_device_choices():
    source = """\
    import mlx.core as mx
    import torch
    device = mx.gpu if mx.metal.is_available() else mx.cpu
    def save(model, path):
        try:
            torch.save(model.state_dict(), path)
        except Exception:
            return False
        return True
    def load_chunks(w: mx.array, step: int):
        parts = []
        for i in range(0, w.shape[0], step):
            parts.append(mx.contiguous(w[i : i + step]))
            mx.eval(parts[-1])
        return parts
    """
    assert codes(source, STRICT, prefix="EL7") == [] and codes(source, STRICT, prefix="EL91") == []


# --- the new dtype-aware rules, on code shaped like the real cases ------------------------------------------------

def test_half_precision_softmax_router():
    source = """\
    import mlx.core as mx
    import mlx.nn as nn
    class Router(nn.Module):
        def __init__(self, dims: int, experts: int):
            super().__init__()
            self.classifier = nn.Linear(dims, experts)
        def __call__(self, hidden_states: mx.array) -> mx.array:
            router_logits = self.classifier(hidden_states)
            return mx.softmax(router_logits, axis=-1)
    class Upcast(nn.Module):
        def __call__(self, gates: mx.array) -> mx.array:
            gates = gates.astype(mx.float32)
            return mx.softmax(gates, axis=-1)
    class Precise(nn.Module):
        def __call__(self, gates: mx.array) -> mx.array:
            return mx.softmax(gates, axis=-1, precise=True)
    """
    assert codes(source) == [("EL410", 9)]
    assert messages(source, "EL410")[0].startswith(
        "Softmax without `precise=True`: if `router_logits` is float16/bfloat16, it is computed in half precision")


def test_additive_mask_of_minus_1e9_in_float16():
    source = """\
    import mlx.core as mx
    def attend(scores: mx.array, mask: mx.array) -> mx.array:
        scores = scores + mask.astype(mx.float16) * -1e9
        return mx.softmax(scores.astype(mx.float32), axis=-1)
    """
    assert codes(source) == [("EL412", 3)]
    assert messages(source, "EL412") == [
        "`-1e9` is inf in float16: the operation sees inf (and 0 * inf is NaN)"]
    assert codes(source.replace("mx.float16", "mx.bfloat16")) == []


def test_unknown_dtype_mask_is_reported_as_if_float16_in_strict_only():
    source = """\
    import mlx.core as mx
    import mlx.nn as nn
    class Attention(nn.Module):
        def __call__(self, scores: mx.array, mask: mx.array) -> mx.array:
            return mx.softmax(scores + (1 - mask) * -1e9, axis=-1, precise=True)
    """
    assert codes(source) == []
    assert messages(source, "EL412", STRICT) == [
        "`-1e9` is inf in float16 (if `1 - mask` is float16): the operation sees inf (and 0 * inf is NaN)"]


def test_eps_that_is_zero_in_float16_and_the_typed_scalar_that_keeps_the_bug():
    source = """\
    import mlx.core as mx
    def normalize(h: mx.array, counts: mx.array) -> mx.array:
        n = counts.astype(mx.float16)
        a = h / (n + 1e-8)
        b = h / (n + mx.array(1e-8, dtype=n.dtype))
        return a + b + h / (n + 1e-3)
    """
    assert codes(source) == [("EL412", 4), ("EL412", 5)]
    assert messages(source, "EL412")[1] == ("`1e-8` is 0 in float16: the operation sees 0 (an eps that protects "
                                            "nothing); the typed scalar keeps the bug")


def test_float16_variance_overflow_in_a_hand_written_rmsnorm():
    source = """\
    import mlx.core as mx
    import mlx.nn as nn
    class RMSNorm(nn.Module):
        def __call__(self, x: mx.array) -> mx.array:
            h = x.astype(mx.float16)
            variance = mx.mean(h * h, axis=-1, keepdims=True)
            return h * mx.rsqrt(variance + 1e-5)
    class UnknownDtype(nn.Module):
        def __call__(self, x: mx.array) -> mx.array:
            return x * mx.rsqrt((x ** 2).mean(-1, keepdims=True) + 1e-5)
    """
    assert codes(source) == [("EL413", 6)]  # decided: float16
    assert codes(source, STRICT, prefix="EL413") == [("EL413", 6), ("EL413", 10)]  # strict: "if x is float16"


def test_int32_products_of_index_arrays():
    source = """\
    import mlx.core as mx
    def flat_index(h: int, w: int, vocab: int) -> mx.array:
        rows = mx.arange(h)[:, None]
        cols = mx.arange(w)[None]
        wide = mx.arange(h, dtype=mx.int64)[:, None]
        return rows * cols + wide * cols + rows * 4
    """
    assert codes(source) == [("EL414", 6)]


def test_long_cumsum_in_bfloat16():
    source = """\
    import mlx.core as mx
    def positions(dt: mx.array, mask: mx.array) -> mx.array:
        steps = mx.cumsum(dt.astype(mx.bfloat16), axis=-1)
        rows = mx.cumsum(mask.flatten())
        total = mx.sum(dt.astype(mx.bfloat16), axis=-1)
        return steps, rows, total
    """
    assert codes(source) == [("EL415", 3)]


def test_examples_stay_strict_clean():
    from pathlib import Path

    from emberlint.runner import ConfigResolver, Overrides, discover_targets, lint_targets

    root = Path(__file__).resolve().parent.parent / "examples" / "m2bert_mlx"
    targets, errors = discover_targets([str(root)], ConfigResolver(Overrides(profile="strict")))
    assert not errors and targets
    results = lint_targets(targets, jobs=1)
    assert [f for r in results for f in r.findings] == []
