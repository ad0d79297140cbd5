"""EL7xx device and graph rules and EL910 silent fallbacks: exact codes, positions and messages."""

from __future__ import annotations

from tests.coach_support import data_positions, findings, positions, reference_findings

HYENA_FORWARD = '''import torch
import torch.nn as nn
class HyenaFilter(nn.Module):
    def forward(self, x, L):
        k = self.filter(L).to(x.device)
        y = fftconv_ref(x, k, self.bias)
        return y.cpu()
'''


def test_host_transfer_in_forward_positions_and_message():
    found = findings(HYENA_FORWARD, "EL701")
    assert [f[:3] for f in found] == [("EL701", 5, 13), ("EL701", 7, 16)]
    assert found[0][3] == (
        "`.to(x.device)` inside `forward` moves data between devices on every call; place the module and inputs "
        "once outside `forward` (`model.to(device)`) and drop the move"
    )
    assert found[1][3].startswith("`.cpu()` inside `forward`")


def test_host_transfer_near_misses():
    # dtype-only .to(), moves outside forward, and .numpy() (EL103's) are not EL701.
    source = ("import torch\nclass M(torch.nn.Module):\n    def forward(self, u):\n"
              "        return u.to(torch.float32).numpy()\nmodel = M().to('cuda')\n")
    assert positions(source, "EL701") == []


def test_tensor_without_device():
    source = ("import torch\nclass PE(torch.nn.Module):\n    def __init__(self, device):\n"
              "        self.t = torch.linspace(0, 1, 8, device=device)\n    def forward(self, L):\n"
              "        w = torch.arange(L)\n        return torch.zeros_like(w) + torch.ones(L, device=self.t.device)\n")
    found = findings(source, "EL702")
    assert found == [("EL702", 6, 13, "`torch.arange(...)` without `device=` in `forward` makes a CPU tensor in code "
                      "that uses a device; pass `device=x.device` (and `dtype=x.dtype`) or register a buffer in "
                      "`__init__`")]


def test_multiple_devices_reports_second_device_once():
    source = "import torch\na = x.to('cuda')\nb = y.to('cpu')\nc = z.cuda()\nd = w.to(device='mps')\n"
    found = findings(source, "EL703")
    assert found == [("EL703", 3, 10, "Second device `cpu` in this module (first: `cuda` on line 2); choose the "
                      "device once (a `device` parameter) and pass it everywhere")]
    assert positions("import mlx.core as mx\nmx.set_default_device(mx.gpu)\nwith mx.stream(mx.cpu):\n    y = f(x)\n",
                     "EL703") == [("EL703", 3, 16)]


def test_multiple_devices_near_misses():
    source = ("import torch\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
              "state = torch.load(p, map_location='cpu')\nx = x.to(device)\n")
    assert positions(source, "EL703") == []


def test_eval_in_element_loop():
    source = ("import mlx.core as mx\ndef f(x: mx.array, loader):\n    for i in range(len(x)):\n        mx.eval(x[i])\n"
              "    for batch in loader:\n        mx.eval(batch)\n    for row in x:\n        mx.async_eval(row)\n")
    found = findings(source, "EL704")
    assert [f[:3] for f in found] == [("EL704", 4, 9), ("EL704", 8, 9)]
    assert found[0][3] == ("`mx.eval` inside a loop over `range(len(x))`: one graph evaluation per element; call it "
                           "once after the loop")
    assert found[1][3].startswith("`mx.async_eval` inside a loop over the rows of `x`")


def test_python_loop_over_dimension():
    source = ("import mlx.core as mx\nimport mlx.nn as nn\nclass Mix(nn.Module):\n    def __call__(self, x):\n"
              "        rows = []\n        for i in range(x.shape[0]):\n            rows.append(mx.exp(x[i]))\n"
              "        return mx.stack(rows)\n")
    assert findings(source, "EL705") == [(
        "EL705", 6, 9,
        "Python loop over `range(x.shape[0])` in `__call__` builds `rows` for `mx.stack`; vectorise along the axis "
        "(`axis=` of the op, broadcasting or `mx.vmap`)",
    )]
    # Same loop outside a compute method, or without a stacked list: not reported.
    assert positions(source.replace("__call__", "helper"), "EL705") == []
    assert positions(source.replace("mx.stack(rows)", "rows[0]"), "EL705") == []


def test_silent_fallback():
    source = ("import json\ndef get_config(path):\n    try:\n        return json.load(open(path))\n"
              "    except Exception:\n        return {'layer_norm_eps': 1e-12}\n")
    assert findings(source, "EL910") == [(
        "EL910", 5, 5,
        "`except Exception:` around loading a numerics config falls back silently; catch the specific error and "
        "re-raise the rest (a config that does not parse must not turn into default eps/dtypes)",
    )]
    assert positions(source.replace("except Exception:", "except (ValueError, BaseException):"), "EL910") == [
        ("EL910", 5, 5)
    ]
    assert positions(source.replace("except Exception:", "except FileNotFoundError:"), "EL910") == []
    reraise = source.replace("return {'layer_norm_eps': 1e-12}", "raise")
    assert positions(reraise, "EL910") == []
    # No backend import, but a subclass of some ``*.nn.Module``: its forward's parameters are arrays.
    layer = ("from mypkg.nn import Module\nclass Net(Module):\n    def forward(self, x):\n        try:\n"
             "            return x.sum()\n        except Exception:\n            return x\n")
    assert positions(layer, "EL910") == [("EL910", 6, 9)]
    assert positions(layer.replace("mypkg.nn", "mypkg.layers"), "EL910") == []


def test_m2bert_reconstructions():
    assert data_positions("m2bert_torch_original.py", "EL7") == [("EL701", 70, 17)]
    assert data_positions("m2bert_torch_original.py", "EL91") == [("EL910", 90, 5)]
    assert data_positions("m2bert_mlx_port_buggy.py", "EL7") == [("EL705", 50, 9), ("EL704", 52, 13)]
    assert data_positions("m2bert_mlx_port_buggy.py", "EL91") == [("EL910", 59, 5)]
    assert data_positions("m2bert_mlx_port_fixed.py", "EL7") == []
    assert data_positions("m2bert_mlx_port_fixed.py", "EL91") == []


def test_reference_mlx_package_is_clean():
    assert reference_findings("EL7") == []
    assert reference_findings("EL91") == []


def test_refined_near_misses():
    # A recurrence (RNN-style hidden state) cannot be vectorised: no EL705.
    rnn = ("import mlx.core as mx\nimport mlx.nn as nn\nclass RNN(nn.Module):\n    def __call__(self, x, h):\n"
           "        out = []\n        for t in range(x.shape[1]):\n            h = mx.tanh(x[:, t] + h)\n"
           "            out.append(h)\n        return mx.stack(out, axis=1)\n")
    assert positions(rnn, "EL705") == []
    # A handler that records or logs the caught error is not silent: no EL910.
    recorded = ("import torch\ndef load(m, s, errors):\n    try:\n        m.weight.copy_(torch.as_tensor(s))\n"
                "    except Exception as error:\n        errors.append(error)\n")
    logged = recorded.replace("as error", "").replace("errors.append(error)", "logger.warning('copy failed')")
    assert positions(recorded, "EL910") == [] and positions(logged, "EL910") == []
    # An enumeration of devices is not a placement: no EL703.
    assert positions("import mlx.core as mx\ndevices = [mx.cpu, mx.gpu]\n", "EL703") == []
