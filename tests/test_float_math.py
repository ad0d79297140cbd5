"""EL501 (host float math feeding arrays) and EL502 (NumPy in array code)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.linting import findings as _findings
from tests.linting import fixed as _fixed

CODES = ("EL501", "EL502")


def findings(source: str, **changes):
    return _findings(source, CODES, **changes)


def fixed(source: str, unsafe: bool = True) -> str:
    return _fixed(source, CODES, unsafe=unsafe)


def host(text: str, backend: str = "MLX") -> str:
    return (f"Host float math `{text}` feeds an array: Python computes it in float64, then it is rounded again to "
            f"the array dtype; compute it with {backend} on a typed scalar")


def numpy_message(name: str, backend: str = "MLX") -> str:
    return (f"NumPy `{name}(...)` in {backend} array code: computed on the host (float64 for Python data) and "
            f"copied into the array; use the {backend} function")


SOURCE = """\
import math
import numpy as np
import mlx.core as mx
import mlx.nn as nn
GELU_C = math.sqrt(2 / math.pi)
def gelu(x: mx.array):
    return x * GELU_C
def attn(q: mx.array, d: int):
    scale = 1.0 / math.sqrt(d)
    return mx.multiply(q, scale), q * math.log(d)
class Pos(nn.Module):
    def __call__(self, x):
        freqs = np.exp(-np.arange(8) / 8.0)
        return x + mx.array(freqs, dtype=mx.float32)
def host(values):
    return np.sqrt(values)
c = mx.array([math.pi, 1.0], dtype=mx.float32)
n = math.ceil(10 / 3)
"""


def test_positions_and_messages():
    assert findings(SOURCE) == [
        ("EL501", 5, 10, host("math.sqrt(2 / math.pi)"), None),  # the definition of a name used as an operand
        ("EL501", 9, 13, host("1.0 / math.sqrt(d)"), None),
        ("EL501", 10, 39, host("math.log(d)"), False),
        ("EL502", 13, 17, numpy_message("np.exp"), None),  # inside __call__
        ("EL501", 17, 15, host("math.pi"), None),  # a constructor value
    ]


def test_fix_uses_the_operand_dtype_and_is_unsafe():
    after = fixed(SOURCE)
    assert "    return mx.multiply(q, scale), q * mx.log(mx.array(d, dtype=q.dtype))\n" in after
    assert fixed(SOURCE, unsafe=False) == SOURCE  # never applied without --unsafe-fixes


def test_nested_math_is_translated_to_backend_functions():
    source = """\
        import math
        import mlx.core as mx
        def f(x: mx.array):
            return x * math.sqrt(2 / math.pi)
        """
    assert findings(source) == [("EL501", 4, 16, host("math.sqrt(2 / math.pi)"), False)]
    assert fixed(source) == textwrap.dedent("""\
        import math
        import mlx.core as mx
        def f(x: mx.array):
            return x * mx.sqrt(mx.divide(mx.array(2, dtype=x.dtype), mx.array(math.pi, dtype=x.dtype)))
        """)


def test_aliases_torch_and_from_imports():
    source = """\
        from math import pi, sqrt
        import torch as T
        from mlx.core import array
        import mlx.core as core
        def f(t: T.Tensor, a: array):
            u = t * sqrt(3.0)
            return u, core.add(a, -pi)
        """
    assert findings(source) == [
        ("EL501", 6, 13, host("sqrt(3.0)", "PyTorch"), False),
        ("EL501", 7, 27, host("-pi"), False),
    ]
    assert fixed(source) == textwrap.dedent("""\
        from math import pi, sqrt
        import torch as T
        from mlx.core import array
        import mlx.core as core
        def f(t: T.Tensor, a: array):
            u = t * T.sqrt(T.tensor(3.0, dtype=t.dtype, device=t.device))
            return u, core.add(a, core.negative(core.array(pi, dtype=a.dtype)))
        """)


def test_typed_constructor_value_becomes_the_backend_expression():
    source = "import math\nimport mlx.core as mx\nc = mx.array(math.log(10000.0), dtype=mx.float16)\n"
    assert fixed(source) == "import math\nimport mlx.core as mx\nc = mx.log(mx.array(10000.0, dtype=mx.float16))\n"


@pytest.mark.parametrize(
    "source",
    [
        "import math\nimport mlx.core as mx\ndef f(x: mx.array):\n    return mx.reshape(x, (math.ceil(x.shape[0] / 2), -1))",
        "import math\nimport mlx.core as mx\nblocks = math.ceil(10 / 4)\ncount = math.prod((2, 3))",
        "import math\nimport numpy as np\ny = np.ones(3) * math.pi",
        "import math\nimport mlx.core as mx\nok = math.isclose(total, 1.0)",
        "import math\nimport mlx.core as mx\ndef f(x: mx.array, n: int):\n    return x * math.floor(n / 2)",
        # NumPy on the host in loaders: creation, I/O, shape helpers, and math not feeding an array.
        "import numpy as np\nimport mlx.core as mx\ndef load(p):\n    return mx.array(np.load(p), dtype=mx.float32)",
        (
            "import numpy as np\nimport mlx.core as mx\ndef load(raw):\n"
            "    return mx.array(np.frombuffer(raw, dtype=np.float32).reshape(2, 2), dtype=mx.float32)"
        ),
        "import numpy as np\nimport mlx.core as mx\ndef summary(losses):\n    return float(np.mean(losses))",
        "import numpy as np\ndef f(x):\n    return np.exp(x)",
    ],
)
def test_not_reported(source):
    assert findings(source) == []


def test_numpy_flowing_into_arrays():
    source = """\
        import numpy
        import torch
        import mlx.core as core
        def kernel(h, n):
            k = numpy.fft.rfft(h, n)
            return core.array(k, dtype=core.complex64)
        def g(t: torch.Tensor):
            return numpy.sqrt(t), t * numpy.sin(numpy.pi / 8)
        """
    assert findings(source) == [
        ("EL502", 5, 9, numpy_message("numpy.fft.rfft"), None),
        ("EL502", 8, 12, numpy_message("numpy.sqrt", "PyTorch"), None),
        ("EL502", 8, 31, numpy_message("numpy.sin", "PyTorch"), None),
    ]


def test_reference_m2bert_package_is_quiet():
    package = Path(__file__).resolve().parent.parent / "examples" / "m2bert_mlx"
    files = sorted(package.rglob("*.py"))
    if not files:
        pytest.skip("examples/m2bert_mlx is not there")
    from emberlint.config import Config
    from emberlint.engine import lint_source

    for path in files:
        result = lint_source(path.read_text(encoding="utf-8"), str(path), Config(profile="strict"))
        assert [f for f in result.findings if f.code in CODES] == [], path


def test_fixed_constant_matches_host_value_within_one_ulp():
    """The unsafe fix computes in float32 on the device: equal to the host value rounded to float32, or one ulp off."""
    mx = pytest.importorskip("mlx.core")
    np = pytest.importorskip("numpy")
    source = "import math\nimport mlx.core as mx\ndef f(x: mx.array):\n    return x * math.sqrt(2 / math.pi)\n"
    namespace_before: dict = {}
    namespace_after: dict = {}
    exec(compile(source, "before", "exec"), namespace_before)  # noqa: S102 -- the differential check runs both
    exec(compile(fixed(source), "after", "exec"), namespace_after)  # noqa: S102
    x = mx.array([1.0, 3.0, -7.25], dtype=mx.float32)
    before = np.array(namespace_before["f"](x))
    after = np.array(namespace_after["f"](x))
    assert after.dtype == before.dtype == np.float32
    ulps = np.abs(before.view(np.int32).astype(np.int64) - after.view(np.int32).astype(np.int64))
    assert ulps.max() <= 1


def test_parenthesized_operand_and_keyword_argument():
    source = """\
        import math
        import torch
        import mlx.core as mx
        def f(x: mx.array, d: int, t: torch.Tensor):
            y = x * (1.0 / math.sqrt(d))
            return y, torch.clamp(t, max=math.e)
        """
    assert findings(source) == [
        ("EL501", 5, 14, host("1.0 / math.sqrt(d)"), False),  # the position and text exclude the parentheses
        ("EL501", 6, 34, host("math.e", "PyTorch"), False),
    ]
    assert fixed(source) == textwrap.dedent("""\
        import math
        import torch
        import mlx.core as mx
        def f(x: mx.array, d: int, t: torch.Tensor):
            y = x * mx.divide(mx.array(1.0, dtype=x.dtype), mx.sqrt(mx.array(d, dtype=x.dtype)))
            return y, torch.clamp(t, max=torch.tensor(math.e, dtype=t.dtype, device=t.device))
        """)


def test_host_math_reaching_a_constructor_through_a_name_is_reported_at_its_binding():
    from emberlint.config import Config
    from emberlint.engine import lint_source

    source = (
        "import math\nimport mlx.core as mx\ndef f(x: mx.array):\n    c = math.sqrt(2 / math.pi)\n"
        "    return mx.multiply(x, mx.array(c, dtype=mx.float32))\n"
    )
    found = lint_source(source, "t.py", Config(profile="strict", select=("EL501",))).findings
    assert [(f.code, f.start.line, f.start.column) for f in found] == [("EL501", 4, 9)]
