"""EL8xx porting pitfalls: exact codes, positions, messages and fixed texts."""

from __future__ import annotations

from tests.coach_support import (
    data_positions,
    findings,
    fixed,
    positions,
    reference_findings,
)


def test_torch_keywords_in_mlx_positions_messages_and_safe_fix():
    source = "import mlx.core as mx\ny = mx.mean(x, dim=-1, keepdim=True)\nz = mx.softmax(y, dim = 1)\n"
    found = findings(source, "EL801")
    assert found == [
        ("EL801", 2, 16, "`dim=` is PyTorch's keyword; MLX's `mx.mean` takes `axis=`"),
        ("EL801", 2, 24, "`keepdim=` is PyTorch's keyword; MLX's `mx.mean` takes `keepdims=`"),
        ("EL801", 3, 19, "`dim=` is PyTorch's keyword; MLX's `mx.softmax` takes `axis=`"),
    ]
    assert fixed(source, "EL801") == (
        "import mlx.core as mx\ny = mx.mean(x, axis=-1, keepdims=True)\nz = mx.softmax(y, axis = 1)\n"
    )


def test_torch_keywords_on_mlx_array_methods_only():
    source = ("import mlx.core as mx\nimport torch\ndef f(a: mx.array, t: torch.Tensor):\n"
              "    return a.sum(dim=0), t.sum(dim=0), torch.cat([t, t], dim=0)\n")
    assert positions(source, "EL801") == [("EL801", 4, 18)]
    assert fixed(source, "EL801") == source  # `a` is only assumed an MLX array (an annotation): unsafe
    assert fixed(source, "EL801", unsafe=True).endswith(
        "return a.sum(axis=0), t.sum(dim=0), torch.cat([t, t], dim=0)\n")


def test_forward_without_call_unsafe_rename():
    source = "import mlx.nn as nn\nclass Sin(nn.Module):\n    def forward(self, x):\n        return x\n"
    assert findings(source, "EL802") == [
        ("EL802", 3, 9, "`Sin` subclasses mlx.nn.Module and defines `forward` but no `__call__`; MLX calls `__call__`")
    ]
    assert fixed(source, "EL802") == source  # unsafe: not applied by default
    assert fixed(source, "EL802", unsafe=True) == source.replace("def forward", "def __call__")


def test_torch_api_in_mlx():
    source = ("import mlx.core as mx\nimport mlx.nn as nn\nclass Sin(nn.Module):\n    def __init__(self, dim):\n"
              "        self.freq = nn.Parameter(mx.ones((1, dim)))\ndef run(model, x, device):\n"
              "    with torch.no_grad():\n        return model(x.to(device)).cuda()\n")
    found = findings(source, "EL803")
    assert [f[:3] for f in found] == [("EL803", 5, 21), ("EL803", 7, 10), ("EL803", 8, 24), ("EL803", 8, 36)]
    messages = {f[3].split(":", 1)[0] for f in found}
    assert messages == {"`nn.Parameter` is PyTorch API in MLX code", "`torch.no_grad` is PyTorch API in MLX code",
                        "`.to()` is PyTorch API in MLX code", "`.cuda()` is PyTorch API in MLX code"}


def test_torch_api_near_miss_conversion_script():
    # A conversion script imports both: torch calls on torch tensors are fine.
    assert positions("import mlx.core as mx\nimport torch\nw = mx.array(t.to('cpu').numpy())\n", "EL803") == []


def test_inplace_ops():
    source = ("import mlx.core as mx\ndef attend(scores: mx.array, mask: mx.array):\n"
              "    scores.masked_fill_(mask, -1e4)\n    return scores.clamp_(0.0, 1.0)\n")
    assert findings(source, "EL804") == [
        ("EL804", 3, 5, "`.masked_fill_(...)` is a PyTorch in-place op; MLX arrays are immutable: use "
                        "`mx.where(mask, value, x)`"),
        ("EL804", 4, 12, "`.clamp_(...)` is a PyTorch in-place op; MLX arrays are immutable: use `mx.clip(x, lo, hi)`"),
    ]


def test_transpose_pair_unsafe_fix():
    source = "import mlx.core as mx\ndef scores(q: mx.array, k: mx.array):\n    return q @ k.transpose(-1, -2)\n"
    assert findings(source, "EL805") == [
        ("EL805", 3, 16, "MLX `transpose` takes a full permutation, not two axes to swap; use `mx.swapaxes(k, -1, -2)`")
    ]
    assert fixed(source, "EL805") == source
    assert fixed(source, "EL805", unsafe=True) == source.replace("k.transpose(-1, -2)", "mx.swapaxes(k, -1, -2)")
    aliased = "from mlx.core import array\ndef f(k: array):\n    return k.transpose(0, 1)\n"
    assert fixed(aliased, "EL805", unsafe=True) == (
        "from mlx.core import array\nimport mlx.core as mx\ndef f(k: array):\n    return mx.swapaxes(k, 0, 1)\n"
    )


def test_gelu_forms():
    mlx_source = "import mlx.nn as nn\na = nn.gelu_approx(x)\nb = nn.GELU(approx='fast')\nc = nn.gelu(x)\n"
    found = findings(mlx_source, "EL806")
    assert [f[:3] for f in found] == [("EL806", 2, 5), ("EL806", 3, 5)]
    assert found[0][3] == ("MLX `nn.gelu_approx` is the tanh approximation of GELU; `nn.gelu` / `nn.GELU()` is the "
                           "exact erf form (PyTorch's default `F.gelu`); keep the approximation only if the original "
                           "model used it (BERT-style `hidden_act=\"gelu\"` is erf)")
    assert found[1][3].startswith('MLX `nn.GELU(approx="fast")` is the sigmoid (fast) approximation of GELU')
    torch_source = "import torch.nn.functional as F\nimport torch.nn as tnn\ny = F.gelu(x, approximate='tanh')\n" \
                   "act = tnn.GELU(approximate='none')\n"
    found = findings(torch_source, "EL806")
    assert [f[:3] for f in found] == [("EL806", 3, 5)]
    assert found[0][3].startswith('PyTorch `F.gelu(approximate="tanh")` is the tanh approximation of GELU; the MLX '
                                  "port must use `nn.gelu_approx`")


def test_conv_weight_layout():
    source = ("import mlx.core as mx\nimport mlx.nn as nn\nfilt = nn.Conv1d(8, 8, 3, groups=8)\n"
              "filt.weight = mx.array(state['filter.weight'])\nmodel.encoder.conv.weight = mx.array(w)\n"
              "model.encoder.conv.weight = mx.swapaxes(mx.array(w), 1, 2)\nfilt.weight = mx.zeros((8, 3, 1))\n")
    found = findings(source, "EL807")
    assert [f[:3] for f in found] == [("EL807", 4, 1), ("EL807", 5, 1)]
    assert found[0][3] == ("`filt.weight` gets a PyTorch conv weight ([out, in/groups, k]) without reordering; MLX "
                           "conv weights are [out, k, in/groups]: use `mx.swapaxes(w, 1, 2)`")


def test_linear_weight_transposed():
    source = ("import mlx.core as mx\nimport mlx.nn as nn\nhead = nn.Linear(768, 2)\nhead.weight = mx.array(w.T)\n"
              "model.out_linear.weight = mx.array(w)\nmodel.conv.weight = mx.swapaxes(mx.array(w), 1, 2)\n")
    assert findings(source, "EL808") == [
        ("EL808", 4, 1, "`head.weight` gets a transposed weight; PyTorch and MLX `nn.Linear` both store [out, in]: "
                        "assign it without the transpose")
    ]


def test_m2bert_reconstructions():
    assert data_positions("m2bert_mlx_port_buggy.py", "EL8") == [
        ("EL803", 19, 21), ("EL802", 21, 9), ("EL805", 31, 31), ("EL806", 32, 13), ("EL801", 33, 27),
        ("EL801", 33, 35), ("EL807", 37, 5), ("EL808", 38, 5),
    ]
    # The torch original keeps torch idioms (nn.Parameter, transpose(-1, -2)): not a port, nothing to report.
    assert data_positions("m2bert_torch_original.py", "EL8") == []
    assert data_positions("m2bert_mlx_port_fixed.py", "EL8") == []


def test_reference_mlx_package_is_clean():
    assert reference_findings("EL8") == []


def test_fixing_the_buggy_port_leaves_only_the_judgement_calls():
    from tests.coach_support import DATA

    source = (DATA / "m2bert_mlx_port_buggy.py").read_text()
    after = fixed(source, unsafe=True)
    assert "def __call__(self, x):" in after and "mx.swapaxes(u, -1, -2)" in after
    assert "mx.mean(z, axis=-1, keepdims=True)" in after and 'mx.fft.irfft(u_f * k_f, n=fft_size, norm="backward")' in after
    assert [p[0] for p in positions(after)] == [
        "EL602", "EL604", "EL803", "EL806", "EL807", "EL808", "EL550", "EL705", "EL704", "EL910",
    ]


def test_transpose_of_a_multiline_receiver_keeps_the_message_on_one_line():
    source = (
        "import mlx.core as mx\n"
        "def sanitize(weights: dict):\n"
        "    w = mx.zeros((2, 3, 4), dtype=mx.float32)\n"
        "    return (w\n        ).transpose(-1, -2), w.transpose(1, 0)\n"
    )
    found = findings(source, "EL805")
    assert [f[:3] for f in found] == [("EL805", 4, 12)]
    assert found[0][3] == ("MLX `transpose` takes a full permutation, not two axes to swap; "
                           "use `mx.swapaxes(x, -1, -2)`")


EL809_MESSAGE = ("`{call}` without `eps` uses the default 1e-5, but this model's config has `layer_norm_eps` "
                 "(BERT: 1e-12); pass `eps={eps}` (or the original's literal eps)")


def test_layer_norm_default_eps_mlx_and_torch():
    mlx = ("import mlx.nn as nn\nclass BertEmbeddings(nn.Module):\n    def __init__(self, config):\n"
           "        super().__init__()\n        self.LayerNorm = nn.LayerNorm(config.hidden_size)\n"
           "        self.out = nn.LayerNorm(config.hidden_size, eps=self.config.layer_norm_eps)\n")
    assert findings(mlx, "EL809") == [
        ("EL809", 5, 26, EL809_MESSAGE.format(call="nn.LayerNorm", eps="self.config.layer_norm_eps")),
    ]
    torch_source = ("import torch\nimport torch.nn.functional as F\nCONFIG = {'layer_norm_eps': 1e-12}\n"
                    "norm = torch.nn.LayerNorm(768, elementwise_affine=True)\n"
                    "def f(x):\n    return F.layer_norm(x, (768,), None, None)\n")
    assert findings(torch_source, "EL809") == [
        ("EL809", 4, 8, EL809_MESSAGE.format(call="torch.nn.LayerNorm", eps="config.layer_norm_eps")),
        ("EL809", 6, 12, EL809_MESSAGE.format(call="F.layer_norm", eps="config.layer_norm_eps")),
    ]


def test_layer_norm_default_eps_near_misses():
    # eps passed (keyword or positional), **kwargs, or no layer_norm_eps in sight (a comment does not count).
    source = ("import mlx.nn as nn\nimport torch\nimport torch.nn.functional as F\n# config.layer_norm_eps\n"
              "a = nn.LayerNorm(8)\nb = torch.nn.LayerNorm(8)\nc = F.layer_norm(x, (8,), None, None)\n")
    assert positions(source, "EL809") == []
    with_field = ("from dataclasses import dataclass\nimport mlx.nn as nn\nimport torch.nn.functional as F\n"
                  "@dataclass\nclass Config:\n"
                  "    layer_norm_eps: float = 1e-12\n"
                  "a = nn.LayerNorm(8, eps=1e-12)\nb = nn.LayerNorm(8, 1e-5)\nc = nn.LayerNorm(8, **kw)\n"
                  "d = F.layer_norm(x, (8,), w, b, 1e-12)\n")
    assert positions(with_field, "EL809") == []
    assert positions(with_field + "e = nn.LayerNorm(8, affine=False)\n", "EL809") == [("EL809", 11, 5)]


def test_layer_norm_default_eps_m2bert_data_and_reference():
    for name in ("m2bert_mlx_port_buggy.py", "m2bert_mlx_port_fixed.py", "m2bert_torch_original.py"):
        assert data_positions(name, "EL809") == []
    # bert.py / mlp.py pass config.layer_norm_eps, heads.py 1e-12 and sequence_mixer.py 1e-5 explicitly.
    assert reference_findings("EL809") == []
