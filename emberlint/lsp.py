"""``emberlint lsp``: a Language Server (stdio) that shows emberlint's findings in editors.

Diagnostics on open, save and (debounced) change; quick fixes, "fix all safe fixes", "ignore CODE on this line";
hover with the rule's docs. Jupyter notebooks through LSP 3.17 notebook sync: the code cells are linted as one
module (``emberlint.notebooks``) and each cell gets its diagnostics. The rules load while the editor initialises;
an edit inside one function of a large file gets provisional diagnostics first (``emberlint.lsp_incremental``). The configuration is the one ``emberlint check`` would use for the file (nearest
``pyproject.toml``/``.emberlint.yaml``), plus optional client settings ``{"emberlint": {"select": [...],
"ignore": [...], "profile": "strict"}}`` (initializationOptions or workspace/didChangeConfiguration).

Positions: emberlint counts 1-based lines and columns in code points; LSP counts 0-based lines and columns in the
negotiated position encoding (UTF-16 code units unless the client offers another).
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams, JsonRpcParseError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from emberlint import __version__
from emberlint.config import CONFIG_FILES, PROFILES, Config, ConfigError, Overrides
from emberlint.model import ErrorKind, FileError, FileResult, Finding, Position, Severity
from emberlint.runner import ConfigResolver, check_codes
from emberlint.suppress import ignore_edit as suppression_edit

SOURCE = "emberlint"
DEBOUNCE_SECONDS = 0.05
WARM_UP_WAIT_SECONDS = 10.0
#: linted once while the editor initialises, so that the first document opened does not pay for importing the
#: engine, the rules, their API tables and the fixers (each rule family fires here at least once)
WARM_UP_SOURCE = """\
import math

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import torch


class Block(nn.Module):
    def __init__(self, dims: int):
        super().__init__()
        self.scale = mx.ones((dims,)) * 0.5

    def __call__(self, x, mask=None):
        y = mx.fft.rfft(x) if mask is None else x * mask
        n = float(x.sum().item()) + math.sqrt(2.0) + np.exp(1.0)
        return self.scale * y.astype(mx.float64) / n + 1e-6


def torch_step(a: torch.Tensor, b: torch.Tensor):
    c = torch.zeros(3, device="cuda") + a.cpu().numpy().sum()
    return a * b + int(c[0]), a.to(torch.float64)
"""
FIX_ALL_KIND = "source.fixAll.emberlint"
FIX_ALL_TITLE = "Fix all safe emberlint fixes in this file"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning}


# --- positions -------------------------------------------------------------------------------------------------

def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as LSP counts them (``\\n``, ``\\r\\n`` and ``\\r`` end a line)."""
    return _LINE_BREAK.split(text)


def code_units(text: str, encoding: str = types.PositionEncodingKind.Utf16) -> int:
    """The length of ``text`` in the position encoding's code units."""
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def to_lsp_position(lines: list[str], position: Position, encoding: str) -> types.Position:
    """An emberlint position (1-based line, 1-based code-point column) as an LSP position."""
    line = min(max(position.line - 1, 0), max(len(lines) - 1, 0))
    text = lines[line] if lines else ""
    return types.Position(line=line, character=code_units(text[: max(position.column - 1, 0)], encoding))


def from_lsp_position(lines: list[str], position: types.Position, encoding: str) -> Position:
    """An LSP position as an emberlint position (clamped to the document)."""
    if not lines:
        return Position(1, 1)
    line = min(position.line, len(lines) - 1)
    text, units, column = lines[line], 0, 0
    for char in text:
        if units >= position.character:
            break
        units += code_units(char, encoding)
        column += 1
    return Position(line + 1, column + 1)


def to_lsp_range(lines: list[str], start: Position, end: Position, encoding: str) -> types.Range:
    return types.Range(start=to_lsp_position(lines, start, encoding), end=to_lsp_position(lines, end, encoding))


# --- diagnostics -----------------------------------------------------------------------------------------------

def finding_diagnostic(finding: Finding, lines: list[str], encoding: str) -> types.Diagnostic:
    return types.Diagnostic(
        range=to_lsp_range(lines, finding.start, finding.end, encoding),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        source=SOURCE,
        data={"fixable": finding.fix is not None, "safe": bool(finding.fix and finding.fix.safe)},
    )


def error_diagnostic(error: FileError, lines: list[str], encoding: str) -> types.Diagnostic:
    """A file error (syntax error, crashed rule) as one diagnostic: the range the engine knows (for syntax errors,
    Python's), else to the end of its line (the first line if unknown)."""
    message, line, column = error.message, error.line or 1, error.column or 1
    start = Position(line, column)
    end = Position(error.end_line, error.end_column) if error.end_line and error.end_column else None
    if end is None:
        end_column = len(lines[line - 1]) + 1 if 0 < line <= len(lines) else start.column
        end = Position(line, max(end_column, start.column))
    return types.Diagnostic(
        range=to_lsp_range(lines, start, end, encoding),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        code=error.code or f"{error.kind}-error",
        source=SOURCE,
    )


def ignore_edit(line_text: str, line_index: int, code: str, encoding: str) -> types.TextEdit:
    """Append ``  # emberlint: ignore[CODE]`` to the line, or add CODE to the directive already there."""
    start, end, new = suppression_edit(line_text, code)
    return types.TextEdit(
        range=types.Range(
            start=types.Position(line=line_index, character=code_units(line_text[:start], encoding)),
            end=types.Position(line=line_index, character=code_units(line_text[:end], encoding)),
        ),
        new_text=new,
    )


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _contains(a: types.Range, p: types.Position) -> bool:
    return (a.start.line, a.start.character) <= (p.line, p.character) <= (a.end.line, a.end.character)


# --- the server ------------------------------------------------------------------------------------------------

@dataclass
class Linted:
    version: int | None
    text: str
    result: FileResult
    config: Config | None
    config_error: str | None = None
    #: a notebook cell: cell number -> (its document's uri, its lines) for every code cell of the notebook (a fix
    #: in one cell can add an import to another)
    cells: dict[int, tuple[str, list[str]]] | None = None


@dataclass
class LintedNotebook:
    key: tuple
    cells: dict[str, Linted]  # cell document uri -> that cell's findings


class _Answered(JsonRpcException):
    """A malformed request that has already been answered with a JSON-RPC error."""


class EmberlintProtocol(LanguageServerProtocol):
    """pygls answers a request whose params do not validate with nothing (it only shows a message); JSON-RPC wants
    an error response for that id. This protocol sends it."""

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                error = JsonRpcInvalidParams(f"Invalid params for {data['method']}")
                if not isinstance(exc, JsonRpcInvalidParams):
                    error = JsonRpcInternalError(f"Cannot read the request {data['method']}")
                self._send_response(data["id"], error=error.to_response_error())
                raise _Answered(str(exc)) from exc
            raise


class EmberlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("emberlint", __version__, protocol_cls=EmberlintProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=types.NotebookDocumentSyncOptions(
                             notebook_selector=[types.NotebookDocumentFilterWithCells(
                                 cells=[types.NotebookCellLanguage(language="python")])],
                             save=True))
        self.settings: dict[str, Any] = {}
        self.linted: dict[str, Linted] = {}
        self.notebooks: dict[str, LintedNotebook] = {}
        self._resolver: ConfigResolver | None = None  # for the current settings
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emberlint-lint")
        self._lock = threading.Lock()
        self.warming_up = None  # the warm-up's future, when `emberlint lsp` started one

    def report_server_error(self, error: Exception, source) -> None:
        if isinstance(error, _Answered):
            return
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
            self.protocol._send_response(None, error=JsonRpcParseError(f"Parse error: {error}").to_response_error())
            return
        super().report_server_error(error, source)

    def warm_up(self) -> None:
        """Import and exercise the engine, every rule and the fixers once (on the lint thread)."""
        from emberlint.engine import lint_source
        from emberlint.fixing import fixable  # noqa: F401  (imports the fix machinery)

        try:
            lint_source(WARM_UP_SOURCE, "warm_up.py", Config(profile="strict"))
        except Exception as exc:  # never fatal: the first real lint then just takes longer
            import logging

            logging.getLogger(__name__).warning("emberlint: warm-up failed: %s", exc)
        # A lint allocates many short-lived tree nodes: the modules and tables loaded so far move out of the
        # collector's sight and the young generation is collected less often (measured: ~10% less CPU per lint
        # of a real model file, as in the CLI's workers)
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)

    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or types.PositionEncodingKind.Utf16

    # configuration
    def overrides(self) -> Overrides:
        """The client's settings (``select``, ``ignore``, ``profile``) over the configuration files'."""
        settings = self.settings.get("emberlint", self.settings) if isinstance(self.settings, dict) else {}
        if not isinstance(settings, dict):
            settings = {}
        codes = {}
        for key in ("select", "ignore"):
            value = settings.get(key)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                codes[key] = tuple(v.upper() for v in value)
        profile = settings.get("profile")
        return Overrides(**codes, profile=profile if profile in PROFILES else None,
                         origin="editor setting emberlint.{}")

    def config_for(self, path: Path | None) -> Config:
        """The file's configuration, as ``check`` resolves it, with the client's settings; raises ConfigError
        (shown as a diagnostic), also for an unknown rule code."""
        if path is None:  # an unsaved buffer: the workspace's configuration
            path = Path(self.workspace.root_path or Path.cwd()) / "untitled.py"
        with self._lock:
            if self._resolver is None:
                self._resolver = ConfigResolver(self.overrides())
            config = self._resolver.for_path(path)
        check_codes([config])
        return config

    def forget_configs(self) -> None:
        with self._lock:
            self._resolver = None
            self.linted.clear()
            self.notebooks.clear()

    # linting
    def lint(self, uri: str) -> Linted | None:
        """The findings of the document's current text (cached per version); for a notebook cell, that cell's
        findings from linting the whole notebook."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            return self.lint_notebook(notebook.uri).cells.get(uri)
        document = self.workspace.get_text_document(uri)
        text, version = document.source, document.version
        cached = self.linted.get(uri)
        if cached is not None and cached.version == version and cached.text == text:
            return cached
        fs_path = to_fs_path(uri)
        path = Path(fs_path) if fs_path else None
        from emberlint.engine import lint_source

        if path is not None and path.suffix.lower() == ".ipynb":  # a notebook opened as JSON text: its lines are
            linted = Linted(version, text, FileResult(str(path)), None)  # not Python (notebook sync lints cells)
            self.linted[uri] = linted
            return linted
        try:
            config = self.config_for(path)
        except ConfigError as exc:
            linted = Linted(version, text, FileResult(str(path or uri)), None, str(exc))
        else:
            try:
                result = lint_source(text, str(path or uri), config)
            except RecursionError:
                result = FileResult(str(path or uri), errors=[FileError(str(path), "too deeply nested to analyse",
                                                                         ErrorKind.INTERNAL)])
            linted = Linted(version, text, result, config)
        self.linted[uri] = linted
        return linted

    def lint_notebook(self, notebook_uri: str) -> LintedNotebook:
        """Lint a notebook's code cells as one module (cached per notebook and cell versions)."""
        from emberlint.engine import lint_source
        from emberlint.notebooks import build_module, map_result

        notebook = self.workspace.get_notebook_document(notebook_uri=notebook_uri)
        code = [(number, cell.document) for number, cell in enumerate(notebook.cells if notebook else [], 1)
                if cell.kind == types.NotebookCellKind.Code]
        documents = {uri: self.workspace.get_text_document(uri) for _, uri in code}
        key = (notebook.version if notebook else None,
               tuple((uri, documents[uri].version, documents[uri].source) for _, uri in code))
        cached = self.notebooks.get(notebook_uri)
        if cached is not None and cached.key == key:
            return cached
        fs_path = to_fs_path(notebook_uri)
        path = str(Path(fs_path)) if fs_path else notebook_uri
        texts = {uri: documents[uri].source for _, uri in code}
        cells = {number: (uri, split_lines(texts[uri])) for number, uri in code}
        try:
            config = self.config_for(Path(fs_path) if fs_path else None)
        except ConfigError as exc:
            linted = {uri: Linted(documents[uri].version, texts[uri], FileResult(path), None, str(exc), cells)
                      for _, uri in code}
        else:
            module = build_module((number, texts[uri]) for number, uri in code)
            try:
                result = map_result(lint_source(module.text, path, config), module, path)
            except RecursionError:
                result = FileResult(path, errors=[FileError(path, "too deeply nested to analyse", ErrorKind.INTERNAL)])
            first = code[0][0] if code else None
            linted = {}
            for number, uri in code:
                own = FileResult(path, [f for f in result.findings if f.cell == number],
                                 [e for e in result.errors if (e.cell or first) == number])
                linted[uri] = Linted(documents[uri].version, texts[uri], own, config, None, cells)
        entry = LintedNotebook(key, linted)
        self.notebooks[notebook_uri] = entry
        return entry

    async def lint_and_publish_notebook(self, notebook_uri: str) -> None:
        self.cancel_pending(notebook_uri)
        notebook = self.workspace.get_notebook_document(notebook_uri=notebook_uri)
        if notebook is None:
            return
        version = notebook.version
        loop = asyncio.get_running_loop()
        linted = await loop.run_in_executor(self._executor, self.lint_notebook, notebook_uri)
        current = self.workspace.get_notebook_document(notebook_uri=notebook_uri)
        if current is None or current.version != version:
            return  # a newer change is on its way; its own lint publishes
        for uri, cell in linted.cells.items():
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=self.diagnostics(cell), version=cell.version))

    def schedule_notebook(self, notebook_uri: str) -> None:
        self.cancel_pending(notebook_uri)
        loop = asyncio.get_running_loop()
        self._timers[notebook_uri] = loop.call_later(
            DEBOUNCE_SECONDS, lambda: asyncio.ensure_future(self.lint_and_publish_notebook(notebook_uri))
        )

    def diagnostics(self, linted: Linted) -> list[types.Diagnostic]:
        lines = split_lines(linted.text)
        if linted.config_error is not None:
            return [types.Diagnostic(
                range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
                message=f"configuration error: {linted.config_error}", severity=types.DiagnosticSeverity.Error,
                code="config-error", source=SOURCE,
            )]
        found = [error_diagnostic(error, lines, self.encoding) for error in linted.result.errors]
        found += [finding_diagnostic(finding, lines, self.encoding) for finding in linted.result.findings]
        return found

    def publish(self, uri: str, linted: Linted) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=self.diagnostics(linted), version=linted.version)
        )

    async def lint_and_publish(self, uri: str) -> None:
        self.cancel_pending(uri)
        if uri not in self.workspace.text_documents:
            return
        document = self.workspace.get_text_document(uri)
        version = document.version
        loop = asyncio.get_running_loop()
        quick = None
        previous = self.linted.get(uri)
        if previous is not None and previous.version != version and previous.config is not None:
            # an edit of a large file: the edited function's findings first, the full lint's right after
            quick = await loop.run_in_executor(self._executor, self.provisional, previous, document.source, version)
            current = self.workspace.text_documents.get(uri)
            if current is None or current.version != version:
                return
            if quick is not None:
                self.publish(uri, quick)
        linted = await loop.run_in_executor(self._executor, self.lint, uri)
        current = self.workspace.text_documents.get(uri)
        if linted is None or current is None or current.version != version:
            return  # a newer change is on its way; its own lint publishes
        if quick is None or self.diagnostics(quick) != self.diagnostics(linted):
            self.publish(uri, linted)

    async def current_lint(self, uri: str) -> None:
        """Lint the document on the lint thread (after a lint already running there, whose result it then reuses)
        rather than a second time beside it on the server's own thread."""
        if uri in self.workspace.text_documents:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.lint, uri)

    def provisional(self, previous: Linted, text: str, version: int | None) -> Linted | None:
        """Provisional findings of an edit inside one function (``lsp_incremental``); never cached."""
        from emberlint.lsp_incremental import provisional_lint

        result = provisional_lint(previous.text, previous.result, text, previous.result.path, previous.config)
        return Linted(version, text, result, previous.config) if result is not None else None

    def schedule(self, uri: str) -> None:
        self.cancel_pending(uri)
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(
            DEBOUNCE_SECONDS, lambda: asyncio.ensure_future(self.lint_and_publish(uri))
        )

    def cancel_pending(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def clear_diagnostics(self, *uris: str) -> None:
        for uri in uris:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    async def relint_all(self) -> None:
        self.forget_configs()
        for uri in list(self.workspace.text_documents):
            if self.workspace.get_notebook_document(cell_uri=uri) is None:
                await self.lint_and_publish(uri)
        for notebook_uri in list(self.workspace.notebook_documents):
            await self.lint_and_publish_notebook(notebook_uri)

    # code actions
    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        if uri not in self.workspace.text_documents:
            return []
        linted = self.lint(uri)
        if linted is None or linted.config_error is not None:
            return []
        only = params.context.only
        lines = split_lines(linted.text)
        actions: list[types.CodeAction] = []
        wants_quickfix = not only or any(types.CodeActionKind.QuickFix.startswith(k) for k in only)
        if wants_quickfix:
            for finding in linted.result.findings:
                diagnostic = finding_diagnostic(finding, lines, self.encoding)
                if not _overlaps(diagnostic.range, params.range):
                    continue
                if finding.fix is not None and finding.fix.edits:
                    changes: dict[str, list[types.TextEdit]] = {}
                    for e in finding.fix.edits:
                        edit_uri, edit_lines = uri, lines
                        if e.cell is not None and linted.cells and e.cell in linted.cells:
                            edit_uri, edit_lines = linted.cells[e.cell]
                        changes.setdefault(edit_uri, []).append(types.TextEdit(
                            range=to_lsp_range(edit_lines, e.start, e.end, self.encoding), new_text=e.text))
                    title = finding.fix.description or f"Fix {finding.code}"
                    actions.append(types.CodeAction(
                        title=f"{title} ({finding.code})" if finding.fix.safe else f"{title} ({finding.code}, unsafe)",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        edit=types.WorkspaceEdit(changes=changes),
                        is_preferred=finding.fix.safe,
                    ))
                line_index = diagnostic.range.start.line
                actions.append(types.CodeAction(
                    title=f"Ignore {finding.code} on this line",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=types.WorkspaceEdit(changes={uri: [
                        ignore_edit(lines[line_index], line_index, finding.code, self.encoding)
                    ]}),
                ))
        wants_fix_all = not only or any(FIX_ALL_KIND.startswith(k) or k == types.CodeActionKind.QuickFix
                                        for k in only)
        # a client that cannot resolve gets the edit at once, which runs the whole fix loop: only when it asked
        # for source actions explicitly (e.g. fix on save), never for the quick fixes under the cursor
        if wants_fix_all and not self.resolves_edits():
            wants_fix_all = bool(only) and any(FIX_ALL_KIND.startswith(k) for k in only)
        if wants_fix_all and linted.cells is None and any(f.fix is not None and f.fix.safe
                                                          for f in linted.result.findings):
            action = types.CodeAction(title=FIX_ALL_TITLE,
                                      kind=FIX_ALL_KIND, data={"uri": uri, "version": linted.version})
            # the fix loop re-lints the file until it settles: only run it when the user picks the action
            if not self.resolves_edits():
                action = self.resolve_code_action(action)
            if action.edit is not None or action.data is not None:
                actions.append(action)
        return actions

    def resolves_edits(self) -> bool:
        """Does the client call codeAction/resolve to fill in an action's edit?"""
        document = self.client_capabilities.text_document
        code_action = document.code_action if document else None
        support = code_action.resolve_support if code_action else None
        return bool(support and "edit" in support.properties)

    def resolve_code_action(self, action: types.CodeAction) -> types.CodeAction:
        """Fill in the "fix all" action's edit (a whole-document replacement by ``fix_text``'s result)."""
        from emberlint.fixing import FixError, fix_text

        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        if action.kind != FIX_ALL_KIND or uri not in self.workspace.text_documents:
            return action
        linted = self.lint(uri)
        if linted is None or linted.config is None:
            return action
        try:
            outcome = fix_text(linted.text, linted.result.path, linted.config)
        except FixError as exc:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=str(exc)))
            action.data = None
            return action
        lines = split_lines(linted.text)
        end = types.Position(line=len(lines) - 1, character=code_units(lines[-1], self.encoding))
        whole = types.Range(start=types.Position(line=0, character=0), end=end)
        edits = [types.TextEdit(range=whole, new_text=outcome.text)] if outcome.text != linted.text else []
        action.edit = types.WorkspaceEdit(changes={uri: edits})
        action.data = None
        return action

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        from emberlint.docs_commands import explain_text

        uri = params.text_document.uri
        if uri not in self.workspace.text_documents:
            return None
        linted = self.lint(uri)
        if linted is None:
            return None
        lines = split_lines(linted.text)
        for finding in linted.result.findings:
            diagnostic = finding_diagnostic(finding, lines, self.encoding)
            if _contains(diagnostic.range, params.position):
                docs = explain_text(finding.code)
                if docs is None:
                    continue
                return types.Hover(
                    contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                 value=f"**{finding.code}**: {finding.message}\n\n{docs}"),
                    range=diagnostic.range,
                )
        return None


def create_server() -> EmberlintServer:
    server = EmberlintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: EmberlintServer, params: types.InitializeParams) -> None:
        if isinstance(params.initialization_options, dict):
            ls.settings = params.initialization_options
        if ls.warming_up is not None:  # the editor is still initialising: finish loading the rules before it opens
            try:  # a file, so that the first file's diagnostics take one lint
                ls.warming_up.result(timeout=WARM_UP_WAIT_SECONDS)
            except Exception:  # too slow (or failed): the first lint queues behind it instead
                pass

    @server.feature(types.INITIALIZED)
    async def initialized(ls: EmberlintServer, params: types.InitializedParams) -> None:
        watch = ls.client_capabilities.workspace
        watched = watch.did_change_watched_files if watch else None
        if watched is not None and watched.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
            try:
                await ls.client_register_capability_async(types.RegistrationParams(registrations=[
                    types.Registration(
                        id="emberlint-config-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                    )
                ]))
            except Exception as exc:  # the client refused: config edits then need a reload or didChangeConfiguration
                ls.window_log_message(types.LogMessageParams(
                    type=types.MessageType.Warning, message=f"emberlint: cannot watch config files: {exc}"))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: EmberlintServer, params: types.DidOpenTextDocumentParams) -> None:
        await ls.lint_and_publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: EmberlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: EmberlintServer, params: types.DidSaveTextDocumentParams) -> None:
        await ls.lint_and_publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: EmberlintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.cancel_pending(uri)
        ls.linted.pop(uri, None)
        ls.clear_diagnostics(uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    async def did_open_notebook(ls: EmberlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        await ls.lint_and_publish_notebook(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def did_change_notebook(ls: EmberlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        structure = params.change.cells.structure if params.change.cells else None
        if structure and structure.did_close:  # cells deleted: clear their diagnostics
            ls.clear_diagnostics(*(closed.uri for closed in structure.did_close))
        ls.schedule_notebook(uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    async def did_save_notebook(ls: EmberlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        await ls.lint_and_publish_notebook(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def did_close_notebook(ls: EmberlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        ls.cancel_pending(uri)
        ls.notebooks.pop(uri, None)
        ls.clear_diagnostics(*(cell.uri for cell in params.cell_text_documents))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: EmberlintServer, params: types.DidChangeConfigurationParams) -> None:
        if isinstance(params.settings, dict):
            ls.settings = params.settings
        await ls.relint_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(ls: EmberlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(Path(to_fs_path(change.uri) or change.uri).name in CONFIG_FILES for change in params.changes):
            await ls.relint_all()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
                                resolve_provider=True),
    )
    async def code_action(ls: EmberlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        await ls.current_lint(params.text_document.uri)
        return ls.code_actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    def code_action_resolve(ls: EmberlintServer, action: types.CodeAction) -> types.CodeAction:
        return ls.resolve_code_action(action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: EmberlintServer, params: types.HoverParams) -> types.Hover | None:
        await ls.current_lint(params.text_document.uri)
        return ls.hover(params)

    return server


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default; accepted for editors that pass it).")
def lsp_command(stdio: bool) -> None:
    """Run the emberlint language server on stdin/stdout (for editors)."""
    server = create_server()
    server.warming_up = server._executor.submit(server.warm_up)  # while the client starts the server
    server.start_io()
