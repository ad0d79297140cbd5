"""EL401 constructor-without-dtype."""

from __future__ import annotations

import libcst as cst

from emberlint.dtypes import arithmetic_partners
from emberlint.constructor_facts import (
    argument,
    backend_dtype,
    choose,
    constructor_family,
    constructor_table,
    int_constant,
)
from emberlint.fixers.deferred import Deferred
from emberlint.fixers.dtype_kwarg import dtype_added
from emberlint.fixers.typed_scalar import is_plain_reference
from emberlint.scalar_facts import number_family
from emberlint.rule import FixAvailability, Invalid, RawFix, Rule
from emberlint.rules._shared import array_backend
from emberlint.rules.dtype._common import is_dtype_expression
from emberlint.syntax import kind, source_text


class ConstructorWithoutDtype(Rule):
    """An array constructor (``mx.array``, ``mx.zeros``, ``mx.arange``, ``mx.random.normal``, ``torch.tensor``,
    ``torch.full``, ...) called without ``dtype=``.

    Why it matters numerically: the dtype is then chosen by rules the reader does not see, and they differ between
    backends. ``mx.array(3)`` is int32 in MLX but ``torch.tensor(3)`` is int64 in PyTorch, so a port that divides
    or accumulates these values overflows at 2**31 in one backend and not the other; ``mx.array(2**40)`` silently
    becomes int64; ``torch.zeros(n)`` follows ``torch.get_default_dtype()``, which any imported module may have set
    to float64. ``mx.arange(0, 1, 0.1)`` is float32 while ``mx.arange(10)`` is int32, so ``mx.arange(n) / n``
    changes meaning with the literal's spelling. The ``*_like`` constructors and copies of an MLX/PyTorch array
    (``mx.array(y)``) inherit a dtype and are not reported; NumPy data is (``mx.array(np_float64)`` is float32).
    The constructors and their defaults are data in ``rules/constructors.yaml``.

    Fix: write the dtype down. ``--fix`` adds the configured default for the data's family (``default-float-dtype``,
    ``default-int-dtype``, or bool): ``mx.array(0.1)`` -> ``mx.array(0.1, dtype=mx.float32)``. The fix is safe only
    when that dtype is exactly what the backend picked anyway (float32 for Python floats in both backends, int32
    for ints in MLX) and the data's type is proven by dataflow (a literal, ``len(..)``, ``x.shape[0]``; a parameter
    annotated ``float`` may hold an int); adding int32 to ``torch.tensor(3)`` (int64) is offered as an unsafe fix.
    A 0-d float constructor that meets another array in arithmetic (``x * mx.array(d ** -0.5)``, directly or
    through the name it is assigned to) never gets ``dtype=mx.float32``: that would lock in the promotion of a
    bfloat16/float16 ``x`` to float32 (EL411); it gets ``dtype=x.dtype`` as an unsafe fix when it is a direct
    operand and ``x`` is a plain name, else no fix.

    Profile: strict only (the reference package's policy). In real code most constructors without a dtype are
    unambiguous (``mx.array(np_array)`` keeps the NumPy dtype's family, ``mx.arange(n)`` positions are int32 by
    design, weight placeholders are overwritten by a checkpoint); the untyped float constants that change a
    value, float32 scalars meeting half-precision arrays, are EL411 in the recommended profile.
    """

    CODE = "EL401"
    NAME = "constructor-without-dtype"
    MESSAGE = "`{name}(...)` without an explicit dtype: the backend picks {picked}; pass dtype="
    SEVERITY = None
    FIX = FixAvailability.SAFE_WHEN_PROVEN
    VALID = [
        """
        import mlx.core as mx
        x = mx.zeros((3,), dtype=mx.float32)
        """,
        """
        import mlx.core as mx
        x = mx.zeros((3,), mx.float16)
        """,
        """
        import mlx.core as mx
        y = mx.zeros_like(x)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.array(x)
        """,
        """
        import mlx.core as mx
        x = mx.arange(0, 10, 1, mx.int32)
        """,
        """
        import torch
        x = torch.ones_like(y)
        z = torch.full((2,), 0.5, dtype=torch.float32)
        """,
        """
        import mlx.core as mx
        x = mx.zeros(**options)
        """,
        """
        import numpy as np
        x = np.zeros(3)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            x = mx.array(0.1)
                ^^^^^^^^^^^^^ EL401
            """,
            fixed="""
            import mlx.core as mx
            x = mx.array(0.1, dtype=mx.float32)
            """,
        ),
        Invalid(
            """
            from mlx.core import array, zeros
            x = zeros((2, 3))
                ^^^^^^^^^^^^^ EL401
            """,
            fixed="""
            from mlx.core import array, zeros
            import mlx.core as mx
            x = zeros((2, 3), dtype=mx.float32)
            """,
        ),
        Invalid(
            """
            import mlx.core as core
            i = core.arange(10)
                ^^^^^^^^^^^^^^^ EL401
            """,
            fixed="""
            import mlx.core as core
            i = core.arange(10, dtype=core.int32)
            """,
        ),
        Invalid(
            """
            import torch as T
            m = T.tensor([True, False])
                ^^^^^^^^^^^^^^^^^^^^^^^ EL401
            """,
            fixed="""
            import torch as T
            m = T.tensor([True, False], dtype=T.bool)
            """,
        ),
        Invalid(
            """
            import torch
            n = torch.tensor(3)
                ^^^^^^^^^^^^^^^ EL401
            """,
            fixed="""
            import torch
            n = torch.tensor(3, dtype=torch.int32)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            def load(w):
                return mx.array(w)
                       ^^^^^^^^^^^ EL401
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array, d: int):
                return x * mx.array(d ** -0.5)
                           ^^^^^^^^^^^^^^^^^^^ EL401
            """,
            fixed="""
            import mlx.core as mx
            def f(x: mx.array, d: int):
                return x * mx.array(d ** -0.5, dtype=x.dtype)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array, d: int):
                scale = mx.array(d ** -0.5)
                        ^^^^^^^^^^^^^^^^^^^ EL401
                return (x @ x.T) * scale
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        entry = constructor_table()["constructors"].get(qualified) if qualified else None
        if entry is None or self._has_dtype(node, entry):
            return
        backend = array_backend(qualified)
        if backend is None or self._copies_an_array(node, entry):
            return
        data = constructor_family(node, entry, self.context)
        picked = "the dtype of its data"
        fix = None
        if data is not None:
            inferred = backend_dtype(backend, data)
            if inferred is not None:
                picked = inferred
                if data.family == "int" and not data.exact and inferred != "int64":
                    picked = f"{inferred} (int64 when the value does not fit)"
            choice = choose(data, backend, self.context)
            partners = self._float_scalar_partners(node, data, qualified)
            if partners:
                choice = None
                direct = kind(self.context.parent()) == "BinaryOperation"  # not through a name: same scope
                if direct and len(partners) == 1 and is_plain_reference(partners[0]):
                    text = f"{source_text(partners[0])}.dtype"
                    new = Deferred(lambda: dtype_added(node, text))
                    fix = RawFix(safe=False, replacements=[(node, new)],
                                 description=f"Add dtype={text}")
            if choice is not None:
                new = Deferred(lambda: dtype_added(node, choice.text))
                fix = RawFix(
                    safe=choice.safe and self._data_proven(node, entry),
                    replacements=[(node, new)],
                    imports=[choice.import_line] if choice.import_line else [],
                    description=f"Add dtype={choice.text}",
                )
        self.report(node, name=source_text(node.func), picked=picked, fix=fix)

    def _float_scalar_partners(self, node: cst.Call, data, qualified: str) -> list:
        """The operands a 0-d float MLX constructor meets in arithmetic (then float32 is not a safe fix)."""
        if data is None or data.family != "float" or qualified != "mlx.core.array" or not node.args:
            return []
        if kind(node.args[0].value) in ("List", "Tuple"):
            return []
        return [p for p in arithmetic_partners(node, self.context) if number_family(p, self.context) is None]

    def _data_proven(self, node: cst.Call, entry: dict) -> bool:
        """Every data argument's type is proven (literals, or values proven by dataflow), not assumed."""
        for position, keyword in entry.get("data", []):
            value = argument(node, position, keyword)
            if value is not None and not self._proven_value(value):
                return False
        return True

    def _proven_value(self, node: cst.BaseExpression) -> bool:
        if kind(node) in ("List", "Tuple"):
            return all(kind(e) != "StarredElement" and self._proven_value(e.value) for e in node.elements)
        if kind(node) == "UnaryOperation" and kind(node.operator) in ("Minus", "Plus"):
            return self._proven_value(node.expression)
        if kind(node) in ("Integer", "Float") or int_constant(node) is not None:
            return True
        return self.context.infer(node).proven

    def _copies_an_array(self, node: cst.Call, entry: dict) -> bool:
        """``mx.array(y)`` of an MLX/PyTorch array keeps its dtype, like ``zeros_like`` (NumPy data does not)."""
        data = entry.get("data", [])
        if len(data) != 1:
            return False
        value = argument(node, *data[0])
        inferred = self.context.infer(value) if value is not None else None
        return inferred is not None and inferred.is_array and inferred.backend != "numpy"

    def _has_dtype(self, node: cst.Call, entry: dict) -> bool:
        positional = [arg for arg in node.args if arg.keyword is None]
        for arg in node.args:
            if arg.star == "**" or (arg.keyword is not None and arg.keyword.value == "dtype"):
                return True  # a **mapping may hold the dtype
        position = entry.get("position")
        if position is not None and (any(arg.star == "*" for arg in positional) or len(positional) > position):
            return True
        return any(is_dtype_expression(arg.value, self.context) for arg in positional)
