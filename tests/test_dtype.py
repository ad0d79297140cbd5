"""EL401-EL404 (explicit dtype) and the dtype= fixer, with a differential check against MLX."""

from __future__ import annotations

import textwrap

import pytest

from tests.linting import findings as _findings
from tests.linting import fixed as _fixed

CODES = ("EL401", "EL402", "EL403", "EL404")


def findings(source: str, **changes):
    return _findings(source, CODES, **changes)


def fixed(source: str, unsafe: bool = True, **changes) -> str:
    return _fixed(source, CODES, unsafe=unsafe, **changes)


def ctor(name: str, picked: str) -> str:
    return f"`{name}(...)` without an explicit dtype: the backend picks {picked}; pass dtype="


MLX_CONSTRUCTORS = """\
import mlx.core as mx
a = mx.array(0.1)
b = mx.array([1, 2])
c = mx.array(True)
d = mx.zeros((2, 3))
e = mx.arange(10)
f = mx.random.normal((4,))
g = mx.array(2**40)
h = mx.array(w)
def k(n: int, s: float):
    return mx.array(n), mx.full((2,), s)
"""


def test_mlx_constructors_positions_messages_and_safety():
    assert findings(MLX_CONSTRUCTORS) == [
        ("EL401", 2, 5, ctor("mx.array", "float32"), True),
        ("EL401", 3, 5, ctor("mx.array", "int32"), True),
        ("EL401", 4, 5, ctor("mx.array", "bool"), True),
        ("EL401", 5, 5, ctor("mx.zeros", "float32"), True),
        ("EL401", 6, 5, ctor("mx.arange", "int32"), True),
        ("EL401", 7, 5, ctor("mx.random.normal", "float32"), True),
        ("EL401", 8, 5, ctor("mx.array", "int64"), None),  # 2**40 does not fit the default int32: no fix
        ("EL401", 9, 5, ctor("mx.array", "the dtype of its data"), None),
        # a Python int parameter of unknown size: int32, or int64 when it is larger -> unsafe
        ("EL401", 11, 12, ctor("mx.array", "int32 (int64 when the value does not fit)"), False),
        # `s: float` is an annotation, not evidence: k(1, 2) would make an int32 array -> unsafe
        ("EL401", 11, 25, ctor("mx.full", "float32"), False),
    ]


def test_mlx_constructors_fixed_text():
    assert fixed(MLX_CONSTRUCTORS) == textwrap.dedent("""\
        import mlx.core as mx
        a = mx.array(0.1, dtype=mx.float32)
        b = mx.array([1, 2], dtype=mx.int32)
        c = mx.array(True, dtype=mx.bool_)
        d = mx.zeros((2, 3), dtype=mx.float32)
        e = mx.arange(10, dtype=mx.int32)
        f = mx.random.normal((4,), dtype=mx.float32)
        g = mx.array(2**40)
        h = mx.array(w)
        def k(n: int, s: float):
            return mx.array(n, dtype=mx.int32), mx.full((2,), s, dtype=mx.float32)
        """)
    # Without --unsafe-fixes the Python-int parameter keeps its inferred dtype.
    assert "mx.array(n), mx.full((2,), s)" in fixed(MLX_CONSTRUCTORS, unsafe=False)


@pytest.mark.parametrize(
    "source",
    [
        "import mlx.core as mx\nx = mx.zeros((3,), dtype=mx.float32)",
        "import mlx.core as mx\nx = mx.zeros((3,), mx.float16)",  # positional dtype
        "import mlx.core as mx\nx = mx.full((3,), 1.0, mx.float16)",
        "import mlx.core as mx\nx = mx.arange(0, 10, 2, mx.int16)",
        "import mlx.core as mx\ndef f(y, dtype):\n    return mx.linspace(0, 1, 5, True, dtype)",
        "import mlx.core as mx\ny = mx.zeros_like(x)\nz = mx.ones_like(x)\nw = mx.full_like(x, 0.5)",
        "import mlx.core as mx\nx = mx.zeros(**opts)",
        "import mlx.core as mx\nx = mx.zeros(*args)",
        "import mlx.core as mx\nk = mx.random.key(0)\nb = mx.random.bernoulli(0.5, (3,), key=k)",
        "import torch\nx = torch.rand_like(y)\nz = torch.zeros(3, dtype=torch.float16)",
        "import numpy as np\nx = np.zeros(3)\ny = np.array([1.0])",
        "import mlx.core as mx\ndef zeros(n):\n    return [0] * n\nx = zeros(3)",
        "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.array(x)",  # a copy keeps x.dtype
        "import torch\ndef f(t: torch.Tensor):\n    return torch.as_tensor(t)",
    ],
)
def test_constructor_not_reported(source):
    assert [f for f in findings(source) if f[0] == "EL401"] == []


def test_numpy_data_is_reported_without_fix():
    """NumPy data is converted, not copied: mx.array(float64 ndarray) is float32."""
    source = "import numpy as np\nimport mlx.core as mx\nx = mx.array(np.ones(3))\n"
    assert findings(source) == [("EL401", 3, 5, ctor("mx.array", "the dtype of its data"), None)]


def test_aliases_and_from_imports():
    source = """\
        import mlx.core as core
        from mlx.core import array, zeros
        import torch as T
        from torch import tensor
        a = core.ones(3)
        b = array([0.5, 1])
        c = zeros(2)
        d = T.full((2,), 0.25)
        e = tensor([1.0, 2.0])
        """
    assert findings(source) == [
        ("EL401", 5, 5, ctor("core.ones", "float32"), True),
        ("EL401", 6, 5, ctor("array", "float32"), True),
        ("EL401", 7, 5, ctor("zeros", "float32"), True),
        ("EL401", 8, 5, ctor("T.full", "float32"), True),
        ("EL401", 9, 5, ctor("tensor", "float32"), True),
    ]
    assert fixed(source) == textwrap.dedent("""\
        import mlx.core as core
        from mlx.core import array, zeros
        import torch as T
        from torch import tensor
        a = core.ones(3, dtype=core.float32)
        b = array([0.5, 1], dtype=core.float32)
        c = zeros(2, dtype=core.float32)
        d = T.full((2,), 0.25, dtype=T.float32)
        e = tensor([1.0, 2.0], dtype=T.float32)
        """)


def test_from_import_only_adds_the_module_import():
    source = "from mlx.core import array\nx = array(1.5)\n"
    assert fixed(source) == "from mlx.core import array\nimport mlx.core as mx\nx = array(1.5, dtype=mx.float32)\n"
    source = "from torch import tensor\nx = tensor(True)\n"
    assert fixed(source) == "from torch import tensor\nimport torch\nx = tensor(True, dtype=torch.bool)\n"


def test_torch_ints_are_int64_so_the_default_int32_is_unsafe():
    source = """\
        import torch
        a = torch.tensor(3)
        b = torch.arange(8)
        c = torch.randint(0, 5, (3,))
        d = torch.tensor(0.5)
        e = torch.zeros(2, 3)
        """
    assert findings(source) == [
        ("EL401", 2, 5, ctor("torch.tensor", "int64"), False),
        ("EL401", 3, 5, ctor("torch.arange", "int64"), False),
        ("EL401", 4, 5, ctor("torch.randint", "int64"), False),
        ("EL401", 5, 5, ctor("torch.tensor", "float32"), True),
        ("EL401", 6, 5, ctor("torch.zeros", "float32"), True),
    ]
    assert fixed(source, unsafe=False) == textwrap.dedent("""\
        import torch
        a = torch.tensor(3)
        b = torch.arange(8)
        c = torch.randint(0, 5, (3,))
        d = torch.tensor(0.5, dtype=torch.float32)
        e = torch.zeros(2, 3, dtype=torch.float32)
        """)
    assert "a = torch.tensor(3, dtype=torch.int32)" in fixed(source, unsafe=True)


def test_configured_defaults_decide_dtype_and_safety():
    source = "import mlx.core as mx\nimport torch\na = mx.zeros(3)\nb = mx.array(7)\nc = torch.tensor(7)\n"
    # int64 default: exactly what torch infers (safe), not what MLX infers (unsafe).
    assert [f[4] for f in findings(source, default_int_dtype="int64")] == [True, False, True]
    assert fixed(source, default_int_dtype="int64", unsafe=False) == (
        "import mlx.core as mx\nimport torch\na = mx.zeros(3, dtype=mx.float32)\nb = mx.array(7)\n"
        "c = torch.tensor(7, dtype=torch.int64)\n"
    )
    # bfloat16 default: changes what mx.zeros computes -> unsafe, only with --unsafe-fixes.
    assert [f[4] for f in findings(source, default_float_dtype="bfloat16")] == [False, True, False]
    assert "a = mx.zeros(3, dtype=mx.bfloat16)" in fixed(source, default_float_dtype="bfloat16")
    assert "a = mx.zeros(3)\n" in fixed(source, default_float_dtype="bfloat16", unsafe=False)


def test_int_literals_that_do_not_fit_get_no_fix():
    source = "import mlx.core as mx\nimport torch\na = mx.array([1, -(1 << 31) - 1])\nb = torch.tensor(2**40)\n"
    assert findings(source) == [
        ("EL401", 3, 5, ctor("mx.array", "int64"), None),
        ("EL401", 4, 5, ctor("torch.tensor", "int64"), None),
    ]


def test_multiline_call_keeps_its_layout():
    source = "import mlx.core as mx\nw = mx.random.uniform(\n    low=-1.0,\n    high=1.0,\n    shape=(3, 4),\n)\n"
    assert fixed(source) == (
        "import mlx.core as mx\nw = mx.random.uniform(\n    low=-1.0,\n    high=1.0,\n    shape=(3, 4),\n"
        "    dtype=mx.float32,\n)\n"
    )


# --- differential check: a safe fix computes bit-identical arrays in MLX -----------------------------------
SAFE_MLX_CASES = [
    "mx.array(0.1)",
    "mx.array(1e-8)",
    "mx.array([0.1, 2, -3.5e-5])",
    "mx.array([1, 2, 3])",
    "mx.array([-2**31, 2**31 - 1])",
    "mx.array(True)",
    "mx.array([[True, False], [False, True]])",
    "mx.array([])",
    "mx.zeros((2, 3))",
    "mx.ones(4)",
    "mx.full((3,), 0.1)",
    "mx.full((2,), 7)",
    "mx.full((2,), True)",
    "mx.arange(10)",
    "mx.arange(0.0, 1.0, 0.1)",
    "mx.arange(0, 5, 0.5)",
    "mx.linspace(0, 1, 7)",
    "mx.eye(3)",
    "mx.identity(2)",
    "mx.tri(3)",
    "mx.random.normal((4,), key=mx.random.key(1))",
    "mx.random.uniform(shape=(3,), key=mx.random.key(2))",
    "mx.random.randint(0, 100, (5,), key=mx.random.key(3))",
    "mx.random.gumbel((3,), key=mx.random.key(4))",
    "mx.random.truncated_normal(-1.0, 1.0, (3,), key=mx.random.key(5))",
]


@pytest.mark.parametrize("expression", SAFE_MLX_CASES)
def test_safe_fix_is_bit_identical_in_mlx(expression):
    mx = pytest.importorskip("mlx.core")
    np = pytest.importorskip("numpy")
    source = f"import mlx.core as mx\nvalue = {expression}\n"
    found = findings(source)
    assert [(f[0], f[4]) for f in found] == [("EL401", True)]
    after = fixed(source, unsafe=False)
    assert after != source and "dtype=mx." in after
    before_ns: dict = {}
    after_ns: dict = {}
    exec(compile(source, "before", "exec"), before_ns)  # noqa: S102 -- the differential check runs both
    exec(compile(after, "after", "exec"), after_ns)  # noqa: S102
    before, result = before_ns["value"], after_ns["value"]
    assert isinstance(before, mx.array)
    assert before.dtype == result.dtype
    assert before.shape == result.shape
    assert np.array(before).tobytes() == np.array(result).tobytes()


def test_unsafe_int_fix_really_changes_mlx_results():
    """The reason int64-literal fixes are withheld: int32 cannot hold 2**40."""
    mx = pytest.importorskip("mlx.core")
    assert mx.array(2**40).dtype == mx.int64
    assert findings("import mlx.core as mx\nv = mx.array(2**40)\n")[0][4] is None


# --- EL402 casts -------------------------------------------------------------------------------------------
def cast(target: str, method: str) -> str:
    return (f"Cast to {target} with `.{method}()`: a rounding step the data flow does not show; create the value "
            "in that dtype, or keep the cast with a suppression that says why")


def test_casts_reported():
    source = """\
        import mlx.core as mx
        import torch
        y = x.astype(mx.float32)
        def f(a: mx.array, t: torch.Tensor, m: mx.array):
            b = a.astype(mx.bfloat16)
            c = t.half()
            d = t.to(torch.float16)
            e = t.to(device="cuda", dtype=torch.float64)
            g = m.astype(a.dtype)
            h = t.to("cuda")
            return t.float()
        """
    assert findings(source) == [
        ("EL402", 3, 5, cast("`mx.float32`", "astype"), None),
        ("EL402", 5, 9, cast("`mx.bfloat16`", "astype"), None),
        ("EL402", 6, 9, cast("half", "half"), None),
        ("EL402", 7, 9, cast("`torch.float16`", "to"), None),
        ("EL402", 8, 9, cast("`torch.float64`", "to"), None),
        ("EL402", 11, 12, cast("float", "float"), None),
    ]


def test_numpy_casts_and_non_arrays_not_reported():
    source = """\
        import numpy as np
        import mlx.core as mx
        w = np.load("w.npy").astype(np.float32)
        v = settings.float()
        u = np.ones(3).astype(np.float16)
        """
    assert findings(source) == []


# --- EL403 untyped float constants --------------------------------------------------------------------------
def test_untyped_float_constant_reported_at_its_definition_once():
    source = """\
        import mlx.core as mx
        eps = 1e-8
        scale = 4
        def f(x: mx.array):
            y = x / (mx.sum(x) + eps)
            return mx.maximum(y, eps) * scale
        """
    assert findings(source) == [
        ("EL403", 2, 7, "Untyped float constant `eps = 1e-8` is used as an array operand; give it a dtype", None),
    ]


def test_untyped_constant_needs_every_binding_to_be_a_literal():
    source = """\
        import mlx.core as mx
        eps = 1e-8
        if big:
            eps = compute()
        def f(x: mx.array):
            return x + eps
        """
    assert findings(source) == []


# --- EL404 numeric list operands ---------------------------------------------------------------------------
def test_numeric_list_operands():
    source = """\
        import mlx.core as mx
        from torch import maximum
        def f(x: mx.array, m: mx.array, t):
            a = mx.where(m, x, [0.0])
            b = mx.concatenate([x, [0, 1]])
            c = mx.reshape(x, (1, -1))
            d = mx.pad(x, [(0, 0), (1, 1)])
            return maximum(t, (0.5, 1.0))
        """
    message = "Numeric literal `{}` used as an array: build it with an explicit dtype"
    assert findings(source) == [
        ("EL404", 4, 24, message.format("[0.0]"), None),
        ("EL404", 5, 28, message.format("[0, 1]"), None),
        ("EL404", 8, 24, message.format("(0.5, 1.0)"), None),  # positions exclude a tuple's parentheses
    ]


def test_strict_only_codes_are_off_in_recommended():
    from emberlint.config import Config
    from emberlint.engine import lint_source

    source = "import mlx.core as mx\neps = 1e-8\ndef f(x: mx.array):\n    return mx.where(x > 0, x + eps, [0.0])\n"
    codes = {f.code for f in lint_source(source, "t.py", Config()).findings}
    assert "EL403" not in codes and "EL404" not in codes
    # issue 14: EL401 and EL402 are strict-only policies (measured precision on real code below 0.8)
    cast = "import mlx.core as mx\nx = mx.zeros(3).astype(mx.float16)\n"
    assert {f.code for f in lint_source(cast, "t.py", Config()).findings} & {"EL401", "EL402"} == set()
    severities = {f.code: f.severity.value for f in lint_source(cast, "t.py", Config(profile="strict")).findings}
    assert severities["EL401"] == "error" and severities["EL402"] == "error"
