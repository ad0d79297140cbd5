"""EL807 conv-weight-layout."""

from __future__ import annotations

import re

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules._coach import method_call, string_value
from emberlint.rules.porting._common import PortRule, porting_table
from emberlint.syntax import code
from emberlint.walk import subtree


class ConvWeightLayout(PortRule):
    """A convolution weight copied from PyTorch into MLX without reordering its axes:
    ``conv.weight = mx.array(torch_w)`` or ``weights["encoder.conv.weight"] = mx.array(...)`` with no
    ``swapaxes``/``transpose``/``moveaxis`` in sight.

    Why it matters numerically: PyTorch stores ``Conv1d`` weights as ``[out, in/groups, k]``, MLX as
    ``[out, k, in/groups]`` (channels last). For M2-BERT's depthwise short filter (``[3*d, 1, 3]``) the MLX layer
    would expect ``[3*d, 3, 1]``; when ``k`` equals ``in/groups`` (square kernels, ``[d, 3, 3]``) the shapes even
    match and the convolution silently mixes the wrong taps.

    Fix: ``mx.swapaxes(w, 1, 2)`` for ``Conv1d`` (``mx.transpose(w, (0, 2, 3, 1))`` for ``Conv2d``) when copying,
    or keep the PyTorch layout and swap in ``__call__`` as the reference port does.
    """

    CODE = "EL807"
    NAME = "conv-weight-layout"
    MESSAGE = ("`{target}` gets a PyTorch conv weight ([out, in/groups, k]) without reordering; MLX conv weights are "
               "[out, k, in/groups]: use `mx.swapaxes(w, 1, 2)`")
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        model.short_filter.weight = mx.swapaxes(mx.array(torch_w.numpy()), 1, 2)
        """,
        """
        import mlx.core as mx
        import mlx.nn as nn
        conv = nn.Conv1d(3, 3, 3)
        conv.weight = mx.zeros((3, 3, 3))
        """,
        """
        import mlx.core as mx
        linear.weight = mx.array(torch_w.numpy())
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            model.conv.weight = mx.array(torch_w.numpy())
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL807
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            filt = nn.Conv1d(768, 768, 3, groups=768)
            filt.weight = mx.array(state['short_filter.weight'])
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL807
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            weights['bert.encoder.layer.0.attention.short_filter.weight'] = mx.array(w)
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL807
            """,
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.context.imports_backend("mlx") or len(node.targets) != 1:
            return
        owner = self.weight_owner(node.targets[0].target)
        if owner is None or self.reorders(node.value):
            return
        text, cls = owner
        is_conv = cls in porting_table()["conv_classes"] or (
            not cls and re.search(porting_table()["conv_name_pattern"], text) is not None
        )
        if is_conv and self._copied(node.value):
            self.report(node, target=code(node.targets[0].target))

    def _copied(self, value: cst.BaseExpression) -> bool:
        """The value comes from outside MLX: ``mx.array(...)``, ``.numpy()``, a state-dict lookup."""
        for inner in subtree(value):
            if isinstance(inner, cst.Call):
                qualified = self.context.qualified_name(inner.func) or ""
                method = method_call(inner)
                if qualified in ("mlx.core.array", "mlx.core.asarray") or (method and method[1] == "numpy"):
                    return True
            if isinstance(inner, cst.Subscript) and len(inner.slice) == 1:
                index = inner.slice[0].slice
                if isinstance(index, cst.Index) and string_value(index.value):
                    return True
        return False
