"""Loading original state dicts: key names, tied keys, error messages, file formats."""

from __future__ import annotations

import json

import mlx.core as mx
import pytest
from m2bert_mlx import (
    CheckpointError,
    M2BertConfig,
    build_model,
    from_pretrained,
    load_state_dict,
)
from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.checkpoint import read_checkpoint, tied_target


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    bundle = ReferenceBundle.open(tiny_dir)
    return bundle.config, bundle.state_dict("masked_lm")


def test_tied_targets():
    assert (
        tied_target("cls.predictions.decoder.weight")
        == "bert.embeddings.word_embeddings.weight"
    )
    prefix = "bert.encoder.layer.3.attention.filter_fn2"
    assert (
        tied_target(f"{prefix}.implicit_filter.5.freq")
        == f"{prefix}.implicit_filter.1.freq"
    )
    assert (
        tied_target(f"{prefix}.implicit_filter_rev.1.freq")
        == f"{prefix}.implicit_filter.1.freq"
    )
    assert tied_target(f"{prefix}.implicit_filter.1.freq") is None


def test_model_keys_are_the_original_keys_minus_tied(tiny, tiny_dir):
    config, _ = tiny
    manifest = json.loads((tiny_dir / "manifest.json").read_text())
    original = {
        k["name"]
        for k in manifest["keys"]
        if k["source"] != "tied" and k.get("model") is None
    }
    model = build_model(config, "masked_lm")
    from mlx.utils import tree_flatten

    assert {name for name, _ in tree_flatten(model.parameters())} == original


def test_missing_unexpected_and_mismatched_keys_are_named(tiny):
    config, state = tiny
    broken = dict(state)
    del broken["bert.encoder.layer.1.mlp.wo.bias"]
    broken["bert.encoder.layer.0.attention.not_a_weight"] = mx.zeros(
        (3,), dtype=mx.float32
    )
    broken["bert.encoder.layer.0.attention.out_linear.weight"] = mx.zeros(
        (7, 7), dtype=mx.float32
    )
    with pytest.raises(CheckpointError) as info:
        load_state_dict(build_model(config), broken)
    message = str(info.value)
    assert "missing keys: bert.encoder.layer.1.mlp.wo.bias" in message
    assert "unexpected keys: bert.encoder.layer.0.attention.not_a_weight" in message
    assert (
        "bert.encoder.layer.0.attention.out_linear.weight: checkpoint (7, 7) vs model (128, 128)"
        in message
    )


def test_non_strict_ignores_unexpected_but_not_missing(tiny):
    config, state = tiny
    extra = {**state, "classifier.weight": mx.zeros((3, 128), dtype=mx.float32)}
    load_state_dict(build_model(config), extra, strict=False)
    del extra["bert.embeddings.LayerNorm.bias"]
    with pytest.raises(
        CheckpointError, match="missing keys: bert.embeddings.LayerNorm.bias"
    ):
        load_state_dict(build_model(config), extra, strict=False)


def test_tied_keys_are_accepted_when_equal_and_rejected_when_not(tiny):
    config, state = tiny
    freq = "bert.encoder.layer.0.attention.filter_fn.implicit_filter"
    tied = {
        **state,
        "cls.predictions.decoder.weight": state[
            "bert.embeddings.word_embeddings.weight"
        ],
        f"{freq}_rev.3.freq": state[f"{freq}.1.freq"],
    }
    load_state_dict(build_model(config), tied)
    tied[f"{freq}_rev.3.freq"] = mx.add(
        state[f"{freq}.1.freq"], mx.array(1.0, dtype=mx.float32)
    )
    with pytest.raises(
        CheckpointError, match=f"{freq}_rev.3.freq is tied to {freq}.1.freq"
    ):
        load_state_dict(build_model(config), tied)


def test_composer_prefix_is_stripped(tiny):
    config, state = tiny
    load_state_dict(build_model(config), {f"model.{k}": v for k, v in state.items()})


def test_safetensors_folder_round_trip(tiny, tmp_path):
    config, state = tiny
    mx.save_safetensors(str(tmp_path / "model.safetensors"), state)
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    model = from_pretrained(tmp_path, "masked_lm")
    ids = mx.array([[5, 6, 7, 8]], dtype=mx.int32)
    assert model(ids).logits.shape == (1, 4, config.vocab_size)
    assert M2BertConfig.from_json(tmp_path / "config.json") == config


def test_pytorch_bin_loader(tiny, tmp_path):
    torch = pytest.importorskip("torch")
    import numpy as np

    config, state = tiny
    torch_state = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    torch_state["cls.predictions.decoder.weight"] = torch_state[
        "bert.embeddings.word_embeddings.weight"
    ]
    torch.save(torch_state, tmp_path / "pytorch_model.bin")
    loaded = read_checkpoint(tmp_path / "pytorch_model.bin")
    assert set(loaded) == set(torch_state)
    load_state_dict(build_model(config), loaded)


def test_config_round_trips_the_manifest_config(tiny_dir):
    original = json.loads((tiny_dir / "manifest.json").read_text())["config"]
    config = M2BertConfig.from_dict(original)
    assert config.to_dict() == original
    assert config.num_labels == 3 and config.hyena_filter_order == 32
    assert "transformers_version" in config.extra
