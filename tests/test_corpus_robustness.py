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


#: The watchdog's CI subset: a few files of each package that once hung or crashed ``check`` (torch's
#: ``c10d_logger.py`` holds a module-level ``global``; ``autograd_function_db.py`` a commented tuple of starred
#: calls) and an even spread of the others. ``benchmarks/corpus_robustness.py --whole torch --whole transformers``
#: runs every file.
WATCHED = {
    "torch": ["distributed/c10d_logger.py", "testing/_internal/autograd_function_db.py"],
    "transformers": ["modeling_utils.py"],
}


@pytest.mark.parametrize("package", sorted(WATCHED))
def test_watchdog_subset_of_whole_packages(package):
    folder = corpus.package_folder(package)
    if folder is None:
        pytest.skip(f"{package} is not installed")
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.py") if "__pycache__" not in p.parts)
    chosen = [name for name in WATCHED[package] if name in files] + files[:: max(1, len(files) // 12)][:12]
    watch = corpus_robustness.watch_package(package, jobs=1, only=sorted(set(chosen)), hang_limit=240)
    assert watch.files == len(set(chosen)) >= 10
    assert watch.problems == [] or all(p.startswith("parse error") for p in watch.problems), watch.problems
    assert watch.ok and watch.internal_errors == 0 and watch.timeouts == 0 and not watch.hung
