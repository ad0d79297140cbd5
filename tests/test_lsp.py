"""End-to-end tests of ``emberlint lsp``: a real LSP client (pytest-lsp) drives the server over stdio."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from emberlint.lsp import FIX_ALL_TITLE, code_units, from_lsp_position, split_lines, to_lsp_position
from emberlint.model import Position

DOC = "import mlx.core as mx\na, b = mx.ones((2,), dtype=mx.float32), mx.ones((2,), dtype=mx.float32)\n\ndef scale():\n    return a * b\n"
FIXED = "import mlx.core as mx\na, b = mx.ones((2,), dtype=mx.float32), mx.ones((2,), dtype=mx.float32)\n\ndef scale():\n    return mx.multiply(a, b)\n"
FINDING_RANGE = ((4, 11), (4, 16))  # `a * b`, 0-based line and UTF-16 character
WAIT = 30.0


def make_client() -> LanguageClient:
    """The pytest-lsp client, also recording every publishDiagnostics with its version."""
    client = LanguageClient(converter_factory=default_converter)

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    client.published = []
    client.registrations = []
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
                                   types.CLIENT_REGISTER_CAPABILITY: register})
    return client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "emberlint", "lsp"],
                                              client_factory=make_client))
async def client(lsp_client: LanguageClient):
    capabilities = pytest_lsp.client_capabilities("visual-studio-code")
    # EL301 (the findings these tests drive) is strict-only since issue 14: the editor selects it, with EL1xx
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities, initialization_options={"emberlint": {"select": ["EL1", "EL301"]}}))
    yield
    await lsp_client.shutdown_session()


async def published(client: LanguageClient, uri: str, version: int | None = None, after: int = 0
                    ) -> types.PublishDiagnosticsParams:
    """The first diagnostics published for ``uri`` (at ``version``) after the ``after``-th notification."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for params in client.published[after:]:
            if params.uri == uri and (version is None or params.version == version):
                return params
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics for {uri} version {version}: {client.published}")


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def change_doc(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def spans(diagnostics) -> list[tuple]:
    return [(d.code, (d.range.start.line, d.range.start.character), (d.range.end.line, d.range.end.character))
            for d in diagnostics]


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits to an ASCII/BMP text (UTF-16 units equal code points there)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return starts[min(p.line, len(lines))] + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def code_actions(client: LanguageClient, uri: str, rng: types.Range, diagnostics=(), only=None):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
        context=types.CodeActionContext(diagnostics=list(diagnostics), only=only)))


def lsp_range(start: tuple[int, int], end: tuple[int, int]) -> types.Range:
    return types.Range(start=types.Position(line=start[0], character=start[1]),
                       end=types.Position(line=end[0], character=end[1]))


# --- position conversion (unit) -----------------------------------------------------------------------------------

def test_positions_count_utf16_code_units_and_round_trip() -> None:
    lines = split_lines('x = "\U0001F600é"; y\r\nz')
    assert lines == ['x = "\U0001F600é"; y', "z"]
    # column 9 (1-based, code points) is `;`: 8 code points before it, the emoji is two UTF-16 units
    assert to_lsp_position(lines, Position(1, 9), "utf-16") == types.Position(line=0, character=9)
    assert to_lsp_position(lines, Position(1, 9), "utf-32") == types.Position(line=0, character=8)
    assert to_lsp_position(lines, Position(1, 9), "utf-8") == types.Position(line=0, character=12)
    assert from_lsp_position(lines, types.Position(line=0, character=9), "utf-16") == Position(1, 9)
    assert code_units("\U0001F600", "utf-16") == 2


# --- diagnostics ----------------------------------------------------------------------------------------------------

async def test_diagnostics_on_open_change_and_save(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_doc(client, tmp_path / "model.py", DOC)
    first = await published(client, uri, 1)
    assert spans(first.diagnostics) == [("EL301", *FINDING_RANGE)]
    diagnostic = first.diagnostics[0]
    assert diagnostic.source == "emberlint"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.message == "Bare operator `*` on an array; use mx.multiply(a, b)"
    assert diagnostic.code_description is None

    mark = len(client.published)
    change_doc(client, uri, 2, "# header\n" + DOC)
    second = await published(client, uri, 2, after=mark)
    assert spans(second.diagnostics) == [("EL301", (5, 11), (5, 16))]

    mark = len(client.published)
    change_doc(client, uri, 3, FIXED)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    third = await published(client, uri, 3, after=mark)
    assert list(third.diagnostics) == []


async def test_non_bmp_character_before_a_finding(client: LanguageClient, tmp_path: Path) -> None:
    text = 'import mlx.core as mx\na, b = mx.ones((2,), dtype=mx.float32), mx.ones((2,), dtype=mx.float32)\n\ndef scale():\n    return ("\U0001F600", a * b)\n'
    uri = open_doc(client, tmp_path / "emoji.py", text)
    result = await published(client, uri, 1)
    # `a` is code point 17 (0-based) of the line; the emoji before it takes two UTF-16 units
    assert spans(result.diagnostics) == [("EL301", (4, 18), (4, 23))]


async def test_syntax_error_gives_one_diagnostic(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_doc(client, tmp_path / "broken.py", "import mlx.core as mx\ndef f(:\n    pass\n")
    result = await published(client, uri, 1)
    assert len(result.diagnostics) == 1
    diagnostic = result.diagnostics[0]
    assert diagnostic.code == "parse-error"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.message == "syntax error: invalid syntax"
    assert spans([diagnostic]) == [("parse-error", (1, 6), (1, 7))]  # Python's position: the `:`
    # the server is still alive and lints the repaired text
    mark = len(client.published)
    change_doc(client, uri, 2, DOC)
    assert spans((await published(client, uri, 2, after=mark)).diagnostics) == [("EL301", *FINDING_RANGE)]


async def test_burst_of_changes_ends_with_the_final_texts_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_doc(client, tmp_path / "burst.py", DOC)
    await published(client, uri, 1)
    mark = len(client.published)
    for version in range(2, 202):
        change_doc(client, uri, version, "# edit\n" * (version % 7) + DOC)
    final = await published(client, uri, 201, after=mark)
    assert spans(final.diagnostics) == [("EL301", (4 + 201 % 7, 11), (4 + 201 % 7, 16))]
    await asyncio.sleep(0.5)  # nothing stale may arrive after the final text's diagnostics
    burst = [p for p in client.published[mark:] if p.uri == uri]
    assert burst[-1].version == 201
    assert len(burst) < 20  # debounced, not one lint per keystroke


# --- code actions ---------------------------------------------------------------------------------------------------

async def test_quick_fix_ignore_and_fix_all(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_doc(client, tmp_path / "fixme.py", DOC)
    diagnostics = (await published(client, uri, 1)).diagnostics
    actions = await code_actions(client, uri, lsp_range(*FINDING_RANGE), diagnostics)
    by_title = {action.title: action for action in actions}
    assert sorted(by_title) == [
        FIX_ALL_TITLE,
        "Ignore EL301 on this line",
        "Use mx.multiply (EL301)",
    ]
    quick = by_title["Use mx.multiply (EL301)"]
    assert quick.kind == types.CodeActionKind.QuickFix and quick.is_preferred
    assert quick.diagnostics[0].code == "EL301"
    assert apply_text_edits(DOC, quick.edit.changes[uri]) == FIXED

    ignore = by_title["Ignore EL301 on this line"]
    assert apply_text_edits(DOC, ignore.edit.changes[uri]) == DOC.replace(
        "return a * b\n", "return a * b  # emberlint: ignore[EL301]\n")

    fix_all = by_title[FIX_ALL_TITLE]
    assert fix_all.kind == "source.fixAll.emberlint"
    assert fix_all.edit is None  # the client resolves it: the fix loop only runs when the action is picked
    resolved = await client.code_action_resolve_async(fix_all)
    assert apply_text_edits(DOC, resolved.edit.changes[uri]) == FIXED

    only_fix_all = await code_actions(client, uri, lsp_range((0, 0), (0, 0)), only=["source.fixAll"])
    assert [a.title for a in only_fix_all] == [FIX_ALL_TITLE]
    nothing_here = await code_actions(client, uri, lsp_range((0, 0), (0, 3)), only=[types.CodeActionKind.QuickFix])
    assert [a.title for a in nothing_here] == [FIX_ALL_TITLE]


async def test_ignore_merges_with_an_existing_directive(client: LanguageClient, tmp_path: Path) -> None:
    text = DOC.replace("return a * b\n", "return a * b  # emberlint: ignore[EL101]\n")
    uri = open_doc(client, tmp_path / "merge.py", text)
    await published(client, uri, 1)
    actions = await code_actions(client, uri, lsp_range(*FINDING_RANGE))
    ignore = next(a for a in actions if a.title == "Ignore EL301 on this line")
    fixed = apply_text_edits(text, ignore.edit.changes[uri])
    assert fixed == DOC.replace("return a * b\n", "return a * b  # emberlint: ignore[EL101, EL301]\n")


# --- hover, configuration, protocol errors --------------------------------------------------------------------------

async def test_hover_shows_the_rule_docs(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_doc(client, tmp_path / "hover.py", DOC)
    await published(client, uri, 1)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=4, character=13)))
    assert hover is not None
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("**EL301**: Bare operator `*` on an array")
    assert "EL301 bare-operator-on-array" in hover.contents.value
    assert "Why it matters numerically" in hover.contents.value
    assert (hover.range.start.line, hover.range.start.character) == FINDING_RANGE[0]
    outside = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=1)))
    assert outside is None


async def test_config_file_and_settings_changes_relint(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_doc(client, tmp_path / "configured.py", DOC)
    assert spans((await published(client, uri, 1)).diagnostics) == [("EL301", *FINDING_RANGE)]

    watched = [r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert [w["globPattern"] for w in watched[0].register_options["watchers"]] == [
        "**/.emberlint.yaml", "**/.emberlint.yml", "**/pyproject.toml"]

    config = tmp_path / ".emberlint.yaml"
    config.write_text("ignore: [EL301]\n")
    mark = len(client.published)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)]))
    assert list((await published(client, uri, 1, after=mark)).diagnostics) == []

    config.write_text("profile: recommended\n")
    mark = len(client.published)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)]))
    again = (await published(client, uri, 1, after=mark)).diagnostics
    assert [(d.code, d.severity) for d in again] == [("EL301", types.DiagnosticSeverity.Warning)]

    mark = len(client.published)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"emberlint": {"profile": "strict", "select": ["EL301"]}}))
    strict = (await published(client, uri, 1, after=mark)).diagnostics
    assert [(d.code, d.severity) for d in strict] == [("EL301", types.DiagnosticSeverity.Error)]

    mark = len(client.published)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"emberlint": {"select": ["EL999x"]}}))
    [bad] = (await published(client, uri, 1, after=mark)).diagnostics
    assert (bad.code, bad.severity) == ("config-error", types.DiagnosticSeverity.Error)
    assert "EL999X" in bad.message


def _frame(payload: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(payload) + payload


def _read_message(stream) -> dict:
    length = None
    while True:
        line = stream.readline()
        assert line, "the server closed its output"
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return json.loads(stream.read(length))


def _response(stream, request_id) -> dict:
    while True:
        message = _read_message(stream)
        if message.get("id") == request_id and "method" not in message:
            return message


def test_malformed_requests_get_json_rpc_errors(tmp_path: Path) -> None:
    """Raw bytes on stdio (a client library would refuse to send these)."""
    server = subprocess.Popen([sys.executable, "-m", "emberlint", "lsp"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        def send(message) -> None:
            server.stdin.write(_frame(message if isinstance(message, bytes) else json.dumps(message).encode()))
            server.stdin.flush()

        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "capabilities": {}, "initializationOptions": {"emberlint": {"select": ["EL301"]}}}})
        assert "capabilities" in _response(server.stdout, 1)["result"]
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "id": 2, "method": "emberlint/noSuchMethod", "params": {}})
        assert _response(server.stdout, 2)["error"]["code"] == -32601
        send({"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {"textDocument": 5}})
        assert _response(server.stdout, 3)["error"] == {"code": -32602,
                                                        "message": "Invalid params for textDocument/hover"}
        send(b'{"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover", "params": ')  # not JSON
        assert _response(server.stdout, None)["error"]["code"] == -32700
        send({"jsonrpc": "2.0", "id": 5, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}}})
        assert _response(server.stdout, 5) == {"jsonrpc": "2.0", "id": 5, "result": None}
        # a client without codeAction/resolve gets the "fix all" edit at once
        uri = (tmp_path / "plain.py").as_uri()
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": DOC}}})
        send({"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0,
                                                                                               "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll"]}}})
        [fix_all] = _response(server.stdout, 7)["result"]
        assert fix_all["title"] == FIX_ALL_TITLE
        assert [edit["newText"] for edit in fix_all["edit"]["changes"][uri]] == [FIXED]
        send({"jsonrpc": "2.0", "id": 6, "method": "shutdown"})
        assert _response(server.stdout, 6)["result"] is None
        send({"jsonrpc": "2.0", "method": "exit"})
        assert server.wait(timeout=WAIT) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


async def test_large_file_gets_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    """5,000 lines; the bound is generous (CI machines vary) — benchmarks/lsp_latency.py prints the figures."""
    body = "".join(f"def f{i}(a: mx.array, b: mx.array):\n    c = mx.add(a, b)\n    return a * b\n\n"
                   for i in range(1250))
    text = "import mlx.core as mx\n" + body
    assert len(text.splitlines()) == 5001
    started = time.monotonic()
    uri = open_doc(client, tmp_path / "large.py", text)
    result = await published(client, uri, 1)
    elapsed = time.monotonic() - started
    assert len(result.diagnostics) == 1250
    assert {d.code for d in result.diagnostics} == {"EL301"}
    assert spans(result.diagnostics[-1:]) == [("EL301", (5000 - 1, 11), (5000 - 1, 16))]
    assert elapsed < WAIT
