"""Helpers that rules of several families share. Not a rule module (the leading underscore keeps the registry out);
rule modules import helpers from here or from their family's ``_common``, never from another rule module."""

from __future__ import annotations

from emberlint.backends import MLX_AND_TORCH, backend_of


def array_backend(qualified: str | None) -> str | None:
    """``"mlx"``/``"torch"`` for a dotted name of MLX or PyTorch (``mlx.core.zeros``), else None."""
    backend = backend_of(qualified)
    return backend if backend in MLX_AND_TORCH else None
