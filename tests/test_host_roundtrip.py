"""EL101-EL103: host round trips, with exact codes, positions and messages."""

from __future__ import annotations

import textwrap

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.model import Severity
from emberlint.registry import all_rules

CODES = ("EL101", "EL102", "EL103")


def findings(source: str, profile: str = "strict"):
    result = lint_source(textwrap.dedent(source), "t.py", Config(profile=profile, select=CODES))
    assert not result.errors, result.errors
    return [(f.code, f.start.line, f.start.column, f.message) for f in result.findings if f.code in CODES]


def test_item_inside_float_is_reported_once():
    src = """\
    import torch

    def mse(d: torch.Tensor) -> float:
        return float(torch.mean(d * d).item())
    """
    assert findings(src) == [
        ("EL101", 4, 18, "`.item()` copies a PyTorch array to the host inside compute code; keep it as an array on "
         "the device"),
    ]


def test_all_patterns_with_aliases():
    src = """\
    import mlx.core as core
    import torch as T
    import numpy as onp

    def f(x: core.array, t: T.Tensor, d):
        a = float(T.mean(d * d).item())
        b = float(core.sum(x))
        c = int(t.argmax())
        e = onp.asarray(x)
        g = t.numpy()
        h = bool(core.all(x > 0))
        k = complex(t)
        return x.tolist()
    """
    assert findings(src) == [
        ("EL101", 6, 15, "`.item()` copies a PyTorch array to the host inside compute code; keep it as an array on "
         "the device"),
        ("EL102", 7, 9, "`float(...)` of an MLX array is a host round trip; keep it on the device "
         "(`x.astype(core.float32)`)"),
        ("EL102", 8, 9, "`int(...)` of a PyTorch array is a host round trip; keep it on the device (`x.to(T.int64)`)"),
        ("EL103", 9, 9, "`onp.asarray(...)` copies an MLX array to NumPy inside compute code; keep the math in MLX"),
        ("EL103", 10, 9, "`.numpy()` copies a PyTorch array to NumPy inside compute code; keep the math in PyTorch"),
        ("EL102", 11, 9, "`bool(...)` of an MLX array is a host round trip; keep it on the device (compare with "
         "`core.all`/`core.any` and select with `core.where`)"),
        ("EL102", 12, 9, "`complex(...)` of a PyTorch array is a host round trip; keep it on the device "
         "(`x.to(T.complex64)`)"),
        ("EL101", 13, 12, "`.tolist()` copies an MLX array to the host inside compute code; keep it as an array on "
         "the device"),
    ]


def test_from_imports_and_module_methods():
    src = """\
    from mlx import core as mx
    from mlx.core import array, sum as total
    import mlx.nn as nn

    class Block(nn.Module):
        def __call__(self, x):
            scale = x.max().item()
            return total(x).tolist(), int(array([1, 2]).sum())
    """
    codes = [(code, line, col) for code, line, col, _ in findings(src)]
    assert codes == [("EL101", 7, 17), ("EL101", 8, 16), ("EL102", 8, 35)]


def test_python_values_are_not_reported():
    src = """\
    import mlx.core as mx

    def f(A: mx.array, x: mx.array, cfg):
        n = int(A.shape[0])
        eps = float(cfg.eps)
        k = len(x)
        m = int(x.ndim) + int(x.size)
        items = list(cfg.items())
        return n, eps, k, m, items
    """
    assert findings(src) == []


def test_shadowing_and_module_level_code():
    src = """\
    import mlx.core as mx

    x = mx.ones(3)
    print(float(mx.sum(x)), x.tolist())

    def f(mx, y):
        return float(mx.sum(y))

    def g(x: mx.array):
        float = mx.sum
        return float(x)
    """
    assert findings(src) == []


def test_file_without_backend_import():
    src = """\
    import numpy as np

    def f(x):
        return x.item(), float(x), np.asarray(x).tolist()
    """
    assert findings(src) == []


def test_numpy_of_python_data_is_not_reported():
    src = """\
    import mlx.core as mx
    import numpy as np

    def load(data: list):
        return mx.array(np.asarray(data)), np.array([1.0, 2.0])
    """
    assert findings(src) == []


def test_severity_is_error_in_recommended_profile():
    rules = {rule.CODE: rule for rule in all_rules()}
    for code in CODES:
        assert rules[code].SEVERITY is Severity.ERROR
    # issue 14: in the recommended profile EL1xx reports only on the compute path (forward/__call__)
    src = "import torch\nclass M(torch.nn.Module):\n    def forward(self, x: torch.Tensor):\n        return x.item()\n"
    result = lint_source(src, "t.py", Config(profile="recommended"))
    assert [(f.code, f.severity) for f in result.findings if f.code in CODES] == [("EL101", Severity.ERROR)]
