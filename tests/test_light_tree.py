"""Detection on the light tree (``emberlint/light.py``) gives exactly the findings, positions, messages and fixes
of detection on LibCST's own tree (``EMBERLINT_TREE=libcst``), on rule examples, real files and generated code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

import emberlint.engine as engine
from emberlint import light
from emberlint.config import Config
from emberlint.fixing import fix_text
from emberlint.registry import all_rules
from emberlint.walk import children, subtree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import corpus

STRICT = Config(profile="strict")
ROOT = Path(__file__).resolve().parent.parent


def _report(source: str, path: str = "case.py") -> tuple:
    result = engine.lint_source(source, path, STRICT)
    findings = [f.to_json() for f in result.findings]
    errors = [(e.kind, e.message, e.line, e.column) for e in result.errors]
    return findings, errors


def _both(source: str, monkeypatch, path: str = "case.py") -> tuple[tuple, tuple]:
    with monkeypatch.context() as patch:
        patch.setattr(engine, "TREE", "libcst")
        reference = _report(source, path)
    return _report(source, path), reference


def _sources_of_examples() -> list[str]:
    sources = []
    for rule in all_rules():
        sources.extend(rule.VALID)
        sources.extend(case.code for case in rule.INVALID)
    return sources


EXAMPLES = _sources_of_examples()


def _real_files() -> list[Path]:
    files = sorted((ROOT / "examples").rglob("*.py"))
    folder = corpus.package_folder("mlx")
    if folder is not None:
        sources = [p for p in sorted(folder.rglob("*.py")) if corpus.BACKEND_IMPORT.search(p.read_bytes())]
        files.extend(sources[:: max(1, len(sources) // 12)][:12])
    return files


def test_every_rule_example_gives_the_same_report(monkeypatch):
    assert len(EXAMPLES) > 150
    for source in EXAMPLES:
        light_report, reference = _both(source, monkeypatch)
        assert light_report == reference, source


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_real_files_give_the_same_report(path, monkeypatch):
    source = path.read_text(encoding="utf-8")
    light_report, reference = _both(source, monkeypatch, str(path))
    assert light_report == reference


def test_real_files_fix_to_the_same_text(monkeypatch):
    for path in _real_files()[:10]:
        source = path.read_text(encoding="utf-8")
        fixed = fix_text(source, str(path), STRICT, unsafe=True).text
        with monkeypatch.context() as patch:
            patch.setattr(engine, "TREE", "libcst")
            assert fix_text(source, str(path), STRICT, unsafe=True).text == fixed, path


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_modules_give_the_same_report(source):
    prefixed = "import mlx.core as mx\nimport torch\n" + source
    try:
        ast.parse(prefixed)
        cst.parse_module(prefixed)
    except (SyntaxError, cst.ParserSyntaxError, ValueError, RecursionError, MemoryError):
        return
    import _pytest.monkeypatch

    patch = _pytest.monkeypatch.MonkeyPatch()
    try:
        light_report, reference = _both(prefixed, patch)
        assert light_report == reference
    finally:
        patch.undo()


SHAPES = [
    "import mlx.core as mx\nx = (a * b) + f((c))\ny = x[1:2, ::3]\nz = x[(1, 2)]\nw = f(x for x in y)\n",
    "def f(a, /, b: int = 1, *args, c, d=2, **kw) -> mx.array:\n    return a if b else -c\n",
    "class A(B, metaclass=M):\n    @dec\n    def g(self): return [i for i in x if i for j in i]\n",
    "if a:\n    pass\nelif b:\n    x += 1; y = 2\nelse:\n    del x\n",
    "try:\n    import torch\nexcept ImportError as e:\n    torch = None\nelse:\n    pass\nfinally:\n    pass\n",
    "with open(p) as f, g() as (a, b):\n    print(f'{a!r:>{w}}', 'x' 'y', {**d, 1: 2}, {1, *s})\n",
    "from .m import a as b\nfrom x.y import *\nglobal q\nasync def h():\n    await z\n    async for i in j: yield i\n",
]


@pytest.mark.parametrize("source", SHAPES)
def test_light_tree_has_libcsts_shape(source):
    """The light nodes, in pre-order, are LibCST's nodes of the same classes (whitespace, commas, parentheses and
    f-string internals left out)."""
    names = {type(node).__name__ for node in subtree(light.build(source, ast.parse(source)).module)}
    skipped = {"Dot", "FormattedStringText", "FormattedStringExpression"}

    def real_order(node):
        found, stack = [], [node]
        while stack:
            current = stack.pop()
            if type(current).__name__ in names and type(current).__name__ not in skipped:
                found.append(type(current).__name__)
            stack.extend(reversed(children(current)))
        return found

    tree = light.build(source, ast.parse(source))
    light_order = [type(n).__name__ for n in subtree(tree.module) if type(n).__name__ not in skipped]
    assert light_order == real_order(cst.parse_module(source))


def test_light_nodes_pass_for_libcst_nodes_and_fall_back_to_them():
    source = "import mlx.core as mx\ndef f(a):\n    return (a  # note\n            * 2)\n"
    tree = light.build(source, ast.parse(source))
    ret = tree.module.body[1].body.body[0].body[0]
    binop = ret.value
    assert isinstance(binop, cst.BinaryOperation) and isinstance(binop, cst.BaseExpression)
    assert tree.range_of(binop).start.line == 3 and tree.range_of(binop).end.line == 4
    assert [c.value for c in light.real_subtree(binop) if type(c) is cst.Comment] == ["# note"]
    assert binop.lpar and cst.Module([]).code_for_node(binop.right) == "2"
    assert binop.operator.whitespace_before.first_line.comment.value == "# note"
