"""Facts about a Python number next to an array, and the typed backend scalar that replaces it: ``x * 0.5`` ->
``x * mx.array(0.5, dtype=x.dtype)`` (MLX) or ``x * torch.tensor(0.5, dtype=x.dtype, device=x.device)`` (PyTorch).

When is it exact? Both backends treat a Python number as *weakly typed*: it takes the dtype of the array it meets
when their families agree. Measured with mlx 0.32.4 (and torch's documented category rules, which match):

* floating (or complex) array and an int or float number: ``x * 0.5`` has ``x.dtype``; the rewrite with
  ``dtype=x.dtype`` gives the same dtype and the same values (the number is rounded to ``x.dtype`` once either way).
* integer array and an int number: same dtype, same values.
* integer array and a float number: ``int32 * 0.5`` is float32, the rewrite is int32 (truncates 0.5 to 0): NOT exact.
* bool array: ``mask + 1`` is int32, the rewrite stays bool: NOT exact.

``typed_scalar`` only builds the node; ``scalar_replacement`` picks the dtype expression and decides whether the
rewrite is safe: ``dtype=<operand>.dtype`` when the array operand is a plain name/attribute, safe only when the
operand's dtype family is known (``dtype_family``) and compatible as above; otherwise the configured default
(``mx.float32``/``mx.int32``), which is unsafe (it promotes float16/bfloat16 arrays to float32).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from emberlint.api_facts import load_table
from emberlint.arrays import Kind
from emberlint.backends import module_of
from emberlint.fixers.deferred import Deferred
from emberlint.fixers.operators import dotted_expression
from emberlint.fixers.typed_scalar import is_plain_reference, typed_scalar, typed_scalar_text
from emberlint.layout import code_for
from emberlint.syntax import kind, without_parens
from emberlint.walk import subtree

if TYPE_CHECKING:
    from emberlint.context import FileContext



@functools.lru_cache(maxsize=1)
def _facts() -> dict:
    table = load_table("scalar_dtypes")
    families = {name: family for family, names in table["families"].items() for name in names}
    casts = {name: family for family, names in table["cast_methods"].items() for name in names}
    return {
        "families": families,
        "float_results": frozenset(table["float_results"]),
        "casts": casts,
        "dtype_methods": frozenset(table["dtype_argument_methods"]),
    }


_LITERAL_FAMILIES = {"Integer": "int", "Float": "float", "Imaginary": "complex"}
_KIND_FAMILIES = {Kind.INT: "int", Kind.FLOAT: "float", Kind.COMPLEX: "complex", Kind.BOOL: "bool"}


def number_family(value: cst.BaseExpression, context: FileContext) -> str | None:
    """``int``/``float``/``complex``/``bool`` for a Python number expression, else None."""
    if kind(value) == "UnaryOperation" and kind(value.operator) in ("Minus", "Plus"):
        value = value.expression
    literal = _LITERAL_FAMILIES.get(kind(value))
    if literal is not None:
        return literal
    return _KIND_FAMILIES.get(context.infer(value).kind)


def _dtype_name_family(node: cst.BaseExpression, context: FileContext) -> str | None:
    qualified = context.qualified_name(node)
    if qualified is None:
        return None
    return _facts()["families"].get(qualified.rsplit(".", 1)[-1])


def _keyword_dtype(call: cst.Call, context: FileContext) -> str | None | bool:
    """The family of a ``dtype=`` keyword; False when there is none."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "dtype":
            return _dtype_name_family(arg.value, context)
    return False


def dtype_family(node: cst.BaseExpression, context: FileContext, _depth: int = 0) -> str | None:
    """The dtype family (``float``/``complex``/``int``/``bool``) of an array expression when it is known locally.

    Known: ``dtype=`` keywords, ``.astype(mx.float16)``/``.to(torch.int64)``/``.float()``, backend functions with
    a floating result (``rules/scalar_dtypes.yaml``), arithmetic with a known-floating operand, and names whose
    every binding in scope is known and agrees. Parameters and ``self.attr`` are unknown.
    """
    if _depth > 8:
        return None
    facts = _facts()
    if kind(node) == "Call":
        keyword = _keyword_dtype(node, context)
        if keyword is not False:
            return keyword  # type: ignore[return-value]
        qualified = context.qualified_name(node.func)
        if qualified is not None:
            return "float" if qualified in facts["float_results"] else None
        if kind(node.func) == "Attribute" and context.is_array(node.func.value):
            method = node.func.attr.value
            if method in facts["casts"]:
                return facts["casts"][method]
            if method in facts["dtype_methods"] and node.args:
                return _dtype_name_family(node.args[0].value, context)
        return None
    if kind(node) == "BinaryOperation":
        left = dtype_family(node.left, context, _depth + 1) if context.is_array(node.left) else None
        right = dtype_family(node.right, context, _depth + 1) if context.is_array(node.right) else None
        for family in ("complex", "float"):
            if family in (left, right):
                return family
        return None
    if kind(node) == "Name":
        bindings = bindings_of(node.value, context)
        if not bindings:
            return None
        families = set()
        for binding in bindings:
            if not binding.whole_value:
                return None
            if binding.augmented is not None:
                continue
            families.add(dtype_family(binding.value, context, _depth + 1))
        return families.pop() if len(families) == 1 else None
    return None


def bindings_of(name: str, context: FileContext) -> list:
    """The recorded bindings of ``name`` as seen from the current scope (empty for imports and unknown names)."""
    found = context.facts.lookup(name, context.scope)
    if found is None or found[1]:
        return []
    return context.facts.bindings[(id(found[0]), name)]


def powers_keep_kind(value: cst.BaseExpression) -> bool:
    """Whether every ``**`` in ``value`` visibly keeps the inferred number kind: a negative base to a fractional
    power is complex (``(-1) ** 0.5``) and ``int ** int`` is a float for a negative exponent (``2 ** -1``).
    Safe fixes need that certainty (found by tests/test_fix_differential.py)."""
    for node in _powers(value):
        exponent_is_int_literal = kind(node.right) == "Integer"
        base_is_non_negative_literal = kind(node.left) in ("Integer", "Float")
        if not (exponent_is_int_literal or base_is_non_negative_literal and kind(node.right) == "Float"):
            return False
    return True


def _powers(value: cst.BaseExpression) -> list[cst.BinaryOperation]:
    return [node for node in subtree(value) if kind(node) == "BinaryOperation" and kind(node.operator) == "Power"]


def exact_with_operand_dtype(array_family: str | None, number: str | None) -> bool:
    """Does ``dtype=<array>.dtype`` reproduce the weakly typed Python number exactly (see the module docs)?"""
    if array_family in ("float", "complex"):
        return number in ("int", "float") or (array_family == "complex" and number == "complex")
    if array_family == "int":
        return number == "int"
    return False


@dataclass
class TypedScalar:
    """A replacement for one Python number: the new node (built when the fix becomes text), whether it is exact,
    the imports it needs, and its code (what a message shows)."""

    node: Deferred
    safe: bool
    imports: list[str] = field(default_factory=list)
    dtype_text: str = ""
    text: str = ""


def scalar_replacement(
    context: FileContext,
    value: cst.BaseExpression,
    operand: cst.BaseExpression | None,
    backend: str,
) -> TypedScalar:
    """Build the typed scalar for the Python number ``value`` used next to the array ``operand``."""
    ref = context.module_ref(module_of(backend))
    imports = [ref.import_line] if ref.import_line else []
    number = number_family(value, context)
    # the code of the dtype (and device) expressions, and the nodes only when the fix is printed (``Deferred``)
    if operand is not None and is_plain_reference(operand):
        operand_text = code_for(operand, "\n", "")  # what ``<operand>.dtype`` prints before its dot
        dtype_text = f"{operand_text}.dtype"
        device_text = f"{operand_text}.device" if backend == "torch" else None

        def parts() -> tuple[cst.BaseExpression, cst.BaseExpression | None]:
            device = cst.Attribute(value=operand, attr=cst.Name("device")) if backend == "torch" else None
            return cst.Attribute(value=operand, attr=cst.Name("dtype")), device

        safe = exact_with_operand_dtype(dtype_family(operand, context), number) and powers_keep_kind(value)
    else:
        config = context.config
        name = config.default_int_dtype if number == "int" else config.default_float_dtype
        dtype_text, device_text = f"{ref.text}.{name}", None

        def parts() -> tuple[cst.BaseExpression, cst.BaseExpression | None]:
            return dotted_expression(dtype_text), None

        safe = False
    text = typed_scalar_text(code_for(without_parens(value), "\n", ""), ref.text, backend, dtype_text, device_text)
    node = Deferred(lambda: typed_scalar(value, ref.text, backend, *parts()))
    return TypedScalar(node, safe, imports, dtype_text, text)
