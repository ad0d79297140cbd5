"""EL4xx: explicit dtypes -- constructors without ``dtype=``, casts, untyped constants and list literals."""

from __future__ import annotations

import functools

import libcst as cst
from emberlint.fixers.deferred import Deferred
from emberlint.constructor_facts import (
    argument,
    backend_dtype,
    choose,
    constructor_family,
    constructor_table,
    int_constant,
)
from emberlint.fixers.dtype_kwarg import add_keyword
from emberlint.fixers.typed_scalar import is_plain_reference
from emberlint.scalar_facts import bindings_of, number_family

from emberlint.api_facts import load_table
from emberlint.dtypes import FLOATS, arithmetic_partners, canonical
from emberlint.rule import Invalid, RawFix, Rule
from emberlint.scope import backend_of

_EMPTY = cst.Module([])
_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power)


def source(node: cst.CSTNode) -> str:
    """The code of ``node`` as reported: without grouping parentheses (positions exclude them), tuples keep theirs."""
    if getattr(node, "lpar", None) and not isinstance(node, cst.Tuple):
        node = node.with_changes(lpar=[], rpar=[])
    return _EMPTY.code_for_node(node)


@functools.lru_cache(maxsize=1)
def _dtype_names() -> frozenset[str]:
    families = load_table("scalar_dtypes")["families"]
    return frozenset(name for names in families.values() for name in names)


def is_dtype_expression(node: cst.BaseExpression, context) -> bool:
    """``mx.float32``, ``torch.int64``, ``np.float64``, ``x.dtype``, or a name called ``dtype``."""
    if isinstance(node, cst.Attribute) and node.attr.value == "dtype":
        return True
    if isinstance(node, cst.Name) and node.value in ("dtype", "dt"):
        return True
    qualified = context.qualified_name(node)
    return (
        qualified is not None
        and backend_of(qualified) in ("mlx", "torch", "numpy")
        and qualified.rsplit(".", 1)[-1] in _dtype_names()
    )


def array_backend(qualified: str | None) -> str | None:
    backend = backend_of(qualified)
    return backend if backend in ("mlx", "torch") else None


def is_float_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, cst.Float)


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
    VALID = [
        "import mlx.core as mx\nx = mx.zeros((3,), dtype=mx.float32)",
        "import mlx.core as mx\nx = mx.zeros((3,), mx.float16)",
        "import mlx.core as mx\ny = mx.zeros_like(x)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.array(x)",
        "import mlx.core as mx\nx = mx.arange(0, 10, 1, mx.int32)",
        "import torch\nx = torch.ones_like(y)\nz = torch.full((2,), 0.5, dtype=torch.float32)",
        "import mlx.core as mx\nx = mx.zeros(**options)",
        "import numpy as np\nx = np.zeros(3)",
    ]
    INVALID = [
        Invalid(
            "import mlx.core as mx\nx = mx.array(0.1)",
            fixed="import mlx.core as mx\nx = mx.array(0.1, dtype=mx.float32)",
        ),
        Invalid(
            "from mlx.core import array, zeros\nx = zeros((2, 3))",
            fixed="from mlx.core import array, zeros\nimport mlx.core as mx\nx = zeros((2, 3), dtype=mx.float32)",
        ),
        Invalid(
            "import mlx.core as core\ni = core.arange(10)",
            fixed="import mlx.core as core\ni = core.arange(10, dtype=core.int32)",
        ),
        Invalid(
            "import torch as T\nm = T.tensor([True, False])",
            fixed="import torch as T\nm = T.tensor([True, False], dtype=T.bool)",
        ),
        Invalid(
            "import torch\nn = torch.tensor(3)",
            fixed="import torch\nn = torch.tensor(3, dtype=torch.int32)",
            unsafe=True,
        ),
        Invalid("import mlx.core as mx\ndef load(w):\n    return mx.array(w)"),
        Invalid(
            "import mlx.core as mx\ndef f(x: mx.array, d: int):\n    return x * mx.array(d ** -0.5)",
            fixed="import mlx.core as mx\ndef f(x: mx.array, d: int):\n    return x * mx.array(d ** -0.5, dtype=x.dtype)",
            unsafe=True,
        ),
        Invalid(
            "import mlx.core as mx\ndef f(x: mx.array, d: int):\n    scale = mx.array(d ** -0.5)\n    return (x @ x.T) * scale"
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
        kind = constructor_family(node, entry, self.context)
        picked = "the dtype of its data"
        fix = None
        if kind is not None:
            inferred = backend_dtype(backend, kind)
            if inferred is not None:
                picked = inferred
                if kind.family == "int" and not kind.exact and inferred != "int64":
                    picked = f"{inferred} (int64 when the value does not fit)"
            choice = choose(kind, backend, self.context)
            partners = self._float_scalar_partners(node, kind, qualified)
            if partners:
                choice = None
                direct = isinstance(self.context.parent(), cst.BinaryOperation)  # not through a name: same scope
                if direct and len(partners) == 1 and is_plain_reference(partners[0]):
                    text = f"{source(partners[0])}.dtype"
                    new = Deferred(lambda: add_keyword(node, "dtype", cst.parse_expression(text)))
                    fix = RawFix(safe=False, replacements=[(node, new)], description=f"Add dtype={text}")
            if choice is not None:
                new = Deferred(lambda: add_keyword(node, "dtype", cst.parse_expression(choice.text)))
                fix = RawFix(
                    safe=choice.safe and self._data_proven(node, entry),
                    replacements=[(node, new)],
                    imports=[choice.import_line] if choice.import_line else [],
                    description=f"Add dtype={choice.text}",
                )
        self.report(node, name=source(node.func), picked=picked, fix=fix)

    def _float_scalar_partners(self, node: cst.Call, kind, qualified: str) -> list:
        """The operands a 0-d float MLX constructor meets in arithmetic (then float32 is not a safe fix)."""
        if kind is None or kind.family != "float" or qualified != "mlx.core.array" or not node.args:
            return []
        if isinstance(node.args[0].value, (cst.List, cst.Tuple)):
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
        if isinstance(node, (cst.List, cst.Tuple)):
            return all(not isinstance(e, cst.StarredElement) and self._proven_value(e.value) for e in node.elements)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
            return self._proven_value(node.expression)
        if isinstance(node, (cst.Integer, cst.Float)) or int_constant(node) is not None:
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
    VALID = [
        "import mlx.core as mx\ndef f(x: mx.array, m: mx.array):\n    return m.astype(x.dtype)",
        "import torch\ndef f(t: torch.Tensor):\n    return t.to('cuda')",
        "import torch\ndef f(t: torch.Tensor, d: torch.device):\n    return t.to(d)",
        "import numpy as np\nimport mlx.core as mx\nw = np.load('w.npy').astype(np.float32)",
        "import torch\nvalue = config.float()",
    ]
    INVALID = [
        Invalid("import mlx.core as mx\ny = x.astype(mx.float32)"),
        Invalid("import torch\ndef f(t: torch.Tensor):\n    return t.half()"),
        Invalid("import torch as T\ndef f(t: T.Tensor):\n    return t.to(dtype=T.bfloat16)"),
        Invalid("from mlx.core import float16\nimport mlx.core as core\nh = core.ones((2,), dtype=core.float32).astype(float16)"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        casts = constructor_table()["casts"]
        receiver = self.context.infer(func.value)
        if receiver.backend == "numpy":
            return
        if method in casts["argument"]:
            target = self._target(node)
            if target is None or (isinstance(target, cst.Attribute) and target.attr.value == "dtype"):
                return
            qualified = self.context.qualified_name(target)
            if backend_of(qualified) == "numpy":
                return
            if not receiver.is_array and array_backend(qualified) is None:
                return
            if self._exact_upcast(func.value, qualified.rsplit(".", 1)[-1] if qualified else None):
                return
            self.report(node, target=f"`{source(target)}`", method=method)
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


class UntypedFloatConstant(Rule):
    """A bare float constant bound to a name (``eps = 1e-8``) that is later used as an array operand
    (``x + eps``, ``mx.maximum(x, eps)``).

    Why it matters numerically: the constant has no dtype of its own; it silently takes the dtype of each array
    it meets. ``1e-8`` is 0.0 in float16 (the smallest float16 subnormal is ~6e-8), so ``x / (norm + eps)`` can
    divide by zero in half precision while the same code is fine in float32; in bfloat16, ``1.0 + 1e-3`` is
    ``1.0``. The one definition means different numbers in different call sites, and nothing at the definition
    says so. (Strict profile only: most code keeps such constants as Python floats on purpose.)

    Fix: give the constant the dtype of the data at the use (``mx.array(eps, dtype=x.dtype)``), or define it as
    a typed array when the whole module runs in one dtype. No automatic fix: which dtype is intended is a design
    decision.
    """

    CODE = "EL403"
    NAME = "untyped-float-constant"
    MESSAGE = "Untyped float constant `{name} = {value}` is used as an array operand; give it a dtype"
    SEVERITY = None
    VALID = [
        "import mlx.core as mx\neps = 1e-8\nn = 4 * eps",
        "import mlx.core as mx\ndef f(x: mx.array, eps: float = 1e-5):\n    return x + eps",
        "import mlx.core as mx\nEPS = mx.array(1e-8, dtype=mx.float32)\ndef f(x: mx.array):\n    return x + EPS",
        "import mlx.core as mx\nn = 4\ndef f(x: mx.array):\n    return x * n",
    ]
    INVALID = [
        Invalid("import mlx.core as mx\neps = 1e-8\ndef f(x: mx.array):\n    return x / (x.sum() + eps)"),
        Invalid("import torch\nfloor = -1.0\ndef f(t: torch.Tensor):\n    return torch.maximum(t, floor) * floor"),
    ]

    def __init__(self, context) -> None:
        super().__init__(context)
        self.reported: set[int] = set()

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, _ARITHMETIC):
            return
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(side, cst.Name) and self.context.is_array(other):
                self._check(side)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if array_backend(qualified) is None or qualified in constructor_table()["constructors"]:
            return
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        if not any(self.context.is_array(value) for value in positional):
            return
        for value in positional:
            if isinstance(value, cst.Name):
                self._check(value)

    def _check(self, name: cst.Name) -> None:
        bindings = bindings_of(name.value, self.context)
        if not bindings or any(
            b.value is None or b.iterated or b.element is not None or b.augmented is not None
            or not is_float_literal(b.value)
            for b in bindings
        ):
            return
        for binding in bindings:
            if id(binding.value) not in self.reported:
                self.reported.add(id(binding.value))
                self.report(binding.value, name=name.value, value=source(binding.value))


def numeric_literal(node: cst.BaseExpression) -> tuple[bool, bool]:
    """(is a non-empty list/tuple of numeric literals, contains a float literal)."""
    if not isinstance(node, (cst.List, cst.Tuple)) or not node.elements:
        return False, False
    has_float = False
    for element in node.elements:
        value = element.value
        if isinstance(element, cst.StarredElement):
            return False, False
        if isinstance(value, (cst.List, cst.Tuple)):
            ok, inner_float = numeric_literal(value)
            if not ok:
                return False, False
            has_float = has_float or inner_float
            continue
        if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, (cst.Minus, cst.Plus)):
            value = value.expression
        if isinstance(value, cst.Float):
            has_float = True
        elif not isinstance(value, cst.Integer):
            return False, False
    return True, has_float


class NumericListOperand(Rule):
    """A list or tuple of numbers passed where an array is expected: ``mx.where(m, x, [0.0])``,
    ``mx.concatenate([x, [0.0]])``, ``torch.maximum(t, (0.0, 1.0))``.

    Why it matters numerically: the backend turns the literal into an array with its own inference -- float32 for
    floats, int32 (MLX) or int64 (PyTorch) for ints -- and then promotes: ``mx.concatenate([h, [0.0]])`` with a
    bfloat16 ``h`` returns float32, doubling the memory of everything downstream; ``[0]`` next to a float16
    array gives float16 in MLX but the int64 list next to an int32 array promotes to int64 in PyTorch. A list is
    also rebuilt on the host on every call. (Strict profile only; constructors without dtype are EL401, shapes
    and axes -- lists of ints -- are not reported.)

    Fix: build the array once with an explicit dtype, preferably the dtype of its neighbour:
    ``mx.concatenate([x, mx.array([0.0], dtype=x.dtype)])``.
    """

    CODE = "EL404"
    NAME = "numeric-list-operand"
    MESSAGE = "Numeric literal `{text}` used as an array: build it with an explicit dtype"
    SEVERITY = None
    VALID = [
        "import mlx.core as mx\ny = mx.reshape(x, (1, -1))",
        "import mlx.core as mx\ny = mx.transpose(x, [0, 2, 1])",
        "import mlx.core as mx\ny = mx.array([1.0, 2.0], dtype=mx.float32)",
        "import mlx.core as mx\ny = mx.pad(x, [(0, 0), (1, 1)])",
        "import numpy as np\ny = np.concatenate([a, [0.0]])",
    ]
    INVALID = [
        Invalid("import mlx.core as mx\ndef f(x: mx.array, m: mx.array):\n    return mx.where(m, x, [0.0])"),
        Invalid("import mlx.core as mx\ndef f(x: mx.array):\n    return mx.concatenate([x, [0, 1]])"),
        Invalid("from torch import maximum\ndef f(t):\n    return maximum(t, (0.0, 1.0))"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if array_backend(qualified) is None or qualified in constructor_table()["constructors"]:
            return
        if qualified.endswith("_like"):
            return
        exempt = self.context.config.exempt_parameters().get(qualified, ())
        for arg in node.args:
            if arg.star or (arg.keyword is not None and arg.keyword.value in exempt):
                continue
            value = arg.value
            ok, has_float = numeric_literal(value)
            if ok and has_float:
                self.report(value, text=source(value))
            elif isinstance(value, (cst.List, cst.Tuple)) and any(
                self.context.is_array(element.value) for element in value.elements
            ):
                for element in value.elements:
                    if numeric_literal(element.value)[0]:
                        self.report(element.value, text=source(element.value))
