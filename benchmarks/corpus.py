"""Collect a corpus of real Python array code from installed packages into a temporary copy.

The corpus is every ``.py`` file that imports torch or MLX under: torch (``nn``, ``_refs``, ``distributions``),
transformers (``models/bert``, ``llama``, ``gpt2``, ``t5``, ``whisper``, ``mistral``), mlx and mlx-lm. Files are
copied (so fixing them never touches site-packages) and the file list and package versions are written to
``corpus.json`` in the copy.

    python benchmarks/corpus.py [--dest DIR] [--all-files]

prints the destination folder. Used by ``lint_throughput.py`` and ``corpus_robustness.py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: (distribution, top-level package, sub-folders of it; empty = the whole package)
SOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("torch", "torch", ("nn", "_refs", "distributions")),
    ("transformers", "transformers",
     tuple(f"models/{name}" for name in ("bert", "llama", "gpt2", "t5", "whisper", "mistral"))),
    ("mlx", "mlx", ()),
    ("mlx-lm", "mlx_lm", ()),
)
BACKEND_IMPORT = re.compile(rb"^\s*(?:import|from)\s+(?:torch|mlx)\b", re.MULTILINE)


@dataclass
class Corpus:
    root: Path
    files: list[Path]
    versions: dict[str, str]

    @property
    def lines(self) -> int:
        return sum(path.read_bytes().count(b"\n") for path in self.files)


def package_folder(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def collect(dest: Path | None = None, all_files: bool = False) -> Corpus:
    """Copy the corpus to ``dest`` (a new temporary folder by default); missing packages are skipped."""
    root = Path(dest) if dest else Path(tempfile.mkdtemp(prefix="emberlint-corpus-"))
    root.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    versions: dict[str, str] = {}
    for distribution, package, subfolders in SOURCES:
        folder = package_folder(package)
        if folder is None:
            continue
        versions[distribution] = importlib.metadata.version(distribution)
        for sub in subfolders or ("",):
            base = folder / sub
            for source in sorted(base.rglob("*.py")):
                if "__pycache__" in source.parts:
                    continue
                data = source.read_bytes()
                if not all_files and not BACKEND_IMPORT.search(data):
                    continue
                target = root / package / source.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                files.append(target)
    manifest = {
        "versions": versions,
        "files": [str(path.relative_to(root)) for path in files],
    }
    (root / "corpus.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return Corpus(root, files, versions)


def load(root: Path) -> Corpus:
    """A corpus collected before (its ``corpus.json`` gives the files and versions)."""
    manifest = json.loads((Path(root) / "corpus.json").read_text(encoding="utf-8"))
    return Corpus(Path(root), [Path(root) / name for name in manifest["files"]], manifest["versions"])


def remove(corpus: Corpus) -> None:
    shutil.rmtree(corpus.root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, help="folder to copy into (default: a new temporary folder)")
    parser.add_argument("--all-files", action="store_true", help="also files that import no array backend")
    args = parser.parse_args()
    corpus = collect(args.dest, args.all_files)
    print(f"{corpus.root}: {len(corpus.files)} files, {corpus.lines} lines; "
          + ", ".join(f"{k} {v}" for k, v in corpus.versions.items()))


if __name__ == "__main__":
    main()
