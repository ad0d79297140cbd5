"""EL551 float64-transcendental."""

from __future__ import annotations

import libcst as cst

from emberlint.scalar_facts import bindings_of
from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import MLX_CORE, method_call, table
from emberlint.syntax import code, keyword_argument, kind


def _precision() -> dict:
    return table()["precision"]


class Float64Transcendental(Rule):
    """An MLX transcendental or fused op (``mx.sin``, ``mx.cos``, ``mx.exp``, ``mx.erf``, ``mx.sigmoid``,
    ``mx.softmax``, ``mx.fast.layer_norm``, ``nn.gelu``, an ``mx.fft`` transform...) applied to a value that is
    visibly float64: ``x.astype(mx.float64)``, ``mx.array(..., dtype=mx.float64)``, a name bound only to such
    values (``FILTER_DTYPE = mx.float64`` is followed), or arithmetic with one. The list of ops is data
    (``precision.float32_accurate_float64`` in ``coach.yaml``), measured op by op against NumPy/SciPy float64 with
    mlx 0.32.4 (``scripts/measure_mlx_float64.py``); ops MLX does evaluate to float64 accuracy (``tanh``, ``log``,
    ``sqrt``, ``power``, ``expm1``, reductions, ``matmul``) are not reported.

    Why it matters numerically: MLX's float64 kernels for these ops round the argument or the internals to float32
    while the result still says ``float64``. Measured on float64 input: ``mx.exp`` relative error 1.9e-6 for
    ``|x| <= 20`` (3e-7 on the M2-BERT filter's decays), ``mx.sin`` absolute error up to 1.9e-6 for arguments up to
    40, ``mx.erf`` 4.8e-7, ``mx.fast.layer_norm`` 2e-6 (7e-7 on M2-BERT activations), against about 1e-16 for a true
    float64 evaluation; ``mx.fft.rfft`` of a float64 array returns complex64. The M2-BERT port moved its Hyena filter
    MLP to float64 because ``sin(10 * linear(z))`` amplifies float32 rounding tenfold; with ``mx.sin`` the float64
    filter would have kept float32 error while looking like float64 in every dtype check and costing the CPU-only
    float64 path.

    Fix: when float64 accuracy is the point, evaluate the op from float64 ``+ - * /`` only (range reduction plus a
    polynomial: the reference port's ``precise_math.sin_float64`` / ``exp_float64``); otherwise compute it in float32
    knowingly (``mx.exp(x.astype(mx.float32))``) and say so. Values whose float64-ness is not visible (parameters,
    attributes, dtype-conditional branches) are not reported.
    """

    CODE = "EL551"
    NAME = "float64-transcendental"
    MESSAGE = ("MLX `{op}` of a float64 value has float32 accuracy (mlx 0.32.4: {error}); the float64 result is not "
               "float64-accurate: use an arithmetic-only float64 implementation or compute it in float32 knowingly")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        # Knowingly float32, rounded back.
        """
        import mlx.core as mx
        x64 = x.astype(mx.float64)
        y = mx.exp(x64.astype(mx.float32)).astype(mx.float64)
        """,
        # float64-accurate MLX ops.
        """
        import mlx.core as mx
        z = mx.array(v, dtype=mx.float64)
        y = mx.tanh(z) + mx.log(z) + mx.sqrt(z)
        """,
        # The reference port's dtype dispatch: `phase` is not visibly float64.
        """
        import mlx.core as mx
        from precise_math import sin_float64
        def sin(x, freq):
            phase = mx.multiply(freq, x)
            return sin_float64(phase) if x.dtype == mx.float64 else mx.sin(phase)
        """,
        """
        import torch
        y = torch.exp(x.to(torch.float64))
        """,
    ]
    INVALID = [
        # The Hyena filter moved to float64 with MLX's own sin/exp (M2-BERT port, first draft).
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            FILTER_DTYPE = mx.float64


            class Sin(nn.Module):
                def __init__(self, dim, w=10):
                    super().__init__()
                    self.freq = w * mx.ones((1, dim))

                def __call__(self, x):
                    freq = self.freq.astype(FILTER_DTYPE)
                    return mx.sin(mx.multiply(freq, x))
                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL551


            def modulate(t, x, deltas):
                decay = mx.exp(-t * mx.abs(deltas.astype(FILTER_DTYPE)))
                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL551
                return x * decay
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            h = nn.gelu(mx.array(values, dtype=mx.float64))
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL551
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            y = mx.fast.layer_norm(x.astype(mx.float64), w, b, 1e-12)
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL551
            """,
        ),
    ]

    def _dtype_is_float64(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        if self.context.qualified_name(node) in _precision()["float64_names"]:
            return True
        if kind(node) == "Name" and depth < 4:
            values = [b.value for b in bindings_of(node.value, self.context)]
            return bool(values) and all(v is not None and self._dtype_is_float64(v, depth + 1) for v in values)
        return False

    def is_float64(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """``node`` is visibly an MLX float64 array (see the class docs)."""
        if depth > 8:
            return False
        if kind(node) == "Call":
            return self._call_is_float64(node, depth)
        if kind(node) == "BinaryOperation":
            return any(self.context.is_array(side) and self.is_float64(side, depth + 1)
                       for side in (node.left, node.right))
        if kind(node) == "UnaryOperation":
            return self.is_float64(node.expression, depth + 1)
        if kind(node) == "Subscript":
            return self.is_float64(node.value, depth + 1)
        if kind(node) == "Attribute" and node.attr.value in _precision()["float64_preserving_methods"]:
            return self.is_float64(node.value, depth + 1)
        if kind(node) == "Name":
            bindings = [b for b in bindings_of(node.value, self.context) if b.augmented is None]
            if not bindings or not all(b.whole_value for b in bindings):
                return False
            return all(self.is_float64(b.value, depth + 1) for b in bindings)
        return False

    def _call_is_float64(self, node: cst.Call, depth: int) -> bool:
        dtype = keyword_argument(node, "dtype")
        qualified = self.context.qualified_name(node.func)
        if qualified is not None:
            if not qualified.startswith("mlx."):
                return False
            if dtype is not None:
                return self._dtype_is_float64(dtype.value)
            if qualified in _precision()["float64_preserving"] or (
                qualified in _precision()["float32_accurate_float64"] and ".fft." not in qualified
            ):
                return any(a.keyword is None and not a.star and self.is_float64(a.value, depth + 1)
                           for a in node.args)
            return False
        method = method_call(node)
        if method is None:
            return False
        receiver, name = method
        if name == "astype" and node.args:
            return self._dtype_is_float64(node.args[0].value)
        return name in _precision()["float64_preserving_methods"] and self.is_float64(receiver, depth + 1)

    def visit_Call(self, node: cst.Call) -> None:
        facts = _precision()["float32_accurate_float64"]
        qualified = self.context.qualified_name(node.func)
        if qualified in facts:
            operands = [a.value for a in node.args if a.keyword is None and not a.star][:2]
            if any(self.is_float64(operand) for operand in operands):
                self.report(node, op=code(node.func), error=facts[qualified])
            return
        method = method_call(node)
        if (qualified is None and method is not None and method[1] in _precision()["float32_accurate_float64_methods"]
                and self.context.imports_backend("mlx") and self.is_float64(method[0])):
            self.report(node, op=f".{method[1]}()", error=facts[f"{MLX_CORE}.{method[1]}"])
