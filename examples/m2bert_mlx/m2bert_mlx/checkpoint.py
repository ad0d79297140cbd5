"""Load original M2-BERT state dicts (HF key names) into the MLX models.

Handles the tied keys of the original (the decoder weight is the word-embedding matrix; every
Sin ``freq`` of a Hyena filter is one parameter), the composer ``model.`` prefix, and reports
missing keys, unexpected keys and shape mismatches by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import mlx.core as mx
from mlx import nn
from mlx.utils import tree_flatten, tree_unflatten

from m2bert_mlx.host import host_bool
from m2bert_mlx.safetensors_io import read_safetensors_file

DECODER_WEIGHT = "cls.predictions.decoder.weight"
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
COMPOSER_PREFIX = "model."
_SIN_FREQ = re.compile(
    r"^(?P<filter>.+)\.implicit_filter(?P<rev>_rev)?\.(?P<index>\d+)\.freq$"
)


class CheckpointError(ValueError):
    """A state dict that does not fit the model; the message names every offending key."""

    def __init__(
        self, missing: list[str], unexpected: list[str], mismatched: list[str]
    ):
        self.missing = missing
        self.unexpected = unexpected
        self.mismatched = mismatched
        parts = []
        if missing:
            parts.append(f"missing keys: {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {', '.join(unexpected)}")
        if mismatched:
            parts.append(f"shape mismatches: {'; '.join(mismatched)}")
        super().__init__("checkpoint does not match the model: " + " | ".join(parts))


def tied_target(name: str) -> str | None:
    """The key that ``name`` is tied to in the original model, or ``None`` if it is a parameter."""
    if name == DECODER_WEIGHT:
        return WORD_EMBEDDINGS
    match = _SIN_FREQ.match(name)
    if match and (match["rev"] or match["index"] != "1"):
        return f"{match['filter']}.implicit_filter.1.freq"
    return None


def strip_composer_prefix(state: Mapping[str, mx.array]) -> dict[str, mx.array]:
    """Drop the ``model.`` prefix that a composer ``HuggingFaceModel`` adds to every key."""
    if state and all(key.startswith(COMPOSER_PREFIX) for key in state):
        return {key[len(COMPOSER_PREFIX) :]: value for key, value in state.items()}
    return dict(state)


def _tied_disagreements(
    state: Mapping[str, mx.array], tied: dict[str, str]
) -> list[str]:
    problems = []
    for name, target in tied.items():
        comparable = target in state and state[name].shape == state[target].shape
        if comparable and not host_bool(mx.array_equal(state[name], state[target])):
            problems.append(f"{name} is tied to {target} but holds different values")
    return problems


def load_state_dict(
    model: nn.Module,
    state: Mapping[str, mx.array],
    strict: bool = True,
    optional: tuple[str, ...] = (),
) -> None:
    """Copy ``state`` (original key names) into ``model``; raise :class:`CheckpointError` on misfit.

    Tied keys may be present (they must then equal their target) or absent. With ``strict=False``
    unexpected keys are ignored (as the original ``from_composer`` does); missing keys and shape
    mismatches always raise, except missing keys under an ``optional`` prefix (they keep the
    model's placeholder values).
    """
    state = strip_composer_prefix(state)
    expected = dict(tree_flatten(model.parameters()))
    tied = {
        name: target
        for name in state
        if (target := tied_target(name)) and name not in expected
    }
    mismatched = [
        f"{name}: checkpoint {tuple(state[name].shape)} vs model {tuple(expected[target].shape)}"
        for name, target in tied.items()
        if target in expected and state[name].shape != expected[target].shape
    ]
    mismatched += [
        f"{name}: checkpoint {tuple(value.shape)} vs model {tuple(expected[name].shape)}"
        for name, value in state.items()
        if name in expected and value.shape != expected[name].shape
    ]
    mismatched += _tied_disagreements(state, tied)
    unexpected = (
        [n for n in state if n not in expected and n not in tied] if strict else []
    )
    missing = [
        name
        for name in expected
        if name not in state and not name.startswith(optional or ("\0",))
    ]
    if missing or unexpected or mismatched:
        raise CheckpointError(sorted(missing), sorted(unexpected), mismatched)
    weights = [
        (name, _as_dtype(state[name], expected[name].dtype))
        for name in expected
        if name in state
    ]
    model.update(tree_unflatten(weights))
    mx.eval(model.parameters())


def _as_dtype(value: mx.array, dtype: mx.Dtype) -> mx.array:
    """A checkpoint tensor in the model's dtype (e.g. a float16 checkpoint into a float32 model)."""
    if value.dtype == dtype:
        return value
    # A deliberate, once-per-load precision change: checkpoint dtype -> model dtype.
    return value.astype(dtype)  # emberlint: ignore[EL402]  # reason: load-time cast


def read_safetensors(path: str | Path) -> dict[str, mx.array]:
    """All tensors of a ``.safetensors`` file, by key (float64 too, which ``mx.load`` rejects)."""
    return read_safetensors_file(path)


def read_torch_bin(path: str | Path) -> dict[str, mx.array]:
    """All tensors of a ``pytorch_model.bin`` (needs the optional ``torch`` extra)."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "reading pytorch_model.bin needs torch: pip install 'm2bert-mlx[torch]'"
        ) from error
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return {name: _torch_to_mlx(tensor) for name, tensor in state.items()}


def _torch_to_mlx(tensor) -> mx.array:
    """One torch tensor as an MLX array: floating point as float32 (the model's dtype), integers as int64.

    NumPy is the hand-over format here (it has no bfloat16, so floats are widened in torch first).
    """
    if tensor.is_floating_point():
        return mx.array(tensor.float().numpy(), dtype=mx.float32)
    return mx.array(tensor.long().numpy(), dtype=mx.int64)


def read_checkpoint(path: str | Path) -> dict[str, mx.array]:
    """A state dict from a file (``.safetensors`` / ``.bin`` / ``.pt``) or an HF model folder."""
    path = Path(path)
    if path.is_dir():
        for candidate in ("model.safetensors", "pytorch_model.bin"):
            if (path / candidate).exists():
                return read_checkpoint(path / candidate)
        raise FileNotFoundError(f"no model.safetensors or pytorch_model.bin in {path}")
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    if path.suffix in (".bin", ".pt", ".pth"):
        return read_torch_bin(path)
    raise ValueError(f"unknown checkpoint format: {path.name}")
