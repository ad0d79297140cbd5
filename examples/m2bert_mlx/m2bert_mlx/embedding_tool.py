"""What ``m2bert-mlx embed`` and ``search`` do, apart from the command line: texts in, vectors out.

Inputs are read from text files (one text a line) or JSON Lines (``{"text": ...}`` or a JSON
string a line); vectors go to ``.npy`` (float32, one row a text) or ``.jsonl``. Corpus vectors of
``search`` are cached next to the corpus, keyed by a hash of the corpus, the model and the tokenizer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import mlx.core as mx
import numpy as np

from m2bert_mlx.host import host_numpy
from m2bert_mlx.models import load_embedding_model, read_m2bert_config
from m2bert_mlx.retrieval import embed_token_ids
from m2bert_mlx.tokenizer import M2BertTokenizer

INPUT_SUFFIXES = (".txt", ".jsonl")
OUTPUT_SUFFIXES = (".npy", ".jsonl")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class BadInput(ValueError):
    """Input the tool cannot use (the command line reports it and exits 2)."""


def read_texts(path: Path) -> list[str]:
    """Texts of a ``.txt`` (one a line) or ``.jsonl`` file; an empty text is an error."""
    if path.suffix not in INPUT_SUFFIXES:
        raise BadInput(f"{path}: input must be .txt (one text a line) or .jsonl")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"cannot read {path}: {error}") from error
    texts = []
    for number, line in enumerate(lines, start=1):
        text = _jsonl_text(path, number, line) if path.suffix == ".jsonl" else line
        if not text.strip():
            raise BadInput(f"{path}:{number}: empty text")
        texts.append(text)
    if not texts:
        raise BadInput(f"{path}: no texts")
    return texts


def _jsonl_text(path: Path, number: int, line: str) -> str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}:{number}: not JSON: {error}") from error
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    if isinstance(value, str):
        return value
    raise BadInput(f'{path}:{number}: expected a JSON string or an object with "text"')


@dataclasses.dataclass
class Embedder:
    """A model folder's embedding model and tokenizer."""

    model_dir: Path
    model: object
    tokenizer: M2BertTokenizer
    notes: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def open(cls, model_dir: Path, tokenizer_path: Path | None = None) -> Embedder:
        """Load ``model_dir`` (config, weights) and its tokenizer; bad folders raise :class:`BadInput`."""
        if not model_dir.is_dir():
            raise BadInput(f"{model_dir} is not a folder")
        try:
            config = read_m2bert_config(model_dir)
            tokenizer = M2BertTokenizer.from_path(
                tokenizer_path or model_dir, config.max_position_embeddings
            )
            model = load_embedding_model(model_dir)
        except (OSError, ValueError, ImportError) as error:
            raise BadInput(str(error)) from error
        notes = []
        if "use_cls_token" not in json.loads((model_dir / "config.json").read_text()):
            # The retrieval code's BertConfig defaults use_cls_token to true, the main repo's has no
            # such field (pooled output): a config that omits it is ambiguous.
            notes.append(
                "config.json does not set use_cls_token: the embedding is the pooled output "
                "(set use_cls_token to true for the CLS row)"
            )
        return cls(model_dir, model, tokenizer, notes)

    def fingerprint(self) -> str:
        """Hash of what determines the vectors: config, weight file identity, tokenizer."""
        digest = hashlib.sha256()
        digest.update((self.model_dir / "config.json").read_bytes())
        for name in WEIGHT_FILES:
            weights = self.model_dir / name
            if weights.is_file():
                stat = weights.stat()
                digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        digest.update(self.tokenizer.source.read_bytes())
        return digest.hexdigest()

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, int]:
        """``(vectors (N, hidden) float32, number of texts truncated to the model length)``."""
        try:
            batch = self.tokenizer.encode(texts)
        except ValueError as error:
            raise BadInput(str(error)) from error
        rows = []
        for start in range(0, len(texts), batch_size):
            vectors = embed_token_ids(
                self.model, batch.ids[start : start + batch_size], self.tokenizer.pad_id
            )
            mx.eval(vectors)
            rows.append(host_numpy(vectors))
            if progress:
                progress(min(batch_size, len(texts) - start))
        return np.concatenate(rows, axis=0), sum(batch.truncated)


def write_vectors(path: Path, texts: Sequence[str], vectors: np.ndarray) -> None:
    """``.npy`` (float32 matrix) or ``.jsonl`` (``{"text", "embedding"}`` a line), atomically."""
    if path.suffix not in OUTPUT_SUFFIXES:
        raise BadInput(f"{path}: output must be .npy or .jsonl")
    if path.suffix == ".npy":
        write = lambda handle: np.save(handle, vectors)
    else:
        lines = "".join(
            json.dumps({"text": text, "embedding": row.tolist()}) + "\n"
            for text, row in zip(texts, vectors)
        )
        write = lambda handle: handle.write(lines.encode())
    try:
        _write_atomically(path, write)
    except OSError as error:
        raise BadInput(f"cannot write {path}: {error}") from error


def _write_atomically(path: Path, write: Callable) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def corpus_cache_path(
    corpus: Path, corpus_texts: Sequence[str], embedder: Embedder
) -> Path:
    """``<corpus>.m2bert-<hash>.npy`` beside the corpus; the hash covers texts, model, tokenizer."""
    digest = hashlib.sha256(embedder.fingerprint().encode())
    digest.update(json.dumps(list(corpus_texts)).encode())
    return corpus.with_name(f"{corpus.name}.m2bert-{digest.hexdigest()[:16]}.npy")


def write_cache(path: Path, vectors: np.ndarray) -> bool:
    """Store corpus vectors; ``False`` when the folder is not writable (search still works)."""
    try:
        _write_atomically(path, lambda handle: np.save(handle, vectors))
    except OSError:
        return False
    return True


def corpus_vectors(
    corpus: Path,
    texts: Sequence[str],
    embedder: Embedder,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, int, bool]:
    """``(vectors, truncated count, from cache)``; computes and caches them when absent."""
    cache = corpus_cache_path(corpus, texts, embedder)
    if cache.is_file():
        vectors = np.load(cache)
        if vectors.shape[0] == len(texts):
            return vectors, 0, True
    vectors, truncated = embedder.embed(texts, batch_size, progress)
    write_cache(cache, vectors)
    return vectors, truncated, False
