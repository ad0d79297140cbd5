"""Intel MKL for MLX's CPU matmuls (the ``fast-cpu`` extra), loaded before ``mlx`` is imported.

The Linux ``mlx[cpu]`` wheel links the reference (netlib) BLAS: a 1024x1024 float32 matmul runs at
about 5 GFLOP/s. Loading MKL's single runtime library (``libmkl_rt``, from the ``mkl`` wheel) with
``RTLD_GLOBAL`` before ``mlx`` is imported puts MKL's ``cblas_sgemm`` first in the global symbol
scope, so MLX's BLAS calls resolve to it. This module must not import ``mlx``.

Set ``M2BERT_MLX_NO_MKL=1`` to keep the bundled BLAS.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import sys
from pathlib import Path

DISABLE_ENV = "M2BERT_MLX_NO_MKL"
_state: dict[str, str | None] = {"library": None, "reason": None}


def _candidates() -> list[Path]:
    """``libmkl_rt`` files installed by the ``mkl`` distribution (newest soname first)."""
    try:
        dist = importlib.metadata.distribution("mkl")
    except importlib.metadata.PackageNotFoundError:
        return []
    found = [
        Path(str(dist.locate_file(f))).resolve()
        for f in dist.files or []
        if Path(str(f)).name.startswith("libmkl_rt.so")
    ]
    return sorted((p for p in found if p.is_file()), reverse=True)


def load_mkl() -> str | None:
    """Load ``libmkl_rt`` globally if installed and not disabled; the path loaded, or ``None``.

    Idempotent. The reason it was not loaded is kept for :func:`blas_status`.
    """
    if _state["library"] or _state["reason"]:
        return _state["library"]
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        _state["reason"] = f"disabled by {DISABLE_ENV}"
        return None
    if not sys.platform.startswith("linux"):
        _state["reason"] = "not Linux (macOS wheels use Accelerate)"
        return None
    candidates = _candidates()
    if not candidates:
        _state["reason"] = "mkl not installed (pip install 'm2bert-mlx[fast-cpu]')"
        return None
    if "mlx.core" in sys.modules:
        _state["reason"] = "mlx was imported before m2bert_mlx; MKL may not take effect"
    errors = []
    for path in candidates:
        try:
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
        except OSError as error:
            errors.append(str(error))
            continue
        _state["library"] = str(path)
        return _state["library"]
    _state["reason"] = "could not load libmkl_rt: " + "; ".join(errors)
    return None


def blas_status() -> dict[str, str | None]:
    """Which BLAS MLX's CPU matmuls use: ``{"blas": "mkl" | "bundled", "library", "note"}``."""
    library = _state["library"]
    return {
        "blas": "mkl" if library else "bundled",
        "library": library,
        "note": _state["reason"],
    }
