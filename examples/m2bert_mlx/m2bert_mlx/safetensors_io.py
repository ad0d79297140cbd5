"""A dependency-free ``.safetensors`` reader that keeps every dtype, float64 included.

``mx.load`` rejects ``F64`` tensors, which the float64 reference outputs use.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import mlx.core as mx

# safetensors dtype tag -> (MLX dtype, struct format code for memoryview.cast, or None).
_DTYPES = {
    "F64": (mx.float64, "d"),
    "F32": (mx.float32, "f"),
    "I64": (mx.int64, "q"),
    "I32": (mx.int32, "i"),
    "I16": (mx.int16, "h"),
    "I8": (mx.int8, "b"),
    "U8": (mx.uint8, "B"),
    "BOOL": (mx.bool_, "?"),
}


def read_safetensors_file(path: str | Path) -> dict[str, mx.array]:
    """Every tensor of the file by key. Half-precision files go through ``mx.load``."""
    raw = Path(path).read_bytes()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_size])
    header.pop("__metadata__", None)
    if any(entry["dtype"] not in _DTYPES for entry in header.values()):
        return dict(mx.load(str(path)))
    data = memoryview(raw)[8 + header_size :]
    tensors = {}
    for name, entry in header.items():
        dtype, code = _DTYPES[entry["dtype"]]
        start, end = entry["data_offsets"]
        flat = mx.array(data[start:end].cast(code), dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors
