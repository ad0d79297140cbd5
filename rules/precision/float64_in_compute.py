"""EL550 float64-in-compute."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import method_call, string_value, table
from emberlint.syntax import code


class Float64InCompute(Rule):
    """``mx.float64`` / ``torch.float64`` / ``torch.double`` / ``np.float64`` used as a dtype, ``.double()``, or
    ``dtype="float64"``, inside ``__call__``/``forward`` of a module in a file that otherwise computes in float32.

    Why it matters numerically: one float64 operand promotes everything it touches. In PyTorch the result of
    ``x_float32 * w_float64`` is float64, the next layer's float32 weights meet a float64 activation and raise, or
    (``.double()`` on the input) the whole block runs at half the throughput and twice the memory, on CUDA often
    1/32 of the float32 rate. MLX runs float64 only on the CPU stream (the GPU raises), so a float64 cast inside
    ``__call__`` either fails on the default GPU device or silently moves the graph to the CPU. When the extra
    precision is wanted (a filter evaluated once, an error measurement) it belongs in a named helper outside the
    per-batch path, rounded back to float32 once.

    Fix: keep the compute path in the file's float32 (``x.astype(mx.float32)`` / ``x.float()``), or move the float64
    section into a documented helper called outside ``__call__``/``forward``. Comparisons such as
    ``x.dtype == mx.float64`` are not reported, nor files that never mention float32 (``float32`` or ``.float()``):
    a deliberately float64 module is not "float32 code".
    """

    CODE = "EL550"
    NAME = "float64-in-compute"
    MESSAGE = "{what} in the compute path of float32 code promotes the activations to float64; {how}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        import mlx.nn as nn
        class F(nn.Module):
            def __call__(self, x):
                return mx.exp(x) if x.dtype == mx.float64 else mx.exp(x.astype(mx.float32))
        """,
        """
        import mlx.core as mx
        FILTER_DTYPE = mx.float64
        def filt(z):
            with mx.stream(mx.cpu):
                return z.astype(FILTER_DTYPE).astype(mx.float32)
        """,
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, x):
                return x.float() * 2.0
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            import torch.nn as nn
            class FFTConv(nn.Module):
                def forward(self, u, k):
                    k = k.to(torch.float32)
                    k_f = torch.fft.rfft(k.double(), n=2 * u.shape[-1])
                                         ^^^^^^^^^^ EL550
                    return k_f
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Filter(nn.Module):
                def __call__(self, z):
                    h = mx.zeros(z.shape, dtype=mx.float32)
                    return mx.add(h, z.astype(mx.float64))
                                              ^^^^^^^^^^ EL550
            """,
        ),
    ]

    def _uses_float32(self) -> bool:
        cached = self.__dict__.get("_float32")
        if cached is None:
            source = self.context.source
            cached = "float32" in source or ".float()" in source
            self._float32 = cached
        return cached

    def _how(self) -> str:
        if self.context.imports_backend("mlx"):
            return "use `mx.float32` (MLX runs float64 only on the CPU stream) or move the float64 part to a helper"
        return "use `torch.float32` / `.float()` or move the float64 part out of `forward`"

    def _in_comparison(self) -> bool:
        return any(isinstance(node, cst.Comparison) for node in self.context.ancestors[:-1])

    def _check(self, node: cst.CSTNode, what: str) -> None:
        if self.context.in_compute_method() and self._uses_float32() and not self._in_comparison():
            self.report(node, what=what, how=self._how())

    def visit_Attribute(self, node: cst.Attribute) -> None:
        qualified = self.context.qualified_name(node)
        if qualified not in table()["precision"]["float64_names"]:
            return
        parent = self.context.parent()
        if isinstance(parent, cst.Call) and parent.func is node:
            return  # ``np.float64(x)``: a NumPy scalar, the NumPy-in-compute rules' business
        self._check(node, f"`{code(node)}`")

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is not None and method[1] in table()["precision"]["float64_methods"] and not node.args:
            if self.context.qualified_name(node.func) is None and self.context.imports_backend("torch"):
                self._check(node, f"`.{method[1]}()`")
                return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "dtype":
                if string_value(arg.value) in table()["precision"]["float64_strings"]:
                    self._check(arg.value, f"`dtype={code(arg.value)}`")
