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
