"""The package's only device-to-host reads: checks and reports need Python values.

Keeping them here means model code never syncs, and the linter suppressions live in one place
(reason for each: a report or a failed check needs a Python value).
"""

from __future__ import annotations

import mlx.core as mx


def host_float(value: mx.array) -> float:
    """A 0-d array as a Python float (for reports and manifest comparisons)."""
    return value.item()  # emberlint: ignore[EL101]  # reason: report value


def host_floats(values: mx.array) -> list[float]:
    """A small 1-d array as Python floats (for manifest comparisons)."""
    return values.tolist()  # emberlint: ignore[EL101]  # reason: manifest check


def host_bool(value: mx.array) -> bool:
    """A 0-d boolean array as a Python bool (to decide whether to raise)."""
    return value.item()  # emberlint: ignore[EL101]  # reason: raise on failure


def host_numpy(values: mx.array):
    """An array as a NumPy array (embeddings written to files or printed)."""
    import numpy as np

    return np.asarray(values)  # emberlint: ignore[EL103]  # reason: output file
