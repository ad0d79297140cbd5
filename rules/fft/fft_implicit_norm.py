"""EL601 fft-implicit-norm."""

from __future__ import annotations

import libcst as cst

from emberlint.fixers.dtype_kwarg import add_keyword
from emberlint.rule import FixAvailability, Invalid, RawFix
from emberlint.rules._coach import table
from emberlint.rules.fft._common import FftRule
from emberlint.syntax import code, keyword_argument


class FftImplicitNorm(FftRule):
    """An FFT (``rfft``, ``irfft``, ``fft``, ``ifft`` and their 2-D/N-D forms) in ``torch.fft`` or ``mx.fft``
    called without an explicit ``norm=``.

    Why it matters numerically: the default ``norm="backward"`` leaves the forward transform unscaled (its DC bin
    is the sum of ``n`` samples, up to ``n`` times larger than the signal) and divides the inverse by ``n``. Ports
    that move the ``1/n`` elsewhere (M2-BERT divides ``rfft(k, n=fft_size) / fft_size`` and inverts with
    ``norm="forward"``) silently depend on which side scales; with an implicit default a reader cannot see it and a
    one-sided edit is off by a factor of ``n`` (4096 for a 2048-token Hyena convolution). PyTorch and MLX (checked
    with 0.32.4) both take ``norm`` with the same three conventions. For an MLX without ``norm`` (set
    ``fft.takes_norm.mlx: false`` in ``coach.yaml``) the message explains the implicit "backward" convention
    instead: the forward transform is unscaled, the inverse divides by ``n``, and other conventions are written as
    an explicit ``mx.divide(spectrum, n)``.

    Fix: write the convention, ``mx.fft.rfft(x, n=n, norm="backward")`` / ``torch.fft.rfft(x, n=n,
    norm="backward")``. The fix adds ``norm="backward"`` (the default, so it is safe).
    """

    CODE = "EL601"
    NAME = "fft-implicit-norm"
    MESSAGE = ('`{call}` without `norm=`: the implicit "backward" convention leaves the forward transform unscaled '
               'and divides the inverse by n; write `norm="backward"` (or "forward"/"ortho") {how}')
    FIX = FixAvailability.SAFE
    NO_NORM_MESSAGE = ('`{call}` has no `norm=` in this MLX: it always uses the "backward" convention and {side}; '
                       'write any other scaling explicitly (`mx.divide(spectrum, n)`) next to the transform')
    VALID = [
        """
        import mlx.core as mx
        k_f = mx.fft.rfft(k, n=2 * L, axis=0, norm="backward")
        """,
        """
        import torch
        y = torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :L]
        """,
        """
        import numpy as np
        k_f = np.fft.rfft(k, n=fft_size)
        """,
        """
        import torch
        y = torch.fft.fftshift(x)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            k_f = torch.fft.rfft(k, n=fft_size) / fft_size
                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL601
            """,
            fixed="""
            import torch
            k_f = torch.fft.rfft(k, n=fft_size, norm="backward") / fft_size
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            y = mx.fft.irfft(mx.multiply(u_f, k_f), n=fft_size, axis=1)
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL601
            """,
            fixed="""
            import mlx.core as mx
            y = mx.fft.irfft(mx.multiply(u_f, k_f), n=fft_size, axis=1, norm="backward")
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        found = self.fft_call(node)
        if found is None or keyword_argument(node, "norm") is not None:
            return
        backend, function = found
        facts = table()["fft"]
        if function not in facts["forward"] + facts["inverse"] or any(arg.star for arg in node.args):
            return
        if not facts["takes_norm"][backend]:
            side = "leaves it unscaled" if function in facts["forward"] else "divides it by n"
            self.report(node, self.NO_NORM_MESSAGE.format(call=code(node.func), side=side))
            return
        how = ("(MLX: `mx.fft.%s(..., norm=...)`)" if backend == "mlx" else "(PyTorch: `torch.fft.%s(..., norm=...)`)")
        new = add_keyword(node, "norm", cst.SimpleString('"backward"'))  # in the call's own layout
        fix = RawFix(safe=True, replacements=[(node, new)], description='Add norm="backward" (the default)')
        self.report(node, call=code(node.func), how=how % function, fix=fix)
