"""A first-draft MLX port of the Hyena long convolution with the bugs the M2-BERT port actually hit."""

import mlx.core as mx
import mlx.nn as nn


def fftconv(u, k, D):
    seqlen = u.shape[-1]
    fft_size = seqlen
    k_f = mx.fft.rfft(k, n=fft_size) / fft_size
    u_f = mx.fft.rfft(u, n=fft_size)
    y = mx.fft.irfft(u_f * k_f, n=fft_size)[..., :seqlen]
    return y + u * mx.expand_dims(D, -1)


class Sin(nn.Module):
    def __init__(self, dim, w=10):
        super().__init__()
        self.freq = nn.Parameter(w * mx.ones((1, dim)))

    def forward(self, x):
        return mx.sin(mx.multiply(self.freq, x))


class ShortConvMixer(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.short_filter = nn.Conv1d(3 * d_model, 3 * d_model, kernel_size=3, groups=3 * d_model)

    def __call__(self, u):
        z = self.short_filter(u.transpose(-1, -2))
        z = nn.gelu_approx(z)
        return mx.mean(z, dim=-1, keepdim=True)


def load(model, state):
    model.short_filter.weight = mx.array(state["short_filter.weight"])
    model.out_linear.weight = mx.array(state["out_linear.weight"]).T


class HyenaFilter(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.bias = mx.zeros((d_model,), dtype=mx.float32)
        self.implicit_filter = nn.Linear(3, d_model)

    def __call__(self, z, u):
        k = self.implicit_filter(z.astype(mx.float64))
        ys = []
        for c in range(u.shape[1]):
            ys.append(fftconv(u[:, c], k[:, c], self.bias[c]))
            mx.eval(ys[-1])
        return mx.stack(ys, axis=1)


def safe_conv(u, k, D):
    try:
        return fftconv(u, k, D)
    except Exception:
        return u
