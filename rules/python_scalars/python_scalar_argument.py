"""EL202 python-scalar-argument."""

from __future__ import annotations

import functools

import libcst as cst

from emberlint.api_facts import load_table, matches_prefix
from emberlint.backends import MLX_AND_TORCH, backend_of
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.python_scalars._common import WEAK_TYPING_NOTES, PythonScalarRule
from emberlint.syntax import source_text

METHOD_OWNER = {"mlx": "mlx.core.array", "torch": "torch.Tensor"}


@functools.lru_cache(maxsize=1)
def exempt_table() -> dict[str, frozenset]:
    table = load_table("exempt_apis")
    return {name: frozenset(entries) for name, entries in table.items()}


@functools.lru_cache(maxsize=1)
def math_methods() -> frozenset[str]:
    return frozenset(load_table("python_scalars")["math_methods"])


def _normalize(entries) -> frozenset:
    return frozenset(int(e) if isinstance(e, str) and e.isdigit() else e for e in entries)


class PythonScalarArgument(PythonScalarRule):
    """A Python number passed as an array operand of a backend function or array math method:
    ``mx.maximum(x, 0)``, ``torch.add(x, 2.0)``, ``mx.power(y, 3)``, ``mx.where(m, x, 0.0)``, ``x.clamp(min=1e-6)``.

    Why it matters numerically: the function receives a weakly typed host number and converts it by the
    backend's promotion rules: ``mx.maximum(x_int32, 0.0)`` is float32, ``mx.where(m, x_f16, 1e-8)`` puts 0
    where the code says 1e-8; the same caveats as EL201 apply.
    {notes}
    Not reported: shape, axis, size, stream and option parameters of known APIs (``rules/exempt_apis.yaml``, plus
    the ``exempt-apis`` table of the user configuration), array constructors (``mx.array(0.5)``,
    ``mx.full(shape, 0.5)``), calls without an array argument, and nn layer constructors
    (``nn.Linear(128, 256)``, ``nn.LayerNorm(d, eps=1e-12)``), Python ints next to integer arrays.

    Profile: strict only, like EL201 (a policy, not a value change).

    Fix: pass a typed scalar, ``mx.maximum(x, mx.array(0, dtype=x.dtype))``; its dtype follows the nearest array
    argument when that is a plain name, the configured default otherwise (unsafe).
    """

    __doc__ = __doc__.replace("{notes}", WEAK_TYPING_NOTES)

    CODE = "EL202"
    NAME = "python-scalar-argument"
    MESSAGE = "Python {kind} `{number}` passed to `{function}` as an array operand; use a typed scalar `{typed}`"
    SEVERITY = None
    FIX = FixAvailability.SAFE_WHEN_PROVEN
    VALID = [
        """
        import mlx.core as mx
        def f(b: int):
            return mx.zeros((b, 4))
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.sum(x, axis=-1, keepdims=True)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.sum(x, 0)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, b: int):
            return x.reshape(b, -1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.reshape(x, (2, -1))
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.pad(x, [(0, 0), (1, 1)])
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.transpose(x, (0, 2, 1))
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.split(x, 2, axis=1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.expand_dims(x, 0)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.squeeze(x, 1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.tile(x, (2, 1))
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.broadcast_to(x, (4, 3))
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.softmax(x, axis=-1)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.random.normal(x.shape, scale=0.02)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, w: mx.array, b: mx.array):
            return mx.fast.layer_norm(x, w, b, 1e-5)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array, w: mx.array):
            return mx.fast.rms_norm(x, w, eps=1e-6)
        """,
        """
        import mlx.core as mx
        def f(q, k, v):
            return mx.fast.scaled_dot_product_attention(q, k, v, scale=0.125)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.fast.rope(x, 64, traditional=False, base=10000.0, scale=1.0, offset=0)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.round(x, decimals=2)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.topk(x, 5)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.full(x.shape, 0.5)
        """,
        """
        import mlx.core as mx
        y = mx.array(0.5, dtype=mx.float16)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return mx.maximum(x, mx.array(0, dtype=x.dtype))
        """,
        """
        import mlx.nn as nn
        import mlx.core as mx
        layer = nn.Linear(128, 256)
        norm = nn.LayerNorm(64, eps=1e-12)
        """,
        """
        import torch
        import torch.nn.functional as F
        def f(x: torch.Tensor):
            return F.pad(x, (1, 1), value=0.0)
        """,
        """
        import torch
        def f(x: torch.Tensor):
            return torch.cat([x, x], 1).transpose(0, 1)
        """,
        """
        import torch
        def f(x: torch.Tensor):
            return torch.nn.functional.one_hot(x, num_classes=10)
        """,
        """
        import torch
        def f(x: torch.Tensor):
            return torch.nn.functional.conv1d(x, x, stride=2, padding=1, dilation=1, groups=1)
        """,
        """
        import torch
        import torch.nn as nn
        conv = nn.Conv1d(4, 8, kernel_size=3)
        """,
        """
        import mlx.core as mx
        def f(mx, x):
            return mx.maximum(x, 0)
        """,
        """
        def f(x):
            return max(x, 0)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            i = x.astype(mx.int32)
            return mx.maximum(i, 0)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f():
                y = mx.random.normal((3,))
                return mx.power(y, 3)
                                   ^ EL202
            """,
            fixed="""
            import mlx.core as mx
            def f():
                y = mx.random.normal((3,))
                return mx.power(y, mx.array(3, dtype=y.dtype))
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                return mx.maximum(x, 0)
                                     ^ EL202
            """,
            fixed="""
            import mlx.core as mx
            def f(x: mx.array):
                return mx.maximum(x, mx.array(0, dtype=x.dtype))
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            def f(x: mx.array):
                return mx.where(x > 0, x, 0.0)
                                          ^^^ EL202
            """,
            fixed="""
            import mlx.core as mx
            def f(x: mx.array):
                return mx.where(x > 0, x, mx.array(0.0, dtype=x.dtype))
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import torch
            def f():
                x = torch.zeros(4)
                return torch.add(x, 2.0)
                                    ^^^ EL202
            """,
            fixed="""
            import torch
            def f():
                x = torch.zeros(4)
                return torch.add(x, torch.tensor(2.0, dtype=x.dtype, device=x.device))
            """,
        ),
        Invalid(
            """
            import torch
            def f(x: torch.Tensor):
                return x.clamp(min=1e-6)
                                   ^^^^ EL202
            """,
            fixed="""
            import torch
            def f(x: torch.Tensor):
                return x.clamp(min=torch.tensor(1e-6, dtype=x.dtype, device=x.device))
            """,
            unsafe=True,
        ),
    ]

    def _exempt(self, keys: list[str], prefixes: bool) -> frozenset:
        """Exempt parameters of a function: its own entries and those of its modules (``mlx.core.random``);
        the same for every call of it in the file."""
        known = self.__dict__.setdefault("_exempt_sets", {})
        key = (tuple(keys), prefixes)
        if key not in known:
            known[key] = self._exempt_set(keys, prefixes)
        return known[key]

    def _exempt_set(self, keys: list[str], prefixes: bool) -> frozenset:
        table = exempt_table()
        user = self.context.config.exempt_parameters()
        entries: set = set(table.get("*", ())) | set(_normalize(user.get("*", ())))
        for key in keys:
            parts = key.split(".")
            for i in range(len(parts), 0 if prefixes else len(parts) - 1, -1):
                prefix = ".".join(parts[:i])
                entries |= table.get(prefix, frozenset())
                entries |= _normalize(user.get(prefix, ()))
        return frozenset(entries)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        receiver: cst.BaseExpression | None = None
        if qualified is not None:
            backend = backend_of(qualified)
            last = qualified.rsplit(".", 1)[-1]
            if backend not in MLX_AND_TORCH or last[:1].isupper() or "._" in qualified:
                return  # layer constructors, private helpers (torch._foreach_add_ takes Python scalars by design)
            if matches_prefix(qualified, self.context.facts.facts.non_array_calls):
                return
            keys = [qualified]
            function = source_text(node.func)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in math_methods():
            backend = self.backend(node.func.value)
            if backend is None:
                return
            receiver = node.func.value
            method = node.func.attr.value
            keys = [f"{owner}.{method}" for owner in METHOD_OWNER.values()]
            function = f".{method}()"
        else:
            return
        exempt = self._exempt(keys, prefixes=receiver is None)
        if "*" in exempt:
            return
        positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
        arrays = [i for i, arg in enumerate(positional) if self.backend(arg.value)]
        has_array = receiver is not None or arrays or any(
            self.backend(arg.value) for arg in node.args if arg.keyword is not None
        )
        if not has_array:
            return
        for arg in node.args:
            if arg.star:
                continue
            if arg.keyword is not None:
                if arg.keyword.value in exempt:
                    continue
                index = None
            else:
                index = positional.index(arg)
                if index in exempt:
                    continue
            family = self.scalar(arg.value)
            if family is None:
                continue
            operand = receiver if receiver is not None else _nearest(arrays, index, positional)
            if self.integer_arithmetic(family, operand):
                continue
            operand_backend = self.backend(operand) if operand is not None else None
            fix, typed, note = self.fix_for(arg.value, operand, operand_backend or backend)
            text = self.MESSAGE.format(kind=family, number=source_text(arg.value), function=function, typed=typed)
            self.report(arg.value, text + note, fix=fix)


def _nearest(arrays: list[int], index: int | None, positional: list[cst.Arg]) -> cst.BaseExpression | None:
    """The positional array argument closest to ``index`` (ties go to the later one: ``where(m, 0.0, x)`` -> x)."""
    if not arrays:
        return None
    if index is None:
        return positional[arrays[-1]].value
    best = min(arrays, key=lambda i: (abs(i - index), -i))
    return positional[best].value
