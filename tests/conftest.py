from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _private_result_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own empty lint-result cache (never the checkout's, never another test's)."""
    monkeypatch.setenv("EMBERLINT_CACHE_DIR", str(tmp_path_factory.mktemp("emberlint_cache")))


@pytest.fixture
def repo_root() -> Path:
    return REPO


def shared_dir(name: str) -> Path:
    """A folder of ../shared; missing data fails under CI and skips elsewhere."""
    path = SHARED / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must run with ../shared beside the clone")
        pytest.skip(f"{path} is missing")
    return path
