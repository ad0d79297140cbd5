"""EL102 python-cast-of-array."""

from __future__ import annotations

import libcst as cst

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.host_roundtrip._common import ARTICLE, BACKEND_NAMES, HostRoundTripRule
from emberlint.syntax import kind

PYTHON_CASTS = ("float", "int", "bool", "complex")


def _shadowed(name: str, scope) -> bool:
    """A builtin name (``float``) rebound or imported in a scope the lookup of ``name`` consults."""
    return any(name in visible.bindings or name in visible.imports for visible in scope.visible(name))


class PythonCastOfArray(HostRoundTripRule):
    """``float(a)``, ``int(a)``, ``bool(a)`` or ``complex(a)`` of an MLX or PyTorch array inside compute code.

    Why it matters numerically: a Python cast is a hidden ``.item()``: it synchronizes with the device, copies the
    value to the host, and produces a Python number (``float`` is float64) that re-enters array math weakly typed.
    ``int(a)`` truncates on the host; ``bool(a)`` raises for arrays with more than one element and otherwise
    decides control flow on a host copy. Casting a Python value (``int(x.shape[0])``, ``float(cfg.eps)``) is fine.

    Fix: keep it an array: ``a.astype(mx.float32)`` / ``a.to(torch.float32)`` for a dtype change,
    ``mx.all(a > 0)``/``mx.any``/``mx.where`` instead of ``bool(...)``. No automatic fix. Where it is reported:
    as EL101.
    """

    CODE = "EL102"
    NAME = "python-cast-of-array"
    MESSAGE = ("`{cast}(...)` of {a} {backend} array is a host round trip; keep it on the device ({instead})")
    SEVERITY = Severity.ERROR
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(A: mx.array):
            return int(A.shape[0])
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, cfg):
            return x * float(cfg.eps)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return len(x)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return int(x.ndim) + int(x.size)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            float = mx.sum
            return float(x)
        """,
        """
        import mlx.core as mx
        x = mx.ones(3)
        print(float(mx.sum(x)))
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                return float(mx.sum(x))
                       ^^^^^^^^^^^^^^^^ EL102
            """,
        ),
        Invalid(
            """
            import torch
            def f(x: torch.Tensor):
                return int(x.argmax())
                       ^^^^^^^^^^^^^^^ EL102
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                if bool(mx.all(x > 0)):
                   ^^^^^^^^^^^^^^^^^^^ EL102
                    return x
            """,
        ),
    ]

    INSTEAD = {
        "float": "`x.astype({m}.float32)`",
        "int": "`x.astype({m}.int32)`",
        "complex": "`x.astype({m}.complex64)`",
        "bool": "compare with `{m}.all`/`{m}.any` and select with `{m}.where`",
    }
    TORCH_INSTEAD = {
        "float": "`x.to({m}.float32)`",
        "int": "`x.to({m}.int64)`",
        "complex": "`x.to({m}.complex64)`",
        "bool": "compare with `{m}.all`/`{m}.any` and select with `{m}.where`",
    }

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if kind(func) != "Name" or func.value not in PYTHON_CASTS or len(node.args) != 1:
            return
        if _shadowed(func.value, self.context.scope) or node.args[0].keyword or node.args[0].star:
            return
        if not self.in_compute_code():
            return
        backend = self.device_array(node.args[0].value)
        if backend is None:
            return
        table = self.TORCH_INSTEAD if backend == "torch" else self.INSTEAD
        instead = table[func.value].format(m=self.module_text(backend))
        self.report(node, cast=func.value, backend=BACKEND_NAMES[backend], a=ARTICLE[backend], instead=instead)
