"""EL604 fft-circular-wrap."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules._coach import table
from emberlint.rules.fft._common import FftRule
from emberlint.syntax import argument, code


class FftCircularWrap(FftRule):
    """An FFT convolution (``irfft(rfft(u, n) * rfft(k, n))``) whose FFT size ``n`` is visibly the sequence length
    ``L`` (``n`` omitted, ``n=u.shape[-1]``, or a name bound to a ``.shape`` entry) instead of at least ``2 * L``.

    Why it matters numerically: a length-``n`` DFT product is a *circular* convolution. With ``n = L`` the tail of
    a causal Hyena filter wraps around and adds the last outputs' history into the first positions: output ``t``
    mixes ``u[t + 1 :]``, i.e. the future. The error is not rounding noise; it is as large as the filter's tail
    (M2-BERT's decaying filters keep about 1% at ``t = L``, which is well above float32 epsilon 1.2e-7).

    Fix: zero-pad to at least ``2 * L`` (``fft_size = 2 * L``; ``mx.fft.rfft(u, n=fft_size, axis=1)`` /
    ``torch.fft.rfft(u, n=fft_size)``) and keep the first ``L`` outputs of the inverse, ``[..., :L]``.

    Speed (not reported): an FFT along a non-last axis of a channels-last activation (``mx.fft.rfft(u, axis=1)`` on
    ``(batch, L, channels)``) gives the same values as transforming the contiguous ``(batch, channels, L)`` layout
    but is slower: in the M2-BERT port the whole long convolution took 4.0 s with ``axis=1`` and 3.0 s channels-first
    on CPU at ``L = 8192`` (the FFTs about 1.6x); an ``rfft`` of a ``(4, 8192, 256)`` float32 array with
    ``n = 16384`` takes 0.148 s along ``axis=1`` and 0.078 s along the last axis of the contiguous transpose (mlx
    0.32.4, CPU). For one lone ``rfft`` a ``swapaxes`` right before it recovers little (0.139 s: the copy costs what
    the stride did); the gain comes from running the whole section (both ``rfft``, the product, ``irfft``, the
    slice) on the swapped layout with ``axis=-1``, as the reference port's ``fft_long_conv`` does. Not a rule: the
    axis order of an activation is rarely visible statically.
    """

    CODE = "EL604"
    NAME = "fft-circular-wrap"
    MESSAGE = ("FFT convolution of size {size}: the product of two length-L spectra is a circular convolution and "
               "the filter tail wraps into the first outputs; {how}")
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
        def conv(u, k):
            u = mx.pad(u, [(0, 0), (0, u.shape[1]), (0, 0)])
            return mx.fft.irfft(mx.multiply(mx.fft.rfft(u, axis=1, norm="backward"), k), axis=1, norm="backward")
        """,
        """
        import torch
        def conv(u, k, n):
            return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            def fftconv(u, k):
                seqlen = u.shape[-1]
                fft_size = seqlen
                k_f = torch.fft.rfft(k, n=fft_size, norm="backward") / fft_size
                u_f = torch.fft.rfft(u, n=fft_size, norm="backward")
                return torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL604
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def conv(u, k):
                u_f = mx.fft.rfft(u, axis=1, norm="backward")
                k_f = mx.fft.rfft(k, axis=0, norm="backward")
                return mx.fft.irfft(mx.multiply(u_f, k_f), axis=1, norm="backward")
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL604
            """,
        ),
    ]

    def _is_length(self, node: cst.BaseExpression | None, depth: int = 0) -> bool:
        """True when ``node`` is visibly one sequence length: ``x.shape[i]``, ``len(x)`` or a name bound to one."""
        if node is None or depth > 4:
            return False
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute):
            return node.value.attr.value == "shape"
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len":
            return True
        if isinstance(node, cst.Name):
            values = self._bindings().get(node.value)
            return bool(values) and all(self._is_length(v, depth + 1) for v in values)
        return False

    def _padded(self, node: cst.BaseExpression | None) -> bool:
        """The transform's input was visibly padded/concatenated (its length is not the signal's length)."""
        if isinstance(node, cst.Name):
            return any(self._padded(v) for v in self._bindings().get(node.value, []))
        if isinstance(node, cst.Call):
            qualified = self.context.qualified_name(node.func) or ""
            return qualified.rsplit(".", 1)[-1] in ("pad", "concatenate", "cat")
        return False

    def visit_Call(self, node: cst.Call) -> None:
        found = self.inverse(node)
        if found is None or found[1] not in table()["fft"]["conv_inverse"]:
            return
        spectra = self.inverse_spectra(node)
        if not spectra or len(spectra) < 2 or any(s is None for _, s in spectra):
            return
        sizes = []
        for _, spectrum in spectra:
            for call in spectrum.calls:
                if self.fft_call(call)[1] not in table()["fft"]["conv_forward"]:
                    return
                size = argument(call, 1, "n")
                if size is None and not self._padded(argument(call, 0, "input") or argument(call, 0, "a")):
                    sizes.append("the input length (no `n=`)")
                elif self._is_length(size):
                    sizes.append(f"`n={code(size)}`")
                else:
                    return
        how = ("pass `n=fft_size` with `fft_size = 2 * L` to every `torch.fft.rfft` and slice `[..., :L]`"
               if found[0] == "torch" else
               "pass `n=2 * L` to every `mx.fft.rfft` and slice the first L outputs of `mx.fft.irfft`")
        self.report(node, size=sizes[0], how=how)
