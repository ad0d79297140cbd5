"""Local array inference: which expressions are arrays, Python ints, Python floats.

The rules, in order of the expression's form:

* literals: ``1`` is a Python int, ``0.5`` a Python float, ``True`` a bool, strings and containers are other values.
* imported names are other values, except the float constants of ``math``/``numpy`` (``from math import pi``).
* ``Name``: the merge of every binding of the name in its scope (flow-insensitive): assignments, annotated
  assignments, augmented assignments, loop targets (``for i in range(..)`` gives ints), parameters (annotation
  ``mx.array``/``torch.Tensor``, also with ``| None``/``Optional`` — but ``Tensor | float`` is unknown —, or a
  numeric default; every parameter but ``self`` of ``__call__``/``forward`` of an ``nn.Module`` subclass is an
  array). An array binding wins over the others.
* ``self.attr``: the merge of the ``self.attr = ...`` assignments in the methods of the enclosing class.
* calls: a backend function (``mx.*``, ``torch.*``, ``F.*``, ``np.*``) returns an array unless the API table says
  otherwise; an upper-case ``nn`` name constructs a layer, and calling a layer returns an array; methods of arrays
  return arrays except those in the table (``.item()``, ``.tolist()``, ``.size()``...); ``math.*`` gives Python floats
  (``floor``/``ceil``... ints); ``len``/``int`` ints; local functions are arrays when annotated so or when every
  ``return`` is an array.
* ``x.shape`` is a shape, ``x.shape[i]``, ``x.ndim``, ``x.size`` are Python ints; ``x.T``, ``x.real`` are arrays.
* arithmetic, comparisons and subscripts involving an array are arrays; int op int is an int (``/`` a float).

Every fact has a strength (``Inferred.proven``). *Proven*: read off dataflow that fixes the value's type: a literal,
a backend constructor or operation, a method or attribute of a proven array, a backend layer's call, ``len``/
``int``/``float``/``range``, and arithmetic whose every operand is proven. *Assumed*: a parameter (of
``__call__``/``forward``, annotated, or with a numeric default), an annotation (also a return annotation), a name
or attribute whose bindings disagree or include an unknown value (``mask = None`` then ``mask = mx.ones(..)``),
an operation with an assumed or unknown operand, the call of a local layer whose ``__call__`` is not proven to
return an array. Assumed facts still give findings; only proven facts make a fix safe. ``x.shape``/``x.ndim`` of
an assumed array are proven ints: every array type's shape holds ints, and a value without the attribute raises
before the rewritten code runs. Backend functions that return several arrays (``mx.split``, ``torch.topk``) are
``ARRAYS``: their elements are arrays, the sequence is not one.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field, replace

import libcst as cst

from emberlint.api_facts import load_table, matches_prefix
from emberlint.backends import ARRAY_BACKENDS, backend_of
from emberlint.scope import SCOPE_KINDS, Scope
from emberlint.syntax import dotted_name, kind
from emberlint.walk import FastVisitor, walk_kinds


class Kind(enum.Enum):
    ARRAY = "array"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    COMPLEX = "complex"
    SHAPE = "shape"
    LAYER = "layer"
    ARRAYS = "arrays"  # a tuple or list of arrays (``mx.split``): its elements are arrays
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def is_python_number(self) -> bool:
        return self in (Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.COMPLEX)


@dataclass(frozen=True)
class Inferred:
    kind: Kind
    backend: str | None = None
    #: True: proven by dataflow; False: assumed (a parameter, an annotation, a guess). Only proven facts make a
    #: fix safe (see the module docstring).
    proven: bool = True
    #: For layers: what constructed it (a backend class's qualified name or the local ``ClassDef``), else None.
    origin: object = field(default=None, compare=False)

    @property
    def is_array(self) -> bool:
        return self.kind is Kind.ARRAY

    def assumed(self) -> Inferred:
        return replace(self, proven=False) if self.proven else self

    def weakened(self, proven: bool) -> Inferred:
        """This fact, assumed unless ``proven`` (and it was proven itself)."""
        return self if proven or not self.proven else replace(self, proven=False)


UNKNOWN = Inferred(Kind.UNKNOWN)
OTHER = Inferred(Kind.OTHER)
INT = Inferred(Kind.INT)
FLOAT = Inferred(Kind.FLOAT)
BOOL = Inferred(Kind.BOOL)
COMPLEX = Inferred(Kind.COMPLEX)
SHAPE = Inferred(Kind.SHAPE)
LAYER = Inferred(Kind.LAYER)

_NUMBER_ORDER = [Kind.BOOL, Kind.INT, Kind.FLOAT, Kind.COMPLEX]


@dataclass(frozen=True)
class _Facts:
    int_attributes: frozenset[str]
    shape_attributes: frozenset[str]
    other_attributes: frozenset[str]
    array_attributes: frozenset[str]
    python_value_methods: dict
    non_array_calls: frozenset[str]
    array_classes: frozenset[str]
    float_constants: frozenset[str]
    math_int: frozenset[str]
    math_bool: frozenset[str]
    builtins: dict
    array_annotations: frozenset[str]
    module_bases: frozenset[str]
    module_methods: frozenset[str]
    sequence_calls: frozenset[str]
    ambiguous_calls: frozenset[str]
    layers_not_returning_arrays: frozenset[str]


@functools.lru_cache(maxsize=1)
def api_facts() -> _Facts:
    t = load_table("api_facts")
    return _Facts(
        int_attributes=frozenset(t["int_attributes"]),
        shape_attributes=frozenset(t["shape_attributes"]),
        other_attributes=frozenset(t["other_attributes"]),
        array_attributes=frozenset(t["array_attributes"]),
        python_value_methods=dict(t["python_value_methods"]),
        non_array_calls=frozenset(t["non_array_calls"]),
        array_classes=frozenset(t["array_classes"]),
        float_constants=frozenset(t["python_float_constants"]),
        math_int=frozenset(t["math_int_functions"]),
        math_bool=frozenset(t["math_bool_functions"]),
        builtins=dict(t["builtin_results"]),
        array_annotations=frozenset(t["array_annotations"]),
        module_bases=frozenset(t["module_bases"]),
        module_methods=frozenset(t["module_methods"]),
        sequence_calls=frozenset(t["sequence_calls"]),
        ambiguous_calls=frozenset(t["ambiguous_calls"]),
        layers_not_returning_arrays=frozenset(t["layers_not_returning_arrays"]),
    )


_KIND_WORDS = {
    "int": INT,
    "float": FLOAT,
    "bool": BOOL,
    "complex": COMPLEX,
    "shape": SHAPE,
    "other": OTHER,
    "unknown": UNKNOWN,
    "scalar": Inferred(Kind.FLOAT, proven=False),  # ``.item()``: an int for an integer array
    "arrays": Inferred(Kind.ARRAYS),
}


def merge(values: list[Inferred]) -> Inferred:
    """Flow-insensitive merge of the values a name may hold; an array anywhere makes it an array.

    The result is proven only when every value is known, proven and of the same kind (a name bound to an array
    and to ``None`` is assumed to be an array)."""
    known = [v for v in values if v.kind is not Kind.UNKNOWN]
    if not known:
        return UNKNOWN
    proven = len(known) == len(values) and all(v.proven for v in known) and len({v.kind for v in known}) == 1
    for value in known:
        if value.is_array:
            if proven and len({v.backend for v in known}) > 1:
                return Inferred(Kind.ARRAY, None, proven=False)
            return value.weakened(proven)
    kinds = {v.kind for v in known}
    if len(kinds) == 1:
        if kinds == {Kind.LAYER} and len({id(v.origin) for v in known}) > 1:
            return Inferred(Kind.LAYER, None, proven=proven)
        return known[0].weakened(proven)
    if kinds <= set(_NUMBER_ORDER):
        return Inferred(max(kinds, key=_NUMBER_ORDER.index), proven=False)
    numbers = kinds & set(_NUMBER_ORDER)
    if numbers and kinds - numbers == {Kind.OTHER}:
        # ``eps = None`` then ``eps = 1e-5``: a Python number when it is used in arithmetic.
        return Inferred(max(numbers, key=_NUMBER_ORDER.index), proven=False)
    return UNKNOWN


def _number_result(op: cst.BaseBinaryOp, left: Kind, right: Kind) -> Inferred:
    if kind(op) in ("Divide", "DivideAssign"):
        return COMPLEX if Kind.COMPLEX in (left, right) else FLOAT
    number = max((left, right), key=_NUMBER_ORDER.index)
    if number is Kind.BOOL and kind(op) not in ("BitAnd", "BitOr", "BitXor"):
        number = Kind.INT
    return Inferred(number)


def _proven_operands(values: list[Inferred]) -> bool:
    """Every operand proven, each an array or a Python number, the arrays of one backend."""
    backends = {v.backend for v in values if v.is_array}
    return len(backends) == 1 and all(v.proven and (v.is_array or v.kind.is_python_number) for v in values)


def _exponent_keeps_int(node: cst.BinaryOperation) -> bool:
    """``n ** 2`` stays an int; ``2 ** k`` is a float when ``k`` is negative."""
    return kind(node.operator) != "Power" or kind(node.right) == "Integer"


@dataclass
class _Binding:
    scope: Scope
    value: cst.CSTNode | None  # expression assigned, or None when ``inferred`` is fixed
    inferred: Inferred | None = None
    element: int | None = None  # index into a tuple target, -1 for "some element"
    iterated: bool = False  # a for-loop target over ``value``
    augmented: cst.BaseAugOp | None = None
    declared: Inferred | None = None  # an annotated assignment's annotation (used when the value is unknown)

    @property
    def whole_value(self) -> bool:
        """``value`` is the whole expression bound: not a parameter, a loop target or one element of a tuple."""
        return self.value is not None and not self.iterated and self.element is None

    @property
    def assignment(self) -> bool:
        """A plain ``name = value`` (the whole value, not an augmented assignment)."""
        return self.whole_value and self.augmented is None


class ArrayFacts:
    """Answers ``infer(expr, scope)`` for one module. Built once per file by ``collect_facts``."""

    def __init__(self, scopes: dict[cst.CSTNode, Scope]) -> None:
        self.scopes = scopes
        self.bindings: dict[tuple[int, str], list[_Binding]] = {}
        self.attr_bindings: dict[tuple[int, str], list[_Binding]] = {}  # (class scope id, attr)
        self.functions: dict[tuple[int, str], cst.FunctionDef] = {}  # (scope id, name) -> def
        self.returns: dict[cst.FunctionDef, list[cst.BaseExpression]] = {}
        self.function_scope: dict[cst.FunctionDef, Scope] = {}
        self.module_classes: dict[tuple[int, str], cst.ClassDef] = {}
        self._memo: dict[tuple[int, str], Inferred] = {}
        self._active: set[tuple] = set()
        self._expressions: dict[tuple[int, int], Inferred] = {}
        self._cycles = 0  # cycles cut so far (an answer computed across a cut is not memoized)
        self._lookups: dict[tuple[str, int], tuple[Scope, bool] | None] | None = None
        self.facts = api_facts()

    # --- queries -------------------------------------------------------------------------------------------
    def infer(self, node: cst.CSTNode, scope: Scope) -> Inferred:
        """Memoized per (expression, scope) unless a cycle was cut while computing it (then the answer depends
        on where the question started, as before memoization)."""
        memo_key = (id(node), id(scope))
        found = self._expressions.get(memo_key)
        if found is not None:
            return found
        key = ("expr", id(node), id(scope))
        if key in self._active:
            self._cycles += 1
            return UNKNOWN
        self._active.add(key)
        cycles = self._cycles
        try:
            result = self._infer(node, scope)
        finally:
            self._active.discard(key)
        if cycles == self._cycles:
            self._expressions[memo_key] = result
        return result

    def is_array(self, node: cst.CSTNode, scope: Scope) -> bool:
        return self.infer(node, scope).is_array

    def lookup(self, name: str, scope: Scope) -> tuple[Scope, bool] | None:
        """The scope that binds a bare name as seen from ``scope`` and whether it is an import; None: unbound.
        Kept per (name, scope) once the bindings are all collected (``seal``)."""
        key = (name, id(scope))
        known = self._lookups
        if known is not None and key in known:
            return known[key]
        found = None
        for current in scope.visible(name):
            if name in current.imports:
                found = current, True
                break
            if (id(current), name) in self.bindings:
                found = current, False
                break
        if known is not None:
            known[key] = found
        return found

    def seal(self) -> None:
        """Every binding is collected: ``lookup`` may keep its answers."""
        self._lookups = {}

    def name_value(self, name: str, scope: Scope) -> Inferred:
        """What a bare name holds in ``scope`` (walking out through enclosing scopes)."""
        found = self.lookup(name, scope)
        if found is not None:
            current, imported = found
            if imported:
                # ``from math import pi``: a Python float like ``math.pi``; other imports are modules/functions.
                return FLOAT if current.imports[name] in self.facts.float_constants else OTHER
            key = (id(current), name)
            return self._memoized(key, self.bindings[key])
        if name in ("True", "False"):
            return BOOL
        if name == "None":
            return OTHER
        return UNKNOWN

    def class_scope_of(self, scope: Scope) -> Scope | None:
        """The class whose method ``scope`` is (for ``self.attr``)."""
        current: Scope | None = scope
        while current is not None and current.kind != "function":
            current = current.parent
        if current is None or current.parent is None or current.parent.kind != "class":
            return None
        return current.parent

    def is_module_class(self, class_scope: Scope) -> bool:
        node = class_scope.node
        assert kind(node) == "ClassDef"
        return self._class_is_module(node, class_scope.parent or class_scope, set())

    # --- inference -----------------------------------------------------------------------------------------
    def _memoized(self, key: tuple, bindings: list[_Binding]) -> Inferred:
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            self._cycles += 1
            return UNKNOWN
        self._active.add(key)
        try:
            result = self._merge_bindings(bindings)
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _merge_bindings(self, bindings: list[_Binding]) -> Inferred:
        """The merge of the plain bindings, then what augmented assignments do to it: ``h += 1`` keeps an array an
        array, ``n /= 2`` makes an int a float, ``n += x`` with an array ``x`` makes it an array."""
        plain = [b for b in bindings if b.augmented is None]
        result = merge([self._binding_value(b) for b in plain]) if plain else UNKNOWN
        for binding in bindings:
            if binding.augmented is None:
                continue
            assert binding.value is not None
            value = self.infer(binding.value, binding.scope)
            if value.is_array:
                if not result.is_array:
                    result = value.assumed() if plain else UNKNOWN
                else:
                    result = result.weakened(value.proven and value.backend == result.backend)
            elif value.kind.is_python_number and result.kind.is_python_number:
                promoted = _number_result(binding.augmented, result.kind, value.kind)
                result = promoted.weakened(result.proven and value.proven)
            elif value.kind is Kind.UNKNOWN:
                result = result.assumed()
        return result

    def _binding_value(self, binding: _Binding) -> Inferred:
        if binding.inferred is not None:
            return binding.inferred
        assert binding.value is not None
        value = self.infer(binding.value, binding.scope)
        if binding.iterated:
            return self._element_of_iteration(binding.value, value, binding.scope)
        if binding.element is not None:
            return self._element_of(binding.value, value, binding.element, binding.scope)
        if value.kind is Kind.UNKNOWN and binding.declared is not None:
            return binding.declared
        return value

    def _element_of(self, node: cst.CSTNode, value: Inferred, index: int, scope: Scope) -> Inferred:
        if kind(node) in ("Tuple", "List") and index >= 0 and index < len(node.elements):
            element = node.elements[index]
            if kind(element) != "StarredElement":
                return self.infer(element.value, scope)
        return self._element(value)

    @staticmethod
    def _element(value: Inferred) -> Inferred:
        """An element of ``value`` (by unpacking, iteration or an integer subscript)."""
        if value.is_array:
            return value
        if value.kind is Kind.ARRAYS:
            return Inferred(Kind.ARRAY, value.backend, proven=value.proven)
        if value.kind is Kind.SHAPE:
            return INT.weakened(value.proven)
        return UNKNOWN

    def _element_of_iteration(self, node: cst.CSTNode, value: Inferred, scope: Scope) -> Inferred:
        if kind(node) == "Call" and kind(node.func) == "Name" and node.func.value == "range":
            if scope.resolve("range") is None:
                return INT
        return self._element(value)

    def _infer(self, node: cst.CSTNode, scope: Scope) -> Inferred:
        # by the node type's name: the light tree's classes bear LibCST's names, and an ``isinstance`` test
        # against a LibCST class goes through ``ABCMeta`` (this is the hottest function of a lint)
        kind = type(node).__name__
        constant = _CONSTANT_KINDS.get(kind)
        if constant is not None:
            return constant
        method = _INFER_BY_KIND.get(kind)
        return method(self, node, scope) if method is not None else UNKNOWN

    def _infer_name(self, node: cst.Name, scope: Scope) -> Inferred:
        return self.name_value(node.value, scope)

    def _infer_binary(self, node: cst.BinaryOperation, scope: Scope) -> Inferred:
        left = self.infer(node.left, scope)
        right = self.infer(node.right, scope)
        for side in (left, right):
            if side.is_array:
                return side.weakened(_proven_operands([left, right]))
        if left.kind.is_python_number and right.kind.is_python_number:
            result = _number_result(node.operator, left.kind, right.kind)
            return result.weakened(left.proven and right.proven and _exponent_keeps_int(node))
        return UNKNOWN

    def _infer_unary(self, node: cst.UnaryOperation, scope: Scope) -> Inferred:
        if kind(node.operator) == "Not":
            return BOOL  # ``not`` always gives a Python bool (or raises)
        operand = self.infer(node.expression, scope)
        if operand.kind is Kind.BOOL:
            return INT.weakened(operand.proven)
        return operand

    def _infer_comparison(self, node: cst.Comparison, scope: Scope) -> Inferred:
        if any(kind(c.operator) in ("Is", "IsNot", "In", "NotIn") for c in node.comparisons):
            return BOOL  # identity and membership tests give Python bools, even on arrays
        values = [self.infer(node.left, scope)] + [self.infer(c.comparator, scope) for c in node.comparisons]
        for value in values:
            if value.is_array:
                return value.weakened(_proven_operands(values))
        return BOOL

    def _infer_boolean(self, node: cst.BooleanOperation, scope: Scope) -> Inferred:
        return merge([self.infer(node.left, scope), self.infer(node.right, scope)])

    def _infer_if_expression(self, node: cst.IfExp, scope: Scope) -> Inferred:
        return merge([self.infer(node.body, scope), self.infer(node.orelse, scope)])

    def _infer_subscript(self, node: cst.Subscript, scope: Scope) -> Inferred:
        value = self.infer(node.value, scope)
        if value.is_array:
            return value
        if value.kind in (Kind.SHAPE, Kind.ARRAYS):
            only = node.slice[0].slice if len(node.slice) == 1 else None
            return self._element(value) if kind(only) == "Index" else value
        return UNKNOWN

    def _infer_named(self, node: cst.NamedExpr, scope: Scope) -> Inferred:
        return self.infer(node.value, scope)

    def _infer_attribute(self, node: cst.Attribute, scope: Scope) -> Inferred:
        qualified = scope.qualified_name(node)
        if qualified is not None:
            if qualified in self.facts.float_constants:
                return FLOAT
            return OTHER  # a module attribute: a function, a dtype, a submodule
        attr = node.attr.value
        base = node.value
        if kind(base) == "Name" and base.value == "self":
            class_scope = self.class_scope_of(scope)
            if class_scope is not None:
                key = (id(class_scope), attr)
                if key in self.attr_bindings:
                    return self._memoized(("attr",) + key, self.attr_bindings[key])
                return UNKNOWN
        owner = self.infer(base, scope)
        if owner.is_array:
            if attr in self.facts.shape_attributes:
                return SHAPE
            if attr in self.facts.int_attributes:
                return INT if attr == "ndim" else INT.weakened(owner.proven)
            if attr in self.facts.array_attributes:
                return owner
            if attr in self.facts.other_attributes:
                return OTHER
            return UNKNOWN
        if attr in self.facts.shape_attributes:
            return SHAPE.assumed()
        if attr in ("ndim",):
            return INT.assumed()
        return UNKNOWN

    def _infer_call(self, node: cst.Call, scope: Scope) -> Inferred:
        func = node.func
        qualified = scope.qualified_name(func)
        if qualified is not None:
            return self._infer_backend_call(qualified, node, scope)
        if kind(func) == "Name":
            name = func.value
            local = self._lookup_function(name, scope)
            if local is not None:
                return self._function_result(local)
            cls = self._lookup_class(name, scope)
            if cls is not None:
                if self._class_is_module(cls[0], cls[1], set()):
                    return Inferred(Kind.LAYER, origin=cls[0])
                return OTHER
            value = self.name_value(name, scope)
            if value.kind is Kind.LAYER:
                return self._layer_result(value)
            if value.kind is Kind.UNKNOWN and name in self.facts.builtins and scope.resolve(name) is None:
                return self._builtin_result(name, node, scope)
            return UNKNOWN
        if kind(func) == "Attribute":
            method = func.attr.value
            base = func.value
            if kind(base) == "Name" and base.value == "self":
                class_scope = self.class_scope_of(scope)
                if class_scope is not None:
                    fn = self.functions.get((id(class_scope), method))
                    if fn is not None:
                        return self._function_result(fn)
                    attr = self._infer_attribute(func, scope)
                    if attr.kind is Kind.LAYER:
                        return self._layer_result(attr)
                    return UNKNOWN
            owner = self.infer(base, scope)
            if owner.is_array:
                if method in self.facts.python_value_methods:
                    word = self.facts.python_value_methods[method]
                    if word == "numpy-array":
                        return Inferred(Kind.ARRAY, "numpy", proven=owner.proven)
                    if word == "shape" and node.args:
                        return INT.weakened(owner.proven)
                    if word == "ambiguous":  # ``t.max(dim=1)`` is a (values, indices) pair in PyTorch
                        return owner.assumed()
                    return _KIND_WORDS.get(word, UNKNOWN).weakened(owner.proven)
                return owner
            if owner.kind is Kind.LAYER:
                return UNKNOWN
        return UNKNOWN

    def _layer_result(self, layer: Inferred) -> Inferred:
        """What calling a layer gives: a backend layer's array, a local layer's ``__call__`` result when that is
        proven an array, else an assumed array."""
        origin = layer.origin
        if isinstance(origin, str) and origin not in self.facts.layers_not_returning_arrays:
            return Inferred(Kind.ARRAY, backend_of(origin), proven=layer.proven)
        if kind(origin) == "ClassDef" and origin in self.scopes:
            class_scope = self.scopes[origin]
            for method in self.facts.module_methods:
                fn = self.functions.get((id(class_scope), method))
                if fn is not None:
                    result = self._function_result(fn)
                    if result.is_array:
                        return result.weakened(layer.proven)
        return Inferred(Kind.ARRAY, None, proven=False)

    def _infer_backend_call(self, qualified: str, node: cst.Call, scope: Scope) -> Inferred:
        backend = backend_of(qualified)
        last = qualified.rsplit(".", 1)[-1]
        if backend == "math":
            if qualified in self.facts.math_int:
                return INT
            if qualified in self.facts.math_bool:
                return BOOL
            return FLOAT
        if backend not in ARRAY_BACKENDS:
            return UNKNOWN
        if qualified in self.facts.array_classes:
            return Inferred(Kind.ARRAY, backend)
        if matches_prefix(qualified, self.facts.non_array_calls):
            return OTHER
        if last[:1].isupper():
            return Inferred(Kind.LAYER, backend, origin=qualified) if ".nn." in f"{qualified}." else OTHER
        if qualified in self.facts.sequence_calls:
            return Inferred(Kind.ARRAYS, backend)
        if qualified in self.facts.ambiguous_calls:
            return Inferred(Kind.ARRAY, backend, proven=False)
        return Inferred(Kind.ARRAY, backend)

    def _builtin_result(self, name: str, node: cst.Call, scope: Scope) -> Inferred:
        word = self.facts.builtins[name]
        if word == "same":
            values = [self.infer(arg.value, scope) for arg in node.args if not arg.keyword]
            result = merge(values) if values else UNKNOWN
            if name == "round" and len(node.args) == 1 and result.kind is Kind.FLOAT:
                return INT.weakened(result.proven)  # round(2.5) is the int 2
            return result
        if word == "float" and node.args:
            return FLOAT
        return _KIND_WORDS.get(word, UNKNOWN)

    def _lookup_function(self, name: str, scope: Scope) -> cst.FunctionDef | None:
        for current in scope.visible(name):
            fn = self.functions.get((id(current), name))
            if fn is not None:
                return fn
            if name in current.imports or (id(current), name) in self.bindings:
                return None
        return None

    def _lookup_class(self, name: str, scope: Scope) -> tuple[cst.ClassDef, Scope] | None:
        for current in scope.visible(name):
            cls = self.module_classes.get((id(current), name))
            if cls is not None:
                return cls, current
        return None

    def _class_is_module(self, node: cst.ClassDef, scope: Scope, seen: set[int]) -> bool:
        if id(node) in seen:
            return False
        seen.add(id(node))
        for base in node.bases:
            qualified = scope.qualified_name(base.value)
            if qualified is not None:
                if qualified in self.facts.module_bases or (
                    ".nn." in f"{qualified}." and qualified.rsplit(".", 1)[-1][:1].isupper()
                ):
                    return True
                continue
            if kind(base.value) == "Name":
                local = self._lookup_class(base.value.value, scope)
                if local is not None and self._class_is_module(local[0], local[1], seen):
                    return True
        return False

    def _function_result(self, fn: cst.FunctionDef) -> Inferred:
        """An array when every ``return`` is one (proven when they all are); else the return annotation, assumed."""
        scope = self.function_scope.get(fn)
        if scope is None:
            return UNKNOWN
        key = ("return", id(fn))
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            self._cycles += 1
            return UNKNOWN
        self._active.add(key)
        try:
            values = [self.infer(expr, scope) for expr in self.returns.get(fn, [])]
            result = values[0] if values and all(v.is_array for v in values) else UNKNOWN
            if result.is_array:
                result = result.weakened(_proven_operands(values))
            if not result.proven or result.kind is Kind.UNKNOWN:
                if fn.returns is not None:
                    declared = self.annotation_value(fn.returns.annotation, scope)
                    if declared.kind is not Kind.UNKNOWN:
                        result = declared
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def annotation_value(self, annotation: cst.BaseExpression, scope: Scope) -> Inferred:
        """What an annotation declares: always an assumed fact (nothing checks it at run time)."""
        return self._annotation_value(annotation, scope).assumed()

    def _annotation_value(self, annotation: cst.BaseExpression, scope: Scope) -> Inferred:
        if kind(annotation) == "SimpleString":
            text = annotation.evaluated_value
            try:
                annotation = cst.parse_expression(text) if isinstance(text, str) else annotation
            except cst.ParserSyntaxError:
                return UNKNOWN
        if kind(annotation) == "BinaryOperation" and kind(annotation.operator) == "BitOr":
            return self._union_value([annotation.left, annotation.right], scope)
        if kind(annotation) == "Subscript":
            outer = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
            members = [e.slice.value for e in annotation.slice if kind(e.slice) == "Index"]
            if outer in ("Optional", "Union") and members:
                return self._union_value(members, scope)
            return OTHER
        if kind(annotation) == "Name" and annotation.value == "None":
            return Inferred(Kind.OTHER)
        qualified = scope.qualified_name(annotation)
        if qualified is not None:
            if qualified in self.facts.array_annotations:
                return Inferred(Kind.ARRAY, backend_of(qualified))
            return OTHER
        if kind(annotation) == "Name":
            return {"int": INT, "float": FLOAT, "bool": BOOL, "complex": COMPLEX}.get(annotation.value, OTHER)
        return UNKNOWN

    def _union_value(self, members: list[cst.BaseExpression], scope: Scope) -> Inferred:
        """``mx.array | None`` is an array; ``Tensor | float`` may be either, so it is unknown (not an array)."""
        values = [
            self.annotation_value(member, scope)
            for member in members
            if not (kind(member) == "Name" and member.value == "None")
        ]
        if values and all(value.is_array for value in values):
            return values[0]
        if any(value.is_array for value in values):
            return UNKNOWN
        return merge(values) if values else OTHER


class _FactCollector(FastVisitor):
    """Records every binding of the module, per scope, for ``ArrayFacts``."""

    def __init__(self, facts: ArrayFacts) -> None:
        self.facts = facts
        self.stack: list[Scope] = []
        self.functions: list[cst.FunctionDef] = []

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def on_visit(self, node: cst.CSTNode) -> bool:
        scope = self.facts.scopes.get(node)
        if scope is not None:
            self.stack.append(scope)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        if original_node in self.facts.scopes:
            self.stack.pop()

    def _bind(self, name: str, binding: _Binding) -> None:
        self.facts.bindings.setdefault((id(self.scope.binding_scope(name)), name), []).append(binding)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression, **extra) -> None:
        scope = self.scope
        if kind(target) == "Name":
            self._bind(target.value, _Binding(scope, value, **extra))
        elif kind(target) in ("Tuple", "List"):
            for index, element in enumerate(target.elements):
                inner = element.value
                if kind(element) == "StarredElement":
                    if kind(inner) == "Name":
                        self._bind(inner.value, _Binding(scope, None, inferred=OTHER))
                    continue
                if kind(inner) == "Name":
                    self._bind(inner.value, _Binding(scope, value, element=index, **extra))
                elif kind(inner) in ("Tuple", "List"):
                    self._bind_nested_unknown(inner)
        elif kind(target) == "Attribute" and kind(target.value) == "Name" and target.value.value == "self":
            class_scope = self.facts.class_scope_of(scope)
            if class_scope is not None:
                self.facts.attr_bindings.setdefault((id(class_scope), target.attr.value), []).append(
                    _Binding(scope, value, **extra)
                )

    def _bind_nested_unknown(self, target: cst.BaseExpression) -> None:
        for element in getattr(target, "elements", ()):
            if kind(element.value) == "Name":
                self._bind(element.value.value, _Binding(self.scope, None, inferred=UNKNOWN))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        declared = self.facts.annotation_value(node.annotation.annotation, self.scope)
        if declared.kind in (Kind.UNKNOWN, Kind.OTHER) and node.value is not None:
            self._bind_target(node.target, node.value)
        elif node.value is not None and kind(node.target) == "Name":
            # The value is the evidence; the annotation only stands in when the value is unknown.
            self._bind(node.target.value, _Binding(self.scope, node.value, declared=declared))
        elif kind(node.target) == "Name":
            self._bind(node.target.value, _Binding(self.scope, None, inferred=declared))
        elif kind(node.target) == "Attribute" and node.value is not None:
            self._bind_target(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, node.value, augmented=node.operator)

    def visit_For(self, node: cst.For) -> None:
        target = node.target
        if kind(target) == "Name":
            self._bind(target.value, _Binding(self.scope, node.iter, iterated=True))
        else:
            self._bind_nested_unknown(target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if kind(node.target) == "Name":
            self._bind(node.target.value, _Binding(self.scope, node.iter, iterated=True))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and kind(node.asname.name) == "Name":
            self._bind(node.asname.name.value, _Binding(self.scope, None, inferred=UNKNOWN))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        outer = self.facts.scopes[node].parent
        assert outer is not None
        self.facts.module_classes[(id(outer), node.name.value)] = node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        inner = self.facts.scopes[node]
        outer = inner.parent
        assert outer is not None
        self.facts.functions[(id(outer), node.name.value)] = node
        self.facts.function_scope[node] = inner
        self.functions.append(node)
        in_module_method = (
            outer.kind == "class"
            and node.name.value in self.facts.facts.module_methods
            and self.facts.is_module_class(outer)
        )
        params = node.params
        positional = [*params.posonly_params, *params.params]
        for index, param in enumerate([*positional, *params.kwonly_params]):
            name = param.name.value
            if outer.kind == "class" and index == 0 and param in positional:
                inferred = OTHER
            elif param.annotation is not None:
                inferred = self.facts.annotation_value(param.annotation.annotation, outer)
                if inferred.kind is Kind.OTHER and in_module_method and param.default is not None:
                    inferred = self._default_value(param.default)
            elif param.default is not None and not (
                kind(param.default) == "Name" and param.default.value == "None"
            ):
                inferred = self._default_value(param.default)
            elif in_module_method:
                inferred = Inferred(Kind.ARRAY, None)
            else:
                inferred = UNKNOWN
            if in_module_method and inferred.kind in (Kind.UNKNOWN,):
                inferred = Inferred(Kind.ARRAY, None)
            if inferred.kind is not Kind.OTHER or param.annotation is not None:
                inferred = inferred.assumed()  # a parameter holds whatever the caller passes
            self.facts.bindings.setdefault((id(inner), name), []).append(_Binding(inner, None, inferred=inferred))
        for star in (params.star_arg, params.star_kwarg):
            if kind(star) == "Param":
                self.facts.bindings.setdefault((id(inner), star.name.value), []).append(
                    _Binding(inner, None, inferred=OTHER)
                )

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        inner = self.facts.scopes[node]
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            self.facts.bindings.setdefault((id(inner), param.name.value), []).append(
                _Binding(inner, None, inferred=UNKNOWN)
            )

    def visit_Return(self, node: cst.Return) -> None:
        if self.functions and node.value is not None:
            self.facts.returns.setdefault(self.functions[-1], []).append(node.value)

    def _default_value(self, default: cst.BaseExpression) -> Inferred:
        if kind(default) == "UnaryOperation":
            default = default.expression
        if kind(default) == "Integer":
            return INT
        if kind(default) == "Float":
            return FLOAT
        if kind(default) == "Name" and default.value in ("True", "False"):
            return BOOL
        return UNKNOWN


def collect_facts(module: cst.Module, scopes: dict[cst.CSTNode, Scope]) -> ArrayFacts:
    facts = ArrayFacts(scopes)
    walk_kinds(module, _FactCollector(facts), _FactCollector.node_kinds() | SCOPE_KINDS)
    facts.seal()
    return facts


#: what a node of each type is, whatever its content (``Await``: unknown)
_CONSTANT_KINDS: dict[str, Inferred] = {
    "Integer": INT, "Float": FLOAT, "Imaginary": COMPLEX, "Await": UNKNOWN,
    **dict.fromkeys(("SimpleString", "ConcatenatedString", "FormattedString", "Tuple", "List", "Dict", "Set",
                     "ListComp", "DictComp", "SetComp"), OTHER),
}
_INFER_BY_KIND = {
    "Name": ArrayFacts._infer_name, "Attribute": ArrayFacts._infer_attribute, "Call": ArrayFacts._infer_call,
    "BinaryOperation": ArrayFacts._infer_binary, "UnaryOperation": ArrayFacts._infer_unary,
    "Comparison": ArrayFacts._infer_comparison, "BooleanOperation": ArrayFacts._infer_boolean,
    "IfExp": ArrayFacts._infer_if_expression, "Subscript": ArrayFacts._infer_subscript,
    "NamedExpr": ArrayFacts._infer_named,
}
