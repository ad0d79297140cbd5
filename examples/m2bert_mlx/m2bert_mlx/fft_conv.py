"""Long convolution through the FFT, as the original ``fftconv_ref`` computes it.

Layout is channels-last: signals are ``(batch, length, channels)`` and kernels ``(length, channels)``.
"""

from __future__ import annotations

import mlx.core as mx


def bidirectional_kernel(k_fwd: mx.array, k_rev: mx.array) -> mx.array:
    """Combine a causal and an anti-causal kernel into one length-``2L`` circular kernel.

    Positions ``0..L-1`` hold ``k_fwd``; positions ``L..2L-1`` hold ``k_rev`` reversed. With
    zero-padded input of length ``2L`` this gives, for output ``t < L``::

        y[t] = sum_{s <= t} u[s] k_fwd[t - s] + sum_{s > t} u[s] k_rev[s - t - 1]
    """
    return mx.concatenate([k_fwd, k_rev[::-1]], axis=0)


def kernel_spectrum(kernel: mx.array, length: int) -> mx.array:
    """``rfft(kernel, 2L)`` along the length axis, channels first: ``(channels, L + 1)`` complex."""
    return mx.fft.rfft(kernel.T, n=2 * length, axis=-1, norm="backward")


def fft_long_conv(u: mx.array, kernel_f: mx.array, skip_weight: mx.array) -> mx.array:
    """``irfft(rfft(u, 2L) * rfft(kernel, 2L))[:L] + u * skip_weight`` along the length axis.

    Args:
        u: ``(batch, L, channels)`` input signal.
        kernel_f: the kernel's spectrum from :func:`kernel_spectrum` (a ``(K, channels)`` kernel
            with ``K <= 2L``: ``L`` causal or ``2L`` bidirectional).
        skip_weight: ``(channels,)`` per-channel weight of the direct ``u`` term (Hyena's ``D``).

    The FFT size is ``2L`` so the circular convolution never wraps the causal part. Both forward
    transforms are unnormalised and the single ``1/(2L)`` scaling happens in the inverse
    (``norm="backward"``), so no separate rescaling pass adds a rounding.
    """
    length = u.shape[1]
    fft_size = 2 * length
    # Transforms run along the last, contiguous axis: (batch, channels, L). MLX's CPU FFT over a
    # strided axis gives the same values but is ~1.6x slower at L = 8192.
    u_f = mx.fft.rfft(u.swapaxes(1, 2), n=fft_size, axis=-1, norm="backward")
    y = mx.fft.irfft(mx.multiply(u_f, kernel_f), n=fft_size, axis=-1, norm="backward")
    return mx.add(y[..., :length].swapaxes(1, 2), mx.multiply(u, skip_weight))
