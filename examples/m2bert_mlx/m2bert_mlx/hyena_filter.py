"""Hyena implicit long-convolution filter (``HyenaFilter`` of the original ``hyena_utils.py``).

The filter of length ``L`` is an MLP of a positional embedding, with Sin activations, multiplied by
an exponential decay. The bidirectional variant has a second MLP for the anti-causal half.

The filter is evaluated in float64 on the CPU stream and rounded to float32 once. Its Sin layers
multiply pre-activations by ``freq`` (about 10), which turns every float32 rounding before the
sine into a 10x larger phase error; in float32 that is the largest error source of the whole
model. The filter does not depend on the batch, so the float64 cost is ``O(L * order * d)``.
"""

from __future__ import annotations

import mlx.core as mx
from mlx import nn
from mlx.utils import tree_flatten

from m2bert_mlx.fft_conv import bidirectional_kernel, fft_long_conv, kernel_spectrum
from m2bert_mlx.numerics import typed_scalar
from m2bert_mlx.precise_math import exp_float64, sin_float64

FILTER_DTYPE = mx.float64


def positional_embedding_init(emb_dim: int, seq_len: int) -> tuple[mx.array, mx.array]:
    """Initial ``z`` (``(1, L, emb_dim)``: time, cosines, negated sines) and ``t`` (``(1, L, 1)``).

    Matches ``PositionalEmbedding.__init__``: ``t = linspace(0, 1, L)`` and
    ``z = [t, Re exp(-i f w), Im exp(-i f w)]`` with ``w = 2 pi n / L``, ``f = linspace(1e-4, bands - 1, bands)``.
    """
    dtype = mx.float32
    bands = (emb_dim - 1) // 2
    t = mx.linspace(0, 1, seq_len, dtype=dtype).reshape(1, seq_len, 1)
    two_pi = mx.multiply(
        typed_scalar(2.0, dtype), typed_scalar(3.141592653589793, dtype)
    )
    steps = mx.linspace(0, seq_len - 1, seq_len, dtype=dtype).reshape(1, seq_len, 1)
    w = mx.divide(mx.multiply(two_pi, steps), typed_scalar(seq_len, dtype))
    f = mx.linspace(1e-4, bands - 1, bands, dtype=dtype).reshape(1, 1, bands)
    phase = mx.multiply(f, w)
    z = mx.concatenate([t, mx.cos(phase), mx.negative(mx.sin(phase))], axis=-1)
    return z, t


class PositionalEmbedding(nn.Module):
    """Holds the learned ``z`` and fixed ``t`` of the original; ``forward(L)`` slices the first ``L``."""

    def __init__(self, emb_dim: int, seq_len: int):
        super().__init__()
        self.z, self.t = positional_embedding_init(emb_dim, seq_len)

    def __call__(self, length: int) -> tuple[mx.array, mx.array]:
        return self.z[:, :length], self.t[:, :length]


class Sin(nn.Module):
    """``sin(w_mod * freq * x)``; the one module whose ``freq`` all Sin positions of a filter share."""

    def __init__(self, dim: int, w: float, w_mod: float):
        super().__init__()
        self.freq = mx.full((1, dim), w, dtype=mx.float32)
        self._w_mod = w_mod

    def __call__(self, x: mx.array) -> mx.array:
        return sine_activation(x, self.freq, self._w_mod)


class TiedSin(nn.Module):
    """A parameter-free slot standing for the shared :class:`Sin` (its ``freq`` is a tied key)."""


def sine_activation(x: mx.array, freq: mx.array, w_mod: float) -> mx.array:
    """``sin((w_mod * freq) * x)`` in the original's multiplication order, in ``x``'s dtype.

    float64 inputs use :func:`sin_float64` because MLX's float64 ``sin`` has float32 accuracy.
    """
    scaled_freq = mx.multiply(typed_scalar(w_mod, x.dtype), freq.astype(x.dtype))
    phase = mx.multiply(scaled_freq, x)
    return sin_float64(phase) if x.dtype == mx.float64 else mx.sin(phase)


class ExponentialModulation(nn.Module):
    """Multiplies the filter by ``exp(-t |deltas|) + shift`` (per channel decay rates)."""

    def __init__(
        self,
        d_model: int,
        fast_decay_pct: float = 0.3,
        slow_decay_pct: float = 1.5,
        target: float = 1e-2,
        shift: float = 0.0,
    ):
        super().__init__()
        dtype = mx.float32
        log_target = mx.log(typed_scalar(target, dtype))
        max_decay = mx.divide(log_target, typed_scalar(fast_decay_pct, dtype))
        min_decay = mx.divide(log_target, typed_scalar(slow_decay_pct, dtype))
        fraction = mx.linspace(0, 1, d_model, dtype=dtype)
        span = mx.subtract(max_decay, min_decay)
        self.deltas = mx.add(min_decay, mx.multiply(fraction, span)).reshape(
            1, 1, d_model
        )
        self._shift = shift

    def decay_float64(self, t: mx.array) -> mx.array:
        """``exp(-t |deltas|) + shift`` in float64 (:func:`exp_float64`), as ``__call__`` computes it."""
        rate = mx.multiply(
            mx.negative(t.astype(FILTER_DTYPE)),
            mx.abs(self.deltas.astype(FILTER_DTYPE)),
        )
        return mx.add(exp_float64(rate), typed_scalar(self._shift, FILTER_DTYPE))

    def __call__(self, t: mx.array, x: mx.array) -> mx.array:
        """``x * (exp(-t |deltas|) + shift)`` in ``x``'s dtype (float64 via :func:`exp_float64`)."""
        rate = mx.multiply(
            mx.negative(t.astype(x.dtype)), mx.abs(self.deltas.astype(x.dtype))
        )
        decay = exp_float64(rate) if x.dtype == mx.float64 else mx.exp(rate)
        return mx.multiply(x, mx.add(decay, typed_scalar(self._shift, x.dtype)))


def _implicit_mlp(
    d_model: int, emb_dim: int, order: int, sin: nn.Module, num_inner_mlps: int
) -> list[nn.Module]:
    """``Linear(emb, order), Sin, [Linear(order, order), Sin] * n, Linear(order, d_model, bias=False)``."""
    layers: list[nn.Module] = [nn.Linear(emb_dim, order), sin]
    for _ in range(num_inner_mlps):
        layers.extend([nn.Linear(order, order), TiedSin()])
    layers.append(nn.Linear(order, d_model, bias=False))
    return layers


def _linear_in_dtype(layer: nn.Linear, x: mx.array) -> mx.array:
    """``layer(x)`` with the weights cast to ``x``'s dtype (the filter MLP runs in float64)."""
    y = mx.matmul(x, layer.weight.astype(x.dtype).T)
    return mx.add(y, layer.bias.astype(x.dtype)) if "bias" in layer else y


class SpectrumCache:
    """One filter's spectrum for one length, with the parameter arrays it was built from.

    A plain object (not a dict or array), so ``nn.Module`` keeps it out of the parameter tree.
    """

    def __init__(self) -> None:
        self.length: int | None = None
        self.weights: list[mx.array] = []
        self.spectrum: mx.array | None = None

    def lookup(self, length: int, weights: list[mx.array]) -> mx.array | None:
        """The cached spectrum if it was built for ``length`` from these very arrays."""
        same = len(weights) == len(self.weights) and all(
            a is b for a, b in zip(weights, self.weights)
        )
        return self.spectrum if same and length == self.length else None

    def store(self, length: int, weights: list[mx.array], spectrum: mx.array) -> None:
        self.length, self.weights, self.spectrum = length, weights, spectrum


class HyenaFilter(nn.Module):
    """Implicit filter + FFT long convolution with the per-channel skip term ``bias`` (``D``)."""

    def __init__(
        self,
        d_model: int,
        emb_dim: int,
        order: int,
        seq_len: int,
        w: float,
        w_mod: float,
        bidirectional: bool,
        num_inner_mlps: int = 2,
    ):
        super().__init__()
        self.bidirectional = bidirectional
        self.bias = mx.zeros((d_model,), dtype=mx.float32)
        self.pos_emb = PositionalEmbedding(emb_dim, seq_len)
        shared_sin = Sin(order, w, w_mod)
        self.implicit_filter = _implicit_mlp(
            d_model, emb_dim, order, shared_sin, num_inner_mlps
        )
        if bidirectional:
            self.implicit_filter_rev = _implicit_mlp(
                d_model, emb_dim, order, TiedSin(), num_inner_mlps
            )
        self.modulation = ExponentialModulation(d_model)
        self._w_mod = w_mod
        self._spectrum_cache = SpectrumCache()

    def _run_mlp(self, layers: list[nn.Module], z: mx.array) -> mx.array:
        """The implicit MLP in ``z``'s dtype; every Sin slot uses the one shared ``freq``."""
        freq = self.implicit_filter[1].freq
        h = z
        for layer in layers:
            if isinstance(layer, (Sin, TiedSin)):
                h = sine_activation(h, freq, self._w_mod)
            else:
                h = _linear_in_dtype(layer, h)
        return h

    def _decay(self, length: int) -> mx.array:
        """The modulation's float64 decay; one array serves both directions of a filter."""
        with mx.stream(mx.cpu):
            _, t = self.pos_emb(length)
            return self.modulation.decay_float64(t)

    def _filter_from(
        self, layers: list[nn.Module], length: int, decay: mx.array | None = None
    ) -> mx.array:
        with mx.stream(mx.cpu):
            z, _ = self.pos_emb(length)
            if decay is None:
                decay = self._decay(length)
            h = mx.multiply(self._run_mlp(layers, z.astype(FILTER_DTYPE)), decay)
            return h[0].astype(self.bias.dtype)

    def filter(self, length: int) -> mx.array:
        """The causal filter, ``(L, d_model)``."""
        return self._filter_from(self.implicit_filter, length)

    def filter_rev(self, length: int) -> mx.array:
        """The anti-causal filter, ``(L, d_model)`` (bidirectional filters only)."""
        return self._filter_from(self.implicit_filter_rev, length)

    def kernel(self, length: int) -> mx.array:
        """The convolution kernel: ``(L, d)`` causal, or ``(2L, d)`` combined bidirectional."""
        l_max = self.pos_emb.z.shape[1]
        if length > l_max:
            raise ValueError(
                f"sequence length {length} exceeds long_conv_l_max {l_max}"
            )
        decay = self._decay(length)
        k_fwd = self._filter_from(self.implicit_filter, length, decay)
        if not self.bidirectional:
            return k_fwd
        k_rev = self._filter_from(self.implicit_filter_rev, length, decay)
        return bidirectional_kernel(k_fwd, k_rev)

    def spectrum(self, length: int) -> mx.array:
        """The kernel's spectrum for sequences of ``length``, cached per length.

        It depends only on the weights and ``length``: the cache entry holds the parameter arrays
        it was built from and is rebuilt when any of them is replaced (e.g. by a weight load).
        One length is kept per filter.
        """
        weights = [value for _, value in tree_flatten(self.parameters())]
        cached = self._spectrum_cache.lookup(length, weights)
        if cached is not None:
            return cached
        spectrum = kernel_spectrum(self.kernel(length), length)
        self._spectrum_cache.store(length, weights, spectrum)
        return spectrum

    def __call__(self, u: mx.array) -> mx.array:
        """Long-convolve ``u`` (``(batch, L, d_model)``) with this filter, plus ``u * bias``."""
        return fft_long_conv(u, self.spectrum(u.shape[1]), self.bias)
