"""Which MLX ops keep float64 accuracy on float64 input? (the data of EL551, ``rules/coach.yaml``).

Run: ``python scripts/measure_mlx_float64.py`` (needs mlx, numpy, scipy). Each op is evaluated on a float64 MLX
array on the CPU stream and compared with NumPy/SciPy float64. An error far above 1e-15 means the float64 kernel
computes at float32 accuracy; those ops belong in ``precision.float32_accurate_float64``.
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import scipy.special as special

SAMPLES = 200_000
FLOAT64_LEVEL = 1e-12


def relative(got, want) -> float:
    return float(np.max(np.abs(got - want) / np.abs(want)))


def absolute(got, want) -> float:
    return float(np.max(np.abs(got - want)))


def unary_cases(rng):
    """``name -> (mlx op, reference, sample, metric)``."""
    return {
        "sin": (mx.sin, np.sin, rng.uniform(-40, 40, SAMPLES), absolute),
        "cos": (mx.cos, np.cos, rng.uniform(-40, 40, SAMPLES), absolute),
        "tan": (mx.tan, np.tan, rng.uniform(-1.5, 1.5, SAMPLES), relative),
        "exp": (mx.exp, np.exp, rng.uniform(-20, 20, SAMPLES), relative),
        "expm1": (mx.expm1, np.expm1, rng.uniform(-2, 2, SAMPLES), relative),
        "log": (mx.log, np.log, rng.uniform(0.01, 100, SAMPLES), relative),
        "log1p": (mx.log1p, np.log1p, rng.uniform(-0.5, 10, SAMPLES), relative),
        "log2": (mx.log2, np.log2, rng.uniform(0.01, 100, SAMPLES), relative),
        "log10": (mx.log10, np.log10, rng.uniform(0.01, 100, SAMPLES), relative),
        "sqrt": (mx.sqrt, np.sqrt, rng.uniform(0.01, 100, SAMPLES), relative),
        "rsqrt": (mx.rsqrt, lambda x: 1 / np.sqrt(x), rng.uniform(0.01, 100, SAMPLES), relative),
        "tanh": (mx.tanh, np.tanh, rng.uniform(-5, 5, SAMPLES), relative),
        "sinh": (mx.sinh, np.sinh, rng.uniform(-5, 5, SAMPLES), relative),
        "cosh": (mx.cosh, np.cosh, rng.uniform(-5, 5, SAMPLES), relative),
        "arcsin": (mx.arcsin, np.arcsin, rng.uniform(-1, 1, SAMPLES), relative),
        "arctan": (mx.arctan, np.arctan, rng.uniform(-10, 10, SAMPLES), relative),
        "arctanh": (mx.arctanh, np.arctanh, rng.uniform(-0.99, 0.99, SAMPLES), relative),
        "sigmoid": (mx.sigmoid, special.expit, rng.uniform(-10, 10, SAMPLES), relative),
        "erf": (mx.erf, special.erf, rng.uniform(-3, 3, SAMPLES), absolute),
        "erfinv": (mx.erfinv, special.erfinv, rng.uniform(-0.99, 0.99, SAMPLES), relative),
        "nn.gelu": (nn.gelu, lambda x: x * 0.5 * (1 + special.erf(x / np.sqrt(2))), rng.uniform(-3, 3, SAMPLES),
                    absolute),
        "nn.silu": (nn.silu, lambda x: x * special.expit(x), rng.uniform(-10, 10, SAMPLES), absolute),
    }


def row_cases(rng):
    rows = rng.normal(size=(2000, 100)) * 3
    weight, bias = rng.normal(size=100), rng.normal(size=100)
    centered = rows - rows.mean(-1, keepdims=True)
    normalized = centered / np.sqrt((centered**2).mean(-1, keepdims=True) + 1e-12)
    w64, b64 = mx.array(weight, dtype=mx.float64), mx.array(bias, dtype=mx.float64)
    return rows, {
        "softmax": (lambda a: mx.softmax(a, axis=-1), special.softmax(rows, axis=-1), relative),
        "logsumexp": (lambda a: mx.logsumexp(a, axis=-1), special.logsumexp(rows, axis=-1), relative),
        "var": (lambda a: mx.var(a, axis=-1), rows.var(-1), relative),
        "fast.layer_norm": (lambda a: mx.fast.layer_norm(a, w64, b64, 1e-12), normalized * weight + bias, absolute),
        "fast.rms_norm": (lambda a: mx.fast.rms_norm(a, w64, 1e-12),
                          rows / np.sqrt((rows**2).mean(-1, keepdims=True) + 1e-12) * weight, absolute),
    }


def main() -> None:
    rng = np.random.default_rng(0)
    results = {}
    for name, (op, reference, sample, metric) in unary_cases(rng).items():
        got = op(mx.array(sample, dtype=mx.float64))
        results[name] = (metric.__name__, metric(np.array(got), reference(sample)))
    rows, cases = row_cases(rng)
    for name, (op, want, metric) in cases.items():
        results[name] = (metric.__name__, metric(np.array(op(mx.array(rows, dtype=mx.float64))), want))
    signal = rng.normal(size=4096)
    spectrum = mx.fft.rfft(mx.array(signal, dtype=mx.float64))
    print(f"mlx {mx.__version__}; mx.fft.rfft of float64 returns {spectrum.dtype}")
    for name, (metric, error) in results.items():
        verdict = "float32 accuracy" if error > FLOAT64_LEVEL else "float64 accuracy"
        print(f"{name:16s} {metric:8s} {error:9.2e}  {verdict}")


if __name__ == "__main__":
    main()
