"""EL805 mlx-transpose-pair."""

from __future__ import annotations

import libcst as cst

from emberlint.fixers.keywords import method_to_function
from emberlint.rule import FixAvailability, Invalid, RawFix
from emberlint.rules._coach import method_call
from emberlint.rules.porting._common import PortRule
from emberlint.syntax import code


class MlxTransposePair(PortRule):
    """``x.transpose(-1, -2)`` (two axes, PyTorch's meaning: swap them) on an MLX array.

    Why it matters numerically: MLX's ``transpose`` takes a full permutation. On a 3-D or 4-D activation two axes
    raise; on a 2-D array ``x.transpose(0, 1)`` is the *identity* permutation in MLX but a swap in PyTorch, so a
    ported ``w.transpose(0, 1)`` silently keeps ``[out, in]`` where the original used ``[in, out]``, and a square
    weight matrix gives wrong numbers without any shape error.

    Fix: ``mx.swapaxes(x, -1, -2)`` (or ``x.swapaxes(-1, -2)``). The fix is unsafe: for 2-D arrays it changes
    which permutation runs.
    """

    CODE = "EL805"
    NAME = "mlx-transpose-pair"
    MESSAGE = "MLX `transpose` takes a full permutation, not two axes to swap; use `{fix}`"
    FIX = FixAvailability.UNSAFE
    VALID = [
        """
        import mlx.core as mx
        y = mx.swapaxes(x, -1, -2)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return x.transpose(0, 2, 1)
        """,
        """
        import torch
        y = x.transpose(-1, -2)
        """,
        """
        import mlx.core as mx
        def f(w: mx.array):
            return w.transpose(1, 0)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def scores(q: mx.array, k: mx.array):
                return mx.matmul(q, k.transpose(-1, -2))
                                    ^^^^^^^^^^^^^^^^^^^ EL805
            """,
            fixed="""
            import mlx.core as mx
            def scores(q: mx.array, k: mx.array):
                return mx.matmul(q, mx.swapaxes(k, -1, -2))
            """,
            unsafe=True,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is None or method[1] != "transpose" or len(node.args) != 2:
            return
        if any(a.keyword is not None or a.star for a in node.args):
            return
        if not all(isinstance(a.value, (cst.Integer, cst.UnaryOperation)) for a in node.args):
            return
        if [code(a.value) for a in node.args] == ["1", "0"]:
            return  # the full permutation of a 2-D array: a swap in MLX and in PyTorch alike
        if self.context.qualified_name(node.func) is not None or not self.mlx_receiver(method[0]):
            return
        ref = self.context.module_ref("mlx.core")
        replacement = method_to_function(node, ref.text, "swapaxes")
        fix = RawFix(safe=False, replacements=[(node, replacement)], imports=[ref.import_line] if ref.import_line else [],
                     description="Use mx.swapaxes")
        shown = code(replacement)
        if "\n" in shown:
            shown = f"{ref.text}.swapaxes(x, {', '.join(code(a.value) for a in node.args)})"
        self.report(node, self.MESSAGE.format(fix=shown), fix=fix)
