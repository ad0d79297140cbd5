"""EL550-EL559: float64 in the compute path of float32 code, and float64 that MLX computes at float32 accuracy."""

from __future__ import annotations

import libcst as cst
from emberlint.scalar_facts import bindings_of
from emberlint.rules._coach import (
    MLX_CORE,
    code_of,
    keyword,
    method_call,
    string_value,
    table,
)

from emberlint.model import Severity
from emberlint.rule import Invalid, Rule


class Float64InCompute(Rule):
    """``mx.float64`` / ``torch.float64`` / ``torch.double`` / ``np.float64`` used as a dtype, ``.double()``, or
    ``dtype="float64"``, inside ``__call__``/``forward`` of a module in a file that otherwise computes in float32.

    Why it matters numerically: one float64 operand promotes everything it touches. In PyTorch the result of
    ``x_float32 * w_float64`` is float64, the next layer's float32 weights meet a float64 activation and raise, or
    (``.double()`` on the input) the whole block runs at half the throughput and twice the memory, on CUDA often
    1/32 of the float32 rate. MLX runs float64 only on the CPU stream (the GPU raises), so a float64 cast inside
    ``__call__`` either fails on the default GPU device or silently moves the graph to the CPU. When the extra
    precision is wanted (a filter evaluated once, an error measurement) it belongs in a named helper outside the
    per-batch path, rounded back to float32 once.

    Fix: keep the compute path in the file's float32 (``x.astype(mx.float32)`` / ``x.float()``), or move the float64
    section into a documented helper called outside ``__call__``/``forward``. Comparisons such as
    ``x.dtype == mx.float64`` are not reported, nor files that never mention float32 (``float32`` or ``.float()``):
    a deliberately float64 module is not "float32 code".
    """

    CODE = "EL550"
    NAME = "float64-in-compute"
    MESSAGE = "{what} in the compute path of float32 code promotes the activations to float64; {how}"
    VALID = [
        ("import mlx.core as mx\nimport mlx.nn as nn\nclass F(nn.Module):\n    def __call__(self, x):\n"
         "        return mx.exp(x) if x.dtype == mx.float64 else mx.exp(x.astype(mx.float32))"),
        ("import mlx.core as mx\nFILTER_DTYPE = mx.float64\ndef filt(z):\n    with mx.stream(mx.cpu):\n"
         "        return z.astype(FILTER_DTYPE).astype(mx.float32)"),
        ("import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return x.float() * 2.0"),
    ]
    INVALID = [
        Invalid(
            "import torch\nimport torch.nn as nn\nclass FFTConv(nn.Module):\n    def forward(self, u, k):\n"
            "        k = k.to(torch.float32)\n        k_f = torch.fft.rfft(k.double(), n=2 * u.shape[-1])\n        return k_f"
        ),
        Invalid(
            "import mlx.core as mx\nimport mlx.nn as nn\nclass Filter(nn.Module):\n    def __call__(self, z):\n"
            "        h = mx.zeros(z.shape, dtype=mx.float32)\n        return mx.add(h, z.astype(mx.float64))"
        ),
    ]

    def _uses_float32(self) -> bool:
        cached = self.__dict__.get("_float32")
        if cached is None:
            source = self.context.source
            cached = "float32" in source or ".float()" in source
            self._float32 = cached
        return cached

    def _how(self) -> str:
        if self.context.imports_backend("mlx"):
            return "use `mx.float32` (MLX runs float64 only on the CPU stream) or move the float64 part to a helper"
        return "use `torch.float32` / `.float()` or move the float64 part out of `forward`"

    def _in_comparison(self) -> bool:
        return any(isinstance(node, cst.Comparison) for node in self.context.ancestors[:-1])

    def _check(self, node: cst.CSTNode, what: str) -> None:
        if self.context.in_compute_method() and self._uses_float32() and not self._in_comparison():
            self.report(node, what=what, how=self._how())

    def visit_Attribute(self, node: cst.Attribute) -> None:
        qualified = self.context.qualified_name(node)
        if qualified not in table()["precision"]["float64_names"]:
            return
        parent = self.context.parent()
        if isinstance(parent, cst.Call) and parent.func is node:
            return  # ``np.float64(x)``: a NumPy scalar, the NumPy-in-compute rules' business
        self._check(node, f"`{code_of(node)}`")

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is not None and method[1] in table()["precision"]["float64_methods"] and not node.args:
            if self.context.qualified_name(node.func) is None and self.context.imports_backend("torch"):
                self._check(node, f"`.{method[1]}()`")
                return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "dtype":
                if string_value(arg.value) in table()["precision"]["float64_strings"]:
                    self._check(arg.value, f"`dtype={code_of(arg.value)}`")


def _precision() -> dict:
    return table()["precision"]


class Float64Transcendental(Rule):
    """An MLX transcendental or fused op (``mx.sin``, ``mx.cos``, ``mx.exp``, ``mx.erf``, ``mx.sigmoid``,
    ``mx.softmax``, ``mx.fast.layer_norm``, ``nn.gelu``, an ``mx.fft`` transform...) applied to a value that is
    visibly float64: ``x.astype(mx.float64)``, ``mx.array(..., dtype=mx.float64)``, a name bound only to such
    values (``FILTER_DTYPE = mx.float64`` is followed), or arithmetic with one. The list of ops is data
    (``precision.float32_accurate_float64`` in ``coach.yaml``), measured op by op against NumPy/SciPy float64 with
    mlx 0.32.4 (``scripts/measure_mlx_float64.py``); ops MLX does evaluate to float64 accuracy (``tanh``, ``log``,
    ``sqrt``, ``power``, ``expm1``, reductions, ``matmul``) are not reported.

    Why it matters numerically: MLX's float64 kernels for these ops round the argument or the internals to float32
    while the result still says ``float64``. Measured on float64 input: ``mx.exp`` relative error 1.9e-6 for
    ``|x| <= 20`` (3e-7 on the M2-BERT filter's decays), ``mx.sin`` absolute error up to 1.9e-6 for arguments up to
    40, ``mx.erf`` 4.8e-7, ``mx.fast.layer_norm`` 2e-6 (7e-7 on M2-BERT activations), against about 1e-16 for a true
    float64 evaluation; ``mx.fft.rfft`` of a float64 array returns complex64. The M2-BERT port moved its Hyena filter
    MLP to float64 because ``sin(10 * linear(z))`` amplifies float32 rounding tenfold; with ``mx.sin`` the float64
    filter would have kept float32 error while looking like float64 in every dtype check and costing the CPU-only
    float64 path.

    Fix: when float64 accuracy is the point, evaluate the op from float64 ``+ - * /`` only (range reduction plus a
    polynomial: the reference port's ``precise_math.sin_float64`` / ``exp_float64``); otherwise compute it in float32
    knowingly (``mx.exp(x.astype(mx.float32))``) and say so. Values whose float64-ness is not visible (parameters,
    attributes, dtype-conditional branches) are not reported.
    """

    CODE = "EL551"
    NAME = "float64-transcendental"
    MESSAGE = ("MLX `{op}` of a float64 value has float32 accuracy (mlx 0.32.4: {error}); the float64 result is not "
               "float64-accurate: use an arithmetic-only float64 implementation or compute it in float32 knowingly")
    SEVERITY = Severity.WARNING
    VALID = [
        # Knowingly float32, rounded back.
        "import mlx.core as mx\nx64 = x.astype(mx.float64)\ny = mx.exp(x64.astype(mx.float32)).astype(mx.float64)",
        # float64-accurate MLX ops.
        "import mlx.core as mx\nz = mx.array(v, dtype=mx.float64)\ny = mx.tanh(z) + mx.log(z) + mx.sqrt(z)",
        # The reference port's dtype dispatch: `phase` is not visibly float64.
        ("import mlx.core as mx\nfrom precise_math import sin_float64\ndef sin(x, freq):\n"
         "    phase = mx.multiply(freq, x)\n    return sin_float64(phase) if x.dtype == mx.float64 else mx.sin(phase)"),
        "import torch\ny = torch.exp(x.to(torch.float64))",
    ]
    INVALID = [
        # The Hyena filter moved to float64 with MLX's own sin/exp (M2-BERT port, first draft).
        Invalid(
            "import mlx.core as mx\nimport mlx.nn as nn\nFILTER_DTYPE = mx.float64\n\n\nclass Sin(nn.Module):\n"
            "    def __init__(self, dim, w=10):\n        super().__init__()\n        self.freq = w * mx.ones((1, dim))\n\n"
            "    def __call__(self, x):\n        freq = self.freq.astype(FILTER_DTYPE)\n"
            "        return mx.sin(mx.multiply(freq, x))\n\n\n"
            "def modulate(t, x, deltas):\n    decay = mx.exp(-t * mx.abs(deltas.astype(FILTER_DTYPE)))\n"
            "    return x * decay",
            count=2,
        ),
        Invalid("import mlx.core as mx\nimport mlx.nn as nn\nh = nn.gelu(mx.array(values, dtype=mx.float64))"),
        Invalid("import mlx.core as mx\ny = mx.fast.layer_norm(x.astype(mx.float64), w, b, 1e-12)"),
    ]

    def _dtype_is_float64(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        if self.context.qualified_name(node) in _precision()["float64_names"]:
            return True
        if isinstance(node, cst.Name) and depth < 4:
            values = [b.value for b in bindings_of(node.value, self.context)]
            return bool(values) and all(v is not None and self._dtype_is_float64(v, depth + 1) for v in values)
        return False

    def is_float64(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """``node`` is visibly an MLX float64 array (see the class docs)."""
        if depth > 8:
            return False
        if isinstance(node, cst.Call):
            return self._call_is_float64(node, depth)
        if isinstance(node, cst.BinaryOperation):
            return any(self.context.is_array(side) and self.is_float64(side, depth + 1)
                       for side in (node.left, node.right))
        if isinstance(node, cst.UnaryOperation):
            return self.is_float64(node.expression, depth + 1)
        if isinstance(node, cst.Subscript):
            return self.is_float64(node.value, depth + 1)
        if isinstance(node, cst.Attribute) and node.attr.value in _precision()["float64_preserving_methods"]:
            return self.is_float64(node.value, depth + 1)
        if isinstance(node, cst.Name):
            bindings = [b for b in bindings_of(node.value, self.context) if b.augmented is None]
            if not bindings or any(b.value is None or b.iterated or b.element is not None for b in bindings):
                return False
            return all(self.is_float64(b.value, depth + 1) for b in bindings)
        return False

    def _call_is_float64(self, node: cst.Call, depth: int) -> bool:
        dtype = keyword(node, "dtype")
        qualified = self.context.qualified_name(node.func)
        if qualified is not None:
            if not qualified.startswith("mlx."):
                return False
            if dtype is not None:
                return self._dtype_is_float64(dtype.value)
            if qualified in _precision()["float64_preserving"] or (
                qualified in _precision()["float32_accurate_float64"] and ".fft." not in qualified
            ):
                return any(a.keyword is None and not a.star and self.is_float64(a.value, depth + 1)
                           for a in node.args)
            return False
        method = method_call(node)
        if method is None:
            return False
        receiver, name = method
        if name == "astype" and node.args:
            return self._dtype_is_float64(node.args[0].value)
        return name in _precision()["float64_preserving_methods"] and self.is_float64(receiver, depth + 1)

    def visit_Call(self, node: cst.Call) -> None:
        facts = _precision()["float32_accurate_float64"]
        qualified = self.context.qualified_name(node.func)
        if qualified in facts:
            operands = [a.value for a in node.args if a.keyword is None and not a.star][:2]
            if any(self.is_float64(operand) for operand in operands):
                self.report(node, op=code_of(node.func), error=facts[qualified])
            return
        method = method_call(node)
        if (qualified is None and method is not None and method[1] in _precision()["float32_accurate_float64_methods"]
                and self.context.imports_backend("mlx") and self.is_float64(method[0])):
            self.report(node, op=f".{method[1]}()", error=facts[f"{MLX_CORE}.{method[1]}"])
