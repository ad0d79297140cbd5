"""Monarch Mixer sequence mixer (``MonarchMixerSequenceMixing`` of the original)."""

from __future__ import annotations

import mlx.core as mx
from mlx import nn

from m2bert_mlx.config import M2BertConfig
from m2bert_mlx.hyena_filter import HyenaFilter

NUM_PROJECTIONS = 3
SHORT_KERNEL = 3


class CausalDepthwiseConv(nn.Module):
    """Depthwise ``Conv1d(kernel_size=3, padding=2)`` cut to the first ``L`` outputs (causal).

    ``weight`` keeps torch's ``(channels, 1, kernel)`` layout so checkpoint shapes match.
    """

    def __init__(self, channels: int, kernel_size: int = SHORT_KERNEL):
        super().__init__()
        self.weight = mx.zeros((channels, 1, kernel_size), dtype=mx.float32)
        self.bias = mx.zeros((channels,), dtype=mx.float32)

    def __call__(self, x: mx.array) -> mx.array:
        """``y[t] = sum_k weight[k] * x[t - (K - 1) + k] + bias``, as shifted multiply-adds.

        Elementwise on ``(batch, L, channels)``: MLX's CPU grouped ``conv1d`` is several times
        slower for a depthwise kernel of 3. The sum runs in tap order (``k = 0, 1, 2``).
        """
        kernel_size = self.weight.shape[-1]
        length = x.shape[1]
        padded = mx.pad(x, [(0, 0), (kernel_size - 1, 0), (0, 0)])
        taps = self.weight[:, 0, :].T
        out = mx.multiply(padded[:, :length], taps[0])
        for k in range(1, kernel_size):
            out = mx.add(out, mx.multiply(padded[:, k : k + length], taps[k]))
        return mx.add(out, self.bias)


class MonarchMixerSequenceMixing(nn.Module):
    """Gated long convolution: ``out_linear((conv(v * x1) * x2) + residual_conv(u))``.

    ``x1, x2, v`` are the three channel groups of ``short_filter(in_linear(u))``.
    """

    def __init__(self, config: M2BertConfig):
        super().__init__()
        d_model = config.hidden_size
        self._d_model = d_model
        self._residual_long_conv = config.residual_long_conv
        filter_args = {
            "d_model": d_model,
            "emb_dim": config.hyena_emb_dim,
            "order": config.hyena_filter_order,
            "seq_len": config.long_conv_l_max,
            "w": config.hyena_w,
            "w_mod": config.hyena_w_mod,
            "bidirectional": config.bidirectional,
        }
        self.filter_fn = HyenaFilter(**filter_args)
        if config.residual_long_conv:
            self.filter_fn2 = HyenaFilter(**filter_args)
        self.in_linear = nn.Linear(d_model, NUM_PROJECTIONS * d_model)
        self.out_linear = nn.Linear(d_model, d_model)
        if config.hyena_training_additions:
            # torch.nn.LayerNorm default eps, not config.layer_norm_eps.
            self.layernorm = nn.LayerNorm(d_model, eps=1e-5)
        self.short_filter = CausalDepthwiseConv(NUM_PROJECTIONS * d_model)

    def __call__(self, u: mx.array) -> mx.array:
        """Mix ``u`` (``(batch, L, hidden)``) along the sequence; ``L <= long_conv_l_max``."""
        if "layernorm" in self:
            u = self.layernorm(u)
        mixed = self.short_filter(self.in_linear(u))
        x1, x2, v = mx.split(mixed, NUM_PROJECTIONS, axis=-1)
        y = mx.multiply(self.filter_fn(mx.multiply(v, x1)), x2)
        if self._residual_long_conv:
            y = mx.add(y, self.filter_fn2(u))
        return self.out_linear(y)
