"""EL2xx: Python numbers used as operands of array math."""

from __future__ import annotations

import functools

import libcst as cst

from emberlint.api_facts import load_table, matches_prefix
from emberlint.dtypes import is_int
from emberlint.fixers.operators import symbol_of
from emberlint.host_math import contains_host_math
from emberlint.scalar_facts import number_family, scalar_replacement
from emberlint.context import ASSUMED_NOTE
from emberlint.model import Severity
from emberlint.rule import Invalid, RawFix, Rule
from emberlint.scope import backend_of

METHOD_OWNER = {"mlx": "mlx.core.array", "torch": "torch.Tensor"}
_ARITHMETIC = (
    cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power,
    cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.DivideAssign, cst.FloorDivideAssign,
    cst.ModuloAssign, cst.PowerAssign,
)

WEAK_TYPING_NOTES = """
    MLX and PyTorch treat a Python number as *weakly typed*: ``x * 0.5`` keeps ``x.dtype`` when ``x`` is floating.
    That does not make the number harmless:

    * the constant is rounded to the array's dtype when the operation runs: ``0.044715`` is 0.044677734375 in
      bfloat16 and ``1e-8`` is 0 in float16 -- but a typed scalar ``mx.array(1e-8, dtype=x.dtype)`` is rounded
      the same way, so the fix states the dtype without changing the value (a literal that the dtype cannot hold
      is EL412's finding, in the recommended profile);
    * the number's *kind* still promotes: ``int32_array * 0.5`` is float32 in MLX and PyTorch, and
      ``bool_mask + 1`` is int32, so integer code turns into float code without a visible cast;
    * a Python scalar and an *untyped* 0-d array are not the same thing: ``x_f16 * mx.array(0.5)`` is float32
      (``mx.array(0.5)`` is a strong float32), and in PyTorch a 0-dim tensor only stays weak against dimensioned
      tensors: ``loss * torch.tensor(0.5, dtype=torch.float64)`` is float64 when ``loss`` is itself 0-dim, where
      ``loss * 0.5`` stays float32. Hence the dtype must be spelled out (``dtype=x.dtype``);
    * code ported to NumPy or JAX (where Python floats are float64 or follow other rules) changes precision.

    A typed scalar, ``mx.array(0.5, dtype=x.dtype)`` / ``torch.tensor(0.5, dtype=x.dtype, device=x.device)``,
    states the dtype the constant is rounded to. The fix is safe when the array operand is a name proven by
    dataflow to be an array whose dtype family is known locally to be floating (or integer with an integer number),
    and the number is proven a Python number: then the typed scalar reproduces the weakly typed result exactly.
    Otherwise (integer or bool operands, operands whose dtype is unknown, types only assumed from a parameter or an
    annotation, or operands that are not plain names, which get the configured default dtype) it is unsafe.
"""


@functools.lru_cache(maxsize=1)
def exempt_table() -> dict[str, frozenset]:
    table = load_table("exempt_apis")
    return {name: frozenset(entries) for name, entries in table.items()}


@functools.lru_cache(maxsize=1)
def math_methods() -> frozenset[str]:
    return frozenset(load_table("python_scalars")["math_methods"])


def _normalize(entries) -> frozenset:
    return frozenset(int(e) if isinstance(e, str) and e.isdigit() else e for e in entries)


class _PythonScalarRule(Rule):
    """Shared helpers: is an expression a Python number, which backend does an array belong to, the fix."""

    def scalar(self, node: cst.BaseExpression) -> str | None:
        """``int``/``float``/``complex`` when ``node`` is a Python number (literal or inferred), else None."""
        family = number_family(node, self.context)
        if family in (None, "bool"):
            return None
        if contains_host_math(node, self.context):
            return None  # `math.sqrt(2.0)` next to an array is EL501's finding (host float math), not a second one
        if isinstance(node, cst.Name) and node.value in ("True", "False"):
            return None
        return family

    def backend(self, node: cst.BaseExpression) -> str | None:
        """``mlx``/``torch`` when ``node`` is an MLX or PyTorch array (NumPy arrays are not this rule's business)."""
        inferred = self.context.infer(node)
        if not inferred.is_array:
            return None
        if inferred.backend in ("mlx", "torch"):
            return inferred.backend
        if inferred.backend is None:
            return self.context.array_backend()
        return None

    def in_subscript(self) -> bool:
        return any(isinstance(node, cst.SubscriptElement) for node in self.context.ancestors)

    def exempt_int_in_subscript(self, family: str) -> bool:
        return family == "int" and self.in_subscript()

    def integer_arithmetic(self, family: str, operand: cst.BaseExpression | None) -> bool:
        """A Python int meeting an array of a known integer dtype: nothing can round or promote."""
        return family == "int" and operand is not None and is_int(self.context.dtype_of(operand))

    def fix_for(self, number: cst.BaseExpression, operand: cst.BaseExpression | None, backend: str):
        typed = scalar_replacement(self.context, number, operand, backend)
        proven = operand is not None and self.context.proven_operands(backend, number, operand)
        fix = RawFix(
            safe=typed.safe and proven,
            replacements=[(number, typed.node)],
            imports=typed.imports,
            description=f"Use a typed scalar with dtype {typed.dtype_text}",
        )
        # the message's note when the fix would be safe but for an assumed operand type
        note = ASSUMED_NOTE if typed.safe and operand is not None and not proven else ""
        return fix, typed.text, note


def _text(node: cst.CSTNode) -> str:
    """Source of an expression without its grouping parentheses (for messages)."""
    if getattr(node, "lpar", None) and not isinstance(node, cst.Tuple):
        node = node.with_changes(lpar=[], rpar=[])
    return cst.Module([]).code_for_node(node)


class PythonScalarOperand(_PythonScalarRule):
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
    VALID = [
        "import mlx.core as mx\ndef f(n: int):\n    return n * 4",
        "import mlx.core as mx\nbanner = '=' * 70",
        "import mlx.core as mx\nflag = False",
        "import mlx.core as mx\ndef f(b: int):\n    return mx.zeros((b, 4))",
        "import mlx.core as mx\ndef f(x: mx.array, n: int):\n    return x[: n - 1]",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return x[..., 0] * x[..., 1]",
        "import mlx.core as mx\ndef f(x: mx.array, i: int):\n    return x[i + 1]",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return x * mx.array(0.5, dtype=x.dtype)",
        "import numpy as np\na = np.ones(3) * 2.0",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return x.shape[0] * 4 + x.ndim",
        "import mlx.core as mx\ndef f(x: mx.array):\n    d = x.shape[-1]\n    return (d // 2) * 2",
        "def f(x):\n    return x * 0.5",
        "import mlx.core as mx\ndef f(n: int, window: int):\n    linds = mx.arange(n)\n    rinds = mx.arange(n)\n"
        "    return linds[:, None] < rinds[None] + window",
        "import mlx.core as mx\ndef f(x: mx.array, num_buckets: int):\n    return x.astype(mx.int16) * num_buckets",
    ]
    INVALID = [
        Invalid(
            "import mlx.core as mx\ndef init(s):\n    return mx.random.normal(s) * 0.02",
            fixed="import mlx.core as mx\ndef init(s):\n    return mx.random.normal(s) * mx.array(0.02, dtype=mx.float32)",
            unsafe=True,
        ),
        Invalid(
            "import mlx.core as mx\ndef f(h: mx.array):\n"
            "    h_norm = mx.linalg.norm(h, axis=-1, keepdims=True)\n    return h / (h_norm + 1e-8)",
            fixed="import mlx.core as mx\ndef f(h: mx.array):\n"
            "    h_norm = mx.linalg.norm(h, axis=-1, keepdims=True)\n"
            "    return h / (h_norm + mx.array(1e-8, dtype=h_norm.dtype))",
        ),
        Invalid(
            "import mlx.core as mx\ndef f(k_fwd_f: mx.array, k_rev_f: mx.array):\n    return (k_fwd_f + k_rev_f) / 2",
            fixed="import mlx.core as mx\ndef f(k_fwd_f: mx.array, k_rev_f: mx.array):\n"
            "    return (k_fwd_f + k_rev_f) / mx.array(2, dtype=mx.int32)",
            unsafe=True,
        ),
        Invalid(
            "import math\nimport mlx.core as mx\ndef gelu(x: mx.array) -> mx.array:\n"
            "    c = math.sqrt(2.0 / math.pi)\n"
            "    return 0.5 * x * (1.0 + mx.tanh(c * (x + 0.044715 * x ** 3)))",
            fixed="import math\nimport mlx.core as mx\ndef gelu(x: mx.array) -> mx.array:\n"
            "    c = math.sqrt(2.0 / math.pi)\n"
            "    return mx.array(0.5, dtype=x.dtype) * x * (mx.array(1.0, dtype=mx.float32) + mx.tanh("
            "mx.array(c, dtype=mx.float32) * (x + mx.array(0.044715, dtype=mx.float32) * "
            "x ** mx.array(3, dtype=x.dtype))))",
            unsafe=True,
            count=5,
        ),
        Invalid(
            "import mlx.core as mx\ndef f(p: mx.array):\n    return 1 - p",
            fixed="import mlx.core as mx\ndef f(p: mx.array):\n    return mx.array(1, dtype=p.dtype) - p",
            unsafe=True,
        ),
        Invalid(
            "import mlx.core as mx\ndef f(x: mx.array, scale: float):\n    y = x.astype(mx.float16)\n"
            "    return y / scale",
            fixed="import mlx.core as mx\ndef f(x: mx.array, scale: float):\n    y = x.astype(mx.float16)\n"
            "    return y / mx.array(scale, dtype=y.dtype)",
            unsafe=True,  # x and scale are assumed (annotations): scale may be an array, x a NumPy array
        ),
        Invalid(
            "import mlx.core as mx\ndef f(n: int):\n    y = mx.zeros((n,), dtype=mx.float16)\n    scale = float(n)\n"
            "    return y / scale",
            fixed="import mlx.core as mx\ndef f(n: int):\n    y = mx.zeros((n,), dtype=mx.float16)\n    scale = float(n)\n"
            "    return y / mx.array(scale, dtype=y.dtype)",
        ),
        Invalid(
            "import torch\ndef f(x: torch.Tensor):\n    y = torch.randn(3)\n    return y * 0.5",
            fixed="import torch\ndef f(x: torch.Tensor):\n    y = torch.randn(3)\n"
            "    return y * torch.tensor(0.5, dtype=y.dtype, device=y.device)",
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
        text = self.MESSAGE.format(kind=family, number=_text(number), symbol=symbol, typed=typed)
        self.report(number, text + note, fix=fix)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, _ARITHMETIC):
            return
        self._check(node.left, node.right, node.operator)
        self._check(node.right, node.left, node.operator)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.operator, _ARITHMETIC):
            self._check(node.value, node.target, node.operator)


class PythonScalarArgument(_PythonScalarRule):
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
    VALID = [
        "import mlx.core as mx\ndef f(b: int):\n    return mx.zeros((b, 4))",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.sum(x, axis=-1, keepdims=True)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.sum(x, 0)",
        "import mlx.core as mx\ndef f(x: mx.array, b: int):\n    return x.reshape(b, -1)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.reshape(x, (2, -1))",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.pad(x, [(0, 0), (1, 1)])",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.transpose(x, (0, 2, 1))",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.split(x, 2, axis=1)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.expand_dims(x, 0)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.squeeze(x, 1)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.tile(x, (2, 1))",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.broadcast_to(x, (4, 3))",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.softmax(x, axis=-1)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.random.normal(x.shape, scale=0.02)",
        "import mlx.core as mx\ndef f(x: mx.array, w: mx.array, b: mx.array):\n"
        "    return mx.fast.layer_norm(x, w, b, 1e-5)",
        "import mlx.core as mx\ndef f(x: mx.array, w: mx.array):\n    return mx.fast.rms_norm(x, w, eps=1e-6)",
        "import mlx.core as mx\ndef f(q, k, v):\n    return mx.fast.scaled_dot_product_attention(q, k, v, scale=0.125)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.fast.rope(x, 64, traditional=False, base=10000.0, scale=1.0, offset=0)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.round(x, decimals=2)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.topk(x, 5)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.full(x.shape, 0.5)",
        "import mlx.core as mx\ny = mx.array(0.5, dtype=mx.float16)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.maximum(x, mx.array(0, dtype=x.dtype))",
        "import mlx.nn as nn\nimport mlx.core as mx\nlayer = nn.Linear(128, 256)\nnorm = nn.LayerNorm(64, eps=1e-12)",
        "import torch\nimport torch.nn.functional as F\ndef f(x: torch.Tensor):\n    return F.pad(x, (1, 1), value=0.0)",
        "import torch\ndef f(x: torch.Tensor):\n    return torch.cat([x, x], 1).transpose(0, 1)",
        "import torch\ndef f(x: torch.Tensor):\n    return torch.nn.functional.one_hot(x, num_classes=10)",
        "import torch\ndef f(x: torch.Tensor):\n    return torch.nn.functional.conv1d(x, x, stride=2, padding=1, dilation=1, groups=1)",
        "import torch\nimport torch.nn as nn\nconv = nn.Conv1d(4, 8, kernel_size=3)",
        "import mlx.core as mx\ndef f(mx, x):\n    return mx.maximum(x, 0)",
        "def f(x):\n    return max(x, 0)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    i = x.astype(mx.int32)\n    return mx.maximum(i, 0)",
    ]
    INVALID = [
        Invalid(
            "import mlx.core as mx\ndef f():\n    y = mx.random.normal((3,))\n    return mx.power(y, 3)",
            fixed="import mlx.core as mx\ndef f():\n    y = mx.random.normal((3,))\n"
            "    return mx.power(y, mx.array(3, dtype=y.dtype))",
        ),
        Invalid(
            "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.maximum(x, 0)",
            fixed="import mlx.core as mx\ndef f(x: mx.array):\n    return mx.maximum(x, mx.array(0, dtype=x.dtype))",
            unsafe=True,
        ),
        Invalid(
            "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.where(x > 0, x, 0.0)",
            fixed="import mlx.core as mx\ndef f(x: mx.array):\n"
            "    return mx.where(x > 0, x, mx.array(0.0, dtype=x.dtype))",
            unsafe=True,
        ),
        Invalid(
            "import torch\ndef f():\n    x = torch.zeros(4)\n    return torch.add(x, 2.0)",
            fixed="import torch\ndef f():\n    x = torch.zeros(4)\n"
            "    return torch.add(x, torch.tensor(2.0, dtype=x.dtype, device=x.device))",
        ),
        Invalid(
            "import torch\ndef f(x: torch.Tensor):\n    return x.clamp(min=1e-6)",
            fixed="import torch\ndef f(x: torch.Tensor):\n"
            "    return x.clamp(min=torch.tensor(1e-6, dtype=x.dtype, device=x.device))",
            unsafe=True,
        ),
    ]

    def _exempt(self, keys: list[str], prefixes: bool) -> frozenset:
        """Exempt parameters of a function: its own entries and those of its modules (``mlx.core.random``)."""
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
            if backend not in ("mlx", "torch") or last[:1].isupper() or "._" in qualified:
                return  # layer constructors, private helpers (torch._foreach_add_ takes Python scalars by design)
            if matches_prefix(qualified, self.context.facts.facts.non_array_calls):
                return
            keys = [qualified]
            function = _text(node.func)
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
            text = self.MESSAGE.format(kind=family, number=_text(arg.value), function=function, typed=typed)
            self.report(arg.value, text + note, fix=fix)


def _nearest(arrays: list[int], index: int | None, positional: list[cst.Arg]) -> cst.BaseExpression | None:
    """The positional array argument closest to ``index`` (ties go to the later one: ``where(m, 0.0, x)`` -> x)."""
    if not arrays:
        return None
    if index is None:
        return positional[arrays[-1]].value
    best = min(arrays, key=lambda i: (abs(i - index), -i))
    return positional[best].value
