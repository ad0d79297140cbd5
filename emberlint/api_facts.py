"""Loads the YAML tables of API facts shipped under ``rules/`` (installed as ``emberlint.rules``): one typed loader.

Each table's shape is declared below as a ``TypedDict`` (``TABLES`` maps a table's name to it); ``load_table``
checks the parsed YAML against it and raises ``FactTableError`` naming the file and the path of the first value
that does not fit (``rules/constructors.yaml: constructors['mlx.core.zeros'].position: expected int or None,
got 'one' (str)``), so an edited table fails at start-up with a clear message rather than deep inside a rule.
"""

from __future__ import annotations

import functools
import types
import typing
from importlib import resources
from typing import Any, Callable, Literal, TypedDict, Union, overload

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FactTableError(ValueError):
    """A fact table that is missing, is not valid YAML, or does not have its declared shape."""


# --- the tables' shapes ------------------------------------------------------------------------------------------
class PerBackend(TypedDict):
    """A value for each backend a rule or fixer targets (``{mlx: multiply, torch: mul}``)."""

    mlx: str
    torch: str


class ApiFacts(TypedDict):
    """``api_facts.yaml``: what the array inference (``emberlint/arrays.py``) knows of the backends' APIs."""

    int_attributes: list[str]
    shape_attributes: list[str]
    other_attributes: list[str]
    array_attributes: list[str]
    python_value_methods: dict[str, str]
    non_array_calls: list[str]
    sequence_calls: list[str]
    ambiguous_calls: list[str]
    layers_not_returning_arrays: list[str]
    array_classes: list[str]
    python_float_constants: list[str]
    math_int_functions: list[str]
    math_bool_functions: list[str]
    builtin_results: dict[str, str]
    array_annotations: list[str]
    module_bases: list[str]
    module_methods: list[str]


class BackendDefaults(TypedDict):
    module: str
    python_scalars: dict[str, str]
    int_range: list[int]
    dtype_names: dict[str, str]


class _ConstructorPosition(TypedDict):
    position: int | None


class Constructor(_ConstructorPosition, total=False):
    data: list[list[int | str]]
    default: str


class Casts(TypedDict):
    argument: list[str]
    fixed: dict[str, list[str]]


class Constructors(TypedDict):
    """``constructors.yaml``: array constructors, what each backend picks without ``dtype=``, cast methods."""

    backends: dict[str, BackendDefaults]
    constructors: dict[str, Constructor]
    casts: Casts


#: ``exempt_apis.yaml``: per API (or ``"*"``), the parameters (names or positions) that are never array operands.
ExemptApis = dict[str, list[Union[int, str]]]


class FloatMath(TypedDict):
    """``float_math.yaml``: Python ``math`` functions and their backend equivalents, constants, NumPy math."""

    math_functions: dict[str, PerBackend]
    constants: list[str]
    numpy_math: list[str]


class Operators(TypedDict):
    """``operators.yaml``: operator -> backend function, for each kind of operator."""

    binary: dict[str, PerBackend]
    augmented: dict[str, str]
    unary: dict[str, PerBackend]
    symbols: dict[str, str]


class PythonScalars(TypedDict):
    math_methods: list[str]


class ScalarDtypes(TypedDict):
    """``scalar_dtypes.yaml``: dtype names by family, and the methods that cast or take a dtype."""

    families: dict[str, list[str]]
    float_results: list[str]
    cast_methods: dict[str, list[str]]
    dtype_argument_methods: list[str]


class FftFacts(TypedDict):
    modules: PerBackend
    takes_norm: dict[str, bool]
    default_norm: str
    forward: list[str]
    inverse: list[str]
    conv_forward: list[str]
    conv_inverse: list[str]


class PrecisionFacts(TypedDict):
    float64_names: list[str]
    float64_methods: list[str]
    float64_strings: list[str]
    float32_names: list[str]
    float32_accurate_float64: dict[str, str]
    float32_accurate_float64_methods: list[str]
    float64_preserving_methods: list[str]
    float64_preserving: list[str]


class DeviceFacts(TypedDict):
    host_methods: list[str]
    move_methods: list[str]
    device_strings: list[str]
    torch_factories: list[str]
    device_objects: dict[str, str]
    eval_calls: list[str]
    stack_calls: list[str]


class FallbackFacts(TypedDict):
    config_loaders: list[str]
    generic_loaders: list[str]
    config_words: str
    broad_exceptions: list[str]
    loud_words: list[str]
    non_numeric_apis: list[str]


class GeluFacts(TypedDict):
    mlx_erf: list[str]
    mlx_tanh: list[str]
    mlx_fast: list[str]
    mlx_approx_values: dict[str, str]
    torch_calls: list[str]
    faithful_markers: str
    faithful_files: str


class PortingFacts(TypedDict):
    keywords: dict[str, str]
    torch_only_methods: dict[str, str]
    torch_only_names: dict[str, str]
    inplace_methods: list[str]
    inplace_fixes: dict[str, str]
    gelu: GeluFacts
    conv_classes: list[str]
    linear_classes: list[str]
    conv_name_pattern: str
    linear_name_pattern: str
    axis_reorders: list[str]
    layer_norm_eps_position: dict[str, int]
    layer_norm_default_eps: str
    layer_norm_eps_field: str


class Coach(TypedDict):
    """``coach.yaml``: the facts of the coaching rules (fft, precision, device, fallbacks, porting)."""

    fft: FftFacts
    precision: PrecisionFacts
    device: DeviceFacts
    fallbacks: FallbackFacts
    porting: PortingFacts


#: Every table under ``rules/`` and its shape (a test loads each, and checks that no YAML file is missing here).
TABLES: dict[str, Any] = {
    "api_facts": ApiFacts,
    "coach": Coach,
    "constructors": Constructors,
    "exempt_apis": ExemptApis,
    "float_math": FloatMath,
    "operators": Operators,
    "python_scalars": PythonScalars,
    "scalar_dtypes": ScalarDtypes,
}


# --- the loader --------------------------------------------------------------------------------------------------
@overload
def load_table(name: Literal["api_facts"]) -> ApiFacts: ...
@overload
def load_table(name: Literal["coach"]) -> Coach: ...
@overload
def load_table(name: Literal["constructors"]) -> Constructors: ...
@overload
def load_table(name: Literal["exempt_apis"]) -> ExemptApis: ...
@overload
def load_table(name: Literal["float_math"]) -> FloatMath: ...
@overload
def load_table(name: Literal["operators"]) -> Operators: ...
@overload
def load_table(name: Literal["python_scalars"]) -> PythonScalars: ...
@overload
def load_table(name: Literal["scalar_dtypes"]) -> ScalarDtypes: ...


@functools.lru_cache(maxsize=None)
def load_table(name: str) -> Any:
    """The parsed YAML file ``rules/<name>.yaml``, checked against its shape in ``TABLES``."""
    if name not in TABLES:
        raise FactTableError(f"no fact table named {name!r} (known: {', '.join(sorted(TABLES))})")
    try:
        text = resources.files("emberlint.rules").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    except OSError as error:
        raise FactTableError(f"rules/{name}.yaml: cannot read it ({error})") from None
    return parse_table(name, text)


def parse_table(name: str, text: str) -> Any:
    """The table ``name`` parsed from ``text`` and checked against its shape."""
    where = f"rules/{name}.yaml"
    try:
        data = yaml.load(text, Loader=_LOADER)  # libyaml's loader when present: ~10x faster at start-up
    except yaml.YAMLError as error:
        raise FactTableError(f"{where}: not valid YAML: {error}") from None
    try:
        check_shape(data, TABLES[name], "")
    except FactTableError as error:
        raise FactTableError(f"{where}: {str(error).removeprefix(': ')}") from None
    return data


def check_shape(value: Any, expected: Any, where: str) -> None:
    """Raise ``FactTableError`` at the first part of ``value`` that does not fit the type ``expected`` (str, int,
    float, bool, None, list[X], dict[K, V], a union, or a TypedDict: its required keys, and no others)."""
    if not _predicate(expected)(value):
        _explain(value, expected, where)
        raise FactTableError(f"{where}: expected {_describe(expected)}")  # not reached: _explain names the part


@functools.lru_cache(maxsize=None)
def _predicate(expected: Any) -> Callable[[Any], bool]:
    """``expected`` compiled into a test of a value (the fast path: ``_explain`` finds what does not fit)."""
    origin = typing.get_origin(expected)
    if origin in (Union, types.UnionType):
        options = [_predicate(option) for option in typing.get_args(expected)]
        return lambda value: any(fits(value) for fits in options)
    if typing.is_typeddict(expected):
        fields = {key: _predicate(hint) for key, hint in _fields(expected).items()}
        required = expected.__required_keys__
        return lambda value: (
            type(value) is dict
            and required <= value.keys() <= fields.keys()
            and all(fields[key](item) for key, item in value.items())
        )
    if origin is dict:
        key_fits, item_fits = (_predicate(arg) for arg in typing.get_args(expected))
        return lambda value: type(value) is dict and all(key_fits(k) and item_fits(v) for k, v in value.items())
    if origin is list:
        item_fits = _predicate(typing.get_args(expected)[0])
        return lambda value: type(value) is list and all(map(item_fits, value))
    if expected is None or expected is type(None):
        return lambda value: value is None
    if expected is bool:
        return lambda value: type(value) is bool
    if expected in (str, int, float):
        return lambda value: isinstance(value, expected) and not isinstance(value, bool)
    raise TypeError(f"unsupported type in a fact table's shape: {expected!r}")


def _explain(value: Any, expected: Any, where: str) -> None:
    """Raise the error for the first part of ``value`` that does not fit ``expected``."""
    origin = typing.get_origin(expected)
    if origin in (Union, types.UnionType):
        if not any(_fits(value, option) for option in typing.get_args(expected)):
            raise FactTableError(f"{where}: expected {_describe(expected)}, got {_value(value)}")
        return
    if typing.is_typeddict(expected):
        _require(value, dict, expected, where)
        fields = _fields(expected)
        missing = sorted(expected.__required_keys__ - value.keys())
        if missing:
            raise FactTableError(f"{where}: missing {', '.join(map(repr, missing))}")
        unknown = sorted(str(key) for key in value.keys() - fields.keys())
        if unknown:
            raise FactTableError(f"{where}: unknown {', '.join(map(repr, unknown))} (expected {_describe(expected)})")
        for key, item in value.items():
            _explain(item, fields[key], _child(where, key))
    elif origin is dict:
        _require(value, dict, expected, where)
        key_type, item_type = typing.get_args(expected)
        for key, item in value.items():
            if not _fits(key, key_type):
                raise FactTableError(f"{where}: key {key!r} is not a {_describe(key_type)}")
            _explain(item, item_type, _child(where, key))
    elif origin is list:
        _require(value, list, expected, where)
        (item_type,) = typing.get_args(expected)
        for index, item in enumerate(value):
            _explain(item, item_type, f"{where}[{index}]")
    elif expected is None or expected is type(None):
        if value is not None:
            raise FactTableError(f"{where}: expected None, got {_value(value)}")
    elif expected in (str, int, float, bool):
        # YAML's `yes`/`true` are bools, and a bool is an int to Python: an int field must not accept one
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise FactTableError(f"{where}: expected {_describe(expected)}, got {_value(value)}")
    else:
        raise TypeError(f"unsupported type in a fact table's shape: {expected!r}")


def _fits(value: Any, expected: Any) -> bool:
    return _predicate(expected)(value)


def _require(value: Any, kind: type, expected: Any, where: str) -> None:
    if not isinstance(value, kind):
        raise FactTableError(f"{where}: expected {_describe(expected)}, got {_value(value)}")


@functools.lru_cache(maxsize=None)
def _fields(typed_dict: Any) -> dict[str, Any]:
    return typing.get_type_hints(typed_dict)


def _child(where: str, key: object) -> str:
    if isinstance(key, str) and key.isidentifier():
        return f"{where}.{key}" if where else key
    return f"{where}[{key!r}]"


def _describe(expected: Any) -> str:
    if expected is None or expected is type(None):
        return "None"
    if typing.get_origin(expected) in (Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(expected))
    if typing.is_typeddict(expected):
        required = sorted(expected.__required_keys__)
        optional = sorted(expected.__optional_keys__)
        return "a mapping with " + ", ".join(required + [f"{key} (optional)" for key in optional])
    if typing.get_origin(expected) is dict:
        key_type, item_type = typing.get_args(expected)
        return f"a mapping of {_describe(key_type)} to {_describe(item_type)}"
    if typing.get_origin(expected) is list:
        return f"a list of {_describe(typing.get_args(expected)[0])}"
    return getattr(expected, "__name__", str(expected))


def _value(value: Any) -> str:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} ({type(value).__name__})"


@functools.lru_cache(maxsize=4096)  # a file calls the same few functions many times
def matches_prefix(qualified: str, names: frozenset[str]) -> bool:
    """True when ``qualified`` is one of ``names`` or lies inside one of them (``torch.cuda.is_available``)."""
    parts = qualified.split(".")
    return any(".".join(parts[:i]) in names for i in range(len(parts), 0, -1))
