"""The pooler and classifier add no error of their own (bundle-free).

Configuration: unidirectional Hyena filters and the plain (non-GLU) MLP, not among the bundles. There
the float32 head (``mx.tanh`` of an ``nn.Linear``: MLX's float32 tanh is about 3 ulp, torch's 1)
made ``pooled_output`` and the logits less accurate than the original's (ratios 1.45 / 1.43) while
the encoder output was more accurate (0.43). The head now runs in float64 and rounds once, so
from its float32 input the pooled output and the logits are within one float32 ulp of a float64
evaluation, and more accurate than a float32 evaluation of the same formula.
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np
from m2bert_mlx import M2BertConfig, build_model
from mlx import nn
from mlx.utils import tree_map


def unidirectional_plain_mlp_model():
    config = M2BertConfig(
        vocab_size=1000,
        hidden_size=128,
        num_hidden_layers=2,
        intermediate_size=512,
        max_position_embeddings=64,
        long_conv_l_max=64,
        hyena_filter_order=32,
        bidirectional=False,
        use_glu_mlp=False,
        id2label={"0": "A", "1": "B", "2": "C"},
    )
    model = build_model(config, "sequence_classification")
    keys = iter(mx.random.split(mx.random.key(15), 200))
    scale = mx.array(0.05, dtype=mx.float32)

    def draw(value: mx.array) -> mx.array:
        if value.dtype != mx.float32:
            return value
        noise = mx.random.normal(value.shape, dtype=mx.float32, key=next(keys))
        return mx.multiply(noise, scale)

    model.update(tree_map(draw, model.parameters()))
    # LayerNorm gains back to one, so the hidden states have unit scale.
    for norm in [model.bert.embeddings.LayerNorm] + [
        layer.mlp.layernorm for layer in model.bert.encoder.layer
    ]:
        norm.weight = mx.ones_like(norm.weight)
    # A pooler whose pre-activations span tanh's curved range (|z| up to ~3).
    model.bert.pooler.dense.weight = mx.multiply(
        model.bert.pooler.dense.weight, mx.array(4.0, dtype=mx.float32)
    )
    mx.eval(model.parameters())
    return model


def _np(x) -> np.ndarray:
    return np.asarray(x)


def _ulps(actual: np.ndarray, truth: np.ndarray) -> float:
    """Largest error in units of the float32 spacing at the true value."""
    spacing = np.spacing(np.abs(truth).astype(np.float32)).astype(np.float64)
    return float(np.max(np.abs(actual.astype(np.float64) - truth) / spacing))


def test_pooler_and_classifier_round_once_from_a_float64_evaluation():
    model = unidirectional_plain_mlp_model()
    ids = mx.random.randint(1, 1000, (4, 64), key=mx.random.key(3)).astype(mx.int64)
    out = model(ids)
    cls_row = _np(out.sequence_output[:, 0]).astype(
        np.float64
    )  # the head's float32 input
    dense, classifier = model.bert.pooler.dense, model.classifier

    def f64(layer: nn.Linear, x: np.ndarray) -> np.ndarray:
        w = _np(layer.weight).astype(np.float64)
        return x @ w.T + _np(layer.bias).astype(np.float64)

    pre = f64(dense, cls_row)
    assert np.abs(pre).max() > 2.0
    pooled_truth = np.tanh(pre)
    logits_truth = f64(classifier, pooled_truth)
    pooled, logits = _np(out.pooled_output), _np(out.logits)
    assert _ulps(pooled, pooled_truth) <= 1.0
    assert _ulps(logits, logits_truth) <= 1.0

    # The same formula in float32 (what torch and the former port computed) is further off.
    x32 = cls_row.astype(np.float32)
    w32, b32 = _np(dense.weight), _np(dense.bias)
    pooled32 = np.tanh(x32 @ w32.T + b32)
    logits32 = pooled32 @ _np(classifier.weight).T + _np(classifier.bias)
    port_pooled_error = np.abs(pooled - pooled_truth).max()
    port_logits_error = np.abs(logits - logits_truth).max()
    assert port_pooled_error <= np.abs(pooled32 - pooled_truth).max()
    assert port_logits_error <= np.abs(logits32 - logits_truth).max()
    mlx32 = _np(mx.tanh(dense(out.sequence_output[:, 0])))
    assert port_pooled_error < np.abs(mlx32 - pooled_truth).max()
