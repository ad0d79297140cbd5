"""EL501 host-float-math."""

from __future__ import annotations

import libcst as cst

from emberlint.arrays import Kind
from emberlint.backends import module_of
from emberlint.constructor_facts import constructor_table
from emberlint.dtypes import bound_values
from emberlint.fixers.float_math import Target, translate
from emberlint.host_math import contains_host_math
from emberlint.fixers.typed_scalar import is_plain_reference
from emberlint.rule import FixAvailability, Invalid, RawFix
from emberlint.rules._shared import array_backend
from emberlint.rules.float_math._common import ArrayUseRule
from emberlint.syntax import argument, kind, source_text


class HostFloatMath(ArrayUseRule):
    """A value computed with Python's ``math`` module (``math.sqrt(2 / math.pi)``, ``1.0 / math.sqrt(d)``,
    ``math.log(n)``, ``math.pi``) used as an operand of MLX/PyTorch array math or as a constructor value --
    directly or through a name bound to it (``scale = 1 / math.sqrt(d)`` ... ``q * scale``).

    Profile: strict only -- a policy, not an accuracy claim. Python evaluates the expression in float64 and the
    array operation rounds it once to the array's dtype; measured, that was never less accurate than the backend
    math on typed scalars this rule suggests. Measured (``scripts/measure_host_scalar_rounding.py``, mlx 0.32.4,
    ``1/sqrt(d)`` for d = 1..4096 against the exact value): the host value is strictly closer in 491-1,049 of
    the 4,096 cases (float32/float16/bfloat16, against ``mx.sqrt(1/d)`` and ``mx.rsqrt(d)``) and never farther.
    What the policy buys is visibility: the constant's dtype is written in the array code, the computation is
    part of the array graph, and a port computes it the way its reference does (PyTorch code that computes a
    constant in float32 disagrees with a float64 host value in the last bit). Integer results (``math.ceil``,
    ``math.floor`` of shapes) are not reported.

    Fix: compute the constant with the backend on a typed scalar in the array's dtype:
    ``x * math.sqrt(2.0)`` -> ``x * mx.sqrt(mx.array(2.0, dtype=x.dtype))``. Offered when the array operand is a
    plain name (whose ``.dtype`` is used), and for ``mx.array(math.sqrt(2.0), dtype=d)``. The fix is UNSAFE: the
    backend's float32 ``sqrt``/``log`` round differently from float64-then-float32, so the value can change in the
    last bit (and is, measured above, never closer to the exact value); review it against reference outputs.
    """

    CODE = "EL501"
    NAME = "host-float-math"
    MESSAGE = ("Host float math `{text}` feeds an array: Python computes it in float64, then it is rounded again "
               "to the array dtype; compute it with {backend} on a typed scalar")
    SEVERITY = None
    FIX = FixAvailability.UNSAFE
    VALID = [
        """
        import math
        import mlx.core as mx
        def f(x: mx.array):
            return mx.reshape(x, (math.ceil(x.shape[0] / 2), -1))
        """,
        """
        import math
        import mlx.core as mx
        n_blocks = math.ceil(10 / 4)
        """,
        """
        import math
        import mlx.core as mx
        def f(x: mx.array):
            return x * mx.sqrt(mx.array(2.0, dtype=x.dtype))
        """,
        """
        import math
        import numpy as np
        y = np.ones(3) * math.pi
        """,
        """
        import math
        import mlx.core as mx
        ok = math.isclose(total, 1.0)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import math
            import mlx.core as mx
            def f(x: mx.array):
                return x * math.sqrt(2.0)
                           ^^^^^^^^^^^^^^ EL501
            """,
            fixed="""
            import math
            import mlx.core as mx
            def f(x: mx.array):
                return x * mx.sqrt(mx.array(2.0, dtype=x.dtype))
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import math
            import mlx.core as core
            def f(x: core.array):
                return core.multiply(x, math.sqrt(2 / math.pi))
                                        ^^^^^^^^^^^^^^^^^^^^^^ EL501
            """,
            fixed="""
            import math
            import mlx.core as core
            def f(x: core.array):
                return core.multiply(x, core.sqrt(core.divide(core.array(2, dtype=x.dtype), core.array(math.pi, dtype=x.dtype))))
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import math
            import torch as T
            def f(t: T.Tensor):
                return t * math.pi
                           ^^^^^^^ EL501
            """,
            fixed="""
            import math
            import torch as T
            def f(t: T.Tensor):
                return t * T.tensor(math.pi, dtype=t.dtype, device=t.device)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import math
            import mlx.core as mx
            c = mx.array(math.log(10000.0), dtype=mx.float32)
                         ^^^^^^^^^^^^^^^^^ EL501
            """,
            fixed="""
            import math
            import mlx.core as mx
            c = mx.log(mx.array(10000.0, dtype=mx.float32))
            """,
            unsafe=True,
        ),
        Invalid(
            """
            from math import sqrt
            import mlx.core as mx
            class A:
                def __init__(self, d: int):
                    self.scale = 1.0 / sqrt(d)
                                 ^^^^^^^^^^^^^ EL501
                def f(self, q: mx.array):
                    return q * self.scale
            """,
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        for side, other, backend in self.operands_beside_arrays(node):
            self._operand(side, other, backend)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        backend = array_backend(qualified)
        if backend is None:
            return
        entry = constructor_table()["constructors"].get(qualified)
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        if entry is not None:
            self._constructor(node, entry, positional, backend)
            return
        arrays = [value for value in positional if self.device_array(value) is not None]
        if arrays:
            reference = next((a for a in arrays if is_plain_reference(a)), arrays[0])
            for value in [arg.value for arg in node.args if not arg.star]:
                if value not in arrays:
                    self._operand(value, reference, backend)

    def _is_host_float(self, node: cst.BaseExpression) -> bool:
        return self.context.infer(node).kind is Kind.FLOAT and contains_host_math(node, self.context)

    def _operand(self, value: cst.BaseExpression, array: cst.BaseExpression, backend: str) -> None:
        if self._is_host_float(value):
            fix = None
            if is_plain_reference(array):
                device = cst.Attribute(array, cst.Name("device")) if backend == "torch" else None
                fix = self._fix(value, value, backend, cst.Attribute(array, cst.Name("dtype")), device)
            self._report(value, backend, fix)
            return
        self._report_bindings(value, backend)

    def _report_bindings(self, value: cst.BaseExpression, backend: str) -> None:
        """A name (or ``self.attr``) every binding of which is host float math: report those bindings."""
        bound = bound_values(value, self.context)
        if bound and all(self._is_host_float(b) for b in bound):
            for binding in bound:
                self._report(binding, backend)

    def _constructor(self, node: cst.Call, entry: dict, positional: list, backend: str) -> None:
        for position, keyword in entry.get("data", []):
            value = argument(node, None, keyword)
            if value is None and position < len(positional):
                value = positional[position]
            if value is None:
                continue
            elements = [e.value for e in value.elements] if kind(value) in ("List", "Tuple") else [value]
            for element in elements:
                if not self._is_host_float(element):
                    self._report_bindings(element, backend)
                    continue
                fix = None
                dtype = argument(node, None, "dtype")
                if element is value and dtype is not None and qualified_scalar(node, entry):
                    fix = self._fix(node, value, backend, dtype, argument(node, None, "device"))
                self._report(element, backend, fix)

    def _fix(self, old, value, backend, dtype, device) -> RawFix | None:
        ref = self.context.module_ref(module_of(backend))
        new = translate(value, Target(backend, ref.text, dtype, device), self.context)
        if new is None:
            return None
        return RawFix(
            safe=False,
            replacements=[(old, new)],
            imports=[ref.import_line] if ref.import_line else [],
            description=f"Compute it with {ref.text} on a typed scalar",
        )

    def _report(self, node: cst.CSTNode, backend: str, fix: RawFix | None = None) -> None:
        self.report_once(node, fix=fix, text=source_text(node), backend="MLX" if backend == "mlx" else "PyTorch")


def qualified_scalar(node: cst.Call, entry: dict) -> bool:
    """``mx.array(v, dtype=d)`` / ``torch.tensor(v, dtype=d)``: the whole call can become the backend expression."""
    data = entry.get("data", [])
    return (
        len(data) == 1 and data[0][0] == 0
        and all(arg.keyword is None or arg.keyword.value in ("dtype", "device") for arg in node.args[1:])
        and len(node.args) >= 1 and node.args[0].keyword is None and not node.args[0].star
    )
