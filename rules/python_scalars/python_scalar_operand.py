"""EL201 python-scalar-operand."""

from __future__ import annotations

import libcst as cst

from emberlint.fixers.operators import symbol_of
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.python_scalars._common import WEAK_TYPING_NOTES, PythonScalarRule
from emberlint.syntax import ARITHMETIC, AUGMENTED_ARITHMETIC, kind, source_text

OPERATORS = ARITHMETIC | AUGMENTED_ARITHMETIC


class PythonScalarOperand(PythonScalarRule):
    """A Python number (a literal or a name holding an int/float) as an operand of an arithmetic operator whose
    other operand is an MLX or PyTorch array: ``x * 0.5``, ``1 - p``, ``h / (h_norm + 1e-8)``, ``x / scale``.

    Why it matters numerically: the constant's precision and the result's dtype are decided implicitly by the
    backend's weak-typing rules instead of by the code: ``1e-8`` is 0 in float16, ``0.044715`` is 0.044677734375
    in bfloat16, and ``int32_array * 0.5`` silently becomes float32.
    {notes}
    Not reported: integer numbers inside subscripts and slices (``x[:n - 1]``, ``x[..., 0]``), arithmetic on
    Python numbers only (``n * 4``, ``"=" * 70``), NumPy arrays, and Python ints meeting arrays of a known
    integer dtype (``mx.arange(n) + window``, ``x.astype(mx.int16) * buckets``: nothing can round or promote).

    Profile: strict only (the reference package's policy "nothing exists without a dtype"). The weak typing
    keeps the array's dtype, so most findings on real code cannot change a value (measured precision:
    ``benchmarks/real_code_precision.py``); the cases that do are the recommended rules EL411-EL413.

    Fix: ``x * mx.array(0.5, dtype=x.dtype)`` (MLX) / ``x * torch.tensor(0.5, dtype=x.dtype, device=x.device)``
    (PyTorch); when the array operand is not a plain name the configured default dtype is used instead (unsafe).
    """

    __doc__ = __doc__.replace("{notes}", WEAK_TYPING_NOTES)

    CODE = "EL201"
    NAME = "python-scalar-operand"
    MESSAGE = "Python {kind} `{number}` used as an array operand of `{symbol}`; use a typed scalar `{typed}`"
    SEVERITY = None
    FIX = FixAvailability.SAFE_WHEN_PROVEN
    VALID = [
        """
        import mlx.core as mx
        def f(n: int):
            return n * 4
        """,
        """
        import mlx.core as mx
        banner = '=' * 70
        """,
        """
        import mlx.core as mx
        flag = False
        """,
        """
        import mlx.core as mx
        def f(b: int):
            return mx.zeros((b, 4))
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, n: int):
            return x[: n - 1]
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return x[..., 0] * x[..., 1]
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, i: int):
            return x[i + 1]
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return x * mx.array(0.5, dtype=x.dtype)
        """,
        """
        import numpy as np
        a = np.ones(3) * 2.0
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return x.shape[0] * 4 + x.ndim
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            d = x.shape[-1]
            return (d // 2) * 2
        """,
        """
        def f(x):
            return x * 0.5
        """,
        """
        import mlx.core as mx
        def f(n: int, window: int):
            linds = mx.arange(n)
            rinds = mx.arange(n)
            return linds[:, None] < rinds[None] + window
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, num_buckets: int):
            return x.astype(mx.int16) * num_buckets
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def init(s):
                return mx.random.normal(s) * 0.02
                                             ^^^^ EL201
            """,
            fixed="""
            import mlx.core as mx
            def init(s):
                return mx.random.normal(s) * mx.array(0.02, dtype=mx.float32)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(h: mx.array):
                h_norm = mx.linalg.norm(h, axis=-1, keepdims=True)
                return h / (h_norm + 1e-8)
                                     ^^^^ EL201
            """,
            fixed="""
            import mlx.core as mx
            def f(h: mx.array):
                h_norm = mx.linalg.norm(h, axis=-1, keepdims=True)
                return h / (h_norm + mx.array(1e-8, dtype=h_norm.dtype))
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(k_fwd_f: mx.array, k_rev_f: mx.array):
                return (k_fwd_f + k_rev_f) / 2
                                             ^ EL201
            """,
            fixed="""
            import mlx.core as mx
            def f(k_fwd_f: mx.array, k_rev_f: mx.array):
                return (k_fwd_f + k_rev_f) / mx.array(2, dtype=mx.int32)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import math
            import mlx.core as mx
            def gelu(x: mx.array) -> mx.array:
                c = math.sqrt(2.0 / math.pi)
                return 0.5 * x * (1.0 + mx.tanh(c * (x + 0.044715 * x ** 3)))
                       ^^^ EL201
                                  ^^^ EL201
                                                ^ EL201
                                                         ^^^^^^^^ EL201
                                                                         ^ EL201
            """,
            fixed="""
            import math
            import mlx.core as mx
            def gelu(x: mx.array) -> mx.array:
                c = math.sqrt(2.0 / math.pi)
                return mx.array(0.5, dtype=x.dtype) * x * (mx.array(1.0, dtype=mx.float32) + mx.tanh(mx.array(c, dtype=mx.float32) * (x + mx.array(0.044715, dtype=mx.float32) * x ** mx.array(3, dtype=x.dtype))))
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(p: mx.array):
                return 1 - p
                       ^ EL201
            """,
            fixed="""
            import mlx.core as mx
            def f(p: mx.array):
                return mx.array(1, dtype=p.dtype) - p
            """,
            unsafe=True,
        ),
        # x and scale are assumed (annotations): scale may be an array, x a NumPy array
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array, scale: float):
                y = x.astype(mx.float16)
                return y / scale
                           ^^^^^ EL201
            """,
            fixed="""
            import mlx.core as mx
            def f(x: mx.array, scale: float):
                y = x.astype(mx.float16)
                return y / mx.array(scale, dtype=y.dtype)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(n: int):
                y = mx.zeros((n,), dtype=mx.float16)
                scale = float(n)
                return y / scale
                           ^^^^^ EL201
            """,
            fixed="""
            import mlx.core as mx
            def f(n: int):
                y = mx.zeros((n,), dtype=mx.float16)
                scale = float(n)
                return y / mx.array(scale, dtype=y.dtype)
            """,
        ),
        Invalid(
            """
            import torch
            def f(x: torch.Tensor):
                y = torch.randn(3)
                return y * 0.5
                           ^^^ EL201
            """,
            fixed="""
            import torch
            def f(x: torch.Tensor):
                y = torch.randn(3)
                return y * torch.tensor(0.5, dtype=y.dtype, device=y.device)
            """,
        ),
    ]

    def _check(self, number: cst.BaseExpression, other: cst.BaseExpression, operator: cst.CSTNode) -> None:
        family = self.scalar(number)
        if family is None or self.exempt_int_in_subscript(family) or self.integer_arithmetic(family, other):
            return
        backend = self.backend(other)
        if backend is None:
            return
        fix, typed, note = self.fix_for(number, other, backend)
        symbol = symbol_of(operator)
        text = self.MESSAGE.format(kind=family, number=source_text(number), symbol=symbol, typed=typed)
        self.report(number, text + note, fix=fix)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if kind(node.operator) not in OPERATORS:
            return
        self._check(node.left, node.right, node.operator)
        self._check(node.right, node.left, node.operator)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if kind(node.operator) in OPERATORS:
            self._check(node.value, node.target, node.operator)
