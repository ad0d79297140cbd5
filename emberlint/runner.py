"""Finds the files to check and lints them, in parallel processes, with a deterministic order of results."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from emberlint.config import Config, ConfigError, Overrides, discover
from emberlint.model import ErrorKind, FileError, FileResult
from emberlint.sources import SourceError, read_source

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox", "node_modules", ".mypy_cache",
             ".pytest_cache", ".ruff_cache", ".emberlint_cache", "build", "dist", ".eggs"}
PYTHON_SUFFIXES = (".py", ".pyi", ".ipynb")
PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class Target:
    path: str
    config: Config


class ConfigResolver:
    """The configuration of each folder (nearest config file upwards, or ``explicit``), with the overrides of the
    command line or the editor; used by ``check``, ``fix``, stdin and the LSP. Raises ConfigError for a config file
    that cannot be read or has a bad shape; rule codes are checked by ``check_codes`` (it loads every rule)."""

    def __init__(self, overrides: Overrides = Overrides(), explicit: Path | None = None) -> None:
        self.overrides = overrides
        self.explicit = explicit
        self._cache: dict[Path, Config] = {}

    def for_path(self, path: Path) -> Config:
        folder = path.parent if not path.is_dir() else path
        folder = folder.resolve()
        if folder not in self._cache:
            self._cache[folder] = self.overrides.apply(discover(folder, self.explicit))
        return self._cache[folder]

    def check_codes(self) -> None:
        """Check the rule codes of the overrides and of every configuration resolved so far (ConfigError)."""
        check_codes([self.overrides.apply(Config()), *self._cache.values()])


def check_codes(configs: Iterable[Config]) -> None:
    """Raise ConfigError for the first unknown rule code the configurations name (imports every rule)."""
    from emberlint.registry import check_codes as check_config  # lazy: imports every rule (and LibCST)

    for config in dict.fromkeys(configs):
        check_config(config)


def discover_targets(paths: Iterable[str], resolver: ConfigResolver) -> tuple[list[Target], list[FileError]]:
    """Python files under ``paths``: folders are walked minus excludes; files named explicitly are always taken,
    unless ``force_exclude`` is set (pre-commit passes every file name explicitly). When there is none, the rule
    codes of the settings are checked here (``lint_targets`` checks them otherwise)."""
    targets: dict[str, Target] = {}
    errors: list[FileError] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append(FileError(raw, "no such file or directory", ErrorKind.READ))
            continue
        if path.is_file():
            config = resolver.for_path(path)
            if not (config.force_exclude and config.is_excluded(path)):
                targets.setdefault(str(path), Target(str(path), config))
            continue
        for file in _walk(path, resolver):
            targets.setdefault(str(file), Target(str(file), resolver.for_path(file)))
    if not targets:
        resolver.check_codes()
    return sorted(targets.values(), key=lambda t: t.path), errors


def _walk(root: Path, resolver: ConfigResolver) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        folder_path = Path(folder)
        config = resolver.for_path(folder_path)
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
            and not config.is_excluded(folder_path / d)
        )
        for name in sorted(files):
            if name.endswith(PYTHON_SUFFIXES):
                file = folder_path / name
                if not config.is_excluded(file):
                    yield file


def without_path(path: str, exc: BaseException) -> str:
    """The exception's text without its leading ``path: `` (reports print the path already)."""
    text = str(exc)
    return text[len(path) + 2:] if text.startswith(f"{path}: ") else text


def lint_target(target: Target, store: bool = False) -> FileResult:
    """Lint one file; never raises: unreadable files, parse failures and internal errors become ``FileError``s.
    With ``store`` the result goes into the content-hash cache under the key of the bytes actually linted."""
    from emberlint.engine import lint_text  # lazy: a fully cached run never imports LibCST

    try:
        source = read_source(target.path)
    except SourceError as exc:
        return FileResult(target.path, errors=[FileError(target.path, without_path(target.path, exc), ErrorKind.READ)])
    from emberlint.budget import OverBudget, time_budget

    seconds = target.config.timeout
    over = f"checking took more than {seconds:g}s of CPU time (the `timeout` setting, --timeout)"
    try:
        with time_budget(seconds, over):
            if target.path.endswith(".ipynb"):
                from emberlint.notebooks import lint_notebook_text

                result = lint_notebook_text(source.text, target.path, target.config)
            else:
                result, _ = lint_text(source.text, target.path, target.config)
    except OverBudget as exc:  # reported, never cached: a later run with a larger budget tries again
        return FileResult(target.path, errors=[FileError(target.path, str(exc), ErrorKind.TIMEOUT)])
    except Exception as exc:  # an engine bug on one file must not stop the run
        message = f"internal error: {type(exc).__name__}: {exc}"
        result = FileResult(target.path, errors=[FileError(target.path, message, ErrorKind.INTERNAL)])
    if store:
        from emberlint.cache import ResultCache, cache_root, entry_key

        ResultCache(cache_root(target.config.root)).put(entry_key(source.raw, target.path, target.config), result)
    return result


def cached_result(target: Target) -> FileResult | None:
    """The cached result for the file's current bytes, or None."""
    from emberlint.cache import ResultCache, cache_root, entry_key

    try:
        raw = Path(target.path).read_bytes()
    except OSError:
        return None
    return ResultCache(cache_root(target.config.root)).get(entry_key(raw, target.path, target.config), target.path)


def lint_targets(
    targets: list[Target], jobs: int | None = None, progress: Callable[[int], None] | None = None,
    work: Callable[[Target], Any] = lint_target, cache: bool = False,
) -> list[Any]:
    """Results of ``work`` (default: linting) in the order of ``targets`` whatever the number of processes;
    ``work`` must be picklable (a module-level function or a partial of one). With ``cache`` (linting only),
    files whose bytes were linted before with the same settings are answered from the cache in this process and
    only the others are linted (and stored). Before anything is linted, the rule codes of the targets' settings
    are checked (ConfigError); a run answered wholly from the cache skips that: its settings, rule codes included,
    are part of the cache key, and they passed the check in the run that stored the results."""
    if not cache or work is not lint_target:
        check_codes(target.config for target in targets)
        return _run(targets, work, jobs, progress)
    results: list[Any] = [cached_result(target) for target in targets]
    missing = [index for index, result in enumerate(results) if result is None]
    if missing:
        check_codes(target.config for target in targets)
    if progress and len(targets) > len(missing):
        progress(len(targets) - len(missing))
    fresh = _run([targets[i] for i in missing], functools.partial(lint_target, store=True), jobs, progress)
    for index, result in zip(missing, fresh):
        results[index] = result
    return results


def _worker_started() -> None:
    """A worker allocates many short-lived tree nodes per file: collect the young generation less often
    (measured: 5% less CPU on the corpus of benchmarks/corpus.py)."""
    import gc

    gc.set_threshold(50_000, 20, 100)


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on (a CI container's share)
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _in_process(count: int, jobs: int) -> bool:
    """Whether ``count`` files are worked on one after another in this process (else by a pool of ``jobs``)."""
    return jobs <= 1 or count < PARALLEL_THRESHOLD


def processes_per_file(count: int, jobs: int | None) -> int:
    """The processes the work on one of ``count`` files may use (``split_lint``): the cores, at most ``jobs``,
    when the files are worked on one after another in this process; else 1 (the pool's workers use the cores)."""
    jobs = _jobs(jobs)
    return min(jobs, _cores()) if _in_process(count, jobs) else 1


def _jobs(jobs: int | None) -> int:
    return jobs or os.cpu_count() or 1


def _run(targets: list[Target], work: Callable[[Target], Any], jobs: int | None,
         progress: Callable[[int], None] | None) -> list[Any]:
    jobs = _jobs(jobs)
    if _in_process(len(targets), jobs):
        results = []
        for target in targets:
            results.append(work(target))
            if progress:
                progress(1)
        return results
    chunk = max(1, min(32, len(targets) // (jobs * 4)))
    results = []
    from concurrent.futures import ProcessPoolExecutor  # lazy: a one-file run never starts a pool

    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_started) as pool:
        for result in pool.map(work, targets, chunksize=chunk):
            results.append(result)
            if progress:
                progress(1)
    return results


__all__ = ["ConfigError", "ConfigResolver", "Overrides", "Target", "check_codes", "discover_targets", "cached_result",
           "lint_targets", "lint_target", "processes_per_file"]
