"""Dtype-aware inference: the exact dtype of an array expression where the code states it, else unknown.

``dtype_of(expr, context)`` returns a canonical dtype name (``float16``, ``bfloat16``, ``float32``, ``float64``,
``int8`` ... ``int64``, ``uint8`` ... ``uint64``, ``bool``) or None (unknown). Known:

* a ``dtype=`` keyword or a positional dtype of a constructor (``mx.zeros(s, mx.float16)``), and ``x.dtype`` as a
  dtype (``mx.array(1e-8, dtype=n.dtype)`` has the dtype of ``n``);
* casts: ``x.astype(D)``, ``t.to(D)``/``t.type(D)``/``x.view(D)``, ``t.half()``/``.float()``/``.bfloat16()``...;
* constructors without a dtype, from their data (``mx.array(0.5)`` is float32, ``mx.arange(n)`` is int32,
  ``torch.tensor(3)`` is int64; ``rules/constructors.yaml``), and ``mx.array(y)`` copies the dtype of ``y``;
* backend functions that keep the dtype of their array argument (``mx.softmax``, ``mx.exp``, ``mx.sum``,
  ``mx.cumsum``, ``mx.fast.rms_norm`` ...: ``SAME_DTYPE``), indexing, ``.T``, unary minus;
* arithmetic: a Python number is weak (``x_f16 * 0.5`` is float16; an int array meeting a Python float is
  float32); two known arrays promote (``float16 * float32`` is float32, ``float16 * bfloat16`` is float32),
  and float32 meeting an array of unknown dtype is taken as float32 (the result is at least float32);
* a name whose every binding in scope has the same known dtype; in straight-line function code
  (``g = proj(x)``; ``g = g.astype(mx.float32)``) the last binding before the use; ``a, b = mx.split(x, ...)``
  elements have the dtype of ``x``.

Everything else -- parameters, ``self.attr``, the result of a model loaded with ``set_dtype(mx.bfloat16)`` -- is
unknown. In a model's compute path an unknown floating array may well be float16/bfloat16 (weights are usually
loaded in half precision): rules treat unknown as "half or unknown" and say "if x is float16" in their message
(``rules/half_precision.py``: on the compute path only, and not in a function that upcasts to float32).
"""

from __future__ import annotations

import functools

import libcst as cst

from emberlint.api_facts import load_table
from emberlint.backends import (
    ARRAY_BACKENDS,
    BACKEND_MODULES,
    MLX_AND_TORCH,
    backend_of,
)
from emberlint.syntax import argument, kind
from emberlint.walk import subtree

HALF = frozenset({"float16", "bfloat16"})
FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

#: dtype attribute spellings -> canonical name (``torch.half`` is float16, ``torch.long`` is int64).
ALIASES = {
    "half": "float16", "float": "float32", "double": "float64", "long": "int64", "int": "int32",
    "short": "int16", "bool_": "bool", "float_": "float64", "cfloat": "complex64", "cdouble": "complex128",
}
CANONICAL = frozenset(FLOATS + INTS + ("bool", "complex64", "complex128"))
#: Array methods that cast to a fixed dtype (PyTorch).
FIXED_CASTS = {"half": "float16", "float": "float32", "double": "float64", "bfloat16": "bfloat16",
               "int": "int32", "long": "int64", "short": "int16", "bool": "bool"}
DTYPE_METHODS = ("astype", "to", "type", "view")
#: Backend functions whose result has the dtype of their first array argument.
SAME_DTYPE = frozenset(
    f"{module}.{name}"
    for module in (BACKEND_MODULES[backend] for backend in MLX_AND_TORCH)
    for name in (
        "softmax", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "sin", "cos", "erf", "abs", "square",
        "negative", "sum", "mean", "cumsum", "cumprod", "max", "min", "logsumexp", "reshape", "transpose",
        "swapaxes", "expand_dims", "squeeze", "concatenate", "stack", "matmul", "maximum", "minimum", "clip",
        "repeat", "tile", "broadcast_to", "flatten", "softplus",
    )
) | frozenset({
    "mlx.core.fast.rms_norm", "mlx.core.fast.layer_norm", "mlx.core.fast.rope",
    "mlx.core.fast.scaled_dot_product_attention", "torch.nn.functional.softmax", "torch.cat",
})

#: Largest finite value and the magnitude below which a value rounds to zero (half the smallest subnormal).
RANGE = {
    "float16": (65504.0, 2.0 ** -25),
    "bfloat16": (3.3895313892515355e38, 2.0 ** -134),
    "float32": (3.4028234663852886e38, 2.0 ** -150),
}
INT_MAX = {"int8": 127, "int16": 32767, "int32": 2**31 - 1, "int64": 2**63 - 1,
           "uint8": 255, "uint16": 65535, "uint32": 2**32 - 1, "uint64": 2**64 - 1}


def canonical(name: str | None) -> str | None:
    if name is None:
        return None
    name = ALIASES.get(name, name)
    return name if name in CANONICAL else None


def is_half(dtype: str | None) -> bool:
    return dtype in HALF


def is_float(dtype: str | None) -> bool:
    return dtype in FLOATS


def is_int(dtype: str | None) -> bool:
    return dtype in INTS


def promote(a: str | None, b: str | None) -> str | None:
    """The result dtype of arithmetic between two arrays of known dtypes (MLX and PyTorch agree on these).
    float32 meeting an array of unknown dtype is taken as float32: the result is at least float32 (float64
    would only widen it), which is what the half-precision rules need to know."""
    if "float32" in (a, b) and None in (a, b):
        return "float32"
    if a is None or b is None:
        return None
    if a == b:
        return a
    if a == "bool":
        return b
    if b == "bool":
        return a
    if is_float(a) and is_float(b):
        if {a, b} == HALF:
            return "float32"
        return max(a, b, key=FLOATS.index)
    if is_float(a) and is_int(b):
        return a
    if is_int(a) and is_float(b):
        return b
    if is_int(a) and is_int(b):
        return max(a, b, key=lambda d: INT_MAX[d])
    return None


def unrepresentable(value: float, dtype: str | None) -> str | None:
    """``"overflow"`` (becomes +-inf) or ``"zero"`` (rounds to 0) when ``value`` cannot be held by ``dtype``."""
    if dtype not in RANGE or value == 0:
        return None
    largest, tiny = RANGE[dtype]
    magnitude = abs(value)
    # Above the largest finite value, a value rounds to inf once it is past the midpoint to the next power step.
    if magnitude >= largest * (1 + 2.0 ** -({"float16": 11, "bfloat16": 8, "float32": 24}[dtype] + 1)):
        return "overflow"
    if magnitude <= tiny:
        return "zero"
    return None


@functools.lru_cache(maxsize=1)
def _constructors() -> dict:
    return load_table("constructors")


def dtype_expression(node: cst.BaseExpression, context, depth: int = 0) -> str | None:
    """The dtype a dtype expression names: ``mx.float16``, ``torch.half``, ``x.dtype``."""
    if kind(node) == "Attribute" and node.attr.value == "dtype":
        return dtype_of(node.value, context, depth + 1)
    qualified = context.qualified_name(node)
    if backend_of(qualified) in ARRAY_BACKENDS:
        return canonical(qualified.rsplit(".", 1)[-1])
    return None


def _first_array(call: cst.Call, context) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            value = arg.value
            if kind(value) in ("List", "Tuple") and value.elements:
                value = value.elements[0].value
            if context.is_array(value):
                return value
    return None


def dtype_of(node: cst.BaseExpression, context, depth: int = 0) -> str | None:
    """The dtype of an array expression when the code states it (see the module docstring), else None.
    Memoized per file (on ``context``) by node and scope."""
    if depth > 10:
        return None
    cache = context.__dict__.setdefault("_dtype_cache", {})
    key = (id(node), id(context.scope))
    if key not in cache:
        cache[key] = None  # a cycle through a name's own binding is unknown
        cache[key] = _dtype_of(node, context, depth)
    return cache[key]


def _dtype_of(node: cst.BaseExpression, context, depth: int) -> str | None:
    if kind(node) == "Call":
        return _call_dtype(node, context, depth)
    if kind(node) == "BinaryOperation":
        return _arithmetic_dtype(node, context, depth)
    if kind(node) == "UnaryOperation":
        return dtype_of(node.expression, context, depth + 1)
    if kind(node) == "Subscript":
        return dtype_of(node.value, context, depth + 1)
    if kind(node) == "Attribute" and node.attr.value in ("T", "mT", "real"):
        return dtype_of(node.value, context, depth + 1) if node.attr.value != "real" else None
    if kind(node) == "Name":
        return _name_dtype(node, context, depth)
    return None


def _name_dtype(node: cst.Name, context, depth: int) -> str | None:
    found = context.facts.lookup(node.value, context.scope)
    if found is None or found[1]:
        return None
    bindings = context.facts.bindings[(id(found[0]), node.value)]
    if len(bindings) > 1 and found[0] is context.scope:
        bindings = _latest_before(bindings, node, context)
    dtypes = set()
    for binding in bindings:
        if binding.element is not None and _splits(binding.value, context):
            dtypes.add(dtype_of(binding.value.args[0].value, context, depth + 1))
            continue
        if not binding.whole_value:
            return None
        if binding.augmented is not None:
            continue
        dtypes.add(dtype_of(binding.value, context, depth + 1))
    return dtypes.pop() if len(dtypes) == 1 else None


def _splits(value, context) -> bool:
    """``a, b = mx.split(x, ...)``: every element has the dtype of ``x``."""
    return kind(value) == "Call" and bool(value.args) and context.qualified_name(value.func) in (
        "mlx.core.split", "torch.split", "torch.chunk")


def _latest_before(bindings: list, use: cst.CSTNode, context) -> list:
    """Of a function's straight-line rebindings (``g = proj(x)``; ``g = g.astype(mx.float32)``), the last one on
    a line before the use; all of them when any binding is in a loop or branch (where order does not tell)."""
    line = context.line_of(use)
    before = []
    for binding in bindings:
        if binding.value is None:
            return bindings
        node = binding.value
        while node is not None and kind(node) not in ("SimpleStatementLine", "FunctionDef"):
            node = context.parent_of(node)
        block = context.parent_of(node) if node is not None else None
        if kind(block) != "IndentedBlock" or kind(context.parent_of(block)) != "FunctionDef":
            return bindings  # not a top-level statement of the function body
        start = context.line_of(binding.value)
        if start < line:
            before.append((start, binding))
    return [max(before, key=lambda b: b[0])[1]] if before else bindings


def _python_number(node: cst.BaseExpression, context) -> str | None:
    if kind(node) == "UnaryOperation" and kind(node.operator) in ("Minus", "Plus"):
        node = node.expression
    if kind(node) == "Integer":
        return "int"
    if kind(node) == "Float":
        return "float"
    return {"INT": "int", "FLOAT": "float"}.get(context.infer(node).kind.name)


def _arithmetic_dtype(node: cst.BinaryOperation, context, depth: int) -> str | None:
    if kind(node.operator) == "MatrixMultiply":
        return promote(dtype_of(node.left, context, depth + 1), dtype_of(node.right, context, depth + 1))
    sides = []
    for side, other in ((node.left, node.right), (node.right, node.left)):
        number = _python_number(side, context)
        if number is not None:
            array = dtype_of(other, context, depth + 1)
            if number == "float" and (is_int(array) or array == "bool"):
                return "float32"
            if kind(node.operator) == "Divide" and (is_int(array) or array == "bool"):
                return "float32"
            return array
        sides.append(dtype_of(side, context, depth + 1))
    result = promote(*sides)
    if kind(node.operator) == "Divide" and (is_int(result) or result == "bool"):
        return "float32"
    return result


def _call_dtype(node: cst.Call, context, depth: int) -> str | None:
    keyword = argument(node, None, "dtype")
    qualified = context.qualified_name(node.func)
    if keyword is not None:
        return dtype_expression(keyword, context, depth)
    if qualified is not None:
        entry = _constructors()["constructors"].get(qualified)
        if entry is not None:
            return _constructor_dtype(node, qualified, entry, context, depth)
        if qualified in SAME_DTYPE:
            first = _first_array(node, context)
            return dtype_of(first, context, depth + 1) if first is not None else None
        return None
    func = node.func
    if kind(func) != "Attribute":
        return None
    method = func.attr.value
    if method in FIXED_CASTS and not node.args and context.is_array(func.value):
        return FIXED_CASTS[method]
    if method in DTYPE_METHODS and node.args:
        for arg in node.args:
            if arg.keyword is None and not arg.star:
                named = dtype_expression(arg.value, context, depth)
                if named is not None:
                    return named
        if method == "to":  # .to(device) keeps the dtype
            return dtype_of(func.value, context, depth + 1) if context.is_array(func.value) else None
        return None
    if method in {q.rsplit(".", 1)[-1] for q in SAME_DTYPE} and context.is_array(func.value):
        return dtype_of(func.value, context, depth + 1)
    return None


def _constructor_dtype(node: cst.Call, qualified: str, entry: dict, context, depth: int) -> str | None:
    positional = [a for a in node.args if a.keyword is None and not a.star]
    position = entry.get("position")
    if position is not None and len(positional) > position:
        return dtype_expression(positional[position].value, context, depth)
    from emberlint.constructor_facts import backend_dtype, constructor_family

    data = entry.get("data", [])
    if len(data) == 1:
        index, keyword = data[0]
        value = positional[index].value if len(positional) > index else argument(node, None, keyword)
        if value is not None and context.is_array(value):
            return dtype_of(value, context, depth + 1)
    family = constructor_family(node, entry, context)
    backend = "torch" if qualified.startswith("torch") else "mlx"
    return canonical(backend_dtype(backend, family)) if family is not None else None


def python_float(node: cst.BaseExpression, context=None) -> float | None:
    """The value of a float literal (``1e-8``, ``-1e9``, ``-float("inf")`` excluded), or of a name bound only to
    one such literal in scope; else None."""
    sign = 1.0
    if kind(node) == "UnaryOperation" and kind(node.operator) in ("Minus", "Plus"):
        sign = -1.0 if kind(node.operator) == "Minus" else 1.0
        node = node.expression
    if kind(node) == "Float":
        try:
            return sign * float(node.value.replace("_", ""))
        except ValueError:
            return None
    if kind(node) == "Name" and context is not None:
        found = context.facts.lookup(node.value, context.scope)
        if found is None or found[1]:
            return None
        bindings = context.facts.bindings[(id(found[0]), node.value)]
        values = {python_float(b.value) for b in bindings if b.assignment}
        if len(values) == 1 and len(bindings) == 1:
            value = values.pop()
            return None if value is None else sign * value
    return None


def float32_scalar(node: cst.BaseExpression, context) -> bool:
    """An MLX 0-d float32 array built from a Python float: ``mx.array(d ** -0.5)`` (an untyped Python float is
    float32) or ``mx.array(s, dtype=mx.float32)``; a name or ``self.attr`` bound only to one counts too."""
    if kind(node) == "Call":
        if context.qualified_name(node.func) != "mlx.core.array" or not node.args or node.args[0].keyword:
            return False
        data = node.args[0].value
        if kind(data) in ("List", "Tuple") or context.is_array(data):
            return False
        from emberlint.scalar_facts import number_family

        if number_family(data, context) != "float" and not _float_expression(data):
            return False
        keyword = argument(node, None, "dtype")
        if keyword is None and len(node.args) > 1 and node.args[1].keyword is None:
            keyword = node.args[1].value
        return keyword is None or dtype_expression(keyword, context) == "float32"
    values = bound_values(node, context)
    return bool(values) and all(kind(v) == "Call" and float32_scalar(v, context) for v in values)


def _float_expression(node: cst.BaseExpression) -> bool:
    """Arithmetic on Python numbers with a float in it (``d ** -0.5``, ``1.0 / d``)."""
    return any(kind(n) == "Float" for n in subtree(node)) and not any(
        kind(n) in ("Call", "Subscript") for n in subtree(node))


def bound_values(node: cst.BaseExpression, context) -> list[cst.BaseExpression]:
    """What a name (or ``self.attr``) is bound to, when every binding is one plain assignment."""
    bindings = []
    if kind(node) == "Name":
        found = context.facts.lookup(node.value, context.scope)
        if found is not None and not found[1]:
            bindings = context.facts.bindings[(id(found[0]), node.value)]
    elif kind(node) == "Attribute" and kind(node.value) == "Name" and node.value.value == "self":
        class_scope = context.facts.class_scope_of(context.scope)
        if class_scope is not None:
            bindings = context.facts.attr_bindings.get((id(class_scope), node.attr.value), [])
    if not bindings or not all(b.assignment for b in bindings):
        return []
    return [b.value for b in bindings]


def arithmetic_partners(node: cst.CSTNode, context) -> list[cst.BaseExpression]:
    """The other operands ``node`` (a constructor call being visited) meets in arithmetic: directly
    (``x * mx.array(0.5)``), or through the one name or ``self.attr`` it is assigned to, in the same function
    (or class)."""
    parent = context.parent_of(node)
    if kind(parent) == "BinaryOperation":
        return [parent.right if parent.left is node else parent.left]
    if kind(parent) != "Assign" or len(parent.targets) != 1:
        return []
    target = parent.targets[0].target
    region: cst.CSTNode | None = context.scope.node
    if kind(target) == "Attribute" and kind(target.value) == "Name" and target.value.value == "self":
        class_scope = context.facts.class_scope_of(context.scope)
        region = class_scope.node if class_scope is not None else None
        key = ("self", target.attr.value)
    elif kind(target) == "Name":
        key = (target.value, None)
    else:
        return []
    if region is None:
        return []

    def same(expr) -> bool:
        if key[1] is None:
            return kind(expr) == "Name" and expr.value == key[0]
        return (kind(expr) == "Attribute" and expr.attr.value == key[1]
                and kind(expr.value) == "Name" and expr.value.value == "self")

    partners = []
    for inner in subtree(region):
        if kind(inner) == "BinaryOperation":
            if same(inner.left):
                partners.append(inner.right)
            elif same(inner.right):
                partners.append(inner.left)
    return partners
