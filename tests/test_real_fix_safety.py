"""CI subset of benchmarks/real_fix_safety.py: safe fixes leave real mlx-lm models bit-identical.

A few architectures (Gemma 4, whose list cache a "safe" fix once turned into an array, and llama, qwen3, mamba) are
built from tiny configs with seeded weights and run (forward, prompt, one cached decoding step) in float32 and
float16 from a pristine copy of mlx_lm and from a copy rewritten by ``emberlint fix --profile strict``. The full run
over every architecture is the benchmark.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "real_fix_safety.py"
ARCHS = ["gemma4_text", "llama", "qwen3", "mamba"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    pytest.importorskip("mlx_lm")
    out = tmp_path_factory.mktemp("real_fix_safety") / "report.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--arch", ",".join(ARCHS), "--dtypes", "float32,float16", "--no-unsafe",
         "--no-torch", "--fix-only-archs", "--jobs", "2", "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_safe_fixes_keep_real_models_bit_identical(report):
    safe = report["mlx"]["variants"]["safe"]
    assert safe["counts"] == {"identical": len(ARCHS), "differs": 0, "could-not-build": 0}, safe["per_arch"]
    # the fix did rewrite the models (otherwise the comparison proves nothing)
    changed = report["mlx"]["fixes"]["safe"]["changed_files"]
    assert any(Path(path).stem in ARCHS for path in changed), changed


def test_gemma4_cache_padding_is_left_alone(report):
    spec = importlib.util.find_spec("mlx_lm")
    source = (Path(spec.origin).parent / "models" / "gemma4_text.py").read_text()
    assert "cache = cache + [None] * (len(self.layers) - len(cache))" in source
    # cached decoding ran on both copies without an exception, and gave the same logits
    assert report["mlx"]["variants"]["safe"]["per_arch"]["gemma4_text"] == {"status": "identical"}


def test_tiny_configs_fill_required_fields():
    spec = importlib.util.spec_from_file_location("real_fix_safety", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pytest.importorskip("mlx_lm")
    llama = importlib.import_module("mlx_lm.models.llama")
    config = module.tiny_config("llama", llama)
    assert config["num_hidden_layers"] == 2 and config["vocab_size"] == 256 and config["model_type"] == "llama"
    gemma = importlib.import_module("mlx_lm.models.gemma4")
    nested = module.tiny_config("gemma4", gemma)["text_config"]
    assert nested["num_kv_shared_layers"] == 2 and nested["hidden_size"] == 64


def test_census_counts_reexported_models_and_names_helpers():
    spec = importlib.util.spec_from_file_location("real_fix_safety", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pytest.importorskip("mlx_lm")
    archs, excluded = module.census()
    # solar_open defines ModelArgs and imports glm4_moe's Model: an architecture
    assert "solar_open" in archs and "llama" in archs
    assert excluded["cache"] == "helper module: defines no ModelArgs or Model"
    assert not set(archs) & set(excluded)


def test_nested_config_read_by_the_base_models_text_args():
    spec = importlib.util.spec_from_file_location("real_fix_safety", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pytest.importorskip("mlx_lm")
    # qwen3_5_moe subclasses qwen3_5.Model; its text_config is read by qwen3_5.TextModelArgs (defaults are
    # full-size: an unfilled config does not fit in memory)
    nested = module.tiny_config("qwen3_5_moe", importlib.import_module("mlx_lm.models.qwen3_5_moe"))["text_config"]
    assert nested["hidden_size"] == 64 and nested["num_experts"] == 4 and nested["full_attention_interval"] == 2


def test_compare_counts_an_architecture_built_when_one_dtype_runs(tmp_path):
    spec = importlib.util.spec_from_file_location("real_fix_safety", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pytest.importorskip("mlx")
    gather = {"cache": "RuntimeError: [GatherMM::eval] Currently only supports float32."}
    ran = {"errors": {}, "outputs": []}
    half = {"dtypes": {"float32": ran, "float16": {"errors": gather, "outputs": []}}}
    result = module.compare("moe", ["float32", "float16"], half, half, tmp_path, tmp_path)
    assert result == {"status": "identical", "errors_in_some_dtypes": [f"float16: {gather}"]}
    broken = {"dtypes": {d: {"errors": {"forward": "RuntimeError: x"}, "outputs": []} for d in ("float32", "float16")}}
    assert module.compare("a", ["float32", "float16"], broken, broken, tmp_path, tmp_path)["status"] == "could-not-build"
    fixed_runs = {"dtypes": {"float32": ran, "float16": ran}}
    result = module.compare("moe", ["float32", "float16"], half, fixed_runs, tmp_path, tmp_path)
    assert result["status"] == "differs" and result["details"][0].startswith("float16: exceptions")
