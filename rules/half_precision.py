"""EL41x: what half precision and integer dtypes do to real model code (dtype-aware: ``emberlint/dtypes.py``).

Each rule decides from the dtype the code states (``x.astype(mx.float16)``, ``dtype=``, a constructor); where the
dtype is unknown on an MLX model's compute path (weights are usually loaded in bfloat16/float16), the message
says "if ... is float16/bfloat16". Every consequence in a message was measured with mlx 0.32.4
(``scripts/measure_half_precision.py``).
"""

from __future__ import annotations

import libcst as cst

from emberlint.dtypes import (
    float32_scalar,
    is_half,
    python_float,
    unrepresentable,
)
from emberlint.model import Severity
from emberlint.walk import subtree
from emberlint.rule import FixAvailability, Invalid, Rule

_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)
_SQUARE_CONSUMERS = ("mean", "sum", "var")


def _text(node: cst.CSTNode) -> str:
    if getattr(node, "lpar", None) and not isinstance(node, cst.Tuple):
        node = node.with_changes(lpar=[], rpar=[])
    return cst.Module([]).code_for_node(node)


class _DtypeRule(Rule):
    def mlx_array(self, node: cst.BaseExpression) -> bool:
        inferred = self.context.infer(node)
        if not inferred.is_array:
            return False
        return inferred.backend == "mlx" or (inferred.backend is None and self.context.array_backend() == "mlx")

    def half_or_unknown(self, node: cst.BaseExpression) -> tuple[str | None, bool]:
        """(the dtype of an MLX array, whether to report it): known half, or "half or unknown": unknown on the
        compute path, in a function that upcasts nothing to float32 (one that does computes in float32 on
        purpose, through helpers the inference does not follow)."""
        dtype = self.context.dtype_of(node)
        if is_half(dtype):
            return dtype, True
        if dtype is not None or not self.context.in_compute_path():
            return dtype, False
        function = self.context.enclosing_function()
        return dtype, function is None or not _upcasts(function, self.context)


def _upcasts(function: cst.FunctionDef, context) -> bool:
    """The function casts something to float32 (``x.astype(mx.float32)``, ``t.float()``, ``dtype=mx.float32``)."""
    for node in subtree(function.body):
        if isinstance(node, cst.Attribute) and node.attr.value == "float32":
            return True
    return False


def _if(dtype: str | None, what: str) -> str:
    return f"`{what}` is {dtype}" if dtype else f"if `{what}` is float16/bfloat16"


class HalfPrecisionSoftmax(_DtypeRule):
    """``mx.softmax(x, axis=-1)`` on a float16/bfloat16 ``x`` without ``precise=True`` or an upcast.

    Why it matters numerically: without ``precise=True`` MLX computes the softmax in the input's half precision.
    Measured (mlx 0.32.4, ``scripts/measure_half_precision.py``, 4 x 1000 bfloat16 logits of scale 4): the
    largest error against a float32 softmax is 2.3e-2 (6.3e-4 with ``precise=True``), and rows sum to 1 +- 4.9e-2
    (7.8e-4 with ``precise=True``).
    Attention weights that do not sum to one shift every layer's output. Reported when ``x`` is visibly half
    precision, or of unknown dtype inside ``__call__``/``forward`` of an MLX model (and the functions it calls);
    not when ``x`` was upcast (``x.astype(mx.float32)``). PyTorch is not reported.

    Fix: ``mx.softmax(x, axis=-1, precise=True)`` (result in ``x.dtype``, computed in float32).
    """

    CODE = "EL410"
    NAME = "half-precision-softmax"
    MESSAGE = ("Softmax without `precise=True`: {cond}, it is computed in half precision (bfloat16: weights "
               "off by ~1e-2, rows that do not sum to 1); pass precise=True")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.softmax(x.astype(mx.float16), axis=-1, precise=True)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.softmax(x.astype(mx.float32), axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.softmax(x, axis=-1)
        """,
        """
        import torch
        def f(x: torch.Tensor):
            return torch.softmax(x.half(), dim=-1)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                s = x.astype(mx.bfloat16)
                return mx.softmax(s, axis=-1)
                       ^^^^^^^^^^^^^^^^^^^^^^ EL410
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Attention(nn.Module):
                def __call__(self, q: mx.array, k: mx.array):
                    scores = q @ k.T
                    return mx.softmax(scores, axis=-1)
                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL410
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.qualified_name(node.func) != "mlx.core.softmax" or not node.args:
            return
        if any(a.keyword is not None and a.keyword.value == "precise" for a in node.args) or len(
            [a for a in node.args if a.keyword is None]) > 2:
            return
        x = node.args[0].value
        if node.args[0].keyword is not None or not self.mlx_array(x):
            return
        dtype, report = self.half_or_unknown(x)
        if report:
            self.report(node, cond=_if(dtype, _text(x)))


class Float32ScalarPromotion(_DtypeRule):
    """A strong float32 scalar array, ``mx.array(d ** -0.5)`` or ``mx.array(s, dtype=mx.float32)`` (directly or
    through a name or ``self.attr`` bound to it), in arithmetic with an MLX array that is float16/bfloat16.

    Why it matters numerically: an untyped ``mx.array(<Python float>)`` is a *strong* float32 array, unlike the
    Python float itself (weak: ``x * 0.125`` keeps ``x.dtype``). ``x_bf16 * mx.array(0.125)`` is float32
    (measured, mlx 0.32.4): the result and everything downstream doubles in memory and bandwidth, and the next
    layer gets float32 inputs where the model runs in bfloat16. Adding ``dtype=mx.float32`` states that
    promotion instead of fixing it (EL401's fix never adds it to a scalar that meets an array). Reported when the array is visibly
    half precision, or of unknown dtype inside ``__call__``/``forward`` of an MLX model (and what it calls).

    Fix: keep the Python float (weak) or build the scalar in the array's dtype:
    ``mx.array(d ** -0.5, dtype=x.dtype)``.
    """

    CODE = "EL411"
    NAME = "float32-scalar-promotion"
    MESSAGE = ("`{scalar}` is a float32 array: {cond}, `{op}` promotes the result to float32; use a Python float "
               "or dtype={other}.dtype")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x * (d ** -0.5)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x.astype(mx.bfloat16) * mx.array(d ** -0.5, dtype=mx.bfloat16)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x.astype(mx.float32) * mx.array(d ** -0.5)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, d: int):
            return x * mx.array(d ** -0.5)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array, d: int):
                h = x.astype(mx.bfloat16)
                return h * mx.array(d ** -0.5)
                       ^^^^^^^^^^^^^^^^^^^^^^^ EL411
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Attention(nn.Module):
                def __init__(self, dims: int):
                    super().__init__()
                    self.scale = mx.array(dims ** -0.5)
                def __call__(self, q: mx.array) -> mx.array:
                    return q * self.scale
                           ^^^^^^^^^^^^^^ EL411
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                h = x.astype(mx.float16)
                return h + mx.array(1e-5, dtype=mx.float32)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL411
            """,
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, _ARITHMETIC + (cst.Power,)):
            return
        for scalar, other in ((node.left, node.right), (node.right, node.left)):
            if float32_scalar(scalar, self.context) and self.mlx_array(other) and not float32_scalar(other, self.context):
                dtype, report = self.half_or_unknown(other)
                if report:
                    self.report(node, scalar=_text(scalar), op=_text(node), other=_text(other),
                                cond=_if(dtype, _text(other)))
                return


class UnrepresentableLiteral(_DtypeRule):
    """A float literal the array's half-precision dtype cannot hold, in arithmetic with it or as its typed
    scalar: ``mask.astype(mx.float16) * -1e9``, ``h / (n + 1e-8)`` with a float16 ``n``,
    ``mx.array(1e-8, dtype=n.dtype)``.

    Why it matters numerically: the literal is rounded to the array's dtype before the operation. In float16,
    ``-1e9`` is ``-inf`` and ``1e-8`` is ``0`` (measured, mlx 0.32.4): ``mask * -1e9`` is ``-inf`` where the
    mask is 1 and NaN where it is 0 (``0 * -inf``), so the additive mask poisons the softmax; ``n + 1e-8``
    stays 0 and ``h / (n + 1e-8)`` divides by zero. A typed scalar ``mx.array(1e-8, dtype=n.dtype)`` is rounded
    the same way and keeps the bug. bfloat16 holds both (its range is float32's). Decided when the dtype is
    visible (``astype``/``dtype=``/a constructor); PyTorch arrays too. The strict profile also reports an MLX
    array of unknown dtype inside ``__call__``/``forward`` of a model ("if x is float16").

    Fix: a value the dtype holds: ``mx.finfo(x.dtype).min`` (or ``-3e4``) for masks, an eps that is a normal
    number in float16 (``1e-5`` or larger: the smallest normal float16 is 6.1e-5, the smallest subnormal
    6e-8), or do the arithmetic in float32.
    """

    CODE = "EL412"
    NAME = "unrepresentable-literal"
    MESSAGE = "`{literal}` is {becomes} in {dtype}: {consequence}"
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(mask: mx.array):
            return mask.astype(mx.bfloat16) * -1e9
        """,
        """
        import mlx.core as mx
        def f(mask: mx.array):
            return mask.astype(mx.float16) * -3e4
        """,
        """
        import mlx.core as mx
        def f(n: mx.array):
            return n.astype(mx.float32) + 1e-8
        """,
        """
        import mlx.core as mx
        def f(n: mx.array):
            return n + 1e-8
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(mask: mx.array, scores: mx.array):
                return scores + mask.astype(mx.float16) * -1e9
                                                          ^^^^ EL412
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(h: mx.array, counts: mx.array):
                n = counts.astype(mx.float16)
                return h / (n + 1e-8)
                                ^^^^ EL412
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(h: mx.array, counts: mx.array):
                n = counts.astype(mx.float16)
                return h / (n + mx.array(1e-8, dtype=n.dtype))
                                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL412
            """,
        ),
        Invalid(
            """
            import torch
            def f(t: torch.Tensor):
                return t.half().clamp(min=1e-8)
                                          ^^^^ EL412
            """,
        ),
    ]
    CONSEQUENCE = {
        "overflow": "the operation sees inf (and 0 * inf is NaN)",
        "zero": "the operation sees 0 (an eps that protects nothing)",
    }

    def _check(self, literal: cst.BaseExpression, array: cst.BaseExpression, where: cst.CSTNode) -> None:
        value = python_float(literal)
        if value is None or not self.context.is_array(array):
            return
        dtype = self.context.dtype_of(array)
        problem = unrepresentable(value, dtype)
        shown = dtype
        if dtype is None and self.context.config.profile == "strict" and self.mlx_array(array) \
                and self.half_or_unknown(array)[1]:
            problem = unrepresentable(value, "float16")  # strict: "if x is float16"
            shown = f"float16 (if `{_text(array)}` is float16)"
        if problem:
            self.report(where, literal=_text(literal), becomes="inf" if problem == "overflow" else "0",
                        dtype=shown, consequence=self.CONSEQUENCE[problem])

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, _ARITHMETIC):
            self._check(node.left, node.right, node.left)
            self._check(node.right, node.left, node.right)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if qualified in ("mlx.core.array", "torch.tensor"):
            if node.args and node.args[0].keyword is None:
                value = python_float(node.args[0].value)
                dtype = self.context.dtype_of(node)
                problem = unrepresentable(value, dtype) if value is not None else None
                if problem:
                    self.report(node, literal=_text(node.args[0].value),
                                becomes="inf" if problem == "overflow" else "0", dtype=dtype,
                                consequence=self.CONSEQUENCE[problem] + "; the typed scalar keeps the bug")
            return
        if not any(not a.star and python_float(a.value) is not None for a in node.args):
            return
        receiver = node.func.value if isinstance(node.func, cst.Attribute) and qualified is None else None
        arrays = [receiver] if receiver is not None else [
            a.value for a in node.args if not a.star and self.context.is_array(a.value)]
        if not arrays or not (receiver is not None or (qualified and qualified.split(".")[0] in ("mlx", "torch"))):
            return
        if receiver is not None and node.func.attr.value not in ("clamp", "clip", "add", "sub", "mul", "div",
                                                                 "masked_fill", "maximum", "minimum"):
            return
        for arg in node.args:
            if not arg.star and python_float(arg.value) is not None:
                self._check(arg.value, arrays[0], arg.value)


class HalfSquareOverflow(_DtypeRule):
    """A square in float16 that feeds a mean or sum: ``mx.mean(x * x, axis=-1)``, ``(x ** 2).mean(-1)``,
    ``mx.square(x).sum()`` -- the variance of a hand-written RMSNorm or LayerNorm.

    Why it matters numerically: float16's largest value is 65504, so any ``|x| > 256`` squares to ``inf``
    (measured: ``mx.full((4,), 300.0, dtype=mx.float16) ** 2`` is inf, and so is its mean); the norm then
    divides by ``inf`` and the layer outputs zeros or NaN. Hidden states of large models exceed 256 routinely.
    bfloat16 has float32's range and is not reported. Reported when ``x`` is visibly float16; the strict
    profile also reports an ``x`` of unknown dtype inside ``__call__``/``forward`` of an MLX model ("if x is
    float16"): MLX models usually run in bfloat16, so the recommended profile keeps to the decided case.

    Fix: square in float32 (``xf = x.astype(mx.float32)``; ``mx.mean(xf * xf, axis=-1)``), or use
    ``mx.fast.rms_norm`` / ``mx.fast.layer_norm``, which accumulate in float32.
    """

    CODE = "EL413"
    NAME = "half-square-overflow"
    MESSAGE = "`{square}` feeds a {consumer}: {cond}, values above 256 square to inf; square in float32"
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array):
            xf = x.astype(mx.float32)
            return mx.mean(xf * xf, axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            h = x.astype(mx.bfloat16)
            return mx.mean(h * h, axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            h = x.astype(mx.float16)
            return h * h
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def rms(x: mx.array):
                h = x.astype(mx.float16)
                return h * mx.rsqrt(mx.mean(h * h, axis=-1, keepdims=True) + 1e-5)
                                            ^^^^^ EL413
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class RMSNorm(nn.Module):
                def __call__(self, x: mx.array) -> mx.array:
                    variance = (x ** 2).mean(-1, keepdims=True)
                                ^^^^^^ EL413
                    return x * mx.rsqrt(variance + 1e-6)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                h = x.astype(mx.float16)
                return mx.square(h).sum()
                       ^^^^^^^^^^^^ EL413
            """,
        ),
    ]

    def _squared(self, node: cst.CSTNode) -> cst.BaseExpression | None:
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Multiply) and _text(node.left) == _text(node.right):
                return node.left
            if isinstance(node.operator, cst.Power) and isinstance(node.right, cst.Integer) and node.right.value == "2":
                return node.left
        if isinstance(node, cst.Call) and node.args:
            if self.context.qualified_name(node.func) == "mlx.core.square":
                return node.args[0].value
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "square" \
                and not node.args:
            return node.func.value
        return None

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        squared_node = None
        consumer = None
        if qualified in tuple(f"mlx.core.{c}" for c in _SQUARE_CONSUMERS) and node.args:
            squared_node, consumer = node.args[0].value, qualified.rsplit(".", 1)[-1]
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in _SQUARE_CONSUMERS and qualified is None:
            squared_node, consumer = node.func.value, node.func.attr.value
        if squared_node is None:
            return
        x = self._squared(squared_node)
        if x is None or not self.mlx_array(x):
            return
        dtype = self.context.dtype_of(x)
        strict = self.context.config.profile == "strict"
        if dtype == "float16" or (dtype is None and strict and self.context.in_compute_path()):
            cond = "`{}` is float16".format(_text(x)) if dtype else f"if `{_text(x)}` is float16"
            self.report(squared_node, square=_text(squared_node), consumer=consumer, cond=cond)


class Int32ProductOverflow(_DtypeRule):
    """A product of two int32 index arrays: ``rows * cols`` where both are ``mx.arange(...)`` results or
    ``astype(mx.int32)`` casts.

    Why it matters numerically: int32 products wrap silently past 2**31 - 1: ``mx.arange(70000)`` squared
    elementwise gives 604892705 for 69999 * 69999 = 4899860001 (measured, mlx 0.32.4). Flattened indices
    (``row * width + col``) over a large vocabulary or a long sequence then address the wrong element, without
    an error. MLX's ``mx.arange`` of Python ints is int32 (PyTorch's is int64 and is not reported).

    Fix: ``mx.arange(n, dtype=mx.int64)`` or ``.astype(mx.int64)`` before the product, when the product can
    exceed 2**31.
    """

    CODE = "EL414"
    NAME = "int32-product-overflow"
    MESSAGE = "`{product}` multiplies two int32 arrays: products past 2**31 wrap around silently; use int64"
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(n: int):
            i = mx.arange(n, dtype=mx.int64)
            return i * i
        """,
        """
        import mlx.core as mx
        def f(n: int):
            i = mx.arange(n)
            return i * 4
        """,
        """
        import torch
        def f(n: int):
            i = torch.arange(n)
            return i * i
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(h: int, w: int):
                rows = mx.arange(h)[:, None]
                cols = mx.arange(w)[None]
                return rows * cols
                       ^^^^^^^^^^^ EL414
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(a: mx.array, b: mx.array):
                return a.astype(mx.int32) * b.astype(mx.int32)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL414
            """,
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.Multiply):
            return
        if self.context.is_array(node.left) and self.context.is_array(node.right):
            if self.context.dtype_of(node.left) == "int32" and self.context.dtype_of(node.right) == "int32":
                self.report(node, product=_text(node))


class HalfPrecisionCumsum(_DtypeRule):
    """``mx.cumsum`` (or ``x.cumsum()``) of a bfloat16/float16 array.

    Why it matters numerically: a cumulative sum is computed and stored in the array's dtype, so every partial
    sum is rounded to 8 (bfloat16) or 11 (float16) significant bits; once the running total is large the
    increments vanish. Measured (mlx 0.32.4): the cumsum of 100,000 ones is 256 in bfloat16 and 2048 in
    float16. (A plain ``mx.sum`` of bfloat16 accumulates in float32 and only rounds the result: 99,840 for the
    same ones; it is not reported.) Reported when the input is visibly half precision only: on real code a
    cumsum of unknown dtype is a mask or position count far more often than a half-precision value.

    Fix: ``mx.cumsum(x.astype(mx.float32), axis=...)``, cast back after if needed.
    """

    CODE = "EL415"
    NAME = "half-precision-cumsum"
    MESSAGE = ("Cumulative sum of `{x}`: {cond}, partial sums are rounded to half precision (the cumsum of "
               "100,000 ones is 256 in bfloat16); accumulate in float32")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.cumsum(x.astype(mx.float32), axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.sum(x.astype(mx.bfloat16), axis=-1)
        """,
        """
        import mlx.core as mx
        def f(n: int):
            return mx.cumsum(mx.arange(n), axis=0)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                dt = x.astype(mx.bfloat16)
                return mx.cumsum(dt, axis=-1)
                       ^^^^^^^^^^^^^^^^^^^^^^ EL415
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                return x.astype(mx.float16).cumsum(axis=1)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL415
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if qualified == "mlx.core.cumsum" and node.args:
            x = node.args[0].value
        elif qualified is None and isinstance(node.func, cst.Attribute) and node.func.attr.value == "cumsum":
            x = node.func.value
        else:
            return
        if not self.mlx_array(x):
            return
        dtype = self.context.dtype_of(x)
        if is_half(dtype):  # decided only: a cumsum of unknown dtype is most often of a mask or of positions
            self.report(node, x=_text(x), cond=_if(dtype, _text(x)))
