"""EL6xx FFT rules: exact codes, positions, messages and fixes, on snippets and on M2-BERT reconstructions."""

from __future__ import annotations

from tests.coach_support import (
    data_positions,
    findings,
    fixed,
    positions,
    reference_findings,
)

FFTCONV_TORCH = '''import torch
def fftconv_ref(u, k, D):
    seqlen = u.shape[-1]
    fft_size = 2 * seqlen
    k_f = torch.fft.rfft(k, n=fft_size) / fft_size
    u_f = torch.fft.rfft(u.to(dtype=k.dtype), n=fft_size)
    y = torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :seqlen]
    return y + u * D.unsqueeze(-1)
'''


def test_implicit_norm_positions_and_message_torch():
    found = findings(FFTCONV_TORCH, "EL601")
    assert [f[:3] for f in found] == [("EL601", 5, 11), ("EL601", 6, 11)]
    assert found[0][3] == (
        '`torch.fft.rfft` without `norm=`: the implicit "backward" convention leaves the forward transform unscaled '
        'and divides the inverse by n; write `norm="backward"` (or "forward"/"ortho") (PyTorch: '
        '`torch.fft.rfft(..., norm=...)`)'
    )


def test_implicit_norm_message_names_mlx_call():
    found = findings("import mlx.core as mx\ny = mx.fft.irfft(s, n=8)\n", "EL601")
    assert found[0][:3] == ("EL601", 2, 5)
    assert found[0][3].endswith('(MLX: `mx.fft.irfft(..., norm=...)`)')


def test_implicit_norm_fix_adds_backward_and_keeps_trailing_comma():
    source = "import mlx.core as mx\ny = mx.fft.rfft(\n    x,\n    n=8,\n)\n"
    assert fixed(source, "EL601") == (
        'import mlx.core as mx\ny = mx.fft.rfft(\n    x,\n    n=8,\n    norm="backward",\n)\n'
    )
    assert fixed("import torch\nk_f = torch.fft.rfft(k)\n", "EL601") == (
        'import torch\nk_f = torch.fft.rfft(k, norm="backward")\n'
    )


def test_original_fftconv_scaling_is_consistent():
    # The original divides the kernel spectrum once and inverts with norm="forward": no EL602/EL603/EL604.
    assert positions(FFTCONV_TORCH, "EL602", "EL603", "EL604") == []


def test_double_scaling_through_conj_and_unsqueeze():
    source = FFTCONV_TORCH.replace('norm="forward"', 'norm="backward"').replace(
        "    u_f =", "    k_f = k_f + torch.fft.rfft(k, n=fft_size).conj() / fft_size\n    k_f = k_f.unsqueeze(1)\n    u_f ="
    )
    found = findings(source, "EL602")
    assert [f[:3] for f in found] == [("EL602", 9, 9)]
    assert found[0][3] == (
        '`k_f` is already divided by n and `torch.fft.irfft` with norm="backward" divides by n again (the result is '
        'n times too small); invert with `norm="forward"` or drop the division'
    )


def test_double_scaling_forward_norm_on_both_sides():
    source = ('import mlx.core as mx\ndef f(u, k, n):\n    k_f = mx.fft.rfft(k, n=n, norm="forward")\n'
              '    return mx.fft.irfft(mx.multiply(mx.fft.rfft(u, n=n, norm="backward"), k_f), n=n, norm="backward")\n')
    assert positions(source, "EL602") == [("EL602", 4, 12)]


def test_missing_scaling_message_and_unknown_spectra_stay_quiet():
    source = FFTCONV_TORCH.replace(" / fft_size", "")
    found = findings(source, "EL603")
    assert found == [(
        "EL603", 7, 9,
        '`torch.fft.irfft` with norm="forward" does not divide by n, and no input spectrum was divided by n (the '
        'result is n times too large); divide the kernel spectrum by n (`k_f = torch.fft.rfft(k, n=n) / n`) or '
        'invert with `norm="backward"`',
    )]
    # A spectrum passed in as a parameter is not statically visible: nothing to say.
    assert positions("import torch\ndef f(u_f, k_f, n):\n    return torch.fft.irfft(u_f * k_f, n=n, norm='forward')\n",
                     "EL603") == []


def test_circular_wrap_shape_size_and_missing_n():
    source = FFTCONV_TORCH.replace("fft_size = 2 * seqlen", "fft_size = seqlen")
    found = findings(source, "EL604")
    assert [f[:3] for f in found] == [("EL604", 7, 9)]
    assert found[0][3].startswith("FFT convolution of size `n=fft_size`: the product of two length-L spectra")
    assert found[0][3].endswith("pass `n=fft_size` with `fft_size = 2 * L` to every `torch.fft.rfft` and slice `[..., :L]`")
    no_n = ('import mlx.core as mx\ndef f(u, k):\n    return mx.fft.irfft(mx.fft.rfft(u, norm="backward") * '
            'mx.fft.rfft(k, norm="backward"), norm="backward")\n')
    assert findings(no_n, "EL604")[0][3].startswith("FFT convolution of size the input length (no `n=`)")


def test_circular_wrap_near_misses():
    # n from a parameter (not visible), and a padded input without n.
    assert positions("import torch\ndef f(u, k, n):\n    return torch.fft.irfft(torch.fft.rfft(u, n=n) * "
                     "torch.fft.rfft(k, n=n), n=n)\n", "EL604") == []
    assert positions("import torch\ndef f(u, k):\n    return torch.fft.irfft(torch.fft.rfft(u, n=u.shape[-1] + "
                     "k.shape[-1]) * torch.fft.rfft(k, n=u.shape[-1] + k.shape[-1]))\n", "EL604") == []


def test_m2bert_reconstructions():
    assert data_positions("m2bert_torch_original.py", "EL6") == [("EL601", 14, 11), ("EL601", 16, 19), ("EL601", 18, 11)]
    assert data_positions("m2bert_mlx_port_buggy.py", "EL6") == [
        ("EL601", 10, 11), ("EL601", 11, 11), ("EL601", 12, 9), ("EL602", 12, 9), ("EL604", 12, 9),
    ]
    assert data_positions("m2bert_mlx_port_fixed.py", "EL6") == []


def test_reference_mlx_package_is_clean():
    assert reference_findings("EL6") == []


def test_implicit_norm_for_an_mlx_without_norm(monkeypatch):
    from emberlint.rules._coach import table

    monkeypatch.setitem(table()["fft"]["takes_norm"], "mlx", False)
    found = findings("import mlx.core as mx\nk_f = mx.fft.rfft(k, n=8)\ny = mx.fft.irfft(k_f, n=8)\n", "EL601")
    assert found == [
        ("EL601", 2, 7, '`mx.fft.rfft` has no `norm=` in this MLX: it always uses the "backward" convention and leaves '
                        'it unscaled; write any other scaling explicitly (`mx.divide(spectrum, n)`) next to the transform'),
        ("EL601", 3, 5, '`mx.fft.irfft` has no `norm=` in this MLX: it always uses the "backward" convention and '
                        'divides it by n; write any other scaling explicitly (`mx.divide(spectrum, n)`) next to the '
                        'transform'),
    ]
    assert fixed("import mlx.core as mx\nk_f = mx.fft.rfft(k, n=8)\n", "EL601").endswith("rfft(k, n=8)\n")
