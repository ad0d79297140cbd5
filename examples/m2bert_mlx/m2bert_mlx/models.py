"""Build task models from a config and load them from original checkpoints."""

from __future__ import annotations

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


def from_pretrained(
    path: str | Path, task: Task = "masked_lm", strict: bool = False
) -> nn.Module:
    """Load an HF-style folder (``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``).

    ``strict=False`` by default, like the original ``from_composer``: keys the task model does not
    use (e.g. ``cls.*`` of a pretraining checkpoint) are ignored; missing keys still raise.
    """
    path = Path(path)
    config = M2BertConfig.from_json(path / "config.json")
    return model_from_state(config, read_checkpoint(path), task, strict=strict)
