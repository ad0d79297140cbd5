"""Build task models from a config and load them from original checkpoints."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import mlx.core as mx
from mlx import nn

from m2bert_mlx.checkpoint import load_state_dict, read_checkpoint
from m2bert_mlx.config import M2BertConfig
from m2bert_mlx.heads import BertForMaskedLM, BertForSequenceClassification

Task = Literal["masked_lm", "sequence_classification"]
MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "masked_lm": BertForMaskedLM,
    "sequence_classification": BertForSequenceClassification,
}


def build_model(config: M2BertConfig, task: Task = "masked_lm") -> nn.Module:
    """A model with placeholder weights (load real ones with :func:`load_state_dict`)."""
    model = MODEL_CLASSES[task](config)
    model.eval()
    return model


def model_from_state(
    config: M2BertConfig,
    state: Mapping[str, mx.array],
    task: Task = "masked_lm",
    strict: bool = True,
) -> nn.Module:
    """Build a model for ``task`` and load ``state`` (original key names) into it."""
    model = build_model(config, task)
    load_state_dict(model, state, strict=strict)
    return model


class NotAnM2BertModel(ValueError):
    """A folder or config that does not describe an M2-BERT checkpoint."""


def read_m2bert_config(path: str | Path) -> M2BertConfig:
    """``config.json`` of a model folder, checked to be an M2-BERT (Monarch Mixer) config."""
    path = Path(path)
    config_file = path / "config.json" if path.is_dir() else path
    if not config_file.is_file():
        raise NotAnM2BertModel(f"{path} is not a model folder: no config.json")
    try:
        values = json.loads(config_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise NotAnM2BertModel(f"{config_file} is not valid JSON: {error}") from error
    if (
        not isinstance(values, dict)
        or values.get("monarch_mixer_sequence_mixing") is not True
    ):
        raise NotAnM2BertModel(
            f"{config_file} is not an M2-BERT config "
            "(monarch_mixer_sequence_mixing is not true)"
        )
    try:
        return M2BertConfig.from_dict(values)
    except (TypeError, ValueError) as error:
        raise NotAnM2BertModel(f"{config_file}: {error}") from error


def from_pretrained(
    path: str | Path,
    task: Task = "masked_lm",
    strict: bool = False,
    optional: tuple[str, ...] = (),
) -> nn.Module:
    """Load an HF-style folder (``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``).

    Tensors may be float32, float16 or bfloat16 (cast to float32 once) and keys may carry the
    composer ``model.`` prefix. ``strict=False`` by default, like the original ``from_composer``:
    keys the task model does not use (e.g. ``cls.*`` of a pretraining checkpoint) are ignored;
    missing keys still raise unless under an ``optional`` prefix.
    """
    path = Path(path)
    config = read_m2bert_config(path)
    model = build_model(config, task)
    load_state_dict(model, read_checkpoint(path), strict=strict, optional=optional)
    return model


def load_embedding_model(path: str | Path) -> nn.Module:
    """The sequence-classification model of a folder, for sentence embeddings.

    The classifier is not used by embeddings, and the pooler only without ``use_cls_token``, so
    checkpoints without them (e.g. pretraining ones) load too.
    """
    config = read_m2bert_config(path)
    optional = ("classifier.",) + (("bert.pooler.",) if config.use_cls_token else ())
    return from_pretrained(path, "sequence_classification", optional=optional)
