"""Model configuration: the fields of the HF ``BertConfig`` that M2-BERT reads."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class M2BertConfig:
    """The original ``BertConfig`` fields (HF names; defaults of the M2-BERT 80M recipe).

    HF bookkeeping keys (``transformers_version``, ``return_dict``, ...) and any other key are
    kept in ``extra`` so a config round-trips through :meth:`from_dict` / :meth:`to_dict`.
    """

    # BERT fields.
    vocab_size: int = 30528
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 128
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    classifier_dropout: float | None = None
    tie_word_embeddings: bool = True
    is_decoder: bool = False
    add_cross_attention: bool = False
    use_cache: bool = True
    chunk_size_feed_forward: int = 0
    problem_type: str | None = None
    id2label: dict[str, str] = dataclasses.field(
        default_factory=lambda: {"0": "LABEL_0", "1": "LABEL_1"}
    )
    label2id: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"LABEL_0": 0, "LABEL_1": 1}
    )
    model_type: str = "bert"
    # Monarch Mixer / Hyena fields (M2's configuration_bert.py).
    monarch_mixer_sequence_mixing: bool = True
    long_conv_l_max: int = 128
    long_conv_kernel_learning_rate: float = 1e-3
    hyena_lr_pos_emb: float = 1e-5
    hyena_w: int = 10
    hyena_w_mod: int = 1
    hyena_wd: float = 0.1
    hyena_emb_dim: int = 5
    hyena_filter_dropout: float = 0.0
    hyena_filter_order: int = 128
    hyena_training_additions: bool = False
    bidirectional: bool = True
    residual_long_conv: bool = True
    use_glu_mlp: bool = True
    use_monarch_mlp: bool = True
    monarch_mlp_nblocks: int = 4
    use_positional_encodings: bool = True
    use_flash_mm: bool = False
    use_flash_fft: bool = False
    pool_all: bool = False
    alibi_starting_size: int = 512
    # Retrieval-variant fields; the ported bert_layers.py does not read them.
    use_cls_token: bool = False
    sequence_token_planting: bool = False
    performing_BEIR_evaluation: bool = False
    expand_positional_embeddings: bool = False
    gather_sentence_embeddings: bool = False
    use_normalized_embeddings: bool = False
    attention_pooling: bool = False
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_labels(self) -> int:
        """Number of classification labels, as HF derives it from ``id2label``."""
        return len(self.id2label)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> M2BertConfig:
        """Build a config from an HF ``config.json`` dict; unknown keys go to ``extra``."""
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        config = cls(**{k: v for k, v in values.items() if k in known})
        config.extra = {k: v for k, v in values.items() if k not in known}
        if "num_labels" in values and "id2label" not in values:
            config.id2label = {
                str(i): f"LABEL_{i}" for i in range(int(values["num_labels"]))
            }
        config.validate()
        return config

    @classmethod
    def from_json(cls, path: str | Path) -> M2BertConfig:
        """Read an HF ``config.json``."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict[str, Any]:
        """The HF-style dict (``extra`` keys merged back in)."""
        values = dataclasses.asdict(self)
        extra = values.pop("extra")
        return {**extra, **values}

    def validate(self) -> None:
        """Reject settings that the original M2-BERT code cannot build or that this port omits."""
        if not self.monarch_mixer_sequence_mixing:
            raise ValueError(
                "only monarch_mixer_sequence_mixing=True (M2-BERT) is ported"
            )
        if self.use_flash_mm or self.use_flash_fft:
            raise ValueError(
                "use_flash_mm / use_flash_fft are CUDA kernels; set them to false"
            )
        if self.hyena_emb_dim < 3 or self.hyena_emb_dim % 2 == 0:
            raise ValueError(
                "hyena_emb_dim must be odd and >= 3 (time, sine and cosine)"
            )
        if self.hidden_act != "gelu":
            raise ValueError(
                f"hidden_act {self.hidden_act!r} is not supported (only 'gelu')"
            )
