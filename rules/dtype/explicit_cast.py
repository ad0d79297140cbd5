"""EL402 explicit-cast."""

from __future__ import annotations

import libcst as cst

from emberlint.backends import backend_of
from emberlint.dtypes import FLOATS, canonical
from emberlint.constructor_facts import constructor_table
from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._shared import array_backend
from emberlint.rules.dtype._common import is_dtype_expression
from emberlint.syntax import kind, source_text


class ExplicitCast(Rule):
    """A cast in array code: ``x.astype(mx.float16)``, ``t.to(torch.bfloat16)``, ``t.half()``, ``t.float()``.

    Why it matters numerically: every cast is a rounding step the data flow does not show. float32 -> bfloat16
    keeps 8 significant bits (``0.1`` becomes ``0.10009765625``); float32 -> float16 overflows to ``inf`` above
    65504 and flushes magnitudes below ~6e-8 to zero; float -> int truncates toward zero; a cast to float64 in the
    middle of float32 code doubles memory traffic (and MLX has no float64 on the GPU). A cast in a compute path
    usually means the value was created in the wrong dtype. Casts that align one array with another
    (``mask.astype(h.dtype)``) are what the other dtype rules ask for and are not reported; ``.to(device)`` is
    not a cast.

    Fix: create the value in the dtype it is used in (``mx.zeros(shape, dtype=mx.float16)`` rather than
    ``mx.zeros(shape).astype(mx.float16)``), or align with ``x.astype(other.dtype)``. A deliberate precision
    change (loading a bfloat16 checkpoint, an accumulation in float32) keeps the cast with a suppression comment
    that says why. There is no automatic fix.

    Profile: strict only (a policy: casts are deliberate in real model code, where they load a checkpoint in
    bfloat16 or upcast for a softmax; labelled precision in ``benchmarks/real_code_precision.py``). Under
    ``--select EL402`` in the recommended profile, exact upcasts (float32/float64 targets of a floating or
    unknown-dtype array) are not reported.
    """

    CODE = "EL402"
    NAME = "explicit-cast"
    MESSAGE = ("Cast to {target} with `.{method}()`: a rounding step the data flow does not show; create the value "
               "in that dtype, or keep the cast with a suppression that says why")
    SEVERITY = None
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array, m: mx.array):
            return m.astype(x.dtype)
        """,
        """
        import torch
        def f(t: torch.Tensor):
            return t.to('cuda')
        """,
        """
        import torch
        def f(t: torch.Tensor, d: torch.device):
            return t.to(d)
        """,
        """
        import numpy as np
        import mlx.core as mx
        w = np.load('w.npy').astype(np.float32)
        """,
        """
        import torch
        value = config.float()
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            y = x.astype(mx.float32)
                ^^^^^^^^^^^^^^^^^^^^ EL402
            """,
        ),
        Invalid(
            """
            import torch
            def f(t: torch.Tensor):
                return t.half()
                       ^^^^^^^^ EL402
            """,
        ),
        Invalid(
            """
            import torch as T
            def f(t: T.Tensor):
                return t.to(dtype=T.bfloat16)
                       ^^^^^^^^^^^^^^^^^^^^^^ EL402
            """,
        ),
        Invalid(
            """
            from mlx.core import float16
            import mlx.core as core
            h = core.ones((2,), dtype=core.float32).astype(float16)
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL402
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if kind(func) != "Attribute":
            return
        method = func.attr.value
        casts = constructor_table()["casts"]
        receiver = self.context.infer(func.value)
        if receiver.backend == "numpy":
            return
        if method in casts["argument"]:
            target = self._target(node)
            if target is None or (kind(target) == "Attribute" and target.attr.value == "dtype"):
                return
            qualified = self.context.qualified_name(target)
            if backend_of(qualified) == "numpy":
                return
            if not receiver.is_array and array_backend(qualified) is None:
                return
            if self._exact_upcast(func.value, qualified.rsplit(".", 1)[-1] if qualified else None):
                return
            self.report(node, target=f"`{source_text(target)}`", method=method)
        elif method in casts["fixed"]["torch"] and not node.args and self._torch_array(receiver):
            if self._exact_upcast(func.value, {"float": "float32", "double": "float64"}.get(method)):
                return
            self.report(node, target=method, method=method)

    def _exact_upcast(self, value: cst.BaseExpression, target: str | None) -> bool:
        """Recommended profile: a cast to float32/float64 of a floating (or unknown-dtype) array is exact and
        protective (``x.astype(mx.float32)`` before a softmax); integer sources above 2**24 are not exact."""
        if self.context.config.profile == "strict" or canonical(target) not in ("float32", "float64"):
            return False
        source_dtype = self.context.dtype_of(value)
        if source_dtype is None:
            return True
        return source_dtype in FLOATS and FLOATS.index(source_dtype) <= FLOATS.index(canonical(target))

    def _torch_array(self, receiver) -> bool:
        if not receiver.is_array:
            return False
        return receiver.backend == "torch" or (receiver.backend is None and self.context.imports_backend("torch"))

    def _target(self, node: cst.Call) -> cst.BaseExpression | None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "dtype":
                return arg.value
        for arg in node.args:
            if arg.keyword is None and not arg.star and is_dtype_expression(arg.value, self.context):
                return arg.value
        return None
