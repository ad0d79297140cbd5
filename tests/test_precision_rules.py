"""EL550 float64 in the compute path: exact codes, positions and messages."""

from __future__ import annotations

from tests.coach_support import data_positions, findings, positions, reference_findings

TORCH = '''import torch
import torch.nn as nn
class FFTConv(nn.Module):
    def forward(self, u, k):
        k = k.to(torch.float32)
        k_f = torch.fft.rfft(k.double(), n=2 * u.shape[-1])
        return k_f.to(dtype=torch.float64), torch.zeros(3, dtype="float64")
'''


def test_float64_in_forward_torch():
    found = findings(TORCH, "EL550")
    assert [f[:3] for f in found] == [("EL550", 6, 30), ("EL550", 7, 29), ("EL550", 7, 66)]
    assert found[0][3] == ("`.double()` in the compute path of float32 code promotes the activations to float64; "
                           "use `torch.float32` / `.float()` or move the float64 part out of `forward`")
    assert found[1][3].startswith("`torch.float64` in the compute path")
    assert found[2][3].startswith('`dtype="float64"` in the compute path')


def test_float64_in_call_mlx_message():
    source = ("import mlx.core as mx\nimport mlx.nn as nn\nclass Filter(nn.Module):\n    def __call__(self, z):\n"
              "        return mx.add(mx.zeros(z.shape, dtype=mx.float32), z.astype(mx.float64))\n")
    assert findings(source, "EL550") == [(
        "EL550", 5, 69,
        "`mx.float64` in the compute path of float32 code promotes the activations to float64; use `mx.float32` "
        "(MLX runs float64 only on the CPU stream) or move the float64 part to a helper",
    )]


def test_float64_near_misses():
    # dtype comparisons, float64 outside compute methods, NumPy scalar constructors (EL5xx's), float64-only files.
    source = ("import mlx.core as mx\nimport numpy as np\nimport mlx.nn as nn\nF64 = mx.float64\n"
              "class M(nn.Module):\n    def __call__(self, x):\n        y = mx.exp(x) if x.dtype == mx.float64 else x\n"
              "        return y * np.float64(2.0)\ndef helper(x):\n    return x.astype(mx.float64).astype(mx.float32)\n")
    assert positions(source, "EL550") == []
    only64 = "import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return x.double()\n"
    assert positions(only64, "EL550") == []


def test_m2bert_reconstructions():
    assert data_positions("m2bert_mlx_port_buggy.py", "EL55") == [("EL550", 48, 43)]
    assert data_positions("m2bert_mlx_port_fixed.py", "EL55") == []
    assert data_positions("m2bert_torch_original.py", "EL55") == []


def test_reference_mlx_package_is_clean():
    # The reference port evaluates the Hyena filter in float64 on purpose, in helpers outside __call__.
    assert reference_findings("EL55") == []


EL551_TAIL = ("; the float64 result is not float64-accurate: use an arithmetic-only float64 implementation or compute "
              "it in float32 knowingly")


def test_float64_transcendental_positions_and_messages():
    source = ("import mlx.core as mx\nimport mlx.nn as nn\nF64 = mx.float64\nz = mx.arange(10, dtype=F64)\n"
              "a = mx.sin(mx.multiply(w, z))\nb = z.exp() + mx.erf(z.astype(mx.float64))\n"
              "c = mx.fast.layer_norm(z * 2.0, None, None, 1e-12)\nd = nn.gelu(-z[1:])\n"
              "e = mx.fft.rfft(z, n=32, norm=\"backward\")\n")
    assert findings(source, "EL551") == [
        ("EL551", 5, 5, "MLX `mx.sin` of a float64 value has float32 accuracy (mlx 0.32.4: abs. error 1.9e-6 for "
                        "|x| <= 40)" + EL551_TAIL),
        ("EL551", 6, 5, "MLX `.exp()` of a float64 value has float32 accuracy (mlx 0.32.4: rel. error 1.9e-6 for "
                        "|x| <= 20, 1.4e-7 for |x| <= 1)" + EL551_TAIL),
        ("EL551", 6, 15, "MLX `mx.erf` of a float64 value has float32 accuracy (mlx 0.32.4: abs. error 4.8e-7)"
         + EL551_TAIL),
        ("EL551", 7, 5, "MLX `mx.fast.layer_norm` of a float64 value has float32 accuracy (mlx 0.32.4: abs. error "
                        "2.0e-6)" + EL551_TAIL),
        ("EL551", 8, 5, "MLX `nn.gelu` of a float64 value has float32 accuracy (mlx 0.32.4: abs. error 2.6e-7, "
                        "through erf)" + EL551_TAIL),
        ("EL551", 9, 5, "MLX `mx.fft.rfft` of a float64 value has float32 accuracy (mlx 0.32.4: it returns "
                        "complex64)" + EL551_TAIL),
    ]


def test_float64_transcendental_follows_bindings_and_chains():
    source = ("import mlx.core as mx\nFILTER_DTYPE = mx.float64\ndef decay(t, deltas):\n"
              "    rate = -t * mx.abs(deltas.astype(FILTER_DTYPE))\n    return mx.exp(rate)\n")
    assert positions(source, "EL551") == [("EL551", 5, 12)]
    # A name bound to a float64 and to a float32 value is not visibly float64.
    mixed = ("import mlx.core as mx\ndef f(x, flag):\n    y = x.astype(mx.float64)\n    if flag:\n"
             "        y = x.astype(mx.float32)\n    return mx.exp(y)\n")
    assert positions(mixed, "EL551") == []


def test_float64_transcendental_near_misses():
    source = (
        "import mlx.core as mx\nimport torch\nz = mx.array(v, dtype=mx.float64)\n"
        # float64-accurate MLX ops (measured): not reported.
        "a = mx.tanh(z) + mx.log(z) + mx.sqrt(z) + mx.power(z, 2.0) + mx.expm1(z)\n"
        # knowingly float32
        "b = mx.exp(z.astype(mx.float32))\nz32 = z.astype(mx.float32)\nc = mx.sin(z32)\n"
        # unknown dtype (a parameter), a float32 array, PyTorch float64 (accurate)
        "def f(x):\n    return mx.sin(x)\nd = mx.exp(mx.zeros((3,), dtype=mx.float32))\n"
        "e = torch.exp(torch.zeros(3, dtype=torch.float64))\n"
        # a dtype-conditional dispatch (the reference port's Sin)
        "def g(x, phase):\n    return exact(phase) if x.dtype == mx.float64 else mx.sin(phase)\n"
    )
    assert positions(source, "EL551") == []


def test_float64_transcendental_m2bert_data_and_reference():
    from emberlint.rules.precision.float64_transcendental import Float64Transcendental

    assert data_positions("m2bert_mlx_port_buggy.py", "EL551") == []
    assert data_positions("m2bert_mlx_port_fixed.py", "EL551") == []
    # The realistic INVALID example: the Hyena filter moved to float64 with MLX's own sin and exp.
    assert positions(Float64Transcendental.INVALID[0].code, "EL551") == [("EL551", 13, 16), ("EL551", 17, 13)]
    # The reference package uses precise_math.sin_float64 / exp_float64 for its float64 filter.
    assert reference_findings("EL551") == []
