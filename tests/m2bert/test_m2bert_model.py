"""Model pieces and config variants that the reference bundles do not cover."""

from __future__ import annotations

import mlx.core as mx
import pytest
from m2bert_mlx import M2BertConfig, build_model
from m2bert_mlx.blockdiag_linear import BlockdiagLinear
from m2bert_mlx.fft_conv import bidirectional_kernel, fft_long_conv, kernel_spectrum

SMALL = {
    "vocab_size": 50,
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "intermediate_size": 32,
    "max_position_embeddings": 12,
    "long_conv_l_max": 12,
    "hyena_filter_order": 8,
    "monarch_mlp_nblocks": 4,
}


def test_blockdiag_linear_equals_dense_block_diagonal_matrix():
    layer = BlockdiagLinear(8, 12, nblocks=2)
    layer.weight = mx.random.normal((2, 6, 4), dtype=mx.float32, key=mx.random.key(0))
    layer.bias = mx.random.normal((12,), dtype=mx.float32, key=mx.random.key(1))
    x = mx.random.normal((3, 5, 8), dtype=mx.float32, key=mx.random.key(2))
    zeros = mx.zeros((6, 4), dtype=mx.float32)
    dense = mx.concatenate(
        [
            mx.concatenate([layer.weight[0], zeros], axis=1),
            mx.concatenate([zeros, layer.weight[1]], axis=1),
        ],
        axis=0,
    )
    expected = mx.add(mx.matmul(x, dense.T), layer.bias)
    assert mx.allclose(layer(x), expected, rtol=1e-6, atol=1e-6).item()


def test_fft_conv_equals_direct_bidirectional_sum():
    length, channels = 6, 3
    key = mx.random.key(3)
    u = mx.random.normal((1, length, channels), dtype=mx.float32, key=key)
    k_fwd = mx.random.normal((length, channels), dtype=mx.float32, key=mx.random.key(4))
    k_rev = mx.random.normal((length, channels), dtype=mx.float32, key=mx.random.key(5))
    skip = mx.zeros((channels,), dtype=mx.float32)
    spectrum = kernel_spectrum(bidirectional_kernel(k_fwd, k_rev), u.shape[1])
    got = fft_long_conv(u, spectrum, skip)[0].tolist()
    u_list, f_list, r_list = u[0].tolist(), k_fwd.tolist(), k_rev.tolist()
    for t in range(length):
        for c in range(channels):
            causal = sum(u_list[s][c] * f_list[t - s][c] for s in range(t + 1))
            anti = sum(
                u_list[s][c] * r_list[s - t - 1][c] for s in range(t + 1, length)
            )
            assert got[t][c] == pytest.approx(causal + anti, abs=1e-5)


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"use_glu_mlp": False},
        {"use_monarch_mlp": False},
        {"bidirectional": False, "residual_long_conv": False},
        {"hyena_training_additions": True, "pool_all": True},
    ],
)
def test_config_variants_run(variant):
    config = M2BertConfig(**SMALL, **variant)
    ids = mx.array([[3, 4, 5, 6, 7, 8, 9, 1], [3, 4, 5, 0, 0, 0, 0, 0]], dtype=mx.int32)
    mask = mx.array([[1] * 8, [1, 1, 1, 0, 0, 0, 0, 0]], dtype=mx.int32)
    assert build_model(config, "masked_lm")(ids).logits.shape == (2, 8, 50)
    out = build_model(config, "sequence_classification")(ids, attention_mask=mask)
    assert out.logits.shape == (2, config.num_labels)


def test_sequence_longer_than_l_max_is_rejected():
    model = build_model(M2BertConfig(**{**SMALL, "max_position_embeddings": 32}))
    with pytest.raises(ValueError, match="exceeds long_conv_l_max 12"):
        model(mx.ones((1, 16), dtype=mx.int32))
