"""EL705 python-loop-over-dimension."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import method_call, table
from emberlint.rules.device._common import element_loop
from emberlint.syntax import code
from emberlint.walk import subtree


class PythonLoopOverDimension(Rule):
    """A Python ``for`` loop over an array dimension (``for i in range(x.shape[1])``) in ``__call__``/``forward``
    that collects per-slice results into a list later passed to ``mx.stack``/``mx.concatenate``/``torch.stack``/
    ``torch.cat``.

    Why it matters numerically: every iteration launches its own small kernels (and builds its own graph nodes in
    MLX), so the cost grows with the dimension, not with the data: a per-channel Hyena filter loop over 768 channels
    is 768 FFTs of one row instead of one batched FFT. Results also differ in the last bits from the vectorised
    form because reductions of one slice use a different blocking.

    Recurrences (the body updates a name from its previous value, ``h = cell(x[:, t], h)``) are not reported.

    Fix: vectorise along the dimension: use the ``axis=`` argument of the op (``mx.fft.rfft(k, n=n, axis=0)``
    transforms every channel at once), broadcasting (``x[:, None] * w[None]``), ``mx.vmap(f, in_axes=1)`` /
    ``torch.vmap``, or ``einsum``.
    """

    CODE = "EL705"
    NAME = "python-loop-over-dimension"
    MESSAGE = "Python loop over {what} in `{method}` builds `{name}` for `{stack}`; vectorise along the axis ({how})"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        import mlx.nn as nn
        class F(nn.Module):
            def __call__(self, k):
                return mx.fft.rfft(k, n=2 * k.shape[0], axis=0, norm="backward")
        """,
        """
        import mlx.core as mx
        import mlx.nn as nn
        class F(nn.Module):
            def __call__(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            import torch.nn as nn
            class LongConv(nn.Module):
                def forward(self, u, k):
                    ys = []
                    for c in range(u.shape[1]):
                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL705
                        ys.append(torch.fft.irfft(torch.fft.rfft(u[:, c], n=2 * u.shape[-1], norm="backward") * k[c], norm="backward"))
                    return torch.stack(ys, dim=1)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Mix(nn.Module):
                def __call__(self, x):
                    rows = []
                    for i in range(x.shape[0]):
                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL705
                        rows.append(mx.exp(x[i]))
                    return mx.stack(rows)
            """,
        ),
    ]

    def visit_For(self, node: cst.For) -> None:
        if not self.context.in_compute_method():
            return
        what = element_loop(self.context, node)
        if what is None:
            return
        if _loop_carried(node):
            return
        appended = {
            method[0].value
            for inner in subtree(node.body)
            if (method := method_call(inner)) is not None and method[1] == "append" and isinstance(method[0], cst.Name)
        }
        function = self.context.enclosing_function()
        if not appended or function is None:
            return
        for inner in subtree(function):
            if not isinstance(inner, cst.Call) or not inner.args:
                continue
            stack = self.context.qualified_name(inner.func) or ""
            first = inner.args[0].value
            if stack in table()["device"]["stack_calls"] and isinstance(first, cst.Name) and first.value in appended:
                how = ("`axis=` of the op, broadcasting or `mx.vmap`" if stack.startswith("mlx")
                       else "the op's `dim=`, broadcasting or `torch.vmap`")
                self.report(node, what=what, method=function.name.value, name=first.value,
                            stack=code(inner.func), how=how)
                return


def _loop_carried(loop: cst.For) -> bool:
    """The body updates a name from its own previous value (``h = cell(x[i], h)``, ``acc += ...``): a recurrence
    that a vectorised form cannot replace."""
    assigned: set[str] = set()
    values: list[cst.CSTNode] = []
    for inner in subtree(loop.body):
        if isinstance(inner, cst.AugAssign) and isinstance(inner.target, cst.Name):
            return True
        if isinstance(inner, cst.Assign):
            for target in inner.targets:
                assigned.update(n.value for n in subtree(target.target) if isinstance(n, cst.Name))
            values.append(inner.value)
    return any(isinstance(n, cst.Name) and n.value in assigned for value in values for n in subtree(value))
