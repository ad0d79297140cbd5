"""The bundle recipe (FNV-1a + splitmix64) against the manifests' checks."""

from __future__ import annotations

import json

import mlx.core as mx
import pytest
from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.generated_weights import (
    check_generated,
    fnv1a64,
    generate_tensor,
    splitmix64,
    uint64_constant,
)
from m2bert_reference_data import require_bundle


def test_fnv1a64_known_values():
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C


def test_splitmix64_matches_python_reference():
    def reference(x: int) -> int:
        mask = (1 << 64) - 1
        z = (x + 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    seeds = [0, 1, 12345, (1 << 64) - 3, 0x9E3779B97F4A7C15]
    values = mx.stack([uint64_constant(s) for s in seeds])
    assert splitmix64(values).tolist() == [reference(s) for s in seeds]


@pytest.mark.parametrize("name", ["tiny", "base-80m-128"])
def test_every_generated_key_passes_its_manifest_check(name):
    manifest = json.loads((require_bundle(name) / "manifest.json").read_text())
    generated = [k for k in manifest["keys"] if k["source"] == "generated"]
    assert generated
    if name != "tiny":  # the large bundle: one key per distinct shape keeps this fast
        generated = list({tuple(k["shape"]): k for k in generated}.values())
    for key in generated:
        tensor = generate_tensor(
            key["name"], key["shape"], key["exponent"], manifest["seed"]
        )
        assert tensor.dtype == mx.float32 and list(tensor.shape) == key["shape"]
        check_generated(key["name"], tensor, key["check"])


def test_wrong_check_raises(tiny_dir):
    key = next(
        k
        for k in json.loads((tiny_dir / "manifest.json").read_text())["keys"]
        if k["source"] == "generated"
    )
    tensor = generate_tensor(key["name"], key["shape"], key["exponent"], seed=99)
    with pytest.raises(ValueError, match=key["name"]):
        check_generated(key["name"], tensor, key["check"])


def test_bundle_state_dict_verifies_generated_tensors(tiny_dir):
    state = ReferenceBundle.open(tiny_dir).state_dict("masked_lm")
    assert "bert.embeddings.word_embeddings.weight" in state
    assert not any(name.startswith("classifier") for name in state)
