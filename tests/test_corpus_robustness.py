"""A bounded sample of benchmarks/corpus_robustness.py: real MLX sources through check and fix --unsafe-fixes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import corpus
import corpus_robustness


def test_check_and_fix_on_a_sample_of_real_mlx_code(tmp_path):
    folder = corpus.package_folder("mlx")
    if folder is None:
        pytest.skip("mlx is not installed")
    sources = [p for p in sorted(folder.rglob("*.py")) if corpus.BACKEND_IMPORT.search(p.read_bytes())]
    step = max(1, len(sources) // 8)
    for index, source in enumerate(sources[::step][:8]):
        (tmp_path / f"m{index}_{source.name}").write_bytes(source.read_bytes())
    counts = corpus_robustness.run(tmp_path, jobs=1)
    assert counts.files == 8 and counts.findings > 0
    assert counts.problems == [] and counts.ok
    assert counts.fixes_applied > 0 and counts.files_fixed > 0
