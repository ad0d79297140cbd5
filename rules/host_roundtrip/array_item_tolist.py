"""EL101 array-item-tolist."""

from __future__ import annotations

import libcst as cst

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.host_roundtrip._common import ARTICLE, BACKEND_NAMES, HostRoundTripRule
from emberlint.syntax import kind


class ItemOrTolist(HostRoundTripRule):
    """``.item()`` or ``.tolist()`` on an MLX or PyTorch array inside compute code.

    Why it matters numerically: the call evaluates the lazy graph, waits for the device, copies the value to the
    host and turns it into a Python float or list. The value itself survives the trip (measured, mlx 0.32.4: a
    float16 value is exact as a Python float, and ``x_f16 * value`` stays float16), but what is computed from it
    is cut out of ``mx.compile``/``torch.compile`` graphs and out of autograd (its gradient is silently zero),
    and every call is a device synchronization in the forward pass.

    Where: the recommended profile reports it on the compute path only (``__call__``/``forward`` of a module and
    the functions of the file they call: load-time ``sanitize``, metrics and generation loops need host values);
    the strict profile in any function. Never in host output: ``print``/logging/f-string arguments,
    ``raise``/``assert`` and the condition of an ``if`` that only raises.

    Fix: keep the value on the device as an array (a 0-d array works everywhere a scalar does):
    ``loss = mx.mean(d * d)`` instead of ``float(mx.mean(d * d).item())``; decide with ``mx.all``/``mx.where``
    instead of Python ``if``. Only call ``.item()`` at the edge (logging, the end of a training step). No
    automatic fix: the surrounding code expects a Python value.
    """

    CODE = "EL101"
    NAME = "array-item-tolist"
    MESSAGE = "`.{method}()` copies {a} {backend} array to the host inside compute code; keep it as an array on the device"
    SEVERITY = Severity.ERROR
    FIX = FixAvailability.NONE
    VALID = [
        """
        import torch
        def loss(d: torch.Tensor):
            return torch.mean(d * d)
        """,
        """
        import torch
        d = torch.ones(3)
        print(d.sum().item())
        """,
        """
        import mlx.core as mx
        def f(cfg: dict):
            return list(cfg.items())
        """,
        """
        import numpy as np
        def f():
            return np.ones(3).tolist()
        """,
        """
        def f(x):
            return x.item()
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            def loss(d: torch.Tensor):
                return float(torch.mean(d * d).item())
                             ^^^^^^^^^^^^^^^^^^^^^^^^ EL101
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                return x.tolist()
                       ^^^^^^^^^^ EL101
            """,
        ),
        Invalid(
            """
            import mlx.core as core
            class M:
                def f(self):
                    y = core.sum(core.ones(3))
                    return y.item()
                           ^^^^^^^^ EL101
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if kind(func) != "Attribute" or func.attr.value not in ("item", "tolist") or node.args:
            return
        if not self.in_compute_code():
            return
        backend = self.device_array(func.value)
        if backend is not None:
            self.report(node, method=func.attr.value, backend=BACKEND_NAMES[backend], a=ARTICLE[backend])
