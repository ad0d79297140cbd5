"""EL603 fft-missing-scaling."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules.fft._common import FftRule
from emberlint.syntax import code


class FftMissingScaling(FftRule):
    """An inverse transform with ``norm="forward"`` (which does not divide by ``n``) whose input spectra were
    all computed without any ``1/n``: no ``/ fft_size`` and no ``norm="forward"`` on the forward side.

    Why it matters numerically: ``norm="forward"`` moves the whole ``1/n`` onto the forward transform. Copying
    M2-BERT's ``irfft(u_f * k_f, n=fft_size, norm="forward")`` without its ``k_f = rfft(k, n=fft_size) / fft_size``
    makes the convolution ``n`` times too large (4096x at ``fft_size = 4096``); in float16/bfloat16 that overflows
    to ``inf`` past 65504 and the next LayerNorm turns it into NaN.

    Fix: divide one forward spectrum by ``n`` (``mx.divide(k_f, n)`` / ``k_f / fft_size``), or invert with
    ``norm="backward"``.
    """

    CODE = "EL603"
    NAME = "fft-missing-scaling"
    MESSAGE = ('`{call}` with norm="forward" does not divide by n, and no input spectrum was divided by n '
               '(the result is n times too large); {how}')
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
        def conv(u_f, k, n):
            k_f = mx.fft.rfft(k, n=n, norm="backward")
            return mx.fft.irfft(mx.multiply(u_f, k_f), n=n, norm="forward")
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            def fftconv(u, k, L):
                fft_size = 2 * L
                k_f = torch.fft.rfft(k, n=fft_size, norm="backward")
                u_f = torch.fft.rfft(u, n=fft_size, norm="backward")
                return torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :L]
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL603
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def conv(u, k, n):
                k_f = mx.fft.rfft(k, n=n, norm="backward")
                u_f = mx.fft.rfft(u, n=n, norm="backward")
                return mx.fft.irfft(mx.multiply(u_f, k_f), n=n, norm="forward")
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL603
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        found = self.inverse(node)
        if found is None or self.norm_of(node) != "forward":
            return
        spectra = self.inverse_spectra(node)
        if not spectra or any(s is None or s.scaled for _, s in spectra):
            return
        how = ("divide the kernel spectrum by n (`k_f = torch.fft.rfft(k, n=n) / n`) or invert with "
               '`norm="backward"`' if found[0] == "torch" else
               'divide the kernel spectrum by n (`mx.divide(k_f, n)`) or use `mx.fft.irfft(..., norm="backward")`')
        self.report(node, call=code(node.func), how=how)
