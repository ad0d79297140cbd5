"""EL6xx: FFT normalization and FFT convolution size (the Hyena long convolution of M2-BERT)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from emberlint.rules._coach import (
    argument,
    assignments,
    code_of,
    keyword,
    method_call,
    string_value,
    table,
)

from emberlint.fixers.dtype_kwarg import add_keyword
from emberlint.rule import FixAvailability, Invalid, RawFix, Rule

# Methods that keep a spectrum's scaling (the value is the same spectrum, reshaped or conjugated).
_PRESERVING = frozenset(
    ["conj", "unsqueeze", "squeeze", "reshape", "view", "astype", "to", "expand_dims", "broadcast_to", "contiguous",
     "swapaxes", "transpose", "type"]
)
_SELF = object()


@dataclass(frozen=True)
class Spectrum:
    """What is statically known about a spectrum: is it already divided by n, and which transforms made it."""

    scaled: bool
    calls: tuple[cst.Call, ...]


def _merge(values: list) -> Spectrum | None:
    known = [v for v in values if v is not _SELF]
    if not known or any(v is None for v in known):
        return None
    if len({v.scaled for v in known}) != 1:
        return None
    return Spectrum(known[0].scaled, tuple(c for v in known for c in v.calls))


class _FftRule(Rule):
    """Shared FFT lookups: which call is which transform, and what a spectrum expression holds."""

    def fft_call(self, node: cst.CSTNode) -> tuple[str, str] | None:
        """``(backend, function)`` when ``node`` calls ``torch.fft.*`` / ``mx.fft.*``."""
        if not isinstance(node, cst.Call):
            return None
        qualified = self.context.qualified_name(node.func)
        if qualified is None:
            return None
        module, _, function = qualified.rpartition(".")
        for backend, fft_module in table()["fft"]["modules"].items():
            if module == fft_module:
                return backend, function
        return None

    def norm_of(self, call: cst.Call) -> str | None:
        """The ``norm`` the call uses: its literal value, the default when absent, None when not a literal."""
        arg = keyword(call, "norm")
        if arg is None:
            return table()["fft"]["default_norm"]
        return string_value(arg.value)

    def _bindings(self) -> dict[str, list[cst.BaseExpression]]:
        owner = self.context.enclosing_function() or self.context.module
        cache = self.__dict__.setdefault("_assignment_cache", {})
        if owner not in cache:
            cache[owner] = assignments(owner)
        return cache[owner]

    def spectrum(self, node: cst.BaseExpression, seen: frozenset[str] = frozenset()):
        """A ``Spectrum`` for a forward transform (optionally divided by n), ``_SELF`` for a name being resolved,
        None when unknown."""
        if isinstance(node, cst.Name):
            if node.value in seen:
                return _SELF
            values = self._bindings().get(node.value)
            if not values:
                return None
            return _merge([self.spectrum(v, seen | {node.value}) for v in values])
        found = self.fft_call(node)
        if found is not None:
            if found[1] not in table()["fft"]["forward"]:
                return None
            return Spectrum(self.norm_of(node) == "forward", (node,))
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Divide):
                inner = self.spectrum(node.left, seen)
                return Spectrum(True, inner.calls) if isinstance(inner, Spectrum) and not inner.scaled else None
            if isinstance(node.operator, (cst.Add, cst.Subtract)):
                return _merge([self.spectrum(node.left, seen), self.spectrum(node.right, seen)])
            return None
        if isinstance(node, cst.Subscript):
            return self.spectrum(node.value, seen)
        if isinstance(node, cst.Call):
            qualified = self.context.qualified_name(node.func) or ""
            if qualified.rsplit(".", 1)[-1] in ("divide", "div") and node.args:
                inner = self.spectrum(node.args[0].value, seen)
                return Spectrum(True, inner.calls) if isinstance(inner, Spectrum) and not inner.scaled else None
            method = method_call(node)
            if method is not None and method[1] in _PRESERVING and qualified == "":
                return self.spectrum(method[0], seen)
        return None

    def factors(self, node: cst.BaseExpression) -> list[cst.BaseExpression]:
        """The factors of a product ``a * b`` / ``mx.multiply(a, b)`` / ``torch.mul(a, b)``."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
            return self.factors(node.left) + self.factors(node.right)
        if isinstance(node, cst.Call) and len(node.args) == 2 and all(a.keyword is None for a in node.args):
            qualified = self.context.qualified_name(node.func) or ""
            if qualified in ("mlx.core.multiply", "torch.mul", "torch.multiply"):
                return self.factors(node.args[0].value) + self.factors(node.args[1].value)
        return [node]

    def inverse_spectra(self, call: cst.Call) -> list[tuple[cst.BaseExpression, Spectrum | None]] | None:
        """Each factor of the inverse transform's input with its spectrum (None: unknown)."""
        first = argument(call, 0, "input") or argument(call, 0, "a")
        if first is None:
            return None
        result = []
        for factor in self.factors(first):
            found = self.spectrum(factor)
            result.append((factor, found if isinstance(found, Spectrum) else None))
        return result

    def inverse(self, node: cst.Call) -> tuple[str, str] | None:
        found = self.fft_call(node)
        if found is None or found[1] not in table()["fft"]["inverse"]:
            return None
        return found


class FftImplicitNorm(_FftRule):
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
        if found is None or keyword(node, "norm") is not None:
            return
        backend, function = found
        facts = table()["fft"]
        if function not in facts["forward"] + facts["inverse"] or any(arg.star for arg in node.args):
            return
        if not facts["takes_norm"][backend]:
            side = "leaves it unscaled" if function in facts["forward"] else "divides it by n"
            self.report(node, self.NO_NORM_MESSAGE.format(call=code_of(node.func), side=side))
            return
        how = ("(MLX: `mx.fft.%s(..., norm=...)`)" if backend == "mlx" else "(PyTorch: `torch.fft.%s(..., norm=...)`)")
        new = add_keyword(node, "norm", cst.SimpleString('"backward"'))  # in the call's own layout
        fix = RawFix(safe=True, replacements=[(node, new)], description='Add norm="backward" (the default)')
        self.report(node, call=code_of(node.func), how=how % function, fix=fix)


class FftDoubleScaling(_FftRule):
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
                self.report(node, spectrum=code_of(factor), call=code_of(node.func), norm=norm, how=how)
                return


class FftMissingScaling(_FftRule):
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
        self.report(node, call=code_of(node.func), how=how)


class FftCircularWrap(_FftRule):
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
                    sizes.append(f"`n={code_of(size)}`")
                else:
                    return
        how = ("pass `n=fft_size` with `fft_size = 2 * L` to every `torch.fft.rfft` and slice `[..., :L]`"
               if found[0] == "torch" else
               "pass `n=2 * L` to every `mx.fft.rfft` and slice the first L outputs of `mx.fft.irfft`")
        self.report(node, size=sizes[0], how=how)
