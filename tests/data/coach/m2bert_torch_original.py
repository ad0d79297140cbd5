"""Reconstruction (written for these tests) of the PyTorch patterns of M2-BERT's Hyena long convolution."""

import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def fftconv_ref(u, k, D, dropout_mask, gelu=True, k_rev=None):
    seqlen = u.shape[-1]
    fft_size = 2 * seqlen
    k_f = torch.fft.rfft(k, n=fft_size) / fft_size
    if k_rev is not None:
        k_rev_f = torch.fft.rfft(k_rev, n=fft_size) / fft_size
        k_f = k_f + k_rev_f.conj()
    u_f = torch.fft.rfft(u.to(dtype=k.dtype), n=fft_size)
    if len(u.shape) > 3:
        k_f = k_f.unsqueeze(1)
    y = torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :seqlen]
    out = y + u * D.unsqueeze(-1)
    if gelu:
        out = F.gelu(out)
    return out.to(dtype=u.dtype)


class Sin(nn.Module):
    def __init__(self, dim, w=10, train_freq=True):
        super().__init__()
        self.freq = nn.Parameter(w * torch.ones(1, dim)) if train_freq else w * torch.ones(1, dim)

    def forward(self, x):
        return torch.sin(self.freq * x)


class PositionalEmbedding(nn.Module):
    def __init__(self, emb_dim, seq_len, device="cuda"):
        super().__init__()
        self.seq_len = seq_len
        t = torch.linspace(0, 1, self.seq_len, device=device)[None, :, None]
        bands = (emb_dim - 1) // 2
        t_rescaled = torch.linspace(0, seq_len - 1, seq_len, device=device)[None, :, None]
        w = 2 * math.pi * t_rescaled / seq_len
        f = torch.linspace(1e-4, bands - 1, bands, device=device)[None, None]
        z = torch.exp(-1j * f * w)
        self.z = nn.Parameter(torch.cat([t, z.real, z.imag], dim=-1))
        self.t = t

    def forward(self, L):
        return self.z[:, :L], self.t[:, :L]


class HyenaFilter(nn.Module):
    def __init__(self, d_model, emb_dim=3, order=16, seq_len=1024, w=1, bidirectional=False):
        super().__init__()
        self.d_model = d_model
        self.bias = nn.Parameter(torch.randn(self.d_model))
        self.pos_emb = PositionalEmbedding(emb_dim, seq_len)
        self.implicit_filter = nn.Sequential(nn.Linear(emb_dim, order), Sin(dim=order, w=w))
        self.bidirectional = bidirectional

    def filter(self, L):
        z, t = self.pos_emb(L)
        return self.implicit_filter(z)

    def forward(self, x, L, k_fwd=None, k_rev=None, bias=None):
        if k_fwd is None:
            k_fwd = self.filter(L)
        k_fwd = k_fwd.to(x.device)
        y = fftconv_ref(x, k_fwd, bias, dropout_mask=None, gelu=False, k_rev=k_rev)
        return y.to(dtype=x.dtype)


class ShortConvMixer(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.short_filter = nn.Conv1d(3 * d_model, 3 * d_model, kernel_size=3, groups=3 * d_model, padding=2)

    def forward(self, u):
        L = u.size(-2)
        u = u.transpose(-1, -2)
        return self.short_filter(u)[..., :L]


def load_numerics_config(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except Exception:
        return {"layer_norm_eps": 1e-12, "hyena_w": 10}
