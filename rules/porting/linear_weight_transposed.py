"""EL808 linear-weight-transposed."""

from __future__ import annotations

import re

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.porting._common import PortRule, porting_table
from emberlint.syntax import code


class LinearWeightTransposed(PortRule):
    """A Linear weight assigned transposed in MLX code: ``linear.weight = w.T`` / ``mx.array(w).swapaxes(0, 1)``.

    Why it matters numerically: PyTorch ``nn.Linear`` and MLX ``nn.Linear`` both store ``weight`` as
    ``[out, in]`` and compute ``x @ weight.T``; the transpose habit from JAX/Keras (``[in, out]``) is wrong here.
    For square projections (M2-BERT's ``out_linear``, ``d x d``) the shapes still match and the layer silently
    applies ``W.T``, an error as large as the weights themselves.

    Fix: copy the weight as is, ``linear.weight = mx.array(w)``.
    """

    CODE = "EL808"
    NAME = "linear-weight-transposed"
    MESSAGE = ("`{target}` gets a transposed weight; PyTorch and MLX `nn.Linear` both store [out, in]: "
               "assign it without the transpose")
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        model.out_linear.weight = mx.array(w)
        """,
        """
        import mlx.core as mx
        model.conv.weight = mx.swapaxes(mx.array(w), 1, 2)
        """,
        """
        import torch
        model.out_linear.weight.data = w.T
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            model.out_linear.weight = mx.array(w).T
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL808
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            head = nn.Linear(768, 2)
            head.weight = mx.swapaxes(mx.array(torch_w.numpy()), 0, 1)
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL808
            """,
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.context.imports_backend("mlx") or len(node.targets) != 1:
            return
        owner = self.weight_owner(node.targets[0].target)
        if owner is None or not self.reorders(node.value):
            return
        text, cls = owner
        if cls in porting_table()["linear_classes"] or (
            not cls and re.search(porting_table()["linear_name_pattern"], text) is not None
        ):
            self.report(node, target=code(node.targets[0].target))
