"""``emberlint fix`` on a loosened copy of the strict M2-BERT port computes bit-identical model outputs.

The package ``examples/m2bert_mlx/m2bert_mlx`` is copied twice into a temporary folder. In both copies the
forward-pass modules are loosened by ``tests/loosen.py`` (``mx.multiply(a, b)`` -> ``a * b``, ...; typed
literal scalars -> bare literals). One copy stays loose, the other is then fixed by the ``emberlint fix`` CLI
(safe fixes only). The tiny reference bundle runs through (a) the installed original, (b) the loose copy and
(c) the fixed copy, each in its own ``python -I`` subprocess that puts its copy first on ``sys.path`` and
asserts every imported ``m2bert_mlx`` module came from that copy (the editable install must not win).

Required: (b) == (c) bit for bit (``mx.array_equal``, same dtype) for every output of the MLM and the
classification model. A difference would be a fixer bug (or a fix that must be marked unsafe), never a reason to
loosen the comparison. (a) == (b) holds too: the loosening is exact (MLX's weak typing rounds ``x * 0.5`` with
float32 ``x`` exactly as ``mx.array(0.5, dtype=x.dtype)``), and a perturbed copy (one gelu constant moved by
1e-7) shows the comparison can see a one-ulp change.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from emberlint.cli import main
from tests.loosen import loosen_source
from tests.m2bert.m2bert_reference_data import PACKAGE_ROOT, require_bundle

mx = pytest.importorskip("mlx.core")

PACKAGE = "m2bert_mlx"
# Every module with backend arithmetic that runs in the forward pass (heads.py has none).
LOOSENED = ["bert", "blockdiag_linear", "fft_conv", "hyena_filter", "mlp", "numerics", "precise_math",
            "sequence_mixer"]
OPERATORS = {
    "bert": {"+": 3, "*": 1, "/": 1, "@": 1},
    "blockdiag_linear": {"@": 1, "+": 1},
    "fft_conv": {"*": 2, "+": 1},
    "hyena_filter": {"*": 10, "/": 3, "unary -": 3, "-": 1, "+": 4, "@": 1},
    "mlp": {"*": 1, "+": 2},
    "numerics": {"*": 3, "+": 1},
    "precise_math": {"*": 8, "+": 3, "/": 2, "-": 3, "**": 1},
    "sequence_mixer": {"+": 3, "*": 4},
}
# Bare operators EL301 cannot see as array math with local inference: `gelu_exact(gated) * non_gated` (a
# function of another module times a slice of a layer's output) and
# `typed_scalar(2.0, dtype) * typed_scalar(3.141592653589793, dtype)` and
# `exp_float64(rate) + typed_scalar(self._shift, FILTER_DTYPE)` (imported helpers' results).
UNSEEN = {"mlp": 1, "hyena_filter": 2}
# gelu_exact's `half`/`one` constants, inlined as `x * 0.5 * (1.0 + ...)`.
LITERALS = {"numerics": 2}
# Every EL301 fix (safe and unsafe) restores the original syntax tree except where EL301 cannot see the operator (UNSEEN) and in
# numerics.py, whose bare literals get only unsafe typed-scalar fixes (`x` is a parameter of unknown dtype).
# Safe EL301 fixes per module (measured): the other operators' operands are assumed arrays (parameters).
SAFE_APPLIED = {"bert": 2, "hyena_filter": 1, "numerics": 1, "precise_math": 3, "sequence_mixer": 3}
RESTORED = {"bert", "blockdiag_linear", "fft_conv", "precise_math", "sequence_mixer"}

RUN = """
import sys
from pathlib import Path

root, bundle, out = Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3]
sys.path.insert(0, str(root))
import mlx.core as mx
from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.parity import run_port

foreign = [m.__file__ for name, m in sys.modules.items()
           if name.split(".")[0] == "m2bert_mlx" and not Path(m.__file__).resolve().is_relative_to(root)]
assert not foreign, f"imported from outside {root}: {foreign}"
mx.save_safetensors(out, run_port(ReferenceBundle.open(bundle)))
"""


def emberlint(args: list[str], cache: Path):
    """The CLI in-process (one worker), with its own result cache."""
    return CliRunner().invoke(main, [*args, "--jobs", "1"], catch_exceptions=False,
                              env={"EMBERLINT_CACHE_DIR": str(cache)})


def strict_findings(folder: Path, cache: Path) -> Counter:
    """``emberlint check --profile strict`` findings of a package copy, counted by (module, code)."""
    result = emberlint(["check", "--profile", "strict", "--format", "json", str(folder)], cache)
    assert result.exit_code in (0, 1), result.output
    return Counter((Path(f["path"]).stem, f["code"]) for f in json.loads(result.output)["findings"])


def applied_fixes(output: str) -> dict[str, str]:
    """``Fixed <path>: N (EL301 ×N)`` lines of ``emberlint fix``, by module."""
    return {
        Path(line.split(": ", 1)[0].removeprefix("Fixed ")).stem: line.split(": ", 1)[1]
        for line in output.splitlines() if line.startswith("Fixed ")
    }


def copy_package(destination: Path) -> Path:
    shutil.copytree(PACKAGE_ROOT / PACKAGE, destination / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    return destination / PACKAGE


def module_texts(package: Path) -> dict[str, str]:
    return {name: (package / f"{name}.py").read_text() for name in LOOSENED}


def forward(root: Path, bundle: Path, out: Path) -> dict:
    """Outputs of the MLM and classification models of the package under ``root`` (its own process)."""
    subprocess.run([sys.executable, "-I", "-c", RUN, str(root), str(bundle), str(out)], check=True, cwd=out.parent,
                   timeout=60)
    return mx.load(str(out))


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    bundle = require_bundle("tiny")
    base = tmp_path_factory.mktemp("reference_package")
    cache = base / "cache"
    loose = copy_package(base / "loose")
    loosened = {}
    for name in LOOSENED:
        path = loose / f"{name}.py"
        loosened[name] = loosen_source(path.read_text())
        path.write_text(loosened[name].text)
    fixed = base / "fixed" / PACKAGE
    shutil.copytree(loose, fixed)
    findings_before = strict_findings(loose, cache)
    first = emberlint(["fix", "--profile", "strict", str(fixed)], cache)
    after_first = module_texts(fixed)
    second = emberlint(["fix", "--profile", "strict", str(fixed)], cache)
    # The operators on parameters of __call__ (assumed arrays) get unsafe fixes only; this copy takes every EL301
    # fix, to check that the rewrite restores the original syntax.
    operators_fixed = base / "operators_fixed" / PACKAGE
    shutil.copytree(loose, operators_fixed)
    emberlint(["fix", "--profile", "strict", "--select", "EL301", "--unsafe-fixes", str(operators_fixed)], cache)
    perturbed = base / "perturbed" / PACKAGE
    shutil.copytree(loose, perturbed)
    gelu = perturbed / "numerics.py"
    gelu.write_text(gelu.read_text().replace("x * 0.5 *", "x * 0.5000001 *"))
    outputs = {
        "original": forward(PACKAGE_ROOT, bundle, base / "original.safetensors"),
        "loose": forward(loose.parent, bundle, base / "loose.safetensors"),
        "fixed": forward(fixed.parent, bundle, base / "fixed.safetensors"),
        "perturbed": forward(perturbed.parent, bundle, base / "perturbed.safetensors"),
    }
    return {
        "cache": cache, "loose": loose, "fixed": fixed, "loosened": loosened, "findings": findings_before,
        "first": first, "second": second, "after_first": after_first, "outputs": outputs,
        "operators_fixed": operators_fixed,
    }


def test_original_package_is_strict_clean(round_trip):
    assert strict_findings(PACKAGE_ROOT / PACKAGE, round_trip["cache"]) == Counter()


def test_loosening_counts(round_trip):
    loosened = round_trip["loosened"]
    assert {name: dict(result.operators) for name, result in loosened.items()} == OPERATORS
    assert {name: result.literals for name, result in loosened.items() if result.literals} == LITERALS
    assert loosened["numerics"].inlined == ["half", "one"]
    assert "return x * 0.5 * (1.0 + mx.erf(x * inv_sqrt2))" in loosened["numerics"].text


def test_loose_copy_really_is_loose(round_trip):
    expected = Counter({
        (name, "EL301"): sum(counts.values()) - UNSEEN.get(name, 0) for name, counts in OPERATORS.items()
    })
    expected[("numerics", "EL201")] = 2
    assert round_trip["findings"] == expected
    assert sum(expected.values()) == 63


def test_fix_applies_the_safe_fixes_once(round_trip):
    first, second = round_trip["first"], round_trip["second"]
    # Most loosened operators act on parameters of __call__ or of helpers: their operands are only assumed arrays,
    # so their fixes are unsafe. The safe ones have operands proven by dataflow (backend results, self.attr arrays).
    assert first.exit_code == 1, first.output
    assert applied_fixes(first.output) == {name: f"{n} (EL301 \u00d7{n})" for name, n in SAFE_APPLIED.items()}
    assert "10 finding(s) fixed in 5 file(s) (EL301 \u00d710); 53 more with --unsafe-fixes." in first.output
    # Fixing again changes nothing.
    assert "0 finding(s) fixed in 0 file(s)" in second.output
    assert module_texts(round_trip["fixed"]) == round_trip["after_first"]


def test_fixed_copy_reparses_and_restores_the_original(round_trip):
    fixed = round_trip["operators_fixed"]
    restored = set()
    for name in LOOSENED:
        text = (fixed / f"{name}.py").read_text()
        cst.parse_module(text)
        tree = ast.dump(ast.parse(text))
        if tree == ast.dump(ast.parse((PACKAGE_ROOT / PACKAGE / f"{name}.py").read_text())):
            restored.add(name)
    assert restored == RESTORED
    numerics = (fixed / "numerics.py").read_text()
    assert "mx.multiply(mx.multiply(x, 0.5), mx.add(1.0, mx.erf(mx.multiply(x, inv_sqrt2))))" in numerics


def assert_bit_identical(left: dict, right: dict) -> None:
    assert set(left) == set(right)
    for name, value in left.items():
        assert value.dtype == right[name].dtype == mx.float32, name
        assert value.shape == right[name].shape, name
        assert mx.array_equal(value, right[name]).item(), name


def test_fixed_outputs_are_bit_identical_to_loose(round_trip):
    outputs = round_trip["outputs"]
    assert {"embeddings", "layer_0", "layer_1", "sequence_output", "mlm_logits", "mlm_logits_head",
            "pooled_output", "cls_logits"} <= set(outputs["loose"])
    assert_bit_identical(outputs["loose"], outputs["fixed"])


def test_loosening_is_exact(round_trip):
    outputs = round_trip["outputs"]
    assert_bit_identical(outputs["original"], outputs["loose"])


def test_comparison_sees_a_one_ulp_change(round_trip):
    outputs = round_trip["outputs"]
    changed = [name for name in outputs["loose"]
               if not mx.array_equal(outputs["loose"][name], outputs["perturbed"][name]).item()]
    assert "cls_logits" in changed and "mlm_logits" in changed


# --- the loosener itself -------------------------------------------------------------------------------------

STRICT_SNIPPET = """import mlx.core as mx
def f(a, b, c, x):
    half = typed_scalar(0.5, x.dtype)
    k = typed_scalar(2.0, x.dtype)
    y = mx.subtract(a, mx.subtract(b, c))
    z = mx.subtract(mx.subtract(a, b), c)
    p = mx.power(mx.negative(a), b)
    q = mx.power(a, mx.negative(b))
    r = mx.power(mx.power(a, b), c)
    s = mx.power(a, mx.power(b, c))
    t = mx.negative(mx.add(a, b)).reshape(-1)
    u = mx.multiply(mx.multiply(x, half), mx.add(mx.array(1.0, dtype=x.dtype), mx.erf(mx.divide(x, k))))
    v = mx.divide(a, mx.array(-2.0, dtype=a.dtype))
    w = mx.multiply(mx.array(2.0, dtype=a.dtype), mx.array(3.0, dtype=a.dtype))
    g = mx.matmul(mx.add(a, b), mx.multiply(b, c).T)
    h = mx.add(a, b, stream=mx.cpu)
    return mx.multiply(mx.add(a, b), k), mx.multiply(k, k), y, z, p, q, r, s, t, u, v, w, g, h
"""

LOOSE_SNIPPET = """import mlx.core as mx
def f(a, b, c, x):
    k = typed_scalar(2.0, x.dtype)
    y = a - (b - c)
    z = a - b - c
    p = (-a) ** b
    q = a ** -b
    r = (a ** b) ** c
    s = a ** b ** c
    t = (-(a + b)).reshape(-1)
    u = x * 0.5 * (1.0 + mx.erf(x / k))
    v = a / -2.0
    w = mx.array(2.0, dtype=a.dtype) * mx.array(3.0, dtype=a.dtype)
    g = (a + b) @ (b * c).T
    h = mx.add(a, b, stream=mx.cpu)
    return (a + b) * k, k * k, y, z, p, q, r, s, t, u, v, w, g, h
"""


def test_loosener_parenthesizes_exactly_and_inlines_only_operand_constants():
    result = loosen_source(STRICT_SNIPPET)
    assert result.text == LOOSE_SNIPPET
    assert result.operators == Counter({"**": 6, "*": 6, "-": 4, "unary -": 3, "+": 4, "/": 2, "@": 1})
    assert result.literals == 3  # 0.5 (inlined `half`), 1.0, -2.0; not `w`'s two literals, not `k` (k * k)
    assert result.inlined == ["half"]


def test_loosened_snippet_computes_the_same_values():
    def run(text: str):
        namespace = {"typed_scalar": lambda value, dtype: mx.array(value, dtype=dtype)}
        exec(compile(text, "<snippet>", "exec"), namespace)  # noqa: S102 -- both spellings must compute alike
        a, b, c, x = (mx.random.uniform(0.5, 2.0, (3, 3), key=mx.random.key(seed)) for seed in range(4))
        return namespace["f"](a, b, c, x)

    for strict, loose in zip(run(STRICT_SNIPPET), run(LOOSE_SNIPPET)):
        assert strict.dtype == loose.dtype
        assert mx.array_equal(strict, loose, equal_nan=True).item()
