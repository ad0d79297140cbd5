"""EL701 host-transfer-in-compute."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import method_call, mlx_port, table
from emberlint.rules.device._common import device_string
from emberlint.syntax import code, keyword_argument
from emberlint.walk import subtree


class HostTransferInCompute(Rule):
    """``.cpu()``, ``.to("cpu")``, ``.cuda()`` or ``.to(device)`` inside ``forward``/``__call__`` of a module
    (``.numpy()`` there is EL103).

    Why it matters numerically: a device move inside the forward pass synchronises the device (the GPU queue drains
    before the copy), copies the activations, and cuts the autograd graph when it goes through NumPy (gradients of
    everything before ``.numpy()`` are silently zero). ``.to(device)`` of an already-placed activation is a no-op at
    best; at worst it moves a float32 activation to a device where the next op runs a different kernel (MPS and CPU
    reductions round differently, so parity tests drift by 1e-6 relative from call to call).

    Fix: place the module and its inputs once, outside (``model.to(device)``; MLX: unified memory, no move at all),
    and keep ``forward``/``__call__`` device-free. Convert to NumPy only after the forward pass.

    Profile: strict only. On real code (``benchmarks/real_code_precision.py``) its findings were
    ``self.inv_freq.to(device=x.device)``: a buffer placed with the module, so the move is a no-op.
    """

    CODE = "EL701"
    NAME = "host-transfer-in-compute"
    MESSAGE = "`{call}` inside `{method}` moves data between devices on every call; {how}"
    SEVERITY = None  # strict only: on real code its findings were `.to(x.device)` of placed buffers (no move)
    FIX = FixAvailability.NONE
    VALID = [
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, u):
                return self.proj(u.to(torch.float32))
        """,
        """
        import torch
        model = M().to('cuda')
        y = model(x).cpu().numpy()
        """,
        """
        import mlx.core as mx
        import mlx.nn as nn
        class M(nn.Module):
            def __call__(self, u):
                return mx.multiply(u, u)
        """,
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, x):
                if x.device != self.w.device:
                    x = x.to(self.w.device)
                return x @ self.w
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            import torch.nn as nn
            class HyenaFilter(nn.Module):
                def forward(self, x, L):
                    k = self.filter(L).to(x.device)
                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL701
                    return k.cpu()
                           ^^^^^^^ EL701
            """,
        ),
        Invalid(
            """
            import torch
            class FFTConv(torch.nn.Module):
                def forward(self, u, k):
                    return torch.fft.irfft(u * k, norm='forward').to('cpu')
                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL701
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is None or not self.context.in_compute_method():
            return
        if self.context.qualified_name(node.func) is not None:
            return
        name = method[1]
        facts = table()["device"]
        if name in facts["host_methods"] and not node.args:
            pass
        elif name in facts["move_methods"]:
            if mlx_port(self.context):
                return  # the porting rule EL803 reports torch device calls in MLX code
            if name == "to" and (not self._device_argument(node) or self._guarded_by_device_check()):
                return
        else:
            return
        function = self.context.enclosing_function()
        how = ("MLX arrays live in unified memory: drop the move, and convert to NumPy only after `__call__`"
               if self.context.imports_backend("mlx") else
               "place the module and inputs once outside `forward` (`model.to(device)`) and drop the move")
        self.report(node, call=f".{name}({', '.join(code(a.value) for a in node.args)})",
                    method=function.name.value if function else "forward", how=how)

    def _guarded_by_device_check(self) -> bool:
        """``if x.device != self.device: x = x.to(self.device)``: a move that happens once, not on every call."""
        branch = self.context.enclosing(cst.If)
        return branch is not None and any(
            isinstance(n, cst.Attribute) and n.attr.value == "device" for n in subtree(branch.test))

    def _device_argument(self, node: cst.Call) -> bool:
        value = keyword_argument(node, "device")
        if value is not None:
            return True
        positional = [a.value for a in node.args if a.keyword is None]
        if not positional:
            return False
        first = positional[0]
        if device_string(first):
            return True
        qualified = self.context.qualified_name(first.func if isinstance(first, cst.Call) else first) or ""
        if qualified == "torch.device":
            return True
        text = code(first)
        return text.endswith("device") or text.endswith(".device")
