"""Before/after texts of the operator fixer (EL301) and of the whole strict profile on the transcript patterns."""

from __future__ import annotations

import libcst as cst
import pytest

from emberlint.config import Config
from emberlint.engine import lint_text
from emberlint.fixing import fix_text
from emberlint.model import Position

EL301 = Config(profile="strict", select=("EL301",))
STRICT = Config(profile="strict")
# Parameters are only assumed arrays; copying them with ``mx.array`` proves it, so the operator fixes are safe.
HEAD = (
    "import mlx.core as mx\n\ndef f(a_in: mx.array, b_in: mx.array, c_in: mx.array):\n"
    "    a, b, c = mx.array(a_in), mx.array(b_in), mx.array(c_in)\n"
)


def fixed(source: str, config: Config = EL301, unsafe: bool = False) -> str:
    outcome = fix_text(source, "case.py", config, unsafe=unsafe)
    cst.parse_module(outcome.text)
    assert fix_text(outcome.text, "case.py", config, unsafe=unsafe).text == outcome.text, "not idempotent"
    return outcome.text


BODY_CASES = [
    # nested precedence: every operand keeps its grouping in the call form
    ("return a - (b - c)", "return mx.subtract(a, mx.subtract(b, c))"),
    ("return (a - b) - c", "return mx.subtract(mx.subtract(a, b), c)"),
    ("return -(a + b)", "return mx.negative(mx.add(a, b))"),
    ("return a ** -b", "return mx.power(a, mx.negative(b))"),
    ("return -a ** b", "return mx.negative(mx.power(a, b))"),
    ("return (a + b) * c", "return mx.multiply(mx.add(a, b), c)"),
    ("return a + b * c", "return mx.add(a, mx.multiply(b, c))"),
    ("return a / b / c", "return mx.divide(mx.divide(a, b), c)"),
    ("return a @ b.T % c", "return mx.remainder(mx.matmul(a, b.T), c)"),
    ("return ~(a & b)", "return mx.bitwise_invert(mx.bitwise_and(a, b))"),
    # parentheses a call does not need go (the operands' and the operation's own)
    ("return (a * b).sum()", "return mx.multiply(a, b).sum()"),
    ("return a * b, (a / c)", "return mx.multiply(a, b), mx.divide(a, c)"),
    ("return(a * b)", "return mx.multiply(a, b)"),
    ("return mx.maximum((a), (b))[0] @ c", "return mx.matmul(mx.maximum((a), (b))[0], c)"),
    ("return (x := a) * b", "return mx.multiply(x := a, b)"),
    ("return (a if c else b) * b", "return mx.multiply(a if c else b, b)"),
    # formatting and comments around the expression
    ("y = (a  *  b)  # scale\n    return y", "y = mx.multiply(a, b)  # scale\n    return y"),
    # a multi-line operation keeps its line breaks: one argument per line (issue 12)
    ("total = (a +\n             b +\n             c)\n    return total",
     "total = mx.add(\n        mx.add(\n            a,\n            b,\n        ),\n        c,\n    )\n    return total"),
    # a comment at the operator: the line break stays where it was, continuation lines keep their columns
    ("return (\n        a  # left\n        * b  # right\n    )", "return (\n        mx.multiply(a,  # left\n        b)  # right\n    )"),
    ("return (a *  # times\n            b)", "return mx.multiply(a,  # times\n            b)"),
    ("return (-  # neg\n            a)", "return mx.negative(  # neg\n            a)"),
    ("return ((a  # inner\n             + b) * c)",
     "return mx.multiply(\n        mx.add(a,  # inner\n                 b),\n        c,\n    )"),
    # a comment inside the parentheses keeps them
    ("return (a * b  # product\n    )", "return (mx.multiply(a, b)  # product\n    )"),
    ("return 2 * (a - 1.5)", "return mx.multiply(2, mx.subtract(a, 1.5))"),
    # augmented assignment is unsafe: untouched without --unsafe-fixes
    ("a *= b\n    return a", "a *= b\n    return a"),
    ("a -= b * c; return a", "a -= mx.multiply(b, c); return a"),
]


@pytest.mark.parametrize("before,after", BODY_CASES, ids=[b.split("\n")[0][:40] for b, _ in BODY_CASES])
def test_operator_fix(before: str, after: str):
    assert fixed(HEAD + "    " + before + "\n") == HEAD + "    " + after + "\n"


@pytest.mark.parametrize("before,after", [
    ("a *= b\n    return a", "a = mx.multiply(a, b)\n    return a"),
    ("a -= b * c; return a", "a = mx.subtract(a, mx.multiply(b, c)); return a"),
    ("a **= 2\n    return a", "a = mx.power(a, 2)\n    return a"),
])
def test_augmented_assignment_with_unsafe(before: str, after: str):
    assert fixed(HEAD + "    " + before + "\n", unsafe=True) == HEAD + "    " + after + "\n"


@pytest.mark.parametrize("before,after", [
    (
        "import mlx.core as core\n\ndef f(a: core.array, b: core.array):\n    return a * b\n",
        "import mlx.core as core\n\ndef f(a: core.array, b: core.array):\n    return core.multiply(a, b)\n",
    ),
    (
        "import torch as T\n\ndef f(a: T.Tensor, b: T.Tensor):\n    return a - b * -a\n",
        "import torch as T\n\ndef f(a: T.Tensor, b: T.Tensor):\n    return T.sub(a, T.mul(b, T.neg(a)))\n",
    ),
    (
        "import mlx.core\n\ndef f(a: mlx.core.array, b: mlx.core.array):\n    return a / b\n",
        "import mlx.core\n\ndef f(a: mlx.core.array, b: mlx.core.array):\n    return mlx.core.divide(a, b)\n",
    ),
    (  # a directly imported function is used as is; the others need the module, which is imported
        "from mlx.core import array, multiply\n\ndef f(a: array, b: array):\n    return a * b + b\n",
        "from mlx.core import array, multiply\nimport mlx.core as mx\n\ndef f(a: array, b: array):\n"
        "    return mx.add(multiply(a, b), b)\n",
    ),
    (
        "from mlx.core import array, multiply as mul, subtract\n\ndef f(a: array, b: array):\n    return a * b - a\n",
        "from mlx.core import array, multiply as mul, subtract\n\ndef f(a: array, b: array):\n"
        "    return subtract(mul(a, b), a)\n",
    ),
    (  # a local rebinding of the imported name shadows it: fall back to the module
        "from mlx.core import array, multiply\nimport mlx.core as mx\n\ndef f(a: array, b: array, multiply=None):\n"
        "    return a * b\n",
        "from mlx.core import array, multiply\nimport mlx.core as mx\n\ndef f(a: array, b: array, multiply=None):\n"
        "    return mx.multiply(a, b)\n",
    ),
    (  # no module import yet: added after the existing imports
        "from mlx.core import array\nimport numpy as np\n\ndef f(a: array, b: array):\n    return a * b\n",
        "from mlx.core import array\nimport numpy as np\nimport mlx.core as mx\n\ndef f(a: array, b: array):\n"
        "    return mx.multiply(a, b)\n",
    ),
    (
        '"""Doc."""\nfrom mlx.core import array\n\nX = 1\n\ndef f(a: array, b: array):\n    return a * b\n',
        '"""Doc."""\nfrom mlx.core import array\nimport mlx.core as mx\n\nX = 1\n\ndef f(a: array, b: array):\n'
        "    return mx.multiply(a, b)\n",
    ),
])
def test_aliases_and_imports(before: str, after: str):
    # The annotated parameters are assumed arrays, so the fix is unsafe; what is tested is how the callee is spelled.
    assert fixed(before, unsafe=True) == after


GELU = ("import math\nimport mlx.core as mx\n\ndef gelu(x_in: mx.array):\n    x = mx.array(x_in)\n"
        "    return 0.5 * x * (1.0 + mx.erf(x / math.sqrt(2.0)))\n")
INIT = "import mlx.core as mx\n\ndef init(shape):\n    return mx.random.normal(shape) * 0.02\n"
NORM = ("import mlx.core as mx\n\ndef norm(h_in: mx.array):\n    h = mx.array(h_in)\n"
        "    h_norm = mx.linalg.norm(h, axis=-1, keepdims=True)\n    return h / (h_norm + 1e-8)\n")


@pytest.mark.parametrize("source,after", [
    (GELU, "return mx.multiply(mx.multiply(0.5, x), mx.add(1.0, mx.erf(mx.divide(x, math.sqrt(2.0)))))"),
    (INIT, "return mx.multiply(mx.random.normal(shape), 0.02)"),
    (NORM, "return mx.divide(h, mx.add(h_norm, 1e-8))"),
])
def test_transcript_patterns_el301(source: str, after: str):
    assert fixed(source).splitlines()[-1].strip() == after


@pytest.mark.parametrize("source,unsafe,after", [
    (GELU, False, "return mx.multiply(mx.multiply(0.5, x), mx.add(1.0, mx.erf(mx.divide(x, math.sqrt(2.0)))))"),
    (GELU, True, "return mx.multiply(mx.multiply(mx.array(0.5, dtype=x.dtype), x), mx.add(mx.array(1.0, "
                 "dtype=mx.float32), mx.erf(mx.divide(x, mx.sqrt(mx.array(2.0, dtype=x.dtype))))))"),
    (INIT, False, "return mx.multiply(mx.random.normal(shape, dtype=mx.float32), 0.02)"),
    (INIT, True, "return mx.multiply(mx.random.normal(shape, dtype=mx.float32), mx.array(0.02, dtype=mx.float32))"),
    # h_norm is proven a float array (mx.linalg.norm), so its typed 1e-8 is exact: safe
    (NORM, False, "return mx.divide(h, mx.add(h_norm, mx.array(1e-8, dtype=h_norm.dtype)))"),
    (NORM, True, "return mx.divide(h, mx.add(h_norm, mx.array(1e-8, dtype=h_norm.dtype)))"),
])
def test_transcript_patterns_strict(source: str, unsafe: bool, after: str):
    """Every rule on: the operator, scalar and dtype fixers together reach one fixed point."""
    result = fixed(source, STRICT, unsafe=unsafe)
    assert result.splitlines()[:-1] == source.splitlines()[:-1]
    assert result.splitlines()[-1].strip() == after


@pytest.mark.parametrize("before", [
    "import mlx.core as mx\n\x0c\n# caf\u2028e \x85\ndef f(a: mx.array, b: mx.array):\n    return a * b\n",
    "import mlx.core as mx\r\rdef f(a: mx.array, b: mx.array):\r    return a * b\r",
    "import mlx.core as mx\r\n\r\ndef f(a: mx.array, b: mx.array):\r\n    return a * b\r\n",
])
def test_edits_land_where_python_counts_lines(before: str):
    """Form feeds, U+2028 and NEL are not line ends for Python or LibCST; lone CR is."""
    assert fixed(before, unsafe=True) == before.replace("a * b", "mx.multiply(a, b)")


def test_a_fix_that_would_write_what_is_there_is_not_offered():
    """EL501 on ``math.pi`` already in a typed scalar: its rewrite is the text itself, so the finding has no fix
    (``fix --unsafe-fixes`` counted it as applied)."""
    source = (
        "import math\nimport mlx.core as mx\n\n\ndef f(x):\n    y = mx.array(x, dtype=mx.float32)\n"
        "    return mx.multiply(y, mx.array(math.pi, dtype=y.dtype))\n"
    )
    result, _ = lint_text(source, "t.py", Config(profile="strict"))
    assert [(f.code, f.start, f.end, f.fix) for f in result.findings] == [
        ("EL501", Position(7, 36), Position(7, 43), None)]


# --- fixes whose code is read off the source equal the fixes built as LibCST nodes ----------------------------
READ_OFF_SOURCE = [
    "mx.zeros((4, 4))", "mx.full((n,), 0.5)", "mx.full((n,), 0.5, stream=None)", "mx.zeros( (4, 4))",
    "mx.zeros((4, 4) )", "mx.zeros((4, 4),)", "mx.full((n,) ,0.5)", "mx.zeros(shape=(n,))", "(mx.zeros((n,)))",
    "mx.zeros(\n        (4, 4)\n    )", "mx.zeros(\n        (4, 4),\n    )",
    "mx.full(\n        (n,),\n        0.5\n    )", "mx.full((n,),\n        0.5\n    )",
    "mx.full(\n        (n,), 0.5\n    )", "mx.full(\n        (n,),\n        0.5,\n    )",
    "mx.zeros(\n        (4,\n         4)\n    )", "mx.zeros(\n        (4, 4)  # shape\n    )",
    "mx.zeros(\n\n        (4, 4)\n    )", "mx.zeros(\n        (4, 4)\n)", "mx.zeros(\n  (4, 4)\n  )",
    "mx.zeros((4, 4)  # shape\n    )", "mx.zeros(\n        (4, 4) \n    )",
    "mx.full(\n        (n,) ,\n        0.5\n    )",
]
OPERATIONS = ["a * b", "(a) * (b)", "(a + b) * b", "a * b[0]", "((a * b))", "a*b", "a * -b", "a  *  b",
              "a * (b  # note\n    )", "a * (\n        b\n    )", "return_value(a * b)", "(a\n     + b) * b",
              "a + b * mx.ones(\n        (2,)\n    )", "(\n        a * b\n    )", "a * (b +\n         a)",
              "(a *\n        b)", "(\n        a\n        * b\n    )", "a * mx.maximum(\n        b,\n\n        a)",
              "a * mx.maximum(\n  b,\n        a)", "(a * mx.ones(len(\"\"\"\n    \"\"\")))",
              "a * mx.maximum(\n\tb, a)"]


def _edits(source: str) -> list:
    result, _ = lint_text(source, "t.py", STRICT, "safe")
    return [(f.code, f.start, f.end, f.fix.edits) for f in result.findings if f.fix is not None]


@pytest.mark.parametrize("call", READ_OFF_SOURCE)
def test_dtype_added_from_the_source_is_the_code_of_the_node(call: str, monkeypatch):
    source = f"import mlx.core as mx\n\n\ndef f(n: int, shape):\n    x = {call}\n    return x\n"
    read = _edits(source)
    monkeypatch.setattr("emberlint.fixers.dtype_kwarg.add_keyword_text", lambda *args: None)
    assert read == _edits(source)
    assert any(code == "EL401" for code, *_ in read)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operator_call_from_the_source_is_the_code_of_the_node(operation: str, monkeypatch):
    source = ("import mlx.core as mx\n\n\ndef f():\n    a = mx.ones((2,), dtype=mx.float32)\n"
              f"    b = mx.zeros((2,), dtype=mx.float32)\n    y = {operation}\n    return y\n")
    read = _edits(source)
    monkeypatch.setattr("emberlint.rules.operators.bare_operator_on_array.binary_call_text", lambda *args: None)
    assert read == _edits(source)
    assert any(code == "EL301" for code, *_ in read)
