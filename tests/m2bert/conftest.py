"""Fixtures of the M2-BERT MLX port tests (data location: ``m2bert_reference_data``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from m2bert_reference_data import ensure_package_importable, require_bundle

ensure_package_importable()


@pytest.fixture(scope="session")
def tiny_dir() -> Path:
    return require_bundle("tiny")
