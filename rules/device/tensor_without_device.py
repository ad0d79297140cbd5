"""EL702 tensor-without-device."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import table
from emberlint.syntax import code, keyword_argument


class TensorWithoutDevice(Rule):
    """``torch.tensor(...)`` / ``torch.zeros(...)`` and other factories without ``device=`` inside ``forward`` in a
    file that places tensors on a device.

    Why it matters numerically: the factory makes a CPU tensor. Mixed with a CUDA activation it raises; mixed with a
    CPU-resident scalar (0-d) it is silently accepted and copied to the device on every call, a host-device sync per
    forward. With ``torch.tensor(0.5)`` the dtype is float32 but ``torch.tensor(1)`` is int64 and ``torch.tensor(x,
    dtype=torch.float64)`` promotes the result, which the device mismatch error message hides.

    Fix: create it on the input's device and dtype, ``torch.zeros(n, device=x.device, dtype=x.dtype)``, or register a
    buffer in ``__init__`` (``self.register_buffer(...)``) so ``model.to(device)`` moves it.
    """

    CODE = "EL702"
    NAME = "tensor-without-device"
    MESSAGE = "`{call}(...)` without `device=` in `{method}` makes a CPU tensor in code that uses a device; {how}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, x):
                t = torch.arange(x.shape[-1], device=x.device)
                return x.to(device=x.device) + t
        """,
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, x):
                return x + torch.zeros(3)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            import torch.nn as nn
            class PositionalEmbedding(nn.Module):
                def __init__(self, L, device='cuda'):
                    super().__init__()
                    self.t = torch.linspace(0, 1, L, device=device)
                def forward(self, L):
                    w = 2 * 3.14159 * torch.arange(L) / L
                                      ^^^^^^^^^^^^^^^ EL702
                    return self.t[:, :L], w
            """,
        ),
    ]

    def _file_uses_device(self) -> bool:
        cached = self.__dict__.get("_uses")
        if cached is None:
            source = self.context.source
            cached = "device=" in source or "torch.device(" in source or ".to(device" in source or ".cuda(" in source
            self._uses = cached
        return cached

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func) or ""
        module, _, function = qualified.rpartition(".")
        if module != "torch" or function not in table()["device"]["torch_factories"]:
            return
        if keyword_argument(node, "device") is not None or function.endswith("_like"):
            return
        if not self.context.in_compute_method() or not self._file_uses_device():
            return
        method = self.context.enclosing_function()
        self.report(node, call=code(node.func), method=method.name.value if method else "forward",
                    how="pass `device=x.device` (and `dtype=x.dtype`) or register a buffer in `__init__`")
