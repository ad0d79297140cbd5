"""Detection on the light tree (``emberlint/light.py``) gives exactly the findings, positions, messages and fixes
of detection on LibCST's own tree (the oracle ``tests/libcst_oracle.py``), on rule examples, real files and generated code."""

from __future__ import annotations

import ast
import sys
import warnings
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
from emberlint.scope import SCOPE_KINDS
import emberlint.walk as walk_module
from emberlint.walk import children, nodes_of, subtree, walk, walk_kinds

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import corpus

from tests.libcst_oracle import use_libcst_oracle

STRICT = Config(profile="strict")
ROOT = Path(__file__).resolve().parent.parent


def _report(source: str, path: str = "case.py") -> tuple:
    result = engine.lint_source(source, path, STRICT)
    findings = [f.to_json() for f in result.findings]
    errors = [(e.kind, e.message, e.line, e.column) for e in result.errors]
    return findings, errors


def _both(source: str, monkeypatch, path: str = "case.py") -> tuple[tuple, tuple]:
    with monkeypatch.context() as patch:
        use_libcst_oracle(patch)
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
            use_libcst_oracle(patch)
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


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.stack: list = []
        self.chains_match = True

    def on_visit(self, node) -> bool:
        self.events.append(("visit", id(node)))
        self.stack.append(node)
        if getattr(type(node), "LIGHT", False):
            chain, current = [], node
            while current is not None:
                chain.append(current)
                current = current._parent
            self.chains_match &= chain[::-1] == self.stack
        return True

    def on_leave(self, original_node) -> None:
        self.events.append(("leave", id(original_node)))
        self.stack.pop()


RULE_KINDS = SCOPE_KINDS.union(*(rule.node_kinds() for rule in all_rules()))


def _trees(source: str) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # rule examples such as ``1(x)``
        parsed = ast.parse(source)
    return [light.build(source, parsed).module, cst.parse_module(source)]


@pytest.mark.parametrize("kinds", [frozenset({"Call"}), frozenset({"Name", "FunctionDef", "Lambda"}), RULE_KINDS],
                         ids=["Call", "Name+scopes", "every rule"])
@pytest.mark.parametrize("source", [*SHAPES, *EXAMPLES[::25]])
def test_sparse_walk_is_the_full_walk_filtered(source, kinds):
    """``walk_kinds`` (how the engine drives rules, scopes and facts) shows a visitor exactly the events of a full
    walk on the nodes of the chosen types, on both trees; ``nodes_of`` lists the same nodes in pre-order."""
    for module in _trees(source):
        full, sparse = _Recorder(), _Recorder()
        walk(module, full)
        walk_kinds(module, sparse, kinds)
        wanted = {id(n) for n in subtree(module) if type(n).__name__ in kinds}
        assert sparse.events == [event for event in full.events if event[1] in wanted]
        assert [id(n) for n in nodes_of(module, *kinds)] == [e[1] for e in full.events if e[0] == "visit" and e[1] in wanted]


@pytest.mark.parametrize("path", _real_files()[-4:], ids=lambda p: p.name)
def test_parent_links_are_the_walk_path(path):
    """On a light tree the engine reads a node's ancestors from parent links instead of keeping a stack: every
    node's chain of parents is the path a full walk took to it."""
    source = path.read_text(encoding="utf-8")
    recorder = _Recorder()
    walk(light.build(source, ast.parse(source)).module, recorder)
    assert recorder.chains_match and len(recorder.events) > 1000


@pytest.mark.parametrize("path", _real_files()[-4:], ids=lambda p: p.name)
def test_light_children_are_the_node_valued_fields_in_order(path, monkeypatch):
    """A light node's children come from a function made for its type, which reads the fields that hold nodes
    without testing each value; they must be what the generic reading of every field finds."""
    source = path.read_text(encoding="utf-8")
    nodes = list(subtree(light.build(source, ast.parse(source)).module))
    fast = [children(node) for node in nodes]
    monkeypatch.setattr(walk_module, "_LIGHT_CHILDREN", {})
    generic = [children(node) for node in nodes]
    assert len(nodes) > 300 and any(fast)
    assert [[id(child) for child in found] for found in fast] == [[id(child) for child in found] for found in generic]


def test_a_type_name_test_says_what_isinstance_says():
    """Hot code tests a node's type by name (``syntax.kind``, no ``ABCMeta.__instancecheck__``). That holds while
    each light class bears the name of the one LibCST class it stands for, and the LibCST classes tested by name
    have no subclasses; a concrete node of every such class answers both tests alike."""
    from emberlint.light.nodes import KINDS
    from emberlint.syntax import kind

    for name in KINDS:
        real = getattr(cst, name)
        assert not real.__subclasses__(), name
    source = "import mlx.core as mx\nx = mx.zeros((2,)) * 0.5 + mx.ones(2)[0]\n"
    tree = light.build(source, ast.parse(source))
    seen = list(subtree(tree.module))
    assert len({kind(node) for node in seen}) > 10
    for node in seen:
        for name in KINDS:
            assert isinstance(node, getattr(cst, name)) == (kind(node) == name), (kind(node), name)


def test_visitor_kinds_come_from_their_methods():
    from emberlint.arrays import _FactCollector
    from emberlint.rules.operators.bare_operator_on_array import BareOperatorOnArray
    from emberlint.scope import ScopeBuilder

    assert {"FunctionDef", "Import", "ImportFrom", "Assign", "ExceptHandler"} <= ScopeBuilder.node_kinds()
    assert "Call" not in ScopeBuilder.node_kinds()  # LibCST's no-op visit_Call does not count
    assert "Return" in _FactCollector.node_kinds()
    assert BareOperatorOnArray.node_kinds() == {"BinaryOperation", "UnaryOperation", "AugAssign"}


@pytest.mark.parametrize("text, pieces", [
    ("'a'", ["'a'"]),
    ("'a' \"b\"", ["'a'", '"b"']),
    ("r'\\'' b'x'", ["r'\\''", "b'x'"]),
    ('"""a "" \' \\""" b"""  f\'{x}\'', ['"""a "" \' \\""" b"""', "f'{x}'"]),
    ("('a'\n 'b')", ["'a'", "'b'"]),
    ("'a\\", ["'a\\"]),
    ("'a' # c\n'b'", ["'a' # c\n'b'"]),
])
def test_concatenated_strings_split_into_their_tokens(text, pieces):
    assert light.builder._string_pieces(text) == pieces


def test_the_light_tree_and_the_oracle_are_parsed_files():
    from emberlint.parsed_file import ParsedFile
    from tests.libcst_oracle import LibcstFile

    source = "import mlx.core as mx\nx = mx.zeros(3)  # emberlint: ignore[EL301]\n"
    for parsed in (light.build(source, ast.parse(source)), LibcstFile(source, cst.parse_module(source))):
        assert isinstance(parsed, ParsedFile)
        call = parsed.nodes_of("Call")[0]
        assert parsed.ancestors(call)[0] is parsed.module and parsed.ancestors(call)[-1] is call
        assert parsed.parent_of(call) is parsed.ancestors(call)[-2]
        assert (parsed.range_of(call).start.line, parsed.range_of(call).start.column) == (2, 4)
        assert [entry.line for entry in parsed.suppressions().all()] == [2]
        assert parsed.lines[1] == "x = mx.zeros(3)  # emberlint: ignore[EL301]\n" and parsed.default_newline == "\n"
