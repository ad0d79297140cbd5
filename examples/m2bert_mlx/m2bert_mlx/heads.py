"""Task heads and the two task models: ``BertForMaskedLM`` and ``BertForSequenceClassification``."""

from __future__ import annotations

from dataclasses import dataclass

import mlx.core as mx
from mlx import nn

from m2bert_mlx.bert import POOLER_DTYPE, BertModel, linear_float64
from m2bert_mlx.config import M2BertConfig
from m2bert_mlx.numerics import gelu_exact


@dataclass
class ModelOutput:
    """Forward results: ``logits`` plus the backbone's intermediate outputs."""

    logits: mx.array
    embeddings: mx.array
    layer_outputs: list[mx.array]
    pooled_output: mx.array | None = None
    sentence_embedding: mx.array | None = None

    @property
    def sequence_output(self) -> mx.array:
        return self.layer_outputs[-1]


class BertPredictionHeadTransform(nn.Module):
    """``LayerNorm(gelu(dense(x)))``; its eps is 1e-12 in the original regardless of the config."""

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=1e-12)

    def __call__(self, hidden_states: mx.array) -> mx.array:
        return self.LayerNorm(gelu_exact(self.dense(hidden_states)))


class TiedDecoder(nn.Module):
    """The MLM decoder: word-embedding matrix (tied, not owned) plus its own ``bias``."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.bias = mx.zeros((vocab_size,), dtype=mx.float32)

    def __call__(self, hidden_states: mx.array, embedding_weight: mx.array) -> mx.array:
        return mx.addmm(self.bias, hidden_states, embedding_weight.T)


class BertLMPredictionHead(nn.Module):
    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = TiedDecoder(config.vocab_size)

    def __call__(self, hidden_states: mx.array, embedding_weight: mx.array) -> mx.array:
        return self.decoder(self.transform(hidden_states), embedding_weight)


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def __call__(
        self, sequence_output: mx.array, embedding_weight: mx.array
    ) -> mx.array:
        return self.predictions(sequence_output, embedding_weight)


class BertForMaskedLM(nn.Module):
    """Backbone without pooler + MLM head whose decoder is tied to the word embeddings."""

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)

    def __call__(
        self,
        input_ids: mx.array,
        token_type_ids: mx.array | None = None,
        attention_mask: mx.array | None = None,
        head_positions: int | None = None,
    ) -> ModelOutput:
        """MLM logits for every position, or for the first ``head_positions`` only."""
        layer_outputs, _, embeddings = self.bert(
            input_ids, token_type_ids, attention_mask
        )
        sequence_output = layer_outputs[-1]
        if head_positions is not None:
            sequence_output = sequence_output[:, :head_positions]
        logits = self.cls(sequence_output, self.bert.embeddings.word_embeddings.weight)
        return ModelOutput(
            logits=logits, embeddings=embeddings, layer_outputs=layer_outputs
        )


class BertForSequenceClassification(nn.Module):
    """Backbone with pooler + linear classifier over ``config.num_labels``.

    As in the retrieval models' ``bert_layers.py``: the classifier reads the pooled output, or the
    first token's row of the last hidden state when ``use_cls_token``; ``sentence_embedding`` is
    that same vector, L2-normalised when ``use_normalized_embeddings`` (what the original returns
    when ``gather_sentence_embeddings``). The head runs in float64 from the float32 encoder output
    and each output is rounded once.
    """

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def __call__(
        self,
        input_ids: mx.array,
        token_type_ids: mx.array | None = None,
        attention_mask: mx.array | None = None,
    ) -> ModelOutput:
        layer_outputs, pooled64, embeddings = self.bert(
            input_ids, token_type_ids, attention_mask
        )
        dtype = embeddings.dtype
        with mx.stream(mx.cpu):
            head_input = head_input_float64(self.config, layer_outputs[-1], pooled64)
            logits = linear_float64(self.classifier, head_input).astype(dtype)
            rounded = sentence_embedding(self.config, head_input, dtype)
        return ModelOutput(
            logits=logits,
            embeddings=embeddings,
            layer_outputs=layer_outputs,
            pooled_output=pooled64.astype(dtype),
            sentence_embedding=rounded,
        )


def head_input_float64(
    config: M2BertConfig, sequence_output: mx.array, pooled64: mx.array
) -> mx.array:
    """The classifier's input: the CLS row (``use_cls_token``) or the pooled output, in float64."""
    if config.use_cls_token:
        return sequence_output[:, 0].astype(POOLER_DTYPE)
    return pooled64


def sentence_embedding(
    config: M2BertConfig, head_input: mx.array, dtype: mx.Dtype
) -> mx.array:
    """The head input, L2-normalised when ``use_normalized_embeddings``, rounded to ``dtype`` once."""
    if config.use_normalized_embeddings:
        head_input = l2_normalize(head_input)
    # The float64 head's one rounding back to the model dtype.
    return head_input.astype(dtype)  # emberlint: ignore[EL402]  # reason: output


NORMALIZE_EPS = 1e-12  # torch.nn.functional.normalize's default eps


def l2_normalize(x: mx.array) -> mx.array:
    """``x / max(||x||_2, eps)`` along the last axis (``F.normalize(x, p=2, dim=1)``)."""
    # x is the float64 head input (sentence_embedding): its square cannot overflow.
    norm = mx.sqrt(mx.sum(mx.square(x), axis=-1, keepdims=True))  # emberlint: ignore[EL413]  # reason: float64
    return mx.divide(x, mx.maximum(norm, mx.array(NORMALIZE_EPS, dtype=x.dtype)))
