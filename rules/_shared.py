"""Helpers that rules of several families share. Not a rule module (the leading underscore keeps the registry out);
rule modules import helpers from here or from their family's ``_common``, never from another rule module."""

from __future__ import annotations

from emberlint.backends import MLX_AND_TORCH, backend_of


def mlx_or_torch_array(context, node, unknown: str | None = None) -> str | None:
    """``"mlx"``/``"torch"`` when ``node`` is an MLX or PyTorch array; an array of unknown backend counts as the
    file's array backend (``context.array_backend()``), else ``unknown``. NumPy arrays and non-arrays: None."""
    inferred = context.infer(node)
    if not inferred.is_array:
        return None
    if inferred.backend in MLX_AND_TORCH:
        return inferred.backend
    if inferred.backend is None:
        return context.array_backend() or unknown
    return None


def array_backend(qualified: str | None) -> str | None:
    """``"mlx"``/``"torch"`` for a dotted name of MLX or PyTorch (``mlx.core.zeros``), else None."""
    backend = backend_of(qualified)
    return backend if backend in MLX_AND_TORCH else None
