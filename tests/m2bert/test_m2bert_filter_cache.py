"""The Hyena filter spectrum is cached per sequence length and rebuilt when the weights change."""

from __future__ import annotations

import mlx.core as mx
from m2bert_mlx.fft_conv import kernel_spectrum
from m2bert_mlx.hyena_filter import HyenaFilter
from mlx.utils import tree_flatten, tree_map


def make_filter() -> HyenaFilter:
    hyena = HyenaFilter(
        d_model=8, emb_dim=5, order=16, seq_len=32, w=10, w_mod=1, bidirectional=True
    )
    scale = mx.array(0.3, dtype=mx.float32)
    hyena.update(
        tree_map(
            lambda v: mx.multiply(
                mx.random.normal(v.shape, key=mx.random.key(1)), scale
            ),
            hyena.parameters(),
        )
    )
    return hyena


def test_spectrum_is_reused_for_the_same_length():
    hyena = make_filter()
    first = hyena.spectrum(16)
    assert hyena.spectrum(16) is first
    assert mx.array_equal(first, kernel_spectrum(hyena.kernel(16), 16)).item()
    other = hyena.spectrum(24)
    assert other.shape == (8, 25)
    assert hyena.spectrum(16) is not first  # one length is kept
    assert mx.array_equal(hyena.spectrum(16), first).item()


def test_spectrum_is_rebuilt_after_a_weight_update():
    hyena = make_filter()
    before = hyena.spectrum(16)
    layer = hyena.implicit_filter[0]
    layer.weight = mx.multiply(layer.weight, mx.array(2.0, dtype=mx.float32))
    after = hyena.spectrum(16)
    assert after is not before
    assert not mx.allclose(after, before).item()
    assert mx.array_equal(after, kernel_spectrum(hyena.kernel(16), 16)).item()


def test_cached_spectrum_is_not_a_parameter():
    hyena = make_filter()
    names = set(dict(tree_flatten(hyena.parameters())))
    hyena.spectrum(16)
    assert set(dict(tree_flatten(hyena.parameters()))) == names


def test_kernel_shares_one_decay_and_equals_the_separate_filters():
    hyena = make_filter()
    separate = mx.concatenate([hyena.filter(16), hyena.filter_rev(16)[::-1]], axis=0)
    assert mx.array_equal(hyena.kernel(16), separate).item()
