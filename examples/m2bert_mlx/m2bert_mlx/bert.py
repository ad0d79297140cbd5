"""The M2-BERT backbone: embeddings, encoder layers, pooler and ``BertModel``."""

from __future__ import annotations

import mlx.core as mx
from mlx import nn

from m2bert_mlx.config import M2BertConfig
from m2bert_mlx.mlp import BertGatedLinearUnitMLP, BertMLP
from m2bert_mlx.precise_math import tanh_float64
from m2bert_mlx.sequence_mixer import MonarchMixerSequenceMixing


class BertEmbeddings(nn.Module):
    """``LayerNorm((word + token_type) + position)`` in the original's summation order."""

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(
            config.type_vocab_size, config.hidden_size
        )
        if config.use_positional_encodings:
            self.position_embeddings = nn.Embedding(
                config.max_position_embeddings, config.hidden_size
            )
            self.position_ids = mx.arange(
                config.max_position_embeddings, dtype=mx.int64
            ).reshape(1, -1)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def __call__(
        self, input_ids: mx.array, token_type_ids: mx.array | None = None
    ) -> mx.array:
        if token_type_ids is None:
            token_type_ids = mx.zeros_like(input_ids)
        embeddings = mx.add(
            self.word_embeddings(input_ids), self.token_type_embeddings(token_type_ids)
        )
        if "position_embeddings" in self:
            position_ids = self.position_ids[:, : input_ids.shape[1]]
            embeddings = mx.add(embeddings, self.position_embeddings(position_ids))
        return self.LayerNorm(embeddings)


class BertLayer(nn.Module):
    """Sequence mixer (stored under the original name ``attention``) followed by the MLP."""

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.attention = MonarchMixerSequenceMixing(config)
        self.mlp = (
            BertGatedLinearUnitMLP(config) if config.use_glu_mlp else BertMLP(config)
        )

    def __call__(self, hidden_states: mx.array) -> mx.array:
        return self.mlp(self.attention(hidden_states))


class BertEncoder(nn.Module):
    """A stack of :class:`BertLayer`. Pad tokens are not masked: M2 mixes them like the original."""

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.layer = [BertLayer(config) for _ in range(config.num_hidden_layers)]

    def __call__(self, hidden_states: mx.array) -> list[mx.array]:
        """Every layer's output, last one last."""
        outputs = []
        for layer in self.layer:
            hidden_states = layer(hidden_states)
            outputs.append(hidden_states)
        return outputs


POOLER_DTYPE = mx.float64


def linear_float64(layer: nn.Linear, x: mx.array) -> mx.array:
    """``layer(x)`` for a float64 ``x``: weights widened (exactly), float64 accumulation."""
    y = mx.matmul(x, layer.weight.astype(POOLER_DTYPE).T)
    return mx.add(y, layer.bias.astype(POOLER_DTYPE)) if "bias" in layer else y


class BertPooler(nn.Module):
    """``tanh(dense(first token))``, or of the masked mean over tokens when ``pool_all``.

    The pooler sees one row per sequence, so it runs in float64 (exact widening of its float32
    inputs, float64 matmul, :func:`tanh_float64`). In float32, MLX's ``tanh`` (about 3 ulp) and
    the dense layer's rounding gave the pooled output a larger error than the original's, even
    where the encoder output was 2x more accurate. :meth:`pooled_float64` hands the unrounded
    value to the classifier; ``__call__`` rounds it to the model's dtype once.
    """

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self._pool_all = config.pool_all

    def pooled_float64(
        self, hidden_states: mx.array, attention_mask: mx.array
    ) -> mx.array:
        """The pooled output in float64, before rounding."""
        with mx.stream(mx.cpu):
            if self._pool_all:
                hidden64 = hidden_states.astype(POOLER_DTYPE)
                mask = attention_mask.astype(POOLER_DTYPE)
                total = mx.sum(mx.multiply(hidden64, mx.expand_dims(mask, -1)), axis=1)
                pooled = mx.divide(total, mx.sum(mask, axis=1, keepdims=True))
            else:
                pooled = hidden_states[:, 0].astype(POOLER_DTYPE)
            return tanh_float64(linear_float64(self.dense, pooled))

    def __call__(self, hidden_states: mx.array, attention_mask: mx.array) -> mx.array:
        pooled = self.pooled_float64(hidden_states, attention_mask)
        return pooled.astype(hidden_states.dtype)


class BertModel(nn.Module):
    """Embeddings + encoder (+ pooler). Returns ``(layer outputs, pooled or None, embeddings)``.

    The pooled output is float64 (see :class:`BertPooler`); the task model rounds it.
    """

    def __init__(self, config: M2BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        if add_pooling_layer:
            self.pooler = BertPooler(config)

    def __call__(
        self,
        input_ids: mx.array,
        token_type_ids: mx.array | None = None,
        attention_mask: mx.array | None = None,
    ) -> tuple[list[mx.array], mx.array | None, mx.array]:
        if attention_mask is None:
            attention_mask = mx.ones_like(input_ids)
        embedding_output = self.embeddings(input_ids, token_type_ids)
        layer_outputs = self.encoder(embedding_output)
        pooled = (
            self.pooler.pooled_float64(layer_outputs[-1], attention_mask)
            if "pooler" in self
            else None
        )
        return layer_outputs, pooled, embedding_output
