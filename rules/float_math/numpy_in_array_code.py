"""EL502 numpy-in-array-code."""

from __future__ import annotations

import libcst as cst

from emberlint.api_facts import matches_prefix
from emberlint.backends import backend_of
from emberlint.dtypes import bound_values
from emberlint.host_math import float_math_table
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules._coach import file_backend
from emberlint.rules._shared import array_backend
from emberlint.rules.float_math._common import ArrayUseRule
from emberlint.syntax import kind, source_text


class NumpyInArrayCode(ArrayUseRule):
    """NumPy math (``np.exp``, ``np.sqrt``, ``np.fft.rfft``, ``np.linalg.norm``...) in the compute code of a file
    that uses MLX or PyTorch: inside ``__call__``/``forward`` of a module, applied to an MLX/PyTorch array, or
    producing a value that flows into one (an operand, an argument of a backend function or constructor, directly
    or through a name).

    Why it matters numerically: NumPy promotes Python floats and lists to float64, so ``mx.array(np.exp(-t))``
    computes in float64 and rounds to float32 on the way in: values that differ in the last bits from the same
    code written with ``mx.exp`` (not less accurate ones: the float64 value is rounded once, see EL501's
    measurement), so a port no longer matches its reference bit for bit (NumPy 2 keeps float32 inputs in
    float32/complex64; new arrays from Python data are float64). Applied to an MLX/PyTorch
    array it forces a device-to-host copy and a synchronisation, and the result is outside the graph (no
    autograd, no ``mx.compile``). Host-side loaders (``np.load``, ``np.frombuffer``, dtype and shape helpers) are
    not reported; only value-computing functions are, as listed in ``rules/float_math.yaml``.

    Fix: use the backend function on arrays of the intended dtype: ``np.exp(x)`` -> ``mx.exp(x)``,
    ``np.fft.rfft(k, n)`` -> ``mx.fft.rfft(k, n=n)`` / ``torch.fft.rfft``. There is no automatic fix: the result
    dtype changes (float32 instead of float64), which must be reviewed.

    Profile: strict only. On real code (``benchmarks/real_code_precision.py``) its one finding was integer index
    work on the host (``np.where`` on routing indices, which MLX cannot express), not float math.
    """

    CODE = "EL502"
    NAME = "numpy-in-array-code"
    MESSAGE = ("NumPy `{name}` in {backend} array code: computed on the host (float64 for Python data) and copied "
               "into the array; use the {backend} function")
    SEVERITY = None
    FIX = FixAvailability.NONE
    VALID = [
        """
        import numpy as np
        import mlx.core as mx
        def load(path):
            return mx.array(np.load(path), dtype=mx.float32)
        """,
        """
        import numpy as np
        import mlx.core as mx
        def stats(values):
            return np.mean(values)
        """,
        """
        import numpy as np
        def f(x):
            return np.exp(x)
        """,
        """
        import numpy as np
        import mlx.core as mx
        w = np.frombuffer(raw, dtype=np.float32).reshape(4, 4)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import numpy as np
            import mlx.core as mx
            import mlx.nn as nn
            class M(nn.Module):
                def __call__(self, x):
                    return mx.array(np.exp(-np.arange(4)), dtype=mx.float32) * x
                                    ^^^^^^^^^^^^^^^^^^^^^ EL502
            """,
        ),
        Invalid(
            """
            import numpy as np
            import torch
            def f(t: torch.Tensor):
                return np.sqrt(t)
                       ^^^^^^^^^^ EL502
            """,
        ),
        Invalid(
            """
            import numpy
            import mlx.core as core
            def kernel(h, n):
                k = numpy.fft.rfft(h, n)
                    ^^^^^^^^^^^^^^^^^^^^ EL502
                return core.array(k, dtype=core.complex64)
            """,
        ),
        Invalid(
            """
            import numpy as np
            from mlx.core import array
            def f(x: array):
                return x * np.sin(np.pi / 8)
                           ^^^^^^^^^^^^^^^^^ EL502
            """,
        ),
    ]

    def _numpy_math(self, node: cst.BaseExpression) -> str | None:
        if kind(node) != "Call":
            return None
        qualified = self.context.qualified_name(node.func)
        if backend_of(qualified) != "numpy":
            return None
        names = float_math_table()["numpy_math"]
        exact = frozenset(n for n in names if not n.endswith("."))
        prefixes = tuple(n for n in names if n.endswith("."))
        if qualified in exact or qualified.startswith(prefixes) or matches_prefix(qualified, exact):
            return qualified
        return None

    def _backend_name(self) -> str | None:
        backend = self.context.array_backend()
        if backend is None:
            backend = file_backend(self.context)
        return backend

    def _flag(self, node: cst.BaseExpression, backend: str | None) -> None:
        qualified = self._numpy_math(node)
        if qualified is None:
            return
        backend = backend or self._backend_name()
        if backend is None:
            return
        self.report_once(node, name=source_text(node.func) + "(...)", backend="MLX" if backend == "mlx" else "PyTorch")

    def _flows(self, value: cst.BaseExpression, backend: str | None) -> None:
        """``value`` reaches an MLX/PyTorch array: flag it, or the NumPy calls a name holding it was bound to."""
        if self._numpy_math(value) is not None:
            self._flag(value, backend)
            return
        for bound in bound_values(value, self.context):
            self._flag(bound, backend)

    def visit_Call(self, node: cst.Call) -> None:
        if self._numpy_math(node) is not None:
            args = [arg.value for arg in node.args]
            backend = next((b for b in map(self.device_array, args) if b is not None), None)
            if backend is not None or self.context.in_compute_method():
                self._flag(node, backend)
            return
        backend = array_backend(self.context.qualified_name(node.func))
        if backend is None:
            return
        for arg in node.args:
            values = [arg.value]
            if kind(arg.value) in ("List", "Tuple"):
                values += [e.value for e in arg.value.elements]
            for value in values:
                self._flows(value, backend)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        for side, _, backend in self.operands_beside_arrays(node):
            self._flows(side, backend)
