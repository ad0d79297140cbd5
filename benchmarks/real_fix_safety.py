"""Fix safety on real models: do emberlint's safe fixes leave every mlx-lm architecture bit-identical?

An architecture is a module of ``mlx_lm.models`` that defines ``ModelArgs`` and defines or imports ``Model``
(``census``; the helper modules are printed with the reason they are not counted).
For every architecture in ``mlx_lm.models`` (mlx-lm pinned in pyproject's ``bench`` extra, 0.32.2) a tiny config is
built from its ``ModelArgs`` (two layers, hidden size 64, vocabulary 256; required fields filled from their names and
types, nested ``text_config`` dicts too, per-architecture overrides in ``OVERRIDES``), the weights are seeded, and
the model runs a forward pass over a fixed token sequence, then a prompt plus one cached decoding step with
``mlx_lm.models.cache.make_prompt_cache``, in float32, bfloat16 and float16.

Each architecture runs in its own subprocess, once on a pristine temporary copy of the installed ``mlx_lm`` package
and once on a copy rewritten by ``emberlint fix`` (``sys.path`` points at the copy). Safe fixes must give
bit-identical outputs (``mx.array_equal(..., equal_nan=True)``, dtypes and shapes included) and the same
exceptions; ``--unsafe-fixes`` differences are listed (they are what "unsafe" means). An architecture builds and
runs when one dtype runs every stage (mixture-of-experts layers raise in half precision on the CPU backend); a copy
whose files loaded by an architecture are byte-identical to the pristine ones reuses the pristine run. The PyTorch side does the same
with tiny configs of transformers' bert, gpt2, llama, t5, whisper and mistral: a temporary copy of the transformers
package whose modeling files of those models are fixed, forward outputs compared with ``torch.equal``.

    python benchmarks/real_fix_safety.py -j 2                  # everything (about 2 minutes on 2 cores)
    python benchmarks/real_fix_safety.py --arch llama,gemma4_text --dtypes float32 --no-unsafe --no-torch
    python benchmarks/real_fix_safety.py --json report.json    # also write the per-architecture report

Nothing of mlx-lm or transformers is copied into this repository: the copies live in a temporary folder.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import importlib.machinery
import importlib.util
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import typing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DTYPES = ("float32", "bfloat16", "float16")
TOKENS = [[1, 7, 3, 11, 5, 2, 9, 4, 13, 6]]
NEXT_TOKEN = [[8]]
WORKER_TIMEOUT = 600

# --- tiny configs ------------------------------------------------------------------------------------------------
# Values by field name; every ModelArgs takes what it knows (``from_dict`` drops the rest).
COMMON: dict[str, typing.Any] = {
    "hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 256, "max_position_embeddings": 512,
    "rms_norm_eps": 1e-5, "layer_norm_eps": 1e-5, "norm_eps": 1e-5, "layer_norm_epsilon": 1e-5,
    "layernorm_epsilon": 1e-5, "post_norm_eps": 1e-5, "rope_theta": 10000.0,
    "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False,
    # GPT-2 / other spellings
    "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 512, "n_ctx": 512, "n_inner": 128, "d_model": 64,
    "n_layers": 2, "num_layers": 2, "n_heads": 4, "num_heads": 4, "d_ff": 128, "ffn_dim": 128, "n_kv_heads": 2,
    "num_kv_heads": 2, "hidden_dim": 128, "model_dim": 64, "embedding_size": 64, "ffn_hidden_size": 128,
    "mlp_hidden_size": 128, "ff_intermediate_size": 128, "intermediate_size_mlp": 128, "dim": 64,
    # mixtures of experts
    "num_experts": 4, "num_local_experts": 4, "moe_num_experts": 4, "num_experts_per_tok": 2, "moe_topk": 2,
    "n_routed_experts": 4, "n_shared_experts": 1, "num_shared_experts": 1, "num_shared_expert": 1,
    "moe_intermediate_size": 32, "moe_hidden_size": 32, "shared_expert_intermediate_size": 32,
    "shared_intermediate_size": 32, "expert_ffn_hidden_size": 32, "first_k_dense_replace": 1, "moe_layer_freq": 1,
    "n_group": 1, "topk_group": 1, "routed_scaling_factor": 1.0, "norm_topk_prob": True, "decoder_sparse_step": 1,
    "mlp_only_layers": [], "num_dense_layers": 1,
    # multi-head latent attention
    "kv_lora_rank": 16, "q_lora_rank": 32, "qk_rope_head_dim": 8, "qk_nope_head_dim": 16, "v_head_dim": 16,
    "index_head_dim": 16, "index_n_heads": 2, "index_topk": 4,
    # state-space and linear-attention layers
    "state_size": 8, "ssm_state_size": 8, "conv_kernel": 4, "expand": 2, "time_step_rank": 8, "n_groups": 1,
    "mamba_num_heads": 4, "mamba_head_dim": 16, "mamba_d_conv": 4, "mamba_d_state": 8, "mamba_expand": 2,
    "conv_L_cache": 3, "conv_window": 4, "conv1d_width": 4, "linear_num_key_heads": 2, "linear_num_value_heads": 4,
    "linear_key_head_dim": 16, "linear_value_head_dim": 16, "linear_conv_kernel_dim": 4,
    "a_low_rank_dim": 8, "v_low_rank_dim": 8, "gate_low_rank_dim": 8, "decay_low_rank_dim": 8,
    # sliding windows, chunks
    "sliding_window": 4, "sliding_window_size": 4, "attention_window_size": 4, "attention_chunk_size": 4,
    "block_size": 4, "sliding_window_pattern": 2, "layer_types": ["sliding_attention", "full_attention"],
    # per-layer inputs, shared key/value layers (Gemma 3n/4)
    "vocab_size_per_layer_input": 256, "hidden_size_per_layer_input": 16, "global_head_dim": 32,
    "num_kv_shared_layers": 0,
    # other spellings of the same sizes
    "kv_channels": 16, "rotary_dim": 8, "n_shared_head": 2, "num_experts_per_token": 2, "moe_top_k": 2,
    "mamba_n_heads": 4, "mamba_d_head": 16, "mamba_n_groups": 1, "mamba_d_ssm": 64,
    "full_attention_interval": 2,
}

# Per-architecture values where the names above do not give a model that builds (keys: module names).
_GEMMA4 = {"num_hidden_layers": 4, "num_kv_shared_layers": 2,
           "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention"]}
_ROPE_MISTRAL = {"llama_4_scaling_beta": 0.1, "original_max_position_embeddings": 512, "rope_theta": 10000.0,
                 "rope_type": "default"}
_LFM2 = {"block_dim": 64, "block_ff_dim": 128, "block_multiple_of": 16, "block_ffn_dim_multiplier": 1.0,
         "block_auto_adjust_ff_dim": False, "full_attn_idxs": [1], "layer_types": ["conv", "full_attention"]}
_LLAMA4 = {"no_rope_layers": [1, 0], "num_experts_per_tok": 1, "interleave_moe_layer_step": 1}
_ROPE_PER_LAYER_TYPE = {"full_attention": {"rope_theta": 10000.0, "rope_type": "default"},
                        "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}}
OVERRIDES: dict[str, dict[str, typing.Any]] = {
    "gemma4_text": _GEMMA4,
    "gemma4": {"text_config": _GEMMA4},
    "deepseek_v2": {"rope_scaling": {"factor": 1.0, "mscale_all_dim": 0, "original_max_position_embeddings": 512,
                                     "beta_fast": 32, "beta_slow": 1, "mscale": 1}},
    "minicpm3": {"rope_scaling": {"type": "longrope", "short_factor": [1.0] * 4, "long_factor": [1.0] * 4,
                                  "original_max_position_embeddings": 512}},
    "ministral3": {"rope_parameters": _ROPE_MISTRAL},
    "mistral4": {"rope_parameters": _ROPE_MISTRAL},
    "afm7": {"num_kv_reuse_layers": 1, "num_layers": 3},
    "baichuan_m1": {"conv_window": 2, "sliding_window_layers": [0]},
    "llama4": {"text_config": {**_LLAMA4, "num_hidden_layers": 4, "no_rope_layers": [1, 0, 1, 0]}},
    "exaone_moe": {"is_moe_layer": [False, True]},
    "gemma3n": {"text_config": {"activation_sparsity_pattern": [0.0, 0.0], "altup_num_inputs": 2,
                                "altup_active_idx": 0, "laurel_rank": 8, "altup_coef_clip": 120.0,
                                "final_logit_softcapping": 30.0, "rope_local_base_freq": 10000.0}},
    "lfm2": _LFM2,
    "lfm2_moe": _LFM2,
    "lfm2-vl": {"text_config": _LFM2},
    "mellum": {"rope_parameters": _ROPE_PER_LAYER_TYPE},
    "spark2_5": {"rope_parameters": _ROPE_PER_LAYER_TYPE},
    "llama4_text": _LLAMA4,
    "recurrent_gemma": {"block_types": ["recurrent", "attention"]},
    "longcat_flash": {"mla_scale_q_lora": True, "mla_scale_kv_lora": True, "zero_expert_type": "identity"},
    "muse_spark": {"text_config": {"num_shared_experts": 0, "layer_rope_theta": [10000.0, 10000.0],
                                   "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"}}},
    "nemotron-nas": {"block_configs": [{"attention": {"n_heads_in_group": 2}, "ffn": {"ffn_mult": 2.0}}] * 2},
    "mimo_v2_flash": {"hybrid_layer_pattern": [0, 1], "moe_layer_freq": [0, 1], "topk_method": "noaux_tc",
                      "scoring_func": "sigmoid"},
    "nemotron_h": {"layer_types": ["mamba", "attention"]},
    "openelm": {"num_query_heads": [4, 4], "num_kv_heads": [2, 2], "ffn_multipliers": [2.0, 2.0],
                "num_transformer_layers": 2},
    "dbrx": {"ffn_config": {"ffn_hidden_size": 128, "moe_num_experts": 4, "moe_top_k": 2},
             "attn_config": {"kv_n_heads": 2, "clip_qkv": 8.0, "rope_theta": 10000.0}},
    "kimi_linear": {"linear_attn_config": {"kda_layers": [1], "full_attn_layers": [2], "num_heads": 4,
                                           "head_dim": 16, "short_conv_kernel_size": 4}},
    "glm_moe_dsa": {"rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"}, "topk_method": "noaux_tc",
                    "scoring_func": "sigmoid"},
    "gptj": {"rotary_dim": 8},
    "granitemoehybrid": {"layer_types": ["mamba", "attention"]},
    "hunyuan": {"rope_scaling": {"alpha": 1.0, "factor": 1.0, "type": "dynamic"}},
    "jamba": {"layers_block_type": ["mamba", "attention"]},
    "kimi_k3": {"text_config": {"linear_attn_config": {"kda_layers": [1], "full_attn_layers": [2], "num_heads": 4,
                                                       "head_dim": 16, "short_conv_kernel_size": 4}}},
    "longcat_flash_ngram": {"mla_scale_q_lora": True, "mla_scale_kv_lora": True},
}

# Why an architecture cannot run tiny on this machine (printed next to the measured exception, which stays the
# evidence; an architecture listed here that builds is reported as built).
CANNOT_RUN_HERE: dict[str, str] = {
    "bitnet": "BitLinear is a Metal kernel (mx.fast.metal_kernel in bitlinear_layers.py); the CPU build has no Metal",
    "muse_spark": "it calls mlx_lm.kernels, which are Metal kernels (mx.fast.metal_kernel); no Metal here",
    "olmo": "imports hf_olmo (the ai2-olmo package) and calls sys.exit(1) without it",
    "phi3small": "mlx's CPU backend corrupts the heap during its forward pass (the process aborts with a malloc error "
                 "or a segmentation fault, also with compilation disabled); the model accepts block sizes 32 and 64 "
                 "only",
    "prism_hadamard_qwen35": "a Hadamard pack: ModelArgs requires a real checkpoint's packed-module manifest and "
                             "2-bit affine group-128 weights",
}
HALF_PRECISION_ON_CPU = "GatherMM::eval] Currently only supports float32"


def _placeholder(annotation: typing.Any, name: str) -> typing.Any:
    """A tiny value for a required field not in COMMON, from its type."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Union and args:
        return _placeholder(args[0], name)
    if annotation is bool:
        return False
    if annotation is int:
        return 1 if "factor" in name or "ratio" in name else 2
    if annotation is float:
        return 1e-5 if "eps" in name else 1.0
    if annotation is str:
        return ""
    if origin in (list, typing.List) or annotation is list:
        return []
    if origin in (dict, typing.Dict) or annotation is dict:
        return {}
    if origin in (tuple, typing.Tuple):
        return tuple(_placeholder(a, name) for a in args)
    return None


def _resolved_fields(cls: type) -> list[tuple[dataclasses.Field, typing.Any]]:
    try:
        hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    except Exception:
        hints = {}
    return [(f, hints.get(f.name, f.type)) for f in dataclasses.fields(cls)]


def _fits(value: typing.Any, annotation: typing.Any) -> bool:
    """Whether a COMMON value has the field's type (``sliding_window_pattern`` is an int in one model, a string in
    another)."""
    origin = typing.get_origin(annotation)
    if annotation is typing.Any or isinstance(annotation, str):
        return True
    if origin is typing.Union:
        return value is None or any(_fits(value, a) for a in typing.get_args(annotation) if a is not type(None))
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in (bool, str):
        return isinstance(value, annotation)
    if origin is list or annotation is list:
        return isinstance(value, list)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    return True


def _nested_classes(module) -> list[type]:
    """Config classes a ``text_config`` dict may be read by: the module's other dataclasses, dataclasses it imports
    from other model modules (``kimi_k25`` reads ``deepseek_v3.ModelArgs``), the ModelArgs of the model modules it
    imports (``gemma3`` reads ``gemma3_text.ModelArgs``), and the same for the module its ``Model`` comes from
    (``qwen3_5_moe`` reuses ``qwen3_5.Model``)."""
    found: list[type] = []

    def collect(source) -> None:
        for value in vars(source).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value):
                if value.__module__.startswith("mlx_lm.models.") and value is not source.ModelArgs:
                    found.append(value)
            elif isinstance(value, type(source)) and value.__name__.startswith("mlx_lm.models.") and value is not source:
                if hasattr(value, "ModelArgs"):
                    found.append(value.ModelArgs)

    collect(module)
    for base in getattr(getattr(module, "Model", None), "__mro__", ()):
        origin = sys.modules.get(base.__module__)
        if origin is not None and origin is not module and hasattr(origin, "ModelArgs"):
            found.append(origin.ModelArgs)
            collect(origin)
            break
    unique = []
    for cls in found:
        if cls not in unique and cls is not module.ModelArgs:
            unique.append(cls)
    return unique


NESTED = ("text_config", "language_config", "llm_config")


def _fill(cls: type, config: dict, module, nested_level: int = 0) -> dict:
    for f, annotation in _resolved_fields(cls):
        if f.name in config or f.name == "model_type" and "model_type" in config:
            continue
        if f.name in NESTED:
            if nested_level:
                continue
            nested: dict = {"model_type": config.get("model_type", "")}
            for inner in _nested_classes(module):
                _fill(inner, nested, module, nested_level + 1)
            config[f.name] = nested
        elif f.name in COMMON and _fits(COMMON[f.name], annotation):
            config[f.name] = COMMON[f.name]
        elif isinstance(f.default, int) and "vocab" in f.name and f.default > COMMON["vocab_size"]:
            config[f.name] = COMMON["vocab_size"]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            config[f.name] = _placeholder(annotation, f.name)
    return config


def tiny_config(arch: str, module) -> dict[str, typing.Any]:
    """The config dict for ``ModelArgs.from_dict``: COMMON, the required fields by type, overrides."""
    config: dict[str, typing.Any] = {"model_type": arch.replace("-", "_")}
    override = OVERRIDES.get(arch, {})
    config.update({k: v for k, v in override.items() if k != "text_config"})
    _fill(module.ModelArgs, config, module)
    if "text_config" in override:
        config["text_config"] = {**config.get("text_config", {}), **override["text_config"]}
    return config


# --- one architecture in a worker process ------------------------------------------------------------------------
def _seeded_weights(model, dtype) -> None:
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_unflatten

    mx.random.seed(0)
    new = []
    for name, value in sorted(tree_flatten(model.parameters()), key=lambda item: item[0]):
        if not mx.issubdtype(value.dtype, mx.floating):
            new.append((name, value))
            continue
        noise = mx.random.normal(value.shape, dtype=mx.float32)
        if value.ndim == 1 and ("norm" in name or name.endswith("scale")):
            weights = mx.add(mx.multiply(noise, mx.array(0.1, dtype=mx.float32)), mx.array(1.0, dtype=mx.float32))
        else:
            weights = mx.multiply(noise, mx.array(0.05, dtype=mx.float32))
        new.append((name, weights.astype(dtype)))
    model.update(tree_unflatten(new))
    mx.eval(model.parameters())


def _run_dtype(arch: str, module, cache_module, dtype_name: str) -> tuple[dict, dict]:
    """Outputs (name -> array) and stage -> exception text of one architecture in one dtype."""
    import mlx.core as mx
    from mlx.utils import tree_flatten

    dtype = getattr(mx, dtype_name)
    outputs: dict = {}
    errors: dict = {}
    stage = "build"
    try:
        config = tiny_config(arch, module)
        args = module.ModelArgs.from_dict(config)
        mx.random.seed(0)
        model = module.Model(args)
        _seeded_weights(model, dtype)
        model.eval()
        tokens = mx.array(TOKENS, dtype=mx.int32)
        stage = "forward"
        forward = model(tokens)
        if isinstance(forward, mx.array):
            outputs["forward"] = forward
        else:
            outputs.update({f"forward.{k}": v for k, v in tree_flatten(forward) if isinstance(v, mx.array)})
        stage = "prompt"
        cache = cache_module.make_prompt_cache(model)
        prompt = model(tokens, cache=cache)
        outputs["prompt"] = prompt if isinstance(prompt, mx.array) else tree_flatten(prompt)[0][1]
        stage = "decode"
        step = model(mx.array(NEXT_TOKEN, dtype=mx.int32), cache=cache)
        outputs["decode"] = step if isinstance(step, mx.array) else tree_flatten(step)[0][1]
        stage = "cache"
        for index, entry in enumerate(cache):
            try:
                state = entry.state
            except Exception:
                continue
            for key, value in tree_flatten(state):
                if isinstance(value, mx.array):
                    outputs[f"cache.{index}.{key}"] = value
        mx.eval(list(outputs.values()))
    except Exception as error:  # the exception is part of the result: it must be the same on both copies
        errors[stage] = f"{type(error).__name__}: {str(error)[:300]}"
        if os.environ.get("REAL_FIX_SAFETY_TRACE"):
            traceback.print_exc()
        for name in list(outputs):  # outputs of earlier stages are lazy: keep those that evaluate
            try:
                mx.eval(outputs[name])
            except Exception:
                del outputs[name]
    return outputs, errors


def worker(copy_root: str, arch: str, dtypes: list[str], out_dir: str) -> None:
    """Runs one architecture from the mlx_lm copy under ``copy_root``; writes outputs and a JSON summary."""
    sys.path.insert(0, copy_root)
    import mlx.core as mx

    # the package without its __init__ (which imports convert/generate, hence transformers and torch: 2 s a
    # worker); model modules import only from mlx_lm.models
    spec = importlib.machinery.ModuleSpec("mlx_lm", None, is_package=True)
    mlx_lm = importlib.util.module_from_spec(spec)
    mlx_lm.__path__ = [str(Path(copy_root, "mlx_lm"))]
    mlx_lm.__file__ = str(Path(copy_root, "mlx_lm", "__init__.py"))
    sys.modules["mlx_lm"] = mlx_lm

    assert Path(mlx_lm.__file__).resolve().is_relative_to(Path(copy_root).resolve()), mlx_lm.__file__
    cache_module = importlib.import_module("mlx_lm.models.cache")
    summary: dict = {"arch": arch, "dtypes": {}}
    try:
        module = importlib.import_module(f"mlx_lm.models.{arch}")
    except BaseException as error:  # olmo calls sys.exit when ai2-olmo is missing
        summary["import_error"] = f"{type(error).__name__}: {str(error)[:300]}"
        Path(out_dir, f"{arch}.json").write_text(json.dumps(summary))
        return
    for dtype_name in dtypes:
        outputs, errors = _run_dtype(arch, module, cache_module, dtype_name)
        if outputs:
            mx.save_safetensors(str(Path(out_dir, f"{arch}.{dtype_name}.safetensors")), outputs)
        summary["dtypes"][dtype_name] = {"errors": errors, "outputs": sorted(outputs)}
    summary["files"] = sorted(str(Path(m.__file__).resolve().relative_to(Path(copy_root).resolve()))
                              for m in list(sys.modules.values())
                              if getattr(m, "__file__", None) and m.__name__.startswith("mlx_lm."))
    Path(out_dir, f"{arch}.json").write_text(json.dumps(summary))


# --- driver ------------------------------------------------------------------------------------------------------
def _defines(tree: ast.Module) -> tuple[bool, bool]:
    """Whether a module's top level defines ``ModelArgs`` and defines or imports ``Model``."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return "ModelArgs" in names, "Model" in names


def census() -> tuple[list[str], dict[str, str]]:
    """The architectures of mlx_lm.models (modules that define ``ModelArgs`` and define or import ``Model``:
    ``solar_open`` reuses ``glm4_moe.Model``), and every other module with the reason it is not one."""
    import mlx_lm.models

    found, excluded = [], {}
    for info in pkgutil.iter_modules(mlx_lm.models.__path__):
        source = Path(mlx_lm.models.__path__[0], f"{info.name}.py")
        if not source.exists():
            excluded[info.name] = "not a single-file module"
            continue
        has_args, has_model = _defines(ast.parse(source.read_text(encoding="utf-8")))
        if has_args and has_model:
            found.append(info.name)
        else:
            missing = [name for name, present in (("ModelArgs", has_args), ("Model", has_model)) if not present]
            excluded[info.name] = f"helper module: defines no {' or '.join(missing)}"
    return sorted(found), dict(sorted(excluded.items()))


def architectures() -> list[str]:
    """Modules of mlx_lm.models that are architectures (see ``census``)."""
    return census()[0]


def copy_package(package: str, destination: Path, ignore=None) -> Path:
    module = importlib.import_module(package)
    source = Path(module.__file__).parent
    target = destination / package
    shutil.copytree(source, target, ignore=ignore or shutil.ignore_patterns("__pycache__"))
    return target


def run_fix(paths: list[Path], profile: str, unsafe: bool) -> dict:
    """``emberlint fix`` on ``paths``; the changed-file count read from a diff of the tree."""
    command = [sys.executable, "-m", "emberlint", "fix", "--profile", profile,
               *(["--unsafe-fixes"] if unsafe else []), *map(str, paths)]
    cwd = paths[0].parent
    env = dict(os.environ, EMBERLINT_CACHE_DIR=str(cwd / ".emberlint_cache"))
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    if done.returncode not in (0, 1):
        raise SystemExit(f"emberlint fix failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return {"seconds": round(time.perf_counter() - started, 1), "summary": done.stdout.strip().splitlines()[-1:]}


def changed_files(pristine: Path, fixed: Path) -> list[str]:
    changed = []
    for path in sorted(pristine.rglob("*.py")):
        other = fixed / path.relative_to(pristine)
        if other.read_bytes() != path.read_bytes():
            changed.append(str(path.relative_to(pristine)))
    return changed


def run_worker(copy_root: Path, arch: str, dtypes: list[str], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--worker", str(copy_root), arch, ",".join(dtypes), str(out_dir)]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=WORKER_TIMEOUT, env=env,
                              cwd=str(out_dir))
    except subprocess.TimeoutExpired:
        return {"arch": arch, "crash": f"timeout after {WORKER_TIMEOUT} s"}
    summary_path = out_dir / f"{arch}.json"
    if not summary_path.exists():
        return {"arch": arch, "crash": f"exit {done.returncode}: {done.stderr.strip()[-400:]}"}
    return json.loads(summary_path.read_text())


def compare(arch: str, dtypes: list[str], reference: dict, candidate: dict, ref_dir: Path, cand_dir: Path) -> dict:
    """identical / differs (what) / could-not-build (why) for one architecture."""
    import mlx.core as mx

    for key in ("crash", "import_error"):
        if key in reference:
            return {"status": "could-not-build", "reason": reference[key],
                    "same_on_fixed_copy": reference.get(key) == candidate.get(key)}
        if key in candidate:
            return {"status": "differs", "details": [f"fixed copy: {candidate[key]}"]}
    details = []
    failed_builds = []
    for dtype in dtypes:
        ref, cand = reference["dtypes"][dtype], candidate["dtypes"][dtype]
        if ref["errors"] != cand["errors"]:
            details.append(f"{dtype}: exceptions {ref['errors']} vs {cand['errors']}")
        if ref["errors"]:
            failed_builds.append(f"{dtype}: {ref['errors']}")
        if ref["outputs"] != cand["outputs"]:
            details.append(f"{dtype}: outputs {ref['outputs']} vs {cand['outputs']}")
            continue
        if not ref["outputs"]:
            continue
        left = mx.load(str(ref_dir / f"{arch}.{dtype}.safetensors"))
        right = mx.load(str(cand_dir / f"{arch}.{dtype}.safetensors"))
        for name in ref["outputs"]:
            a, b = left[name], right[name]
            if a.dtype != b.dtype or a.shape != b.shape or not mx.array_equal(a, b, equal_nan=True).item():
                diff = ""
                if a.shape == b.shape:
                    delta = mx.abs(mx.subtract(a.astype(mx.float32), b.astype(mx.float32)))
                    diff = f", max |diff| {mx.max(delta).item():.3g}"
                details.append(f"{dtype} {name}: {a.dtype}{tuple(a.shape)} vs {b.dtype}{tuple(b.shape)}{diff}")
    if failed_builds and len(failed_builds) == len(dtypes) and not details:
        return {"status": "could-not-build", "reason": failed_builds[0], "same_on_fixed_copy": True}
    if details:
        return {"status": "differs", "details": details}
    # some dtypes raise on both copies (the same exception): identical, the dtypes listed
    return {"status": "identical", **({"errors_in_some_dtypes": failed_builds} if failed_builds else {}),
            **({"code_unchanged": True} if candidate.get("code_unchanged") else {})}


def fix_targets(package: Path, archs: list[str], only_archs: bool) -> list[Path]:
    """What ``emberlint fix`` rewrites: the whole package, or (CI subset) the architectures' modules plus every
    helper module of ``mlx_lm.models`` (cache, base, rope_utils, switch_layers ...)."""
    if not only_archs:
        return [package]
    every = set(architectures())
    models = package / "models"
    return sorted(path for path in models.glob("*.py") if path.stem not in every or path.stem in archs)


def mlx_run(work: Path, archs: list[str], dtypes: list[str], profile: str, unsafe: bool, jobs: int,
            also_recommended: bool, only_archs: bool = False) -> dict:
    variants = {"pristine": None, "safe": (profile, False)}
    if also_recommended and profile != "recommended":
        variants["safe-recommended"] = ("recommended", False)
    if unsafe:
        variants["unsafe"] = (profile, True)
    roots: dict[str, Path] = {}
    fix_info: dict[str, dict] = {}
    for name, how in variants.items():
        root = work / name
        copy_package("mlx_lm", root)
        roots[name] = root
        if how is not None:
            fix_info[name] = run_fix(fix_targets(root / "mlx_lm", archs, only_archs), *how)
            fix_info[name]["changed_files"] = changed_files(roots["pristine"] / "mlx_lm", root / "mlx_lm")
            print(f"[{name}] emberlint fix --profile {how[0]}{' --unsafe-fixes' if how[1] else ''}: "
                  f"{len(fix_info[name]['changed_files'])} files changed in {fix_info[name]['seconds']} s",
                  flush=True)
    results: dict[str, dict] = {name: {} for name in variants}

    def one(arch: str) -> None:
        for name, root in roots.items():
            reference = results["pristine"].get(arch)
            files = reference.get("files") if reference else None
            if files and all((root / f).read_bytes() == (roots["pristine"] / f).read_bytes() for f in files):
                # the same code on the same seeded inputs: the pristine run is this copy's run
                (work / "out" / name).mkdir(parents=True, exist_ok=True)
                for dtype in dtypes:
                    saved = work / "out" / "pristine" / f"{arch}.{dtype}.safetensors"
                    if saved.exists():
                        shutil.copyfile(saved, work / "out" / name / saved.name)
                results[name][arch] = {**reference, "code_unchanged": True}
                continue
            results[name][arch] = run_worker(root, arch, dtypes, work / "out" / name)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for index, _ in enumerate(pool.map(one, archs)):
            if (index + 1) % 10 == 0:
                print(f"  {index + 1}/{len(archs)} architectures run ({time.perf_counter() - started:.0f} s)",
                      flush=True)
    report: dict = {"architectures": len(archs), "dtypes": dtypes, "fixes": fix_info, "variants": {},
                    "not_architectures": census()[1]}
    for name in variants:
        if name == "pristine":
            continue
        per_arch = {
            arch: compare(arch, dtypes, results["pristine"][arch], results[name][arch],
                          work / "out" / "pristine", work / "out" / name)
            for arch in archs
        }
        counts = {status: sorted(a for a, r in per_arch.items() if r["status"] == status)
                  for status in ("identical", "differs", "could-not-build")}
        report["variants"][name] = {"per_arch": per_arch, "counts": {k: len(v) for k, v in counts.items()},
                                    "lists": counts}
    return report


# --- transformers ------------------------------------------------------------------------------------------------
TORCH_MODELS = ("bert", "gpt2", "llama", "t5", "whisper", "mistral")


def torch_worker(copy_root: str, out_file: str) -> None:
    sys.path.insert(0, copy_root)
    import torch
    import transformers

    assert Path(transformers.__file__).resolve().is_relative_to(Path(copy_root).resolve()), transformers.__file__
    from transformers import (
        BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MistralConfig,
        MistralForCausalLM, T5Config, T5ForConditionalGeneration, WhisperConfig, WhisperForConditionalGeneration,
    )

    ids = torch.tensor(TOKENS, dtype=torch.int64)
    decoder_ids = torch.tensor([[0, 5, 3, 9]], dtype=torch.int64)
    small = dict(vocab_size=256)
    cases = {
        "bert": (BertModel, BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                       intermediate_size=128, **small), {"input_ids": ids}),
        "gpt2": (GPT2LMHeadModel, GPT2Config(n_embd=64, n_layer=2, n_head=4, n_positions=64, **small),
                 {"input_ids": ids}),
        "llama": (LlamaForCausalLM, LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                                num_key_value_heads=2, intermediate_size=128, **small),
                  {"input_ids": ids}),
        "mistral": (MistralForCausalLM, MistralConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                                      num_key_value_heads=2, intermediate_size=128,
                                                      sliding_window=4, **small), {"input_ids": ids}),
        "t5": (T5ForConditionalGeneration, T5Config(d_model=64, d_ff=128, d_kv=16, num_layers=2, num_heads=4,
                                                     decoder_start_token_id=0, **small),
               {"input_ids": ids, "decoder_input_ids": decoder_ids}),
        "whisper": (WhisperForConditionalGeneration,
                    WhisperConfig(d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                                  decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
                                  num_mel_bins=16, max_source_positions=16, max_target_positions=32,
                                  pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=3,
                                  begin_suppress_tokens=[2], suppress_tokens=[], **small),
                    {"input_features": None, "decoder_input_ids": decoder_ids}),
    }
    results: dict = {}
    for name, (model_cls, config, inputs) in cases.items():
        for attention in ("eager", "sdpa"):
            for dtype in (torch.float32, torch.bfloat16):
                key = f"{name}.{attention}.{str(dtype).split('.')[-1]}"
                try:
                    torch.manual_seed(0)
                    config._attn_implementation = attention
                    model = model_cls(config).to(dtype).eval()
                    feed = dict(inputs)
                    if name == "whisper":
                        generator = torch.Generator().manual_seed(1)
                        feed["input_features"] = torch.randn((1, 16, 32), generator=generator).to(dtype)
                    with torch.no_grad():
                        output = model(**feed)
                    tensors = {k: v for k, v in output.items() if isinstance(v, torch.Tensor)}
                    results[key] = {"tensors": {k: v.float().tolist() if v.is_floating_point() else v.tolist()
                                                for k, v in tensors.items()},
                                    "raw": {k: v.view(torch.int16).tolist() if v.dtype == torch.bfloat16
                                            else v.view(torch.int32).tolist() if v.dtype == torch.float32
                                            else v.tolist() for k, v in tensors.items()}}
                except Exception as error:
                    results[key] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
    Path(out_file).write_text(json.dumps({k: {"raw": v.get("raw"), "error": v.get("error")}
                                          for k, v in results.items()}))


def torch_run(work: Path, profile: str, unsafe: bool) -> dict:
    import transformers

    source = Path(transformers.__file__).parent
    roots = {}
    variants = {"pristine": None, "safe": (profile, False)}
    if unsafe:
        variants["unsafe"] = (profile, True)
    fix_info = {}
    for name, how in variants.items():
        root = work / f"tf-{name}"
        root.mkdir(parents=True)
        shutil.copytree(source, root / "transformers", ignore=shutil.ignore_patterns("__pycache__"),
                        symlinks=True)
        roots[name] = root
        if how is not None:
            paths = [root / "transformers" / "models" / model for model in TORCH_MODELS]
            fix_info[name] = run_fix(paths, *how)
            fix_info[name]["changed_files"] = [
                f"{model}/{path}" for model in TORCH_MODELS
                for path in changed_files(roots["pristine"] / "transformers" / "models" / model,
                                          root / "transformers" / "models" / model)
            ]
            print(f"[transformers {name}] {len(fix_info[name]['changed_files'])} modeling files changed", flush=True)
    outputs = {}
    for name, root in roots.items():
        out_file = work / f"tf-{name}.json"
        done = subprocess.run([sys.executable, __file__, "--torch-worker", str(root), str(out_file)],
                              capture_output=True, text=True, timeout=1800, cwd=str(work))
        if not out_file.exists():
            raise SystemExit(f"transformers worker failed: {done.stderr[-2000:]}")
        outputs[name] = json.loads(out_file.read_text())
    report: dict = {"fixes": fix_info, "variants": {}}
    for name in variants:
        if name == "pristine":
            continue
        per_case = {}
        for key, ref in outputs["pristine"].items():
            cand = outputs[name][key]
            if ref["error"]:
                per_case[key] = f"could-not-build ({ref['error']})"
            elif cand["error"]:
                per_case[key] = f"differs (fixed copy raises {cand['error'][:160]})"
            else:
                per_case[key] = "identical" if ref["raw"] == cand["raw"] else "differs"
        report["variants"][name] = {
            "per_case": per_case,
            "counts": {s: sum(1 for v in per_case.values() if v.startswith(s))
                       for s in ("identical", "differs", "could-not-build")},
        }
    return report


# --- reporting ---------------------------------------------------------------------------------------------------
def print_report(report: dict) -> None:
    mlx = report.get("mlx")
    if mlx:
        total = mlx["architectures"]
        print(f"\nmlx-lm {report['mlx_lm_version']}: {total} architectures (modules of mlx_lm.models defining "
              f"ModelArgs and Model), dtypes {', '.join(mlx['dtypes'])}")
        print("  not architectures: " + "; ".join(f"{m} ({why})" for m, why in mlx["not_architectures"].items()))
        for name, variant in mlx["variants"].items():
            counts = variant["counts"]
            built = counts["identical"] + counts["differs"]
            unchanged = sum(1 for r in variant["per_arch"].values() if r.get("code_unchanged"))
            print(f"  {name}: {built}/{total} build and run ({100 * built / total:.1f}%): "
                  f"{counts['identical']} identical ({unchanged} of them load no file the fix changed: the "
                  f"pristine run stands for theirs), {counts['differs']} differ, "
                  f"{counts['could-not-build']} could not build; "
                  f"{len(mlx['fixes'][name]['changed_files'])} files changed by the fix")
            for arch, result in variant["per_arch"].items():
                if result["status"] == "differs":
                    print(f"    differs {arch}: " + "; ".join(result["details"][:4]))
        partial = {arch: r["errors_in_some_dtypes"] for arch, r in mlx["variants"]["safe"]["per_arch"].items()
                   if r.get("errors_in_some_dtypes")}
        if partial:
            gather = sorted(arch for arch, errors in partial.items()
                            if all(HALF_PRECISION_ON_CPU in error for error in errors))
            print(f"  built and run in some dtypes only, the same exception on every copy in the others "
                  f"({len(partial)}):")
            if gather:
                print(f"    {len(gather)} with mixture-of-experts layers run in float32 only: gather_mm raises "
                      f"'[{HALF_PRECISION_ON_CPU}' in bfloat16 and float16 on the CPU backend: {', '.join(gather)}")
            for arch, errors in partial.items():
                if arch not in gather:
                    print(f"    {arch}: " + "; ".join(error[:160] for error in errors))
        cannot = mlx["variants"]["safe"]["per_arch"]
        for arch, result in cannot.items():
            if result["status"] == "could-not-build":
                why = f" ({CANNOT_RUN_HERE[arch]})" if arch in CANNOT_RUN_HERE else ""
                print(f"    could not build {arch}: {result['reason'][:160]}{why}")
    torch_report = report.get("torch")
    if torch_report:
        print(f"\ntransformers {report['transformers_version']}: {', '.join(TORCH_MODELS)} "
              "(eager and sdpa attention, float32 and bfloat16)")
        for name, variant in torch_report["variants"].items():
            counts = variant["counts"]
            print(f"  {name}: {counts['identical']} identical, {counts['differs']} differ, "
                  f"{counts['could-not-build']} could not build "
                  f"({len(torch_report['fixes'][name]['changed_files'])} modeling files changed)")
            for key, status in variant["per_case"].items():
                if not status.startswith("identical"):
                    print(f"    {key}: {status.splitlines()[0][:200]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", help="comma-separated mlx_lm.models modules (default: all)")
    parser.add_argument("--dtypes", default=",".join(DTYPES))
    parser.add_argument("--profile", default="strict", choices=("strict", "recommended"))
    parser.add_argument("--also-recommended", action="store_true", help="also run the recommended profile's safe fixes")
    parser.add_argument("--no-unsafe", action="store_true", help="skip the --unsafe-fixes run")
    parser.add_argument("--no-torch", action="store_true", help="skip the transformers run")
    parser.add_argument("--no-mlx", action="store_true", help="skip the mlx-lm run")
    parser.add_argument("--jobs", "-j", type=int, default=1)
    parser.add_argument("--fix-only-archs", action="store_true",
                        help="fix only the chosen architectures' modules and mlx_lm.models' helpers (CI subset)")
    parser.add_argument("--json", help="write the report here")
    parser.add_argument("--keep", help="keep the temporary copies and outputs in this folder")
    args = parser.parse_args(argv)
    import mlx_lm

    archs = args.arch.split(",") if args.arch else architectures()
    dtypes = args.dtypes.split(",")
    import mlx.core as mx

    report: dict = {"mlx_lm_version": mlx_lm.__version__, "mlx_version": mx.__version__, "profile": args.profile,
                    "load_average_at_start": os.getloadavg(), "cpus": os.cpu_count(),
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with tempfile.TemporaryDirectory(prefix="real_fix_safety_") as temporary:
        work = Path(args.keep) if args.keep else Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if not args.no_mlx:
            report["mlx"] = mlx_run(work / "mlx", archs, dtypes, args.profile, not args.no_unsafe, args.jobs,
                                    args.also_recommended, args.fix_only_archs)
        if not args.no_torch:
            import transformers

            report["transformers_version"] = transformers.__version__
            report["torch"] = torch_run(work / "torch", args.profile, not args.no_unsafe)
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["load_average_at_end"] = os.getloadavg()
    print_report(report)
    print(f"\n{report['seconds']} s wall ({report['date']}, mlx {report['mlx_version']}, {report['cpus']} CPUs, "
          f"load average {report['load_average_at_start'][0]:.1f} at start, "
          f"{report['load_average_at_end'][0]:.1f} at end)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4].split(","), sys.argv[5])
    elif len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        torch_worker(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
