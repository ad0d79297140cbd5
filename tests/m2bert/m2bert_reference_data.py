"""Where the M2-BERT reference bundles are, and how tests react when they are absent.

They live outside the repository, in ``<repo>/../shared/m2bert_reference``. Without them the
tests skip, except under CI (env ``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_ROOT = REPO_ROOT.parent / "shared" / "m2bert_reference"
PACKAGE_ROOT = REPO_ROOT / "examples" / "m2bert_mlx"


def ensure_package_importable() -> None:
    """Use the source tree when ``m2bert_mlx`` is not pip-installed."""
    try:
        import m2bert_mlx  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(PACKAGE_ROOT))


def require_bundle(name: str) -> Path:
    """The bundle folder, or skip (fail under CI) when the reference data is absent."""
    path = REFERENCE_ROOT / name
    if not (path / "manifest.json").is_file():
        message = f"M2-BERT reference bundle not found at {path}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
