"""``m2bert-mlx`` command line."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click
import mlx.core as mx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.embedding_tool import (
    BadInput,
    Embedder,
    corpus_vectors,
    read_texts,
    write_vectors,
)
from m2bert_mlx.fast_cpu import blas_status
from m2bert_mlx.host import host_numpy
from m2bert_mlx.models import read_m2bert_config
from m2bert_mlx.parity import bundle_parity
from m2bert_mlx.retrieval import cosine_top_k

MATMUL_SIZE = 1024


class InputError(click.ClickException):
    """Bad input: a clear message and exit code 2, never a traceback."""

    exit_code = 2


@contextmanager
def _bad_input_exits_2():
    try:
        yield
    except BadInput as error:
        raise InputError(str(error)) from error


@contextmanager
def _progress(total: int, label: str, enabled: bool):
    """A rich progress bar on stderr (a no-op callback when ``enabled`` is false)."""
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.advance(task, done)


def _warn_truncated(count: int, total: int, length: int) -> None:
    if count:
        click.echo(
            f"warning: {count} of {total} texts were longer than the model length "
            f"({length} tokens) and were truncated",
            err=True,
        )


@click.group()
def main() -> None:
    """MLX port of M2-BERT (Monarch Mixer BERT)."""


_MODEL_DIR = click.argument("model_dir", type=click.Path(path_type=Path))
_TOKENIZER = click.option(
    "--tokenizer",
    "tokenizer_path",
    type=click.Path(path_type=Path),
    default=None,
    help="vocab.txt or tokenizer.json (default: the one in MODEL_DIR).",
)
_BATCH = click.option(
    "--batch-size", default=8, show_default=True, type=click.IntRange(min=1)
)


@main.command()
@_MODEL_DIR
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    help="Texts from a .txt (one a line) or .jsonl file.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(path_type=Path),
    help="Write vectors to .npy or .jsonl (default: JSON Lines on stdout).",
)
@_BATCH
@_TOKENIZER
def embed(
    model_dir: Path,
    texts: tuple[str, ...],
    input_path: Path | None,
    output_path: Path | None,
    batch_size: int,
    tokenizer_path: Path | None,
) -> None:
    """Sentence embeddings of TEXTS (and/or --input) with the model in MODEL_DIR."""
    with _bad_input_exits_2():
        all_texts = list(texts) + (read_texts(input_path) if input_path else [])
        if not all_texts:
            raise BadInput("no texts: give TEXT arguments or --input FILE")
        if output_path and output_path.suffix not in (".npy", ".jsonl"):
            raise BadInput(f"{output_path}: output must be .npy or .jsonl")
        embedder = Embedder.open(model_dir, tokenizer_path)
        for note in embedder.notes:
            click.echo(f"note: {note}", err=True)
        enabled = len(all_texts) > batch_size
        with _progress(len(all_texts), "embedding", enabled) as advance:
            vectors, truncated = embedder.embed(all_texts, batch_size, advance)
        _warn_truncated(truncated, len(all_texts), embedder.tokenizer.max_length)
        if output_path:
            write_vectors(output_path, all_texts, vectors)
            click.echo(
                f"wrote {vectors.shape[0]} x {vectors.shape[1]} vectors to {output_path}",
                err=True,
            )
        else:
            for text, row in zip(all_texts, vectors):
                click.echo(json.dumps({"text": text, "embedding": row.tolist()}))


@main.command()
@_MODEL_DIR
@click.option(
    "--corpus",
    "corpus_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Documents: .txt (one a line) or .jsonl.",
)
@click.option(
    "--query", "queries", required=True, multiple=True, help="Query text (repeatable)."
)
@click.option("-k", "top_k", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per query.")
@_BATCH
@_TOKENIZER
def search(
    model_dir: Path,
    corpus_path: Path,
    queries: tuple[str, ...],
    top_k: int,
    as_json: bool,
    batch_size: int,
    tokenizer_path: Path | None,
) -> None:
    """The K corpus texts most cosine-similar to each query (corpus vectors cached beside it)."""
    with _bad_input_exits_2():
        documents = read_texts(corpus_path)
        embedder = Embedder.open(model_dir, tokenizer_path)
        for note in embedder.notes:
            click.echo(f"note: {note}", err=True)
        enabled = len(documents) > batch_size
        with _progress(len(documents), "embedding corpus", enabled) as advance:
            corpus, truncated, cached = corpus_vectors(
                corpus_path, documents, embedder, batch_size, advance
            )
        _warn_truncated(truncated, len(documents), embedder.tokenizer.max_length)
        query_vectors, truncated = embedder.embed(list(queries), batch_size)
        _warn_truncated(truncated, len(queries), embedder.tokenizer.max_length)
    scores, order = cosine_top_k(
        mx.array(query_vectors, dtype=mx.float32),
        mx.array(corpus, dtype=mx.float32),
        top_k,
    )
    scores, order = host_numpy(scores), host_numpy(order)
    if not as_json and cached:
        click.echo(f"corpus vectors from cache ({len(documents)} texts)", err=True)
    for query, row_scores, row_order in zip(queries, scores, order):
        hits = [
            {
                "rank": rank,
                "score": float(score),
                "index": int(index),
                "text": documents[index],
            }
            for rank, (score, index) in enumerate(zip(row_scores, row_order), start=1)
        ]
        if as_json:
            click.echo(json.dumps({"query": query, "hits": hits}))
            continue
        click.echo(f"query: {query}")
        for hit in hits:
            text = hit["text"] if len(hit["text"]) <= 100 else hit["text"][:97] + "..."
            click.echo(f"{hit['rank']:4d}  {hit['score']:.4f}  [{hit['index']}] {text}")


def _matmul_gflops() -> float:
    """float32 GFLOP/s of one 1024x1024 matmul on the CPU (after one warm-up)."""
    key = mx.random.key(0)
    a = mx.random.normal((MATMUL_SIZE, MATMUL_SIZE), dtype=mx.float32, key=key)
    with mx.stream(mx.cpu):
        mx.eval(mx.matmul(a, a))
        start = time.perf_counter()
        mx.eval(mx.matmul(a, a))
        seconds = time.perf_counter() - start
    return 2 * MATMUL_SIZE**3 / seconds / 1e9


@main.command()
@click.argument("model_dir", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(model_dir: Path | None, as_json: bool) -> None:
    """Versions, the BLAS MLX's CPU matmuls use (with a measured matmul), and MODEL_DIR's config."""
    from importlib.metadata import PackageNotFoundError, version

    def version_of(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    report: dict = {
        "versions": {
            n: version_of(n) for n in ("m2bert-mlx", "mlx", "tokenizers", "mkl")
        },
        **blas_status(),
        "matmul_1024_gflops": round(_matmul_gflops(), 1),
    }
    if model_dir is not None:
        with _bad_input_exits_2():
            try:
                config = read_m2bert_config(model_dir)
            except ValueError as error:
                raise BadInput(str(error)) from error
        report["model"] = {
            "path": str(model_dir),
            **{
                name: getattr(config, name)
                for name in (
                    "hidden_size",
                    "num_hidden_layers",
                    "max_position_embeddings",
                    "vocab_size",
                    "use_cls_token",
                    "use_normalized_embeddings",
                    "bidirectional",
                    "use_glu_mlp",
                )
            },
        }
    if as_json:
        click.echo(json.dumps(report))
        return
    for name, value in report["versions"].items():
        click.echo(f"{name:12s} {value or '-'}")
    blas = report["blas"] + (f" ({report['library']})" if report["library"] else "")
    click.echo(f"{'blas':12s} {blas}")
    if report["note"]:
        click.echo(f"{'':12s} {report['note']}")
    click.echo(
        f"{'matmul':12s} {report['matmul_1024_gflops']} GFLOP/s (1024x1024 float32, CPU)"
    )
    for name, value in report.get("model", {}).items():
        click.echo(f"{name:12s} {value}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3e}"


@main.command()
@click.argument(
    "bundle_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of a table."
)
@click.option(
    "--max-ratio",
    default=1.5,
    show_default=True,
    type=float,
    help="Fail (exit 1) when an output's error ratio against float64 exceeds this.",
)
def parity(bundle_dir: Path, as_json: bool, max_ratio: float) -> None:
    """Compare the port with the original PyTorch outputs stored in BUNDLE_DIR."""
    bundle = ReferenceBundle.open(bundle_dir)
    report = bundle_parity(bundle)
    if as_json:
        outputs = {name: item.as_dict() for name, item in report.items()}
        click.echo(json.dumps({"bundle": bundle.name, "outputs": outputs}))
    else:
        click.echo(f"bundle {bundle.name}")
        header = (
            "output",
            "max_abs_vs_f32",
            "mean_abs_vs_f32",
            "max_abs_vs_f64",
            "mean_abs_vs_f64",
            "orig_vs_f64",
            "ratio",
        )
        click.echo("  ".join(f"{h:>16s}" for h in header))
        for name, item in report.items():
            ratio = "-" if item.ratio is None else f"{item.ratio:.3f}"
            cells = (
                name,
                _fmt(item.max_abs_vs_f32),
                _fmt(item.mean_abs_vs_f32),
                _fmt(item.max_abs_vs_f64),
                _fmt(item.mean_abs_vs_f64),
                _fmt(item.original_max_abs_vs_f64),
                ratio,
            )
            click.echo("  ".join(f"{c:>16s}" for c in cells))
    worst = [
        name
        for name, item in report.items()
        if item.ratio is not None and item.ratio > max_ratio
    ]
    if worst:
        click.echo(f"ratio above {max_ratio}: {', '.join(worst)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
