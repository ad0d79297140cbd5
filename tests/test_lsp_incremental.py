"""Provisional diagnostics of an edit inside one function (``emberlint.lsp_incremental``): equal to the full lint's
where the function's findings depend only on its module, its class and the class's ``__init__``; None otherwise."""

from __future__ import annotations

from emberlint.config import Config
from tests.test_lsp import client  # noqa: F401  (the pytest-lsp fixture)
from emberlint.engine import lint_source
from emberlint.lsp_incremental import MIN_LINES, changed_range, function_blocks, provisional_lint

HEADER = "import mlx.core as mx\nimport mlx.nn as nn\n\nSCALE = 0.5\n\n\n"


def big_module(functions: int = 120) -> str:
    parts = [HEADER]
    for index in range(functions):
        parts.append(f"def f{index}(a: mx.array, b: mx.array):\n    c = mx.add(a, b)\n    return a * b\n\n\n")
    parts.append(
        "class Block(\n    nn.Module,\n):\n"
        "    def __init__(self, dims: int):\n        super().__init__()\n        self.proj = nn.Linear(dims, dims)\n\n"
        "    @property\n    def size(self):\n        return 3\n\n"
        "    def __call__(\n        self, x, mask=None\n    ) -> mx.array:\n"
        "        \"\"\"Doc.\n\tA tab-indented docstring line.\n        \"\"\"\n"
        "        y = self.proj(x)\n        return y * SCALE\n"
    )
    return "".join(parts)


def findings(result) -> list[tuple]:
    return [(f.code, f.start, f.end, f.message, f.fix) for f in result.findings]


def edit(text: str, line: int, new_line: str | None, insert: bool = True) -> str:
    lines = text.split("\n")
    if new_line is None:
        del lines[line]
    elif insert:
        lines.insert(line, new_line)
    else:
        lines[line] = new_line
    return "\n".join(lines)


def check_agrees(text: str, new_text: str) -> None:
    old = lint_source(text, "m.py", Config())
    quick = provisional_lint(text, old, new_text, "m.py", Config())
    assert quick is not None
    assert findings(quick) == findings(lint_source(new_text, "m.py", Config()))


def test_blocks_follow_signatures_decorators_and_tabs() -> None:
    lines = big_module(2).split("\n")
    blocks = function_blocks(lines)
    assert [lines[first].strip() for first, _ in blocks] == [
        "def f0(a: mx.array, b: mx.array):", "def f1(a: mx.array, b: mx.array):", "def __init__(self, dims: int):",
        "@property", "def __call__("]
    assert lines[blocks[-1][1]] == "        return y * SCALE"
    assert changed_range(["a", "b", "c"], ["a", "x", "y", "c"]) == (1, 1, 2)


def test_edits_inside_a_function_agree_with_the_full_lint() -> None:
    text = big_module()
    lines = text.split("\n")
    assert len(lines) > MIN_LINES
    inside = lines.index("def f60(a: mx.array, b: mx.array):") + 1
    check_agrees(text, edit(text, inside, "    # edited"))                       # a comment: nothing moves
    check_agrees(text, edit(text, inside, "    d = a * 2.0"))                    # a new finding, lines shift
    check_agrees(text, edit(text, inside + 1, None))                             # a line removed
    call = lines.index("        y = self.proj(x)")
    check_agrees(text, edit(text, call, "        z = y * x", insert=False))     # needs __init__'s self.proj


def test_edits_it_cannot_vouch_for_give_none() -> None:
    text = big_module()
    lines = text.split("\n")
    old = lint_source(text, "m.py", Config())
    top = lines.index("def f60(a: mx.array, b: mx.array):")
    for new_text in (
        edit(text, top, "def g(a: mx.array):", insert=False),          # the def line itself
        edit(text, top - 1, "x = 1"),                                   # module-level code
        edit(text, top + 1, "    c = mx.add(a,"),                       # the function no longer parses
        edit(text, top + 1, "    # emberlint: ignore-file"),
    ):
        assert provisional_lint(text, old, new_text, "m.py", Config()) is None
    small = big_module(3)
    assert provisional_lint(small, lint_source(small, "s.py", Config()), edit(small, 8, "    # x"), "s.py",
                            Config()) is None


async def test_server_publishes_an_edit_of_a_large_file(client, tmp_path) -> None:
    from lsprotocol import types

    from tests.test_lsp import open_doc, published

    text = big_module()
    uri = open_doc(client, tmp_path / "big.py", text)
    first = await published(client, uri, 1)
    line = text.split("\n").index("def f60(a: mx.array, b: mx.array):") + 1
    mark = len(client.published)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line, character=0),
                              end=types.Position(line=line, character=0)),
            text="    d = a * 2.0\n")]))
    second = await published(client, uri, 2, after=mark)
    selected = Config(select=("EL1", "EL301"))  # what the test client selects (tests.test_lsp)
    expected = lint_source(edit(text, line, "    d = a * 2.0"), str(tmp_path / "big.py"), selected)
    assert [(d.code, d.range.start.line + 1, d.range.start.character + 1) for d in second.diagnostics] == [
        (f.code, f.start.line, f.start.column) for f in expected.findings]
    assert len(second.diagnostics) == len(first.diagnostics) + 1  # the new line's EL301
