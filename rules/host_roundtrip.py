"""EL1xx: host round trips -- array values pulled to Python inside compute code."""

from __future__ import annotations

import libcst as cst

from emberlint.compute_path import in_compute_path, in_host_output
from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid, Rule

DEVICE_BACKENDS = ("mlx", "torch")
NUMPY_CONVERSIONS = {"numpy.array", "numpy.asarray", "numpy.asanyarray", "numpy.ascontiguousarray"}
PYTHON_CASTS = ("float", "int", "bool", "complex")


class _HostRoundTripRule(Rule):
    """Shared: which arrays count (MLX/PyTorch, or unknown-backend arrays in a file importing one) and where."""

    def device_array(self, node: cst.BaseExpression) -> str | None:
        """The backend (``mlx``/``torch``) of an MLX/PyTorch array expression, else None."""
        inferred = self.context.infer(node)
        if not inferred.is_array:
            return None
        if inferred.backend in DEVICE_BACKENDS:
            return inferred.backend
        if inferred.backend is None:
            return self.context.array_backend() or next(
                (b for b in DEVICE_BACKENDS if self.context.imports_backend(b)), None
            )
        return None

    def in_compute_code(self) -> bool:
        """Where a host value is not required. Never in host output (``print``/logging/f-string arguments,
        ``raise``/``assert``). Recommended profile: on the compute path (``__call__``/``forward`` of a module and
        the functions of the file they call; ``emberlint/compute_path.py``). Strict: any function of a file that
        imports MLX or PyTorch (module-level scripts are host code)."""
        if not any(self.context.imports_backend(b) for b in DEVICE_BACKENDS):
            return False
        if self.context.enclosing_function() is None or in_host_output(self.context):
            return False
        return self.context.config.profile == "strict" or in_compute_path(self.context)

    def module_text(self, backend: str) -> str:
        return self.context.module_ref({"mlx": "mlx.core", "torch": "torch"}[backend]).text


class ItemOrTolist(_HostRoundTripRule):
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
        if not isinstance(func, cst.Attribute) or func.attr.value not in ("item", "tolist") or node.args:
            return
        if not self.in_compute_code():
            return
        backend = self.device_array(func.value)
        if backend is not None:
            self.report(node, method=func.attr.value, backend=_BACKEND_NAMES[backend], a=_ARTICLE[backend])


_BACKEND_NAMES = {"mlx": "MLX", "torch": "PyTorch"}
_ARTICLE = {"mlx": "an", "torch": "a"}


def _shadowed(name: str, scope) -> bool:
    """A builtin name (``float``) rebound or imported in any enclosing scope."""
    while scope is not None:
        if name in scope.bindings or name in scope.imports:
            return True
        scope = scope.parent
    return False


class PythonCastOfArray(_HostRoundTripRule):
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
        if not isinstance(func, cst.Name) or func.value not in PYTHON_CASTS or len(node.args) != 1:
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
        self.report(node, cast=func.value, backend=_BACKEND_NAMES[backend], a=_ARTICLE[backend], instead=instead)


class NumpyConversion(_HostRoundTripRule):
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
            call = f"{cst.Module([]).code_for_node(func)}(...)"
        elif isinstance(func, cst.Attribute) and func.attr.value == "numpy" and qualified is None:
            subject = func.value
            call = ".numpy()"
        else:
            return
        if not self.in_compute_code():
            return
        backend = self.device_array(subject)
        if backend is not None:
            self.report(node, call=call, backend=_BACKEND_NAMES[backend], a=_ARTICLE[backend])
