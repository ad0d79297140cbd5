"""EL5xx: Python ``math`` and NumPy float math feeding MLX/PyTorch arrays."""

from __future__ import annotations

import libcst as cst
from emberlint.constructor_facts import constructor_table
from emberlint.fixers.float_math import Target, translate
from emberlint.fixers.typed_scalar import is_plain_reference
from emberlint.host_math import contains_host_math, float_math_table
from emberlint.scalar_facts import bindings_of
from emberlint.rules.dtype import array_backend, source

from emberlint.api_facts import matches_prefix
from emberlint.arrays import Kind
from emberlint.rule import Invalid, RawFix, Rule
from emberlint.scope import backend_of

_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power)
BACKEND_MODULE = {"mlx": "mlx.core", "torch": "torch"}


def keyword_value(node: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


class _ArrayUseRule(Rule):
    """Shared plumbing: which expressions are MLX/PyTorch arrays, and the names bound to a kind of value."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.reported: set[int] = set()

    def device_array(self, node: cst.BaseExpression) -> str | None:
        """The backend of an MLX/PyTorch array expression (NumPy arrays and non-arrays: None)."""
        inferred = self.context.infer(node)
        if not inferred.is_array or inferred.backend == "numpy":
            return None
        return inferred.backend or self.context.array_backend()

    def bound_values(self, node: cst.BaseExpression) -> list[cst.BaseExpression]:
        """The expressions a plain name (or ``self.attr``) is bound to, when every binding is a plain assignment."""
        bindings = []
        if isinstance(node, cst.Name):
            bindings = bindings_of(node.value, self.context)
        elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            facts = self.context.facts
            class_scope = facts.class_scope_of(self.context.scope)
            if class_scope is not None:
                bindings = facts.attr_bindings.get((id(class_scope), node.attr.value), [])
        if not bindings or any(
            b.value is None or b.iterated or b.element is not None or b.augmented is not None for b in bindings
        ):
            return []
        return [b.value for b in bindings]

    def operands_beside_arrays(self, node: cst.BinaryOperation):
        """``(operand, the other operand, its backend)`` for each side of arithmetic whose other side is an
        MLX/PyTorch array."""
        if not isinstance(node.operator, _ARITHMETIC):
            return
        for side, other in ((node.left, node.right), (node.right, node.left)):
            backend = self.device_array(other)
            if backend is not None:
                yield side, other, backend

    def report_once(self, node: cst.CSTNode, fix: RawFix | None = None, **fmt) -> None:
        if id(node) not in self.reported:
            self.reported.add(id(node))
            self.report(node, fix=fix, **fmt)


class HostFloatMath(_ArrayUseRule):
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
    VALID = [
        "import math\nimport mlx.core as mx\ndef f(x: mx.array):\n    return mx.reshape(x, (math.ceil(x.shape[0] / 2), -1))",
        "import math\nimport mlx.core as mx\nn_blocks = math.ceil(10 / 4)",
        "import math\nimport mlx.core as mx\ndef f(x: mx.array):\n    return x * mx.sqrt(mx.array(2.0, dtype=x.dtype))",
        "import math\nimport numpy as np\ny = np.ones(3) * math.pi",
        "import math\nimport mlx.core as mx\nok = math.isclose(total, 1.0)",
    ]
    INVALID = [
        Invalid(
            "import math\nimport mlx.core as mx\ndef f(x: mx.array):\n    return x * math.sqrt(2.0)",
            fixed="import math\nimport mlx.core as mx\ndef f(x: mx.array):\n"
            "    return x * mx.sqrt(mx.array(2.0, dtype=x.dtype))",
            unsafe=True,
        ),
        Invalid(
            "import math\nimport mlx.core as core\ndef f(x: core.array):\n    return core.multiply(x, math.sqrt(2 / math.pi))",
            fixed="import math\nimport mlx.core as core\ndef f(x: core.array):\n    return core.multiply(x, "
            "core.sqrt(core.divide(core.array(2, dtype=x.dtype), core.array(math.pi, dtype=x.dtype))))",
            unsafe=True,
        ),
        Invalid(
            "import math\nimport torch as T\ndef f(t: T.Tensor):\n    return t * math.pi",
            fixed="import math\nimport torch as T\ndef f(t: T.Tensor):\n"
            "    return t * T.tensor(math.pi, dtype=t.dtype, device=t.device)",
            unsafe=True,
        ),
        Invalid(
            "import math\nimport mlx.core as mx\nc = mx.array(math.log(10000.0), dtype=mx.float32)",
            fixed="import math\nimport mlx.core as mx\nc = mx.log(mx.array(10000.0, dtype=mx.float32))",
            unsafe=True,
        ),
        Invalid(
            "from math import sqrt\nimport mlx.core as mx\nclass A:\n    def __init__(self, d: int):\n"
            "        self.scale = 1.0 / sqrt(d)\n    def f(self, q: mx.array):\n        return q * self.scale"
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
        bound = self.bound_values(value)
        if bound and all(self._is_host_float(b) for b in bound):
            for binding in bound:
                self._report(binding, backend)

    def _constructor(self, node: cst.Call, entry: dict, positional: list, backend: str) -> None:
        for position, keyword in entry.get("data", []):
            value = keyword_value(node, keyword)
            if value is None and position < len(positional):
                value = positional[position]
            if value is None:
                continue
            elements = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
            for element in elements:
                if not self._is_host_float(element):
                    self._report_bindings(element, backend)
                    continue
                fix = None
                dtype = keyword_value(node, "dtype")
                if element is value and dtype is not None and qualified_scalar(node, entry):
                    fix = self._fix(node, value, backend, dtype, keyword_value(node, "device"))
                self._report(element, backend, fix)

    def _fix(self, old, value, backend, dtype, device) -> RawFix | None:
        ref = self.context.module_ref(BACKEND_MODULE[backend])
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
        self.report_once(node, fix=fix, text=source(node), backend="MLX" if backend == "mlx" else "PyTorch")


def qualified_scalar(node: cst.Call, entry: dict) -> bool:
    """``mx.array(v, dtype=d)`` / ``torch.tensor(v, dtype=d)``: the whole call can become the backend expression."""
    data = entry.get("data", [])
    return (
        len(data) == 1 and data[0][0] == 0
        and all(arg.keyword is None or arg.keyword.value in ("dtype", "device") for arg in node.args[1:])
        and len(node.args) >= 1 and node.args[0].keyword is None and not node.args[0].star
    )


class NumpyInArrayCode(_ArrayUseRule):
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
    VALID = [
        "import numpy as np\nimport mlx.core as mx\ndef load(path):\n    return mx.array(np.load(path), dtype=mx.float32)",
        "import numpy as np\nimport mlx.core as mx\ndef stats(values):\n    return np.mean(values)",
        "import numpy as np\ndef f(x):\n    return np.exp(x)",
        "import numpy as np\nimport mlx.core as mx\nw = np.frombuffer(raw, dtype=np.float32).reshape(4, 4)",
    ]
    INVALID = [
        Invalid(
            "import numpy as np\nimport mlx.core as mx\nimport mlx.nn as nn\nclass M(nn.Module):\n"
            "    def __call__(self, x):\n        return mx.array(np.exp(-np.arange(4)), dtype=mx.float32) * x"
        ),
        Invalid("import numpy as np\nimport torch\ndef f(t: torch.Tensor):\n    return np.sqrt(t)"),
        Invalid(
            "import numpy\nimport mlx.core as core\ndef kernel(h, n):\n    k = numpy.fft.rfft(h, n)\n"
            "    return core.array(k, dtype=core.complex64)"
        ),
        Invalid(
            "import numpy as np\nfrom mlx.core import array\ndef f(x: array):\n    return x * np.sin(np.pi / 8)"
        ),
    ]

    def _numpy_math(self, node: cst.BaseExpression) -> str | None:
        if not isinstance(node, cst.Call):
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
            backend = next((b for b in ("mlx", "torch") if self.context.imports_backend(b)), None)
        return backend

    def _flag(self, node: cst.BaseExpression, backend: str | None) -> None:
        qualified = self._numpy_math(node)
        if qualified is None:
            return
        backend = backend or self._backend_name()
        if backend is None:
            return
        self.report_once(node, name=source(node.func) + "(...)", backend="MLX" if backend == "mlx" else "PyTorch")

    def _flows(self, value: cst.BaseExpression, backend: str | None) -> None:
        """``value`` reaches an MLX/PyTorch array: flag it, or the NumPy calls a name holding it was bound to."""
        if self._numpy_math(value) is not None:
            self._flag(value, backend)
            return
        for bound in self.bound_values(value):
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
            if isinstance(arg.value, (cst.List, cst.Tuple)):
                values += [e.value for e in arg.value.elements]
            for value in values:
                self._flows(value, backend)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        for side, _, backend in self.operands_beside_arrays(node):
            self._flows(side, backend)
