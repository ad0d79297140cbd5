"""Build HF-style checkpoint folders and vocabularies for the M2-BERT tool tests.

A folder holds ``config.json`` (the bundle's config), the bundle's weights as ``model.safetensors``
(float32 or bfloat16, optionally with the composer ``model.`` prefix) or ``pytorch_model.bin``, and
a ``vocab.txt`` trained here with ``tokenizers`` (WordPiece) on generated text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import mlx.core as mx
from m2bert_mlx.bundle import ReferenceBundle
from tokenizers.implementations import BertWordPieceTokenizer

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    "the",
    "model",
    "retrieval",
    "long",
    "context",
    "monarch",
    "mixer",
    "hyena",
    "filter",
    "café",
    "naïve",
    "Résumé",
    "Ångström",
    "straße",
    "ñandú",
    "İstanbul",
    "ﬁne",
    "x²",
    "東京",
    "北京大学",
    "日本語",
    "한국어",
    "😀",
    "👍🏽",
    "🤖",
    "Ελληνικά",
    "русский",
    "العربية",
    "हिन्दी",
    "data-driven",
    "U.S.A.",
    "don't",
    "1,234.5",
    "e-mail@example.com",
]


def corpus_sentences(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
        for _ in range(count)
    ]


def write_vocab(folder: Path, size: int) -> Path:
    """A WordPiece ``vocab.txt`` of exactly ``size`` lines (filled with ``[unusedN]``)."""
    trainer = BertWordPieceTokenizer(lowercase=True, strip_accents=None)
    trainer.train_from_iterator(
        corpus_sentences(3000),
        vocab_size=min(size, 600),
        min_frequency=1,
        special_tokens=SPECIAL,
        show_progress=False,
    )
    trainer.save_model(str(folder))
    path = folder / "vocab.txt"
    tokens = path.read_text(encoding="utf-8").splitlines()[:size]
    tokens += [f"[unused{i}]" for i in range(size - len(tokens))]
    path.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return path


def write_model_folder(
    bundle_dir: Path,
    folder: Path,
    *,
    dtype: mx.Dtype = mx.float32,
    composer_prefix: bool = False,
    torch_bin: bool = False,
    config_overrides: dict | None = None,
) -> Path:
    """A checkpoint folder with the bundle's classification weights, config and a vocabulary."""
    bundle = ReferenceBundle.open(bundle_dir)
    folder.mkdir(parents=True, exist_ok=True)
    config = dict(bundle.manifest["config"], **(config_overrides or {}))
    (folder / "config.json").write_text(json.dumps(config))
    state = bundle.state_dict("sequence_classification")
    prefix = "model." if composer_prefix else ""
    tensors = {
        prefix + name: value.astype(dtype)
        if mx.issubdtype(value.dtype, mx.floating)
        else value
        for name, value in state.items()
    }
    if torch_bin:
        import torch

        torch_tensors = {}
        for name, value in tensors.items():
            wide = value.astype(mx.float32) if value.dtype == mx.bfloat16 else value
            tensor = torch.from_numpy(__import__("numpy").array(wide))
            torch_tensors[name] = (
                tensor.to(torch.bfloat16) if value.dtype == mx.bfloat16 else tensor
            )
        torch.save(torch_tensors, folder / "pytorch_model.bin")
    else:
        mx.save_safetensors(str(folder / "model.safetensors"), tensors)
    write_vocab(folder, config["vocab_size"])
    return folder
