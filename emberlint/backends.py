"""The array backends emberlint knows, and how code names them: one place for the backend vocabulary."""

from __future__ import annotations

#: The module a backend's array functions live in (``mx.multiply`` is ``mlx.core.multiply``).
BACKEND_MODULES = {"mlx": "mlx.core", "torch": "torch", "numpy": "numpy"}
#: The alias a fix imports a backend module under when the file has none (``import mlx.core as mx``).
CONVENTIONAL_ALIASES = {"mlx.core": "mx", "torch": "torch", "numpy": "np"}
#: Top-level packages whose names the scope analysis resolves (``math`` for ``math.sqrt``, ``math.pi``).
BACKEND_ROOTS = {"mlx": "mlx", "torch": "torch", "numpy": "numpy", "math": "math"}
#: The backends whose values are arrays.
ARRAY_BACKENDS = ("mlx", "torch", "numpy")
#: The backend pair the rules and fixers target: arrays living on a device, typed scalars, backend operations.
MLX_AND_TORCH = ("mlx", "torch")


def backend_of(qualified: str | None) -> str | None:
    """The backend a dotted name belongs to (``mlx.core.multiply`` -> ``"mlx"``), None for any other name."""
    if not qualified:
        return None
    return BACKEND_ROOTS.get(qualified.split(".", 1)[0])


def module_of(backend: str) -> str:
    """The module of a backend's array functions: ``"mlx"`` -> ``"mlx.core"``."""
    return BACKEND_MODULES[backend]


def is_mlx_or_torch(qualified: str | None) -> bool:
    """A dotted name of MLX or PyTorch (``mlx.core.array``, ``torch.float16``)."""
    return backend_of(qualified) in MLX_AND_TORCH
