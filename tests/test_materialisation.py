"""Detection runs on the light tree alone: over real model files (mlx-lm's models, mlx's ``nn`` layers, six
transformers models, copied to a temporary folder) a file without fixes materialises no LibCST node, and no rule
reads a field the light tree does not model (each such read silently parses the node with LibCST)."""

from __future__ import annotations

import ast
import importlib.util
import shutil
from pathlib import Path

import pytest

from emberlint import light
from emberlint.config import Config
from emberlint.engine import lint_source

#: (package, glob under it)
MODEL_FILES = (
    ("mlx_lm", "models/*.py"),
    ("mlx_lm", "kernels/*.py"),  # Metal kernel sources: multi-line strings, comments inside calls
    ("mlx", "nn/layers/*.py"),
    *(("transformers", f"models/{name}/modeling_{name}.py") for name in ("bert", "llama", "gpt2", "t5", "whisper",
                                                                          "mistral")),
)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("model_files")
    copied = []
    for package, pattern in MODEL_FILES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(list(spec.submodule_search_locations)[0])
        for source in sorted(folder.glob(pattern)):
            target = root / package / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(target)
    if len(copied) < 50:
        pytest.skip("mlx-lm, mlx and transformers are not installed")
    return copied


def _lint_counting(path: Path, config: Config) -> tuple[bool, dict[str, int]]:
    """Whether the file got a fix, and how often the light tree handed work to LibCST while linting it."""
    light.counters.reset()
    result = lint_source(path.read_text(encoding="utf-8"), str(path), config)
    return any(finding.fix is not None for finding in result.findings), light.counters.snapshot()


@pytest.mark.parametrize("profile", ["recommended", "strict"])
def test_detection_materialises_no_libcst_node(model_files, profile):
    config = Config(profile=profile)
    without_fixes, with_fixes = {}, {}
    for path in model_files:
        has_fix, counts = _lint_counting(path, config)
        (with_fixes if has_fix else without_fixes)[path.name] = counts
    assert len(without_fixes) >= (100 if profile == "recommended" else 10)
    touched = {name: counts for name, counts in without_fixes.items() if any(counts.values())}
    assert touched == {}
    if profile == "strict":  # the counters count: building fixes does materialise
        assert len(with_fixes) >= 50
        assert sum(counts["materialized"] for counts in with_fixes.values()) > 0


def test_counters_count_fallbacks_and_materialisations():
    source = "import mlx.core as mx\ny = (mx.zeros(3)) * 2\n"
    tree = light.build(source, ast.parse(source))
    product = tree.module.body[1].body[0].value
    call = product.left
    light.counters.reset()
    assert call.func.attr.value == "zeros" and call.args[0].value.value == "3"  # modelled: no LibCST
    assert light.counters.snapshot() == {"fallbacks": 0, "materialized": 0, "parses": 0}
    assert len(call.lpar) == 1  # a parenthesized node gets its parentheses from LibCST
    assert light.counters.snapshot() == {"fallbacks": 0, "materialized": 1, "parses": 1}
    assert call.whitespace_after_func.value == ""  # not modelled: a fallback (the node is materialised already)
    assert light.counters.snapshot() == {"fallbacks": 1, "materialized": 1, "parses": 1}
