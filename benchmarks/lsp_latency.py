"""Latency of ``emberlint lsp`` as an editor sees it: a real client starts the server over stdio, opens a file of
N lines (default 5,000; one ``a * b`` finding per 4 lines), and times didOpen -> publishDiagnostics, one didChange
-> publishDiagnostics (including the 150 ms debounce), a code-action request and a hover. It also prints the
engine's own ``lint_source`` time for the same text, which bounds everything else.

    python benchmarks/lsp_latency.py [--lines 5000] [--repeat 3] [--file REAL_FILE.py]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient


def make_text(lines: int) -> str:
    blocks = max(1, (lines - 1) // 4)
    return "import mlx.core as mx\n" + "".join(
        f"def f{i}(a: mx.array, b: mx.array):\n    c = mx.add(a, b)\n    return a * b\n\n" for i in range(blocks)
    )


async def measure(text: str, folder: Path) -> dict[str, float]:
    client = LanguageClient("lsp-latency", "1")
    published: list[types.PublishDiagnosticsParams] = []
    client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: published.append(params))

    async def wait(version: int) -> types.PublishDiagnosticsParams:
        while True:
            for params in published:
                if params.version == version:
                    return params
            await asyncio.sleep(0.002)

    await client.start_io(sys.executable, "-m", "emberlint", "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri = (folder / "large.py").as_uri()
    figures: dict[str, float] = {}

    started = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    opened = await wait(1)
    figures["didOpen -> diagnostics"] = time.perf_counter() - started
    figures["diagnostics"] = len(opened.diagnostics)

    started = time.perf_counter()
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=1, character=0), end=types.Position(line=1, character=0)),
            text="# edited\n")]))
    await wait(2)
    figures["didChange -> diagnostics (incl. 150 ms debounce)"] = time.perf_counter() - started

    where = types.Range(start=types.Position(line=5, character=11), end=types.Position(line=5, character=16))
    started = time.perf_counter()
    await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=where,
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix])))
    figures["codeAction (quick fixes; fix-all runs the fix loop)"] = time.perf_counter() - started

    started = time.perf_counter()
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=where.start))
    figures["hover"] = time.perf_counter() - started

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, help="a real source file to open instead of the synthetic one")
    args = parser.parse_args()
    text = args.file.read_text(encoding="utf-8") if args.file else make_text(args.lines)

    from emberlint.config import Config
    from emberlint.engine import lint_source

    engine = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        lint_source(text, "large.py", Config())
        engine.append(time.perf_counter() - started)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            runs.append(asyncio.run(measure(text, Path(folder))))
    print(f"file: {len(text.splitlines())} lines, {runs[0]['diagnostics']:.0f} diagnostics; median of {args.repeat}")
    print(f"  {'engine lint_source':52s} {statistics.median(engine) * 1000:8.0f} ms")
    for key in runs[0]:
        if key != "diagnostics":
            print(f"  {key:52s} {statistics.median(r[key] for r in runs) * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
