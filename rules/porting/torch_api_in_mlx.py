"""EL803 torch-api-in-mlx."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules._coach import method_call
from emberlint.rules.porting._common import PortRule, porting_table
from emberlint.syntax import code, dotted_name


class TorchApiInMlx(PortRule):
    """PyTorch-only API left in MLX code: ``nn.Parameter``, ``torch.no_grad()``, ``.to(device)``, ``.cuda()``.

    Why it matters numerically: none of them exists in MLX, so the port fails on the first call that reaches them,
    and the usual quick patches change numbers: wrapping a weight in a custom ``Parameter`` class hides it from
    ``model.parameters()`` (the checkpoint loader skips it and it keeps its random init), and ``.to(device)`` shims
    that call ``astype`` turn ``.to(torch.float64)`` into a float64 graph that MLX runs on the CPU only.

    Fix: an ``mx.array`` attribute is a parameter (``self.w = mx.zeros(...)``); gradients exist only inside
    ``mx.grad``/``nn.value_and_grad`` (use ``mx.stop_gradient`` for the rare case); arrays are in unified memory
    (drop ``.to(device)``/``.cuda()``; ``x.astype(dtype)`` for a dtype).
    """

    CODE = "EL803"
    NAME = "torch-api-in-mlx"
    MESSAGE = "`{api}` is PyTorch API in MLX code: {advice}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        import mlx.nn as nn
        class M(nn.Module):
            def __init__(self):
                self.w = mx.zeros((3,))
        """,
        """
        import mlx.core as mx
        import torch
        w = mx.array(torch_w.to('cpu').numpy())
        """,
        """
        import mlx.core as mx
        import torch
        def test_parity(x):
            with torch.no_grad():
                ref = torch.nn.functional.gelu(torch.tensor(x))
            return mx.array(ref.numpy())
        """,
        """
        import mlx.core as mx
        import triton.language as tl
        def kernel(ptr):
            x = tl.load(ptr).to(tl.float32)
            return x
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Sin(nn.Module):
                def __init__(self, dim, w=10):
                    super().__init__()
                    self.freq = nn.Parameter(w * mx.ones((1, dim)))
                                ^^^^^^^^^^^^ EL803
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def run(model, x, device):
                with torch.no_grad():
                     ^^^^^^^^^^^^^ EL803
                    return model(x.to(device))
                                   ^^ EL803
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            y = mx.exp(x).cuda()
                          ^^^^ EL803
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not self.context.imports_backend("mlx"):
            return
        qualified = self.context.qualified_name(node.func)
        names = porting_table()["torch_only_names"]
        if qualified and qualified.startswith("torch.") and self.context.imports_backend("torch"):
            return  # a file that imports torch (a torch-vs-MLX parity test) calls torch's own API
        dotted = dotted_name(node.func) or ""  # only a dotted name can be one of the table's names
        if qualified in names or (qualified is None and not self.context.imports_backend("torch")
                                  and f"torch.{dotted.split('.', 1)[-1]}" in names and dotted.startswith("torch.")):
            key = qualified if qualified in names else dotted
            self.report(node.func, api=code(node.func), advice=names[key])
            return
        method = method_call(node)
        methods = porting_table()["torch_only_methods"]
        if method is not None and method[1] in methods and qualified is None and self.mlx_receiver(method[0]):
            self.report(node.func.attr, api=f".{method[1]}()", advice=methods[method[1]])
