"""EL801 torch-keyword-in-mlx."""

from __future__ import annotations

import libcst as cst

from emberlint.fixers.keywords import rename_keyword
from emberlint.rule import FixAvailability, Invalid, RawFix
from emberlint.rules._coach import method_call
from emberlint.rules.porting._common import PortRule, porting_table
from emberlint.syntax import code


class TorchKeywordInMlx(PortRule):
    """PyTorch's ``dim=`` / ``keepdim=`` keywords passed to an MLX function or MLX array method
    (``mx.sum(x, dim=1)``, ``x.mean(dim=-1, keepdim=True)``).

    Why it matters numerically: MLX spells them ``axis=`` and ``keepdims=``. The call raises ``TypeError`` at
    run time, and only on the path that is executed: a reduction in a rarely used branch (padding mask, the
    bidirectional Hyena filter) survives until that branch runs. A hurried fix that drops the keyword instead
    reduces over *all* axes, a scalar that broadcasts silently.

    Fix: ``dim=`` -> ``axis=``, ``keepdim=`` -> ``keepdims=`` (the fix does exactly this; it is safe for MLX
    functions and for methods of a value proven to be an MLX array, unsafe when the receiver is only assumed one).
    """

    CODE = "EL801"
    NAME = "torch-keyword-in-mlx"
    MESSAGE = "`{old}=` is PyTorch's keyword; MLX's `{call}` takes `{new}=`"
    FIX = FixAvailability.SAFE_WHEN_PROVEN
    VALID = [
        """
        import mlx.core as mx
        y = mx.sum(x, axis=1, keepdims=True)
        """,
        """
        import torch
        y = torch.sum(x, dim=1, keepdim=True)
        """,
        """
        import mlx.core as mx
        import torch
        y = torch.softmax(torch.tensor(x), dim=-1)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            y = mx.mean(x, dim=-1, keepdim=True)
                           ^^^^^^ EL801
                                   ^^^^^^^^^^^^ EL801
            """,
            fixed="""
            import mlx.core as mx
            y = mx.mean(x, axis=-1, keepdims=True)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def norm(x: mx.array):
                return x.sum(dim=1)
                             ^^^^^ EL801
            """,
            fixed="""
            import mlx.core as mx
            def norm(x: mx.array):
                return x.sum(axis=1)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            x = mx.ones((2, 3), dtype=mx.float32)
            y = x.sum(dim=1)
                      ^^^^^ EL801
            """,
            fixed="""
            import mlx.core as mx
            x = mx.ones((2, 3), dtype=mx.float32)
            y = x.sum(axis=1)
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        renames = porting_table()["keywords"]
        if not any(a.keyword is not None and a.keyword.value in renames for a in node.args):
            return
        qualified = self.context.qualified_name(node.func)
        proven = True
        if qualified is not None:
            if not qualified.startswith("mlx."):
                return
        else:
            method = method_call(node)
            if method is None or not self.mlx_receiver(method[0]):
                return
            receiver = self.context.infer(method[0])
            proven = receiver.is_array and receiver.backend == "mlx" and receiver.proven
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in renames:
                new = renames[arg.keyword.value]
                fix = RawFix(safe=proven, replacements=[(arg.keyword, rename_keyword(arg.keyword, new))],
                             description=f"Rename {arg.keyword.value}= to {new}=")
                self.report(arg, old=arg.keyword.value, new=new, call=code(node.func), fix=fix)
