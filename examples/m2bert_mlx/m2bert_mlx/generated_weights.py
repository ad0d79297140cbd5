"""Deterministic tensors of the reference bundles: FNV-1a name hash + splitmix64, vectorised in MLX.

For key ``NAME``, shape ``S``, exponent ``E`` and bundle ``seed``::

    base = fnv1a64(NAME) ^ seed
    z    = splitmix64(base + j)           for j = 0 .. prod(S) - 1  (all mod 2**64)
    value = (float32(z >> 40) * 2**-23 - 1) * 2**-E

Every float step is exact in float32. The uint64 stream runs as one MLX array (wrap-around
arithmetic), never as a Python loop over elements.
"""

from __future__ import annotations

import math

import mlx.core as mx

from m2bert_mlx.host import host_float, host_floats

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX_MULTIPLIER_1 = 0xBF58476D1CE4E5B9
MIX_MULTIPLIER_2 = 0x94D049BB133111EB


def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a of ``data`` (a Python int: it hashes a key name, not tensor data)."""
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def uint64_constant(value: int) -> mx.array:
    """A uint64 scalar for any ``0 <= value < 2**64`` (``mx.array`` rejects ints >= 2**63)."""
    high = mx.array(value >> 32, dtype=mx.uint64)
    low = mx.array(value & 0xFFFFFFFF, dtype=mx.uint64)
    return mx.bitwise_or(mx.left_shift(high, mx.array(32, dtype=mx.uint64)), low)


def _xor_shift_right(z: mx.array, bits: int) -> mx.array:
    return mx.bitwise_xor(z, mx.right_shift(z, mx.array(bits, dtype=mx.uint64)))


def splitmix64(x: mx.array) -> mx.array:
    """The splitmix64 finaliser applied elementwise to a uint64 array."""
    z = mx.add(x, uint64_constant(GOLDEN_GAMMA))
    z = mx.multiply(_xor_shift_right(z, 30), uint64_constant(MIX_MULTIPLIER_1))
    z = mx.multiply(_xor_shift_right(z, 27), uint64_constant(MIX_MULTIPLIER_2))
    return _xor_shift_right(z, 31)


def generate_tensor(
    name: str, shape: tuple[int, ...] | list[int], exponent: int, seed: int
) -> mx.array:
    """The float32 tensor the reference bundle's recipe defines for ``name``."""
    base = fnv1a64(name.encode("utf-8")) ^ seed
    count = math.prod(shape)
    index = mx.arange(count, dtype=mx.uint64)
    z = splitmix64(mx.add(index, uint64_constant(base)))
    top24 = mx.right_shift(z, mx.array(40, dtype=mx.uint64))
    # The recipe's float32(u): exact, u has 24 bits.
    top24 = top24.astype(mx.float32)  # emberlint: ignore[EL402]  # reason: recipe
    unit = mx.subtract(
        mx.multiply(top24, mx.array(2.0**-23, dtype=mx.float32)),
        mx.array(1.0, dtype=mx.float32),
    )
    scale = mx.power(
        mx.array(2.0, dtype=mx.float32), mx.array(-exponent, dtype=mx.float32)
    )
    return mx.multiply(unit, scale).reshape(tuple(shape))


def check_generated(name: str, tensor: mx.array, check: dict) -> None:
    """Raise ``ValueError`` unless ``tensor`` matches the manifest's ``first4`` and ``sum_float64``."""
    flat = tensor.reshape(-1)
    first4 = host_floats(flat[:4])
    expected_first4 = [float(v) for v in check["first4"]]
    # Every element is a multiple of 2**-(23 + E) below 1: the float64 sum is exact in any order.
    flat64 = flat.astype(mx.float64)  # emberlint: ignore[EL402]  # reason: float64 sum
    total = host_float(mx.sum(flat64))
    expected_sum = float(check["sum_float64"])
    if first4 != expected_first4:
        raise ValueError(
            f"generated tensor {name}: first4 {first4} != manifest {expected_first4}"
        )
    if not math.isclose(total, expected_sum, rel_tol=1e-12, abs_tol=1e-12):
        raise ValueError(
            f"generated tensor {name}: sum {total!r} != manifest {expected_sum!r}"
        )
