"""EL201/EL202: Python numbers in array math, and the typed-scalar fixer."""

from __future__ import annotations

import libcst as cst
import pytest

from emberlint.fixers.typed_scalar import typed_scalar, typed_scalar_text
from emberlint.scalar_facts import exact_with_operand_dtype
from tests.linting import findings as _findings
from tests.linting import fixed as _fixed

CODES = ("EL201", "EL202")


def findings(source: str, **changes):
    return _findings(source, CODES, **changes)


def fixed(source: str, unsafe: bool = True) -> str:
    return _fixed(source, CODES, unsafe=unsafe)


GELU = """\
import math
import mlx.core as mx

def gelu(x: mx.array) -> mx.array:
    c = math.sqrt(2.0 / math.pi)
    return 0.5 * x * (1.0 + mx.tanh(c * (x + 0.044715 * x ** 3)))
"""


def test_gelu_reports_every_scalar_once():
    assert findings(GELU) == [
        ("EL201", 6, 12, "Python float `0.5` used as an array operand of `*`; use a typed scalar "
         "`mx.array(0.5, dtype=x.dtype)`", False),
        ("EL201", 6, 23, "Python float `1.0` used as an array operand of `+`; use a typed scalar "
         "`mx.array(1.0, dtype=mx.float32)`", False),
        ("EL201", 6, 37, "Python float `c` used as an array operand of `*`; use a typed scalar "
         "`mx.array(c, dtype=mx.float32)`", False),
        ("EL201", 6, 46, "Python float `0.044715` used as an array operand of `*`; use a typed scalar "
         "`mx.array(0.044715, dtype=mx.float32)`", False),
        ("EL201", 6, 62, "Python int `3` used as an array operand of `**`; use a typed scalar "
         "`mx.array(3, dtype=x.dtype)`", False),
    ]
    assert fixed(GELU).splitlines()[-1] == (
        "    return mx.array(0.5, dtype=x.dtype) * x * (mx.array(1.0, dtype=mx.float32) + mx.tanh("
        "mx.array(c, dtype=mx.float32) * (x + mx.array(0.044715, dtype=mx.float32) * x ** mx.array(3, dtype=x.dtype))))"
    )
    # Every fix is unsafe (x's dtype is unknown): nothing changes without --unsafe.
    assert fixed(GELU, unsafe=False) == GELU


def test_issue_examples():
    src = """\
    import mlx.core as mx

    def f(s, h, k_fwd_f: mx.array, k_rev_f: mx.array):
        w = mx.random.normal(s) * 0.02
        h_norm = mx.linalg.norm(h, axis=-1, keepdims=True)
        y = mx.random.normal((3,))
        return w, h / (h_norm + 1e-8), mx.power(y, 3), (k_fwd_f + k_rev_f) / 2
    """
    got = [(code, line, col, safe) for code, line, col, _, safe in findings(src)]
    assert got == [("EL201", 4, 31, False), ("EL201", 7, 29, True), ("EL202", 7, 48, True), ("EL201", 7, 74, False)]
    assert fixed(src, unsafe=False).splitlines()[-1] == (
        "    return w, h / (h_norm + mx.array(1e-8, dtype=h_norm.dtype)), mx.power(y, mx.array(3, dtype=y.dtype)), "
        "(k_fwd_f + k_rev_f) / 2"
    )


def test_aliases_and_from_imports():
    src = """\
    import mlx.core as core
    from mlx import core as mx2
    from mlx.core import array, multiply
    import torch as T
    from torch import tensor
    import torch.nn.functional as F

    def f(x: core.array, y: mx2.array, z: array, t: T.Tensor):
        a = x * 0.5
        b = mx2.maximum(y, 0)
        c = multiply(z, 2.0)
        d = T.add(t, 1e-6)
        e = F.leaky_relu(t, 0.2) + 1
        return a, b, c, d, e, tensor(0.5)
    """
    assert findings(src) == [
        ("EL201", 9, 13, "Python float `0.5` used as an array operand of `*`; use a typed scalar "
         "`core.array(0.5, dtype=x.dtype)`", False),
        ("EL202", 10, 24, "Python int `0` passed to `mx2.maximum` as an array operand; use a typed scalar "
         "`core.array(0, dtype=y.dtype)`", False),
        ("EL202", 11, 21, "Python float `2.0` passed to `multiply` as an array operand; use a typed scalar "
         "`core.array(2.0, dtype=z.dtype)`", False),
        ("EL202", 12, 18, "Python float `1e-6` passed to `T.add` as an array operand; use a typed scalar "
         "`T.tensor(1e-6, dtype=t.dtype, device=t.device)`", False),
        ("EL201", 13, 32, "Python int `1` used as an array operand of `+`; use a typed scalar "
         "`T.tensor(1, dtype=T.int32)`", False),
    ]


def test_compound_python_number_is_one_finding():
    src = """\
    import mlx.core as mx

    def f(x: mx.array, mu: float):
        return x * (1 - mu)
    """
    assert findings(src) == [
        ("EL201", 4, 17, "Python float `1 - mu` used as an array operand of `*`; use a typed scalar "
         "`mx.array(1 - mu, dtype=x.dtype)`", False),
    ]


def test_safe_fixes_with_known_float_operands():
    src = """\
    import torch

    def f(n: int):
        y = torch.randn(4).to(torch.float16)
        scale = float(n)
        z = torch.randn(4)
        return y / scale, torch.where(z > 0, z, 0.0), z.clamp(min=1e-6)
    """
    assert fixed(src, unsafe=False).splitlines()[-1] == (
        "    return y / torch.tensor(scale, dtype=y.dtype, device=y.device), "
        "torch.where(z > 0, z, torch.tensor(0.0, dtype=z.dtype, device=z.device)), "
        "z.clamp(min=torch.tensor(1e-6, dtype=z.dtype, device=z.device))"
    )


def test_integer_operand_with_float_number_is_unsafe():
    src = """\
    import mlx.core as mx

    def f():
        i = mx.arange(4, dtype=mx.int32)
        m = mx.zeros((4,), dtype=mx.bool_)
        return i * 0.5, i + 1, m + 1
    """
    # `i + 1`: a Python int with an int32 array cannot round or promote (issue 14): not reported
    assert [(col, safe) for _, _, col, _, safe in findings(src)] == [(16, False), (32, False)]


def test_module_methods_and_augmented_assignment():
    src = """\
    import mlx.core as mx
    import mlx.nn as nn

    class Block(nn.Module):
        def __init__(self, dims: int):
            super().__init__()
            self.proj = nn.Linear(dims, dims * 4)
            self.norm = nn.LayerNorm(dims, eps=1e-12)
            self.scale = dims ** -0.5

        def __call__(self, x, mask):
            h = self.proj(x) * self.scale
            h = mx.where(mask, h, -1e9)
            x *= 2.0
            y = x[:, : x.shape[1] - 1] + x[..., 0]
            return mx.softmax(h, axis=-1) + y
    """
    assert [(code, line, col) for code, line, col, _, _ in findings(src)] == [
        ("EL201", 12, 28), ("EL202", 13, 31), ("EL201", 14, 14),
    ]


NEVER = [
    "def f(n: int):\n    return n * 4",
    "banner = '=' * 70",
    "flag = False",
    "def f(b: int):\n    return mx.zeros((b, 4))",
    "def f(x: mx.array, n: int):\n    return x[: n - 1] + x[..., 0]",
    "def f(x: mx.array, b: int):\n    return x.reshape(b, -1)",
    "def f(x: mx.array):\n    return mx.sum(x, axis=-1, keepdims=True) + mx.mean(x, 0)",
    "def f(x: mx.array):\n    return mx.pad(x, [(0, 0), (1, 1)])",
    "def f(x: mx.array):\n    return mx.transpose(x, (0, 2, 1))",
    "def f(x: mx.array):\n    return mx.split(x, 2, axis=1)",
    "def f(x: mx.array):\n    return mx.expand_dims(x, 0), mx.squeeze(x, 1)",
    "def f(x: mx.array):\n    return mx.tile(x, (2, 1)), mx.broadcast_to(x, (4, 3))",
    "def f(x: mx.array, w: mx.array, b: mx.array):\n    return mx.fast.layer_norm(x, w, b, 1e-5)",
    "def f(x: mx.array, w: mx.array):\n    return mx.fast.rms_norm(x, w, eps=1e-6)",
    "def f(q, k, v):\n    return mx.fast.scaled_dot_product_attention(q, k, v, scale=0.125)",
    "def f(x: mx.array):\n    return mx.fast.rope(x, 64, traditional=False, base=10000.0, scale=1.0, offset=0)",
    "def f(x: mx.array):\n    return mx.round(x, decimals=2), mx.topk(x, 5)",
    "def f(x: mx.array):\n    return mx.random.normal(x.shape, scale=0.02)",
    "def f(x: mx.array):\n    return mx.full(x.shape, 0.5), mx.array(0.5, dtype=x.dtype)",
    "import mlx.nn as nn\nlayer = nn.Linear(128, 256)\nnorm = nn.LayerNorm(64, eps=1e-12)",
    "def f(mx, x):\n    return mx.maximum(x, 0)",
    "def f(x: mx.array):\n    mx = object()\n    return mx.maximum(x, 0)",
]


@pytest.mark.parametrize("body", NEVER)
def test_never_reported_mlx(body):
    assert findings("import mlx.core as mx\n" + body + "\n") == []


TORCH_NEVER = [
    "def f(x: torch.Tensor):\n    return F.pad(x, (1, 1), value=0.0)",
    "def f(x: torch.Tensor):\n    return torch.cat([x, x], 1).transpose(0, 1)",
    "def f(x: torch.Tensor):\n    return F.one_hot(x, num_classes=10), F.softmax(x, -1), F.dropout(x, 0.1)",
    "def f(x: torch.Tensor):\n    return F.conv1d(x, x, stride=2, padding=1, dilation=1, groups=1)",
    "def f(x: torch.Tensor):\n    return F.layer_norm(x, (4,), eps=1e-5), F.leaky_relu(x, 0.2)",
    "conv = torch.nn.Conv1d(4, 8, kernel_size=3)",
    "def f(x: torch.Tensor):\n    return torch.sum(x, 0) + torch.zeros(3, 4)",
    "def f(x: torch.Tensor, w: torch.Tensor):\n    return F.softmin(x, 1), F.huber_loss(x, w, 'mean', 0.5)",
    "def f(x: torch.Tensor):\n    torch._foreach_add_([x], 1e-8)",
    "def f(x: torch.Tensor, w: torch.Tensor):\n    return torch.conv1d(x, w, None, 1, 0, 1, 1)",
]


@pytest.mark.parametrize("body", TORCH_NEVER)
def test_never_reported_torch(body):
    assert findings("import torch\nimport torch.nn.functional as F\n" + body + "\n") == []


def test_file_without_backend_import():
    assert findings("def f(x):\n    return x * 0.5 + max(x, 0)\n") == []
    assert findings("import numpy as np\na = np.ones(3) * 2.0\n") == []


def test_user_exempt_apis_merge():
    src = "import mlx.core as mx\ndef f(x: mx.array):\n    return mx.clip(x, 0.0, 1.0)\n"
    assert [col for _, _, col, _, _ in findings(src)] == [23, 28]
    assert findings(src, exempt_apis=(("mlx.core.clip", ("1", "2")),)) == []
    found = findings(src, exempt_apis=(("mlx.core.clip", ("1", "a_max")),))
    assert [col for _, _, col, _, _ in found] == [28]
    found = findings(src, exempt_apis=(("mlx.core.clip", ("a_max",)),))
    assert [col for _, _, col, _, _ in found] == [23, 28]  # a_max is positional here


def test_missing_backend_import_is_added_for_the_fix():
    src = "from mlx.core import array\ndef f(x: array):\n    return x * 0.5\n"
    assert fixed(src) == "from mlx.core import array\nimport mlx.core as mx\ndef f(x: array):\n" \
        "    return x * mx.array(0.5, dtype=x.dtype)\n"


def test_typed_scalar_nodes():
    code = cst.Module([]).code_for_node
    x = cst.parse_expression("self.x")
    assert code(typed_scalar(cst.Float("0.5"), "mx", "mlx", cst.parse_expression("self.x.dtype"))) == \
        "mx.array(0.5, dtype=self.x.dtype)"
    assert code(typed_scalar(cst.parse_expression("(1e-8)"), "T", "torch", cst.parse_expression("T.float16"),
                             cst.Attribute(x, cst.Name("device")))) == \
        "T.tensor(1e-8, dtype=T.float16, device=self.x.device)"


@pytest.mark.parametrize("value,backend,dtype,device", [
    ("0.5", "mlx", "self.x.dtype", None), ("-1e-08", "mlx", "mx.float32", None), ("2 ** -3", "mlx", "y.dtype", None),
    ("1e-8", "torch", "T.float16", "self.x.device"), ("3", "torch", "x.dtype", None), ("(1.5)", "mlx", "x.dtype", None),
])
def test_typed_scalar_text_is_the_code_of_the_node(value, backend, dtype, device):
    """Messages show ``typed_scalar_text`` and fixes write the node: the two must agree."""
    code = cst.Module([]).code_for_node
    node = typed_scalar(cst.parse_expression(value), "T" if backend == "torch" else "mx", backend,
                        cst.parse_expression(dtype), device and cst.parse_expression(device))
    bare = value[1:-1] if value.startswith("(") else value
    assert typed_scalar_text(bare, "T" if backend == "torch" else "mx", backend, dtype, device) == code(node)


@pytest.mark.parametrize("array,number,exact", [
    ("float", "float", True), ("float", "int", True), ("complex", "float", True), ("complex", "complex", True),
    ("int", "int", True), ("int", "float", False), ("bool", "int", False), (None, "float", False),
    ("float", "complex", False),
])
def test_exactness_table(array, number, exact):
    assert exact_with_operand_dtype(array, number) is exact


def test_exactness_matches_mlx():
    mx = pytest.importorskip("mlx.core")
    families = {mx.float16: "float", mx.bfloat16: "float", mx.float32: "float", mx.int32: "int", mx.uint8: "int",
                mx.bool_: "bool"}
    for dtype, family in families.items():
        x = mx.array([1, 2, 3]).astype(dtype)
        for number in (2, 0.5):
            weak = x * number
            typed = x * mx.array(number, dtype=x.dtype)
            same = weak.dtype == typed.dtype and weak.tolist() == typed.tolist()
            assert same is exact_with_operand_dtype(family, type(number).__name__), (dtype, number)
