"""Latency of ``emberlint lsp`` as an editor sees it, on real model files.

A real LSP client (pygls) starts a fresh server over stdio for each round and times, from the notification to the
published diagnostics:

- start-up: from spawning ``emberlint lsp`` to the initialize result (the server loads and exercises the rules
  while the editor initialises, and answers initialize once that is done);
- the first didOpen after start-up: transformers' ``models/gpt2/modeling_gpt2.py`` (~1,100 lines);
- later opens: mlx-lm's ``models/deepseek_v3.py`` and a second copy of the gpt2 file;
- a one-line didChange (debounce included) in transformers' ``modeling_utils.py`` (~5,400 lines) and in a
  synthetic 5,000-line file (one fixable ``a * b`` per 4 lines), each once the file was open;
- a code-action request and a hover on the synthetic file.

A didChange inside one function of a large file first publishes provisional diagnostics (the edited function
linted in its module's and class's context, ``emberlint.lsp_incremental``), then the full lint's when they differ:
the didChange figures time the first publish. The last section measures how often the two agree on seeded edits of
the real files.

The files are copied from the installed packages into a temporary folder at run time (transformers 5.x, mlx-lm
0.32). Each figure is the median over ``--rounds`` fresh servers (min and max in brackets), next to the engine's
own ``lint_source`` time for the same text; the client pauses ``SETTLE`` (1 s) between actions. The load average
is printed: on a shared machine the figures move with it. Targets (issue 16): first open <= 120 ms, later opens
<= 50 ms, didChange <= 150 ms. About 2-3 minutes with the defaults:

    python benchmarks/lsp_latency.py [--rounds 5] [--edits 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

TARGETS = {"first didOpen (gpt2, 1.1k lines)": 120, "later didOpen (mlx-lm deepseek_v3)": 50,
           "later didOpen (gpt2 copy)": 50, "didChange 1 line (modeling_utils, 5.4k lines)": 150,
           "didChange 1 line (synthetic, 5k lines)": 150}


#: pause between actions, as between a person's actions: the previous action's work (the full lint after
#: provisional diagnostics, the client's reading of 1,250 diagnostics) is done before the next one is timed
SETTLE = 1.0


def make_text(lines: int) -> str:
    blocks = max(1, (lines - 1) // 4)
    return "import mlx.core as mx\n" + "".join(
        f"def f{i}(a: mx.array, b: mx.array):\n    c = mx.add(a, b)\n    return a * b\n\n" for i in range(blocks)
    )


def real_files(folder: Path) -> dict[str, Path]:
    """Copies of the real files into ``folder`` (never into the repository)."""
    import mlx_lm
    import transformers

    sources = {
        "gpt2": Path(transformers.__file__).parent / "models" / "gpt2" / "modeling_gpt2.py",
        "deepseek_v3": Path(mlx_lm.__file__).parent / "models" / "deepseek_v3.py",
        "modeling_utils": Path(transformers.__file__).parent / "modeling_utils.py",
    }
    copies = {}
    for name, source in sources.items():
        copies[name] = folder / f"{name}.py"
        shutil.copyfile(source, copies[name])
    copies["gpt2_copy"] = folder / "gpt2_copy.py"
    shutil.copyfile(sources["gpt2"], copies["gpt2_copy"])
    copies["synthetic"] = folder / "synthetic.py"
    copies["synthetic"].write_text(make_text(5000), encoding="utf-8")
    return copies


class Session:
    def __init__(self) -> None:
        self.client = LanguageClient("lsp-latency", "1")
        self.published: list[types.PublishDiagnosticsParams] = []
        self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: self.published.append(params))

    async def wait(self, uri: str, version: int) -> types.PublishDiagnosticsParams:
        while True:
            for params in self.published:
                if params.uri == uri and params.version == version:
                    return params
            await asyncio.sleep(0.001)

    async def open(self, path: Path) -> float:
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8")
        started = time.perf_counter()
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        await self.wait(uri, 1)
        return time.perf_counter() - started

    async def change_one_line(self, path: Path, line: int) -> float:
        uri = path.as_uri()
        started = time.perf_counter()
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=0),
                                  end=types.Position(line=line, character=0)),
                text="# edited\n")]))
        await self.wait(uri, 2)
        return time.perf_counter() - started


async def one_round(files: dict[str, Path]) -> dict[str, float]:
    session = Session()
    client = session.client
    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "emberlint", "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=files["gpt2"].parent.as_uri()))
    client.initialized(types.InitializedParams())
    figures: dict[str, float] = {"start-up: spawn -> initialize result (rules loaded)": time.perf_counter() - started}
    figures["first didOpen (gpt2, 1.1k lines)"] = await session.open(files["gpt2"])
    await asyncio.sleep(SETTLE)
    figures["later didOpen (mlx-lm deepseek_v3)"] = await session.open(files["deepseek_v3"])
    await asyncio.sleep(SETTLE)
    figures["later didOpen (gpt2 copy)"] = await session.open(files["gpt2_copy"])
    await asyncio.sleep(SETTLE)
    figures["didOpen (modeling_utils, 5.4k lines)"] = await session.open(files["modeling_utils"])
    await asyncio.sleep(SETTLE)
    figures["didChange 1 line (modeling_utils, 5.4k lines)"] = await session.change_one_line(
        files["modeling_utils"], _line_in_body(files["modeling_utils"]))
    await asyncio.sleep(SETTLE)  # the full lint that follows the provisional diagnostics finishes meanwhile
    figures["didOpen (synthetic, 5k lines)"] = await session.open(files["synthetic"])
    await asyncio.sleep(SETTLE)
    figures["didChange 1 line (synthetic, 5k lines)"] = await session.change_one_line(files["synthetic"], 2502)
    await asyncio.sleep(SETTLE)

    uri = files["synthetic"].as_uri()
    where = types.Range(start=types.Position(line=5, character=11), end=types.Position(line=5, character=16))
    started = time.perf_counter()
    await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=where,
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix])))
    figures["codeAction (quick fixes)"] = time.perf_counter() - started
    started = time.perf_counter()
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=where.start))
    figures["hover"] = time.perf_counter() - started

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return figures


def _line_in_body(path: Path) -> int:
    """A 0-based line in the middle of the file that is inside a function body (indented code)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    middle = len(lines) // 2
    for index in range(middle, len(lines)):
        if lines[index].startswith("        ") and lines[index].strip() and not lines[index].strip().startswith("#"):
            return index
    return middle


def engine_times(files: dict[str, Path], rounds: int) -> dict[str, float]:
    from emberlint.config import Config
    from emberlint.engine import lint_source

    times = {}
    for name in ("gpt2", "deepseek_v3", "modeling_utils", "synthetic"):
        text = files[name].read_text(encoding="utf-8")
        lint_source(text, str(files[name]), Config())
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            lint_source(text, str(files[name]), Config())
            samples.append(time.perf_counter() - started)
        times[name] = statistics.median(samples)
    return times


def agreement(files: dict[str, Path], edits: int) -> None:
    """How often the provisional diagnostics of an edit (``emberlint.lsp_incremental``) equal the full lint's: for
    ``edits`` seeded lines inside function bodies of each real file, insert a comment line above, and delete the line
    (simple statements only)."""
    import random

    from emberlint.config import Config
    from emberlint.engine import lint_source
    from emberlint.lsp_incremental import provisional_lint

    def key(result):
        return [(f.code, f.start, f.end, f.message, f.fix) for f in result.findings]

    print(f"provisional didChange diagnostics vs the full lint ({edits} lines x 2 edits per file):")
    for name in ("gpt2", "modeling_utils", "deepseek_v3"):
        text = files[name].read_text(encoding="utf-8")
        lines = text.split("\n")
        base = lint_source(text, str(files[name]), Config())
        body = [i for i, line in enumerate(lines) if line.startswith("        ") and line.strip()
                and not line.strip().startswith("#")]
        agree = differ = fallback = 0
        quick_times, full_times = [], []
        for index in random.Random(0).sample(body, min(edits, len(body))):
            indent = lines[index][:len(lines[index]) - len(lines[index].lstrip())]
            variants = [lines[:index] + [indent + "# edited"] + lines[index:]]
            if not lines[index].rstrip().endswith((":", "(", "[", "{", ",", "\\")):
                variants.append(lines[:index] + lines[index + 1:])
            for variant in variants:
                new_text = "\n".join(variant)
                started = time.perf_counter()
                quick = provisional_lint(text, base, new_text, str(files[name]), Config())
                quick_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                full = lint_source(new_text, str(files[name]), Config())
                full_times.append(time.perf_counter() - started)
                if quick is None or full.errors:
                    fallback += 1
                elif key(quick) == key(full):
                    agree += 1
                else:
                    differ += 1
        print(f"  {name:20s} equal {agree}, different {differ}, no provisional (full lint only) {fallback}; "
              f"median provisional {statistics.median(quick_times) * 1000:.0f} ms, "
              f"full {statistics.median(full_times) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="fresh servers to time (default 5)")
    parser.add_argument("--edits", type=int, default=10, help="edited lines per file for the agreement check")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        files = real_files(Path(folder))
        runs = [asyncio.run(one_round(files)) for _ in range(args.rounds)]
        engine = engine_times(files, args.rounds)
        load_after = os.getloadavg()[0]
        report(runs, engine, args.rounds, load_before, load_after)
        agreement(files, args.edits)
    print(f"total {time.perf_counter() - started:.0f} s")


def report(runs: list[dict[str, float]], engine: dict[str, float], rounds: int, load_before: float,
           load_after: float) -> None:
    print(f"emberlint lsp latency: median of {rounds} fresh servers [min, max]; {os.cpu_count()} cores, "
          f"load average {load_before:.1f} -> {load_after:.1f}")
    for key in runs[0]:
        samples = [run[key] * 1000 for run in runs]
        target = TARGETS.get(key)
        met = target is not None and statistics.median(samples) <= target
        verdict = "" if target is None else f"  target <= {target} ms: {'met' if met else 'NOT met'}"
        print(f"  {key:48s} {statistics.median(samples):7.0f} ms  [{min(samples):.0f}, {max(samples):.0f}]{verdict}")
    print("engine lint_source alone (same process, warm), median:")
    for name, seconds in engine.items():
        print(f"  {name:48s} {seconds * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
