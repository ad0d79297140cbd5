"""EL103 numpy-round-trip."""

from __future__ import annotations

import libcst as cst

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.host_roundtrip._common import ARTICLE, BACKEND_NAMES, HostRoundTripRule
from emberlint.syntax import code, kind

NUMPY_CONVERSIONS = {"numpy.array", "numpy.asarray", "numpy.asanyarray", "numpy.ascontiguousarray"}


class NumpyConversion(HostRoundTripRule):
    """``np.array(a)``, ``np.asarray(a)`` or ``a.numpy()`` on an MLX or PyTorch array inside compute code.

    Why it matters numerically: the conversion synchronizes and copies the array to host memory; what follows
    runs on the host in NumPy (where new arrays built from Python data default to float64), outside the graph,
    and the result has to be copied back. ``.numpy()`` also detaches from autograd. Where it is reported: as
    EL101.

    Fix: stay in the backend: MLX and PyTorch have the NumPy functions you need (``mx.linalg``, ``mx.fft``,
    ``torch.linalg``...). Convert only at the boundary (data loading, metrics, saving). No automatic fix.
    """

    CODE = "EL103"
    NAME = "numpy-round-trip"
    MESSAGE = "`{call}` copies {a} {backend} array to NumPy inside compute code; keep the math in {backend}"
    SEVERITY = Severity.ERROR
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        import numpy as np
        def f(data: list):
            return mx.array(np.asarray(data))
        """,
        """
        import torch
        import numpy as np
        x = torch.ones(3)
        saved = x.numpy()
        """,
        """
        import numpy as np
        def f(x):
            return np.asarray(x)
        """,
        """
        import mlx.core as mx
        import numpy as np
        def f():
            return np.array([1.0, 2.0])
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            import numpy as np
            def f(x: mx.array):
                return np.array(x) * 2
                       ^^^^^^^^^^^ EL103
            """,
        ),
        Invalid(
            """
            import torch
            import numpy as onp
            def f(x: torch.Tensor):
                return onp.asarray(x.detach())
                       ^^^^^^^^^^^^^^^^^^^^^^^ EL103
            """,
        ),
        Invalid(
            """
            import torch
            def f(x: torch.Tensor):
                return x.cpu().numpy()
                       ^^^^^^^^^^^^^^^ EL103
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        qualified = self.context.qualified_name(func)
        if qualified in NUMPY_CONVERSIONS and node.args and node.args[0].keyword is None:
            subject = node.args[0].value
            call = f"{code(func)}(...)"
        elif kind(func) == "Attribute" and func.attr.value == "numpy" and qualified is None:
            subject = func.value
            call = ".numpy()"
        else:
            return
        if not self.in_compute_code():
            return
        backend = self.device_array(subject)
        if backend is not None:
            self.report(node, call=call, backend=BACKEND_NAMES[backend], a=ARTICLE[backend])
