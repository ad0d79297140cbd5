"""Reader for the reference bundles: manifest, stored + generated weights, inputs and outputs."""

from __future__ import annotations

import dataclasses
import json
from functools import cached_property
from pathlib import Path

import mlx.core as mx

from m2bert_mlx.checkpoint import read_safetensors
from m2bert_mlx.config import M2BertConfig
from m2bert_mlx.generated_weights import check_generated, generate_tensor

CLASSIFICATION_ONLY = "sequence_classification"


@dataclasses.dataclass
class ReferenceBundle:
    """One bundle folder (``manifest.json``, ``small.safetensors``, ``inputs``/``outputs`` files)."""

    path: Path

    @classmethod
    def open(cls, path: str | Path) -> ReferenceBundle:
        path = Path(path)
        if not (path / "manifest.json").is_file():
            raise FileNotFoundError(
                f"{path} is not a reference bundle (no manifest.json)"
            )
        return cls(path)

    @property
    def name(self) -> str:
        return self.manifest.get("bundle", self.path.name)

    @cached_property
    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text())

    @cached_property
    def config(self) -> M2BertConfig:
        return M2BertConfig.from_dict(self.manifest["config"])

    def keys_for(self, task: str) -> list[dict]:
        """Manifest key entries of the ``masked_lm`` or ``sequence_classification`` model."""
        entries = self.manifest["keys"]
        if task == CLASSIFICATION_ONLY:
            return [e for e in entries if not e["name"].startswith("cls.")]
        return [e for e in entries if e.get("model") != CLASSIFICATION_ONLY]

    def state_dict(self, task: str, verify: bool = True) -> dict[str, mx.array]:
        """Stored and generated tensors of ``task``'s keys (tied keys left to the loader).

        Generated tensors are checked against the manifest's ``check`` (``verify=True``) and a
        disagreement raises ``ValueError``.
        """
        stored = read_safetensors(self.path / "small.safetensors")
        seed = int(self.manifest["seed"])
        state = {}
        for entry in self.keys_for(task):
            name = entry["name"]
            if entry["source"] == "stored":
                state[name] = stored[name]
            elif entry["source"] == "generated":
                tensor = generate_tensor(
                    name, entry["shape"], int(entry["exponent"]), seed
                )
                if verify:
                    check_generated(name, tensor, entry["check"])
                state[name] = tensor
        return state

    def inputs(self) -> dict[str, mx.array]:
        """``input_ids``, ``attention_mask``, ``token_type_ids``."""
        return read_safetensors(self.path / "inputs.safetensors")

    def outputs(self) -> dict[str, mx.array]:
        """The original float32 outputs."""
        return read_safetensors(self.path / "outputs.safetensors")

    def outputs_f64(self) -> dict[str, mx.array]:
        """The original float64 outputs (empty when the bundle has none)."""
        path = self.path / "outputs_f64.safetensors"
        return read_safetensors(path) if path.is_file() else {}
