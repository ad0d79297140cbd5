"""EL602 fft-double-scaling."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.fft._common import FftRule
from emberlint.syntax import code


class FftDoubleScaling(FftRule):
    """A spectrum already divided by ``n`` (``rfft(k, n=fft_size) / fft_size``, or ``norm="forward"`` on the
    forward transform) inverted by an ``irfft``/``ifft`` that divides by ``n`` again (``norm="backward"``, the
    default).

    Why it matters numerically: the convolution comes out ``n`` times too small, 4096x for M2-BERT's
    ``fft_size = 2 * 2048``. Nothing fails: the values are finite, only tiny; a residual or LayerNorm downstream can
    hide the factor until parity tests against the original fail everywhere by the same ratio, and in float16 the
    extra ``1/n`` can push the result into the subnormal range.

    Fix: scale exactly once. Keep ``/ fft_size`` on the kernel spectrum and invert with ``norm="forward"`` (what
    M2-BERT's ``fftconv_ref`` does), or drop the division and keep the default ``norm="backward"`` inverse.

    Matched but redundant (not reported): ``rfft(k, n=2L) / (2L)`` with ``irfft(..., norm="forward")`` is correct
    and equals the unnormalised pair with a ``norm="backward"`` inverse. When ``2L`` is a power of two the division
    is exact and both give the same bits; otherwise it rounds every kernel-spectrum entry once more (M2-BERT's
    ``tiny-additions-short`` bundle, ``L = 40``). Measured in MLX float32 against a float64 reference, 64 rows: equal
    errors at ``L = 64`` and ``2048``; at ``L = 40`` mean 2.39e-7 vs 2.40e-7, at ``L = 2000`` mean 2.74e-6 vs
    2.70e-6 (max 2.2e-5 vs 1.9e-5). A new port can drop the division and use ``norm="backward"``; a faithful port
    may keep it: the cost is ulp-level, so no rule reports it.
    """

    CODE = "EL602"
    NAME = "fft-double-scaling"
    MESSAGE = ('`{spectrum}` is already divided by n and `{call}` with norm="{norm}" divides by n again (the '
               'result is n times too small); {how}')
    FIX = FixAvailability.NONE
    VALID = [
        """
        import torch
        def fftconv(u, k, L):
            fft_size = 2 * L
            k_f = torch.fft.rfft(k, n=fft_size) / fft_size
            u_f = torch.fft.rfft(u, n=fft_size)
            return torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :L]
        """,
        """
        import mlx.core as mx
        def conv(u, k, n):
            k_f = mx.fft.rfft(k, n=n, norm="backward")
            u_f = mx.fft.rfft(u, n=n, norm="backward")
            return mx.fft.irfft(mx.multiply(u_f, k_f), n=n, norm="backward")
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            def fftconv(u, k, L):
                fft_size = 2 * L
                k_f = torch.fft.rfft(k, n=fft_size, norm="backward") / fft_size
                u_f = torch.fft.rfft(u, n=fft_size, norm="backward")
                return torch.fft.irfft(u_f * k_f, n=fft_size, norm="backward")[..., :L]
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL602
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def conv(u, k, n):
                k_f = mx.divide(mx.fft.rfft(k, n=n, norm="backward"), n)
                u_f = mx.fft.rfft(u, n=n, norm="backward")
                return mx.fft.irfft(mx.multiply(u_f, k_f), n=n)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL602
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        found = self.inverse(node)
        norm = self.norm_of(node) if found else None
        if norm != "backward":
            return
        for factor, spectrum in self.inverse_spectra(node) or []:
            if spectrum is not None and spectrum.scaled:
                how = ('invert with `norm="forward"` or drop the division'
                       if found[0] == "torch" else 'use `mx.fft.irfft(..., norm="forward")` or drop the division')
                self.report(node, spectrum=code(factor), call=code(node.func), norm=norm, how=how)
                return
