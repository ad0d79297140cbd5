"""Block-diagonal (Monarch) linear layer (``BlockdiagLinear`` of the original ``mm/blockdiag_linear.py``)."""

from __future__ import annotations

import math

import mlx.core as mx
from mlx import nn


class BlockdiagLinear(nn.Module):
    """``y = blockdiag(W_1..W_n) x + b`` with ``weight`` of shape ``(nblocks, out/nblocks, in/nblocks)``.

    Features that do not divide into ``nblocks`` are zero-padded on input and cut on output, as
    in the original ``StructuredLinear``.
    """

    def __init__(
        self, in_features: int, out_features: int, nblocks: int, bias: bool = True
    ):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        in_block = math.ceil(in_features / nblocks)
        out_block = math.ceil(out_features / nblocks)
        self.weight = mx.zeros((nblocks, out_block, in_block), dtype=mx.float32)
        if bias:
            self.bias = mx.zeros((out_features,), dtype=mx.float32)

    def __call__(self, x: mx.array) -> mx.array:
        nblocks, out_block, in_block = self.weight.shape
        extra = nblocks * in_block - x.shape[-1]
        if extra:
            x = mx.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, extra)])
        lead = x.shape[:-1]
        # (rows, nblocks, in_block) -> (nblocks, rows, in_block) so one batched matmul does every block.
        blocks = x.reshape(-1, nblocks, in_block).swapaxes(0, 1)
        out = mx.matmul(blocks, self.weight.swapaxes(1, 2)).swapaxes(0, 1)
        out = out.reshape(*lead, nblocks * out_block)[..., : self.out_features]
        if "bias" in self:
            out = mx.add(out, self.bias)
        return out
