"""The numbers quoted by the half-precision rules EL410-EL415 (rules/half_precision.py), measured with MLX.

    python scripts/measure_half_precision.py
"""

from __future__ import annotations

import mlx.core as mx


def main() -> None:
    print(f"mlx {mx.__version__}")
    mx.random.seed(0)
    logits = (mx.random.normal((4, 1000)) * 4).astype(mx.bfloat16)
    reference = mx.softmax(logits.astype(mx.float32), axis=-1)
    for precise in (False, True):
        p = mx.softmax(logits, axis=-1, precise=precise).astype(mx.float32)
        print(f"EL410 bf16 softmax precise={precise}: max abs error {mx.max(mx.abs(p - reference)).item():.2e}, "
              f"max |row sum - 1| {mx.max(mx.abs(mx.sum(p, axis=-1) - 1)).item():.2e}")
    x = mx.ones((3,), dtype=mx.bfloat16)
    print("EL411 bf16 * mx.array(8 ** -0.5) ->", (x * mx.array(8 ** -0.5)).dtype,
          "; bf16 * 8 ** -0.5 ->", (x * 8 ** -0.5).dtype)
    mask = mx.array([0.0, 1.0], dtype=mx.float16)
    print("EL412 float16 mask * -1e9 ->", (mask * -1e9).tolist(), "; mx.array(1e-8, float16) ->",
          mx.array(1e-8, dtype=mx.float16).item(), "; zeros(float16) + 1e-8 ->",
          (mx.zeros((1,), dtype=mx.float16) + 1e-8).item())
    big = mx.full((4,), 300.0, dtype=mx.float16)
    print("EL413 float16 300**2 ->", (big * big)[0].item(), "; mean ->", mx.mean(big * big).item())
    i = mx.arange(70000)
    print("EL414 int32 arange(70000)**2 last ->", (i * i)[-1].item(), "exact", 69999 * 69999, i.dtype)
    for dtype in (mx.bfloat16, mx.float16):
        ones = mx.ones((100000,), dtype=dtype)
        print(f"EL415 cumsum of 100,000 ones in {dtype}: {mx.cumsum(ones)[-1].item()}; sum: {mx.sum(ones).item()}")


if __name__ == "__main__":
    main()
