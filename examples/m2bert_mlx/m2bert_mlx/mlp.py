"""State-mixing MLPs of a layer: the GLU MLP and the plain MLP, each with post-LayerNorm residual."""

from __future__ import annotations

import mlx.core as mx
from mlx import nn

from m2bert_mlx.blockdiag_linear import BlockdiagLinear
from m2bert_mlx.config import M2BertConfig
from m2bert_mlx.numerics import gelu_exact


def _linear(
    config: M2BertConfig, in_features: int, out_features: int, bias: bool
) -> nn.Module:
    if config.use_monarch_mlp:
        return BlockdiagLinear(
            in_features, out_features, config.monarch_mlp_nblocks, bias=bias
        )
    return nn.Linear(in_features, out_features, bias=bias)


class BertGatedLinearUnitMLP(nn.Module):
    """``LayerNorm(wo(gelu(gate) * value) + x)`` where ``[gate | value] = gated_layers(x)``."""

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self._intermediate = config.intermediate_size
        self.gated_layers = _linear(
            config, config.hidden_size, 2 * config.intermediate_size, False
        )
        self.wo = _linear(config, config.intermediate_size, config.hidden_size, True)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def __call__(self, hidden_states: mx.array) -> mx.array:
        projected = self.gated_layers(hidden_states)
        gated = projected[..., : self._intermediate]
        non_gated = projected[..., self._intermediate :]
        mixed = self.wo(mx.multiply(gelu_exact(gated), non_gated))
        return self.layernorm(mx.add(mixed, hidden_states))


class BertMLP(nn.Module):
    """``LayerNorm(wo(gelu(gated_layers(x))) + x)``."""

    def __init__(self, config: M2BertConfig):
        super().__init__()
        self.gated_layers = _linear(
            config, config.hidden_size, config.intermediate_size, False
        )
        self.wo = _linear(config, config.intermediate_size, config.hidden_size, True)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def __call__(self, hidden_states: mx.array) -> mx.array:
        mixed = self.wo(gelu_exact(self.gated_layers(hidden_states)))
        return self.layernorm(mx.add(mixed, hidden_states))
