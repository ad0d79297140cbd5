"""Sentence embeddings with the retrieval models' semantics, against the reference bundles.

``ratio`` is defined as in the parity tests: the port's max_abs error against the original's
float64 output over the original float32 output's max_abs error against it. For the normalised
embedding, the original's float32 value is ``F.normalize`` of its float32 output, evaluated here
in NumPy float32 (norm, ``max(norm, 1e-12)``, divide), and the truth is the float64 output
normalised in float64.
"""

from __future__ import annotations

import dataclasses

import mlx.core as mx
import numpy as np
import pytest
from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.heads import head_input_float64, sentence_embedding
from m2bert_mlx.models import model_from_state
from m2bert_mlx.retrieval import (
    embed_token_ids,
    pad_to_model_length,
    sentence_embeddings,
)
from m2bert_reference_data import require_bundle

BUNDLES = ["tiny", "base-80m-128", "long-80m-2k"]
VARIANTS = {
    "pooled": {"use_cls_token": False, "use_normalized_embeddings": False},
    "cls": {"use_cls_token": True, "use_normalized_embeddings": False},
    "pooled_normalized": {"use_cls_token": False, "use_normalized_embeddings": True},
    "cls_normalized": {"use_cls_token": True, "use_normalized_embeddings": True},
}
_runs: dict[str, dict] = {}


def _f64(x) -> np.ndarray:
    return np.asarray(x).astype(np.float64)


def _normalize(x: np.ndarray) -> np.ndarray:
    norm = np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True))
    return x / np.maximum(norm, x.dtype.type(1e-12))


def run_bundle(name: str) -> dict:
    """One classification forward per bundle; every embedding variant is derived from it."""
    if name not in _runs:
        bundle = ReferenceBundle.open(require_bundle(name))
        model = model_from_state(
            bundle.config,
            bundle.state_dict("sequence_classification"),
            "sequence_classification",
        )
        inputs = bundle.inputs()
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        layer_outputs, pooled64, _ = model.bert(ids, inputs["token_type_ids"], mask)
        embeddings = {}
        for variant, flags in VARIANTS.items():
            config = dataclasses.replace(bundle.config, **flags)
            head = head_input_float64(config, layer_outputs[-1], pooled64)
            embeddings[variant] = sentence_embedding(config, head, mx.float32)
        mx.eval(embeddings)
        _runs[name] = {
            "bundle": bundle,
            "model": model,
            "sequence_output": layer_outputs[-1],
            "embeddings": embeddings,
        }
    return _runs[name]


def expected(bundle: ReferenceBundle, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """``(original float32, float64 truth)`` of the embedding ``variant``."""
    f32, f64 = bundle.outputs(), bundle.outputs_f64()
    if VARIANTS[variant]["use_cls_token"]:
        original = np.asarray(f32["sequence_output"])[:, 0]
        truth = _f64(f64["sequence_output"])[:, 0]
    else:
        original = np.asarray(f32["pooled_output"])
        truth = _f64(f64["pooled_output"])
    if VARIANTS[variant]["use_normalized_embeddings"]:
        original, truth = _normalize(original), _normalize(truth)
    return original, truth


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", BUNDLES)
def test_embedding_is_at_least_as_accurate_as_the_original(name, variant):
    run = run_bundle(name)
    original, truth = expected(run["bundle"], variant)
    port = _f64(run["embeddings"][variant])
    assert port.shape == truth.shape
    port_error = np.abs(port - truth).max()
    original_error = np.abs(_f64(original) - truth).max()
    assert port_error <= original_error, (name, variant, port_error, original_error)
    if VARIANTS[variant]["use_normalized_embeddings"]:
        np.testing.assert_allclose(np.linalg.norm(port, axis=-1), 1.0, atol=1e-6)


def test_model_forward_gives_the_selected_embedding():
    """The full forward with each flag set returns what the head function computes."""
    run = run_bundle("tiny")
    bundle = run["bundle"]
    inputs = bundle.inputs()
    state = bundle.state_dict("sequence_classification")
    for variant, flags in VARIANTS.items():
        config = dataclasses.replace(bundle.config, **flags)
        model = model_from_state(config, state, "sequence_classification")
        got = sentence_embeddings(
            model,
            inputs["input_ids"],
            inputs["attention_mask"],
            inputs["token_type_ids"],
        )
        assert mx.array_equal(got, run["embeddings"][variant]).item(), variant
        out = model(
            inputs["input_ids"], inputs["token_type_ids"], inputs["attention_mask"]
        )
        if variant == "pooled":
            assert mx.array_equal(got, out.pooled_output).item()
        if variant == "cls":
            assert mx.array_equal(got, out.sequence_output[:, 0]).item()
    assert mx.array_equal(run["embeddings"]["cls"], run["sequence_output"][:, 0]).item()


def test_inputs_must_have_the_model_length():
    model = run_bundle("tiny")["model"]
    inputs = ReferenceBundle.open(require_bundle("tiny")).inputs()
    with pytest.raises(ValueError, match="max_position_embeddings = 64"):
        sentence_embeddings(model, inputs["input_ids"][:, :40])


def test_padding_to_the_model_length_changes_the_vector_as_in_the_original():
    """The bundle's padded row is the original's input; re-padding its tokens reproduces it."""
    run = run_bundle("tiny")
    bundle = run["bundle"]
    inputs = bundle.inputs()
    pad_tail = bundle.manifest["pad_tail"]
    ids = np.asarray(inputs["input_ids"])
    tokens = [ids[0].tolist(), ids[1, : ids.shape[1] - pad_tail].tolist()]
    input_ids, mask, _ = pad_to_model_length(tokens, 64)
    assert np.array_equal(np.asarray(input_ids), ids)
    assert np.array_equal(np.asarray(mask), np.asarray(inputs["attention_mask"]))
    vectors = embed_token_ids(run["model"], tokens)
    assert mx.array_equal(vectors, run["embeddings"]["pooled"]).item()
    # The unpadded, shorter input is a different (rejected) input, not a masked one.
    with pytest.raises(ValueError, match="longer than the model length"):
        pad_to_model_length([list(range(65))], 64)
