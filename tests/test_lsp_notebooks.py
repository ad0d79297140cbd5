"""The language server and Jupyter notebooks (LSP 3.17 notebookDocument sync), driven by a real client over stdio."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.test_lsp import client, code_actions, lsp_range, published, spans  # noqa: F401  (the fixture)

CELLS = [
    (types.NotebookCellKind.Markup, "# A port in progress"),
    (types.NotebookCellKind.Code, "import mlx.core as mx\n%matplotlib inline\n!pip install mlx"),
    (types.NotebookCellKind.Code, "def scale(a: mx.array, b: mx.array):\n    return a * b"),
    (types.NotebookCellKind.Code, "%timeit scale(x, x)\nx = mx.ones((3,))\ny = x @ x"),
]


def open_notebook(client: LanguageClient, path: Path, cells=CELLS) -> tuple[str, list[str]]:
    uri = path.as_uri()
    cell_uris = [f"vscode-notebook-cell:{path.as_posix()}#cell{index}" for index in range(len(cells))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=uri, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=kind, document=cell_uri) for (kind, _), cell_uri in zip(cells, cell_uris)]),
        cell_text_documents=[
            types.TextDocumentItem(uri=cell_uri, language_id="python" if kind == types.NotebookCellKind.Code
                                   else "markdown", version=1, text=text)
            for (kind, text), cell_uri in zip(cells, cell_uris)
        ],
    ))
    return uri, cell_uris


async def test_diagnostics_per_cell_with_names_from_earlier_cells(client: LanguageClient, tmp_path: Path) -> None:
    _, cell_uris = open_notebook(client, tmp_path / "port.ipynb")
    scale = await published(client, cell_uris[2])
    assert spans(scale.diagnostics) == [("EL301", (1, 11), (1, 16))]
    ones = await published(client, cell_uris[3])
    assert [d.code for d in ones.diagnostics] == ["EL301"]  # the client selects EL1 and EL301 (tests.test_lsp)
    assert spans(ones.diagnostics)[0][1] == (2, 4)
    imports = await published(client, cell_uris[1])
    assert list(imports.diagnostics) == []  # magics and shell escapes are masked, not syntax errors


async def test_quick_fix_in_a_cell_edits_that_cell(client: LanguageClient, tmp_path: Path) -> None:
    _, cell_uris = open_notebook(client, tmp_path / "port.ipynb")
    first = await published(client, cell_uris[2])
    actions = await code_actions(client, cell_uris[2], first.diagnostics[0].range, first.diagnostics)
    fix = next(a for a in actions if a.title.startswith("Use mx.multiply"))
    assert {uri: list(edits) for uri, edits in fix.edit.changes.items()} == {
        cell_uris[2]: [types.TextEdit(range=lsp_range((1, 11), (1, 16)), new_text="mx.multiply(a, b)")]}
    assert not any(a.kind == "source.fixAll.emberlint" for a in actions)  # fix-all rewrites files, not cells


async def test_cell_edit_relints_the_notebook(client: LanguageClient, tmp_path: Path) -> None:
    uri, cell_uris = open_notebook(client, tmp_path / "port.ipynb")
    await published(client, cell_uris[2])
    mark = len(client.published)
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=uri, version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cell_uris[2], version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(
                    text="def scale(a: mx.array, b: mx.array):\n    return mx.multiply(a, b)")])]))))
    after = await published(client, cell_uris[2], 2, after=mark)
    assert list(after.diagnostics) == []


def test_initialize_advertises_notebook_sync_for_python_cells() -> None:
    import json
    import subprocess
    import sys

    from tests.test_lsp import WAIT, _frame, _response

    server = subprocess.Popen([sys.executable, "-m", "emberlint", "lsp"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        capabilities = {"notebookDocument": {"synchronization": {}}}  # a client that can sync notebooks
        server.stdin.write(_frame(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                              "params": {"capabilities": capabilities}}).encode()))
        server.stdin.flush()
        sync = _response(server.stdout, 1)["result"]["capabilities"]["notebookDocumentSync"]
        assert sync == {"notebookSelector": [{"cells": [{"language": "python"}]}], "save": True}
        for message in ({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}, {"jsonrpc": "2.0", "method": "exit"}):
            server.stdin.write(_frame(json.dumps(message).encode()))
            server.stdin.flush()
        assert server.wait(timeout=WAIT) == 0
    finally:
        if server.poll() is None:
            server.kill()
