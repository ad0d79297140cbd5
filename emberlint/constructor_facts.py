"""Which ``dtype=`` an array constructor was silently using: ``mx.array(0.1)`` -> ``mx.array(0.1, dtype=mx.float32)``.

Which dtype: the *family* of the data decides (a float literal or a float default -> the configured default float
dtype, an int literal -> the configured default int dtype, a bool -> bool); ``rules/constructors.yaml`` says which
constructors look at their data and which have a fixed default family.

When is it safe? Only when the added dtype is exactly what the backend would have picked (then the program computes
the same values bit for bit; ``tests/test_dtype.py`` checks this against MLX). Measured with mlx 0.32.4: a Python
float becomes float32, an int int32 (int64 beyond int32), a bool bool. PyTorch picks ``torch.get_default_dtype()``
(float32) for floats and **int64** for ints, so adding the default int32 to ``torch.tensor(3)`` is unsafe.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from emberlint.api_facts import load_table
from emberlint.arrays import Kind
from emberlint.syntax import kind

if TYPE_CHECKING:
    from emberlint.context import FileContext

_ORDER = ("bool", "int", "float")


@functools.lru_cache(maxsize=1)
def constructor_table() -> dict:
    return load_table("constructors")


@dataclass(frozen=True)
class DataKind:
    """The dtype family of constructor data and whether it was read off literals (``exact``: every int known)."""

    family: str  # "bool" | "int" | "float"
    ints: tuple[int, ...] = ()  # the int literals seen, to check they fit the dtype
    exact: bool = True


def _combine(kinds: list[DataKind]) -> DataKind | None:
    if not kinds:
        return None
    family = max((k.family for k in kinds), key=_ORDER.index)
    ints = tuple(i for k in kinds for i in k.ints)
    return DataKind(family, ints, all(k.exact for k in kinds))


_FOLD = {  # by the operator node's class name: LibCST's and the light tree's (emberlint.light) alike
    "Add": lambda a, b: a + b,
    "Subtract": lambda a, b: a - b,
    "Multiply": lambda a, b: a * b,
    "FloorDivide": lambda a, b: a // b if b else None,
    "Power": lambda a, b: a**b if 0 <= b <= 128 else None,
    "LeftShift": lambda a, b: a << b if 0 <= b <= 128 else None,
}


def int_constant(node: cst.BaseExpression) -> int | None:
    """The value of an int literal or of literal int arithmetic (``2**40``, ``-(1 << 31)``); None otherwise."""
    if kind(node) == "Integer":
        return int(node.evaluated_value)
    if kind(node) == "UnaryOperation" and kind(node.operator) in ("Minus", "Plus"):
        value = int_constant(node.expression)
        return None if value is None else (-value if kind(node.operator) == "Minus" else value)
    if kind(node) == "BinaryOperation" and type(node.operator).__name__ in _FOLD:
        left, right = int_constant(node.left), int_constant(node.right)
        if left is None or right is None:
            return None
        return _FOLD[type(node.operator).__name__](left, right)
    return None


def data_kind(node: cst.BaseExpression, context: FileContext) -> DataKind | None:
    """The family of a constructor's data: literals, (nested) lists/tuples of them, or names of Python numbers.

    None when it cannot be known locally (an array, a NumPy value, a complex number, an unknown expression).
    """
    if kind(node) == "UnaryOperation" and kind(node.operator) in ("Minus", "Plus"):
        inner = data_kind(node.expression, context)
        if inner is not None and kind(node.operator) == "Minus":
            return DataKind(inner.family, tuple(-i for i in inner.ints), inner.exact)
        return inner
    folded = int_constant(node)
    if folded is not None:
        return DataKind("int", (folded,))
    if kind(node) == "Float":
        return DataKind("float")
    if kind(node) == "Name" and node.value in ("True", "False"):
        return DataKind("bool")
    if kind(node) in ("List", "Tuple"):
        if not node.elements:
            return DataKind("float")  # mx.array([]) and torch.tensor([]) are float32
        parts = []
        for element in node.elements:
            if kind(element) == "StarredElement":
                return None
            part = data_kind(element.value, context)
            if part is None:
                return None
            parts.append(part)
        return _combine(parts)
    inferred = context.infer(node).kind
    if inferred is Kind.FLOAT:
        return DataKind("float")
    if inferred is Kind.BOOL:
        return DataKind("bool")
    if inferred is Kind.INT:
        return DataKind("int", exact=False)  # a Python int of unknown size: int64 when it does not fit int32
    return None


def argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    """The argument at ``position`` or named ``keyword`` (None when absent)."""
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return positional[position].value if position < len(positional) else None


def constructor_family(call: cst.Call, entry: dict, context: FileContext) -> DataKind | None:
    """The dtype family the constructor ``call`` produces without ``dtype=`` (None: it follows unknown data)."""
    if "default" in entry:
        return DataKind(entry["default"])
    kinds = []
    for position, keyword in entry.get("data", []):
        value = argument(call, position, keyword)
        if value is None:
            continue
        kind = data_kind(value, context)
        if kind is None:
            return None
        kinds.append(kind)
    return _combine(kinds)


def backend_dtype(backend: str, kind: DataKind) -> str | None:
    """The dtype the backend itself infers for data of this kind (None when it depends on the program)."""
    facts = constructor_table()["backends"][backend]
    low, high = facts["int_range"]
    if kind.family == "int" and kind.exact and not all(low <= i <= high for i in kind.ints):
        return "int64" if backend == "mlx" else None
    return facts["python_scalars"][kind.family]


def chosen_dtype(kind: DataKind, context: FileContext) -> str:
    config = context.config
    if kind.family == "float":
        return config.default_float_dtype
    if kind.family == "int":
        return config.default_int_dtype
    return "bool"


def _fits(dtype: str, ints: tuple[int, ...]) -> bool:
    if not dtype.startswith(("int", "uint")):
        return True
    bits = int(dtype.lstrip("uint"))
    low, high = (0, 2**bits - 1) if dtype.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return all(low <= i <= high for i in ints)


@dataclass(frozen=True)
class DtypeChoice:
    dtype: str  # family-level dtype name, e.g. "float32", "bool"
    text: str  # as written in the file, e.g. "mx.float32", "torch.bool"
    safe: bool
    import_line: str | None


def choose(kind: DataKind, backend: str, context: FileContext) -> DtypeChoice | None:
    """The ``dtype=`` to add for data of ``kind``; None when no dtype can hold the literals."""
    facts = constructor_table()["backends"][backend]
    dtype = chosen_dtype(kind, context)
    if not _fits(dtype, kind.ints):
        return None
    ref = context.module_ref(facts["module"])
    name = facts["dtype_names"].get(dtype, dtype)
    inferred = backend_dtype(backend, kind)
    safe = inferred == dtype and (kind.exact or kind.family != "int")
    return DtypeChoice(dtype, f"{ref.text}.{name}", safe, ref.import_line)
