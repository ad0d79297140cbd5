"""Sentence embeddings as the retrieval checkpoints (``m2-bert-80M-*-retrieval``) compute them.

The original ``BertForSequenceClassification.forward`` asserts that inputs are exactly
``max_position_embeddings`` long, and pad tokens are not masked inside the encoder, so every text
is padded to that length (the padded length changes the vector). The embedding is the pooled
output, or the first row of the last hidden state when ``use_cls_token``, L2-normalised when
``use_normalized_embeddings`` (see :class:`~m2bert_mlx.heads.BertForSequenceClassification`).
"""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx

from m2bert_mlx.heads import BertForSequenceClassification

ID_DTYPE = mx.int64


def pad_to_model_length(
    token_ids: Sequence[Sequence[int]], length: int, pad_id: int = 0
) -> tuple[mx.array, mx.array, mx.array]:
    """``(input_ids, attention_mask, token_type_ids)``, each ``(batch, length)``, right-padded."""
    too_long = [i for i, ids in enumerate(token_ids) if len(ids) > length]
    if too_long:
        raise ValueError(
            f"items {too_long[:10]} are longer than the model length {length}"
        )
    rows = [list(ids) + [pad_id] * (length - len(ids)) for ids in token_ids]
    mask = [[1] * len(ids) + [0] * (length - len(ids)) for ids in token_ids]
    input_ids = mx.array(rows, dtype=ID_DTYPE)
    return input_ids, mx.array(mask, dtype=ID_DTYPE), mx.zeros_like(input_ids)


def sentence_embeddings(
    model: BertForSequenceClassification,
    input_ids: mx.array,
    attention_mask: mx.array | None = None,
    token_type_ids: mx.array | None = None,
) -> mx.array:
    """``(batch, hidden)`` embeddings of inputs already padded to ``max_position_embeddings``."""
    length = model.config.max_position_embeddings
    if input_ids.shape[1] != length:
        raise ValueError(
            f"inputs are {input_ids.shape[1]} tokens long; the original model requires "
            f"max_position_embeddings = {length} (pad with pad_to_model_length)"
        )
    return model(input_ids, token_type_ids, attention_mask).sentence_embedding


def embed_token_ids(
    model: BertForSequenceClassification,
    token_ids: Sequence[Sequence[int]],
    pad_id: int = 0,
) -> mx.array:
    """Embeddings of tokenized texts (each with ``[CLS]``/``[SEP]``, at most the model length)."""
    input_ids, mask, token_types = pad_to_model_length(
        token_ids, model.config.max_position_embeddings, pad_id
    )
    return sentence_embeddings(model, input_ids, mask, token_types)


def cosine_top_k(
    queries: mx.array, corpus: mx.array, k: int
) -> tuple[mx.array, mx.array]:
    """``(scores, indices)`` of the ``k`` corpus rows most cosine-similar to each query row."""
    # Unit vectors in float64 so ties and near-ties rank by the exact cosine of the stored vectors.
    with mx.stream(mx.cpu):
        # Widening float32 -> float64 is exact.
        wide_q = queries.astype(mx.float64)  # emberlint: ignore[EL402]  # reason: exact
        wide_c = corpus.astype(mx.float64)  # emberlint: ignore[EL402]  # reason: exact
        unit_q = _unit(wide_q)
        unit_c = _unit(wide_c)
        scores = mx.matmul(unit_q, unit_c.T)
        k = min(k, corpus.shape[0])
        order = mx.argsort(mx.negative(scores), axis=-1)[:, :k]
        return mx.take_along_axis(scores, order, axis=-1), order


def _unit(x: mx.array) -> mx.array:
    norm = mx.sqrt(mx.sum(mx.square(x), axis=-1, keepdims=True))
    return mx.divide(x, mx.maximum(norm, mx.array(1e-300, dtype=x.dtype)))
