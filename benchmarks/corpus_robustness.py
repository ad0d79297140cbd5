"""Robustness of ``emberlint check`` and ``emberlint fix --unsafe-fixes`` on real code (all rules on).

    python benchmarks/corpus_robustness.py [--corpus DIR] [--limit N] [--jobs N]
    python benchmarks/corpus_robustness.py --whole torch --whole transformers [--jobs N] [--slowest K]

``--whole PACKAGE`` is the watchdog: every ``.py``/``.pyi`` file of the installed package, copied to a temporary
folder, through one ``emberlint check --profile strict --no-cache --format json`` process (a hard limit of
``--hang-limit`` seconds on the whole run). Every file must finish: no internal error, no file over its time
budget, no hang. Prints the package's version, files, lines, findings, parse errors (code newer than this
Python), internal errors, timeouts and the wall time; with ``--slowest K`` also the K files slowest to check
in-process (one job), the figure the default per-file budget is set against.

On a temporary copy of the corpus (never the original): ``check`` must not crash on any file (an internal
error is counted as a crash); ``fix --unsafe-fixes`` must leave every file parseable, leave files without
findings byte-identical, and a second ``fix`` must change nothing; a fix run under a tiny ``--timeout`` and one
whose edits raise must leave every file it did not finish untouched. Prints the counts; exits 1 on any failure.
``tests/test_corpus_robustness.py`` runs the same on a small sample.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpus_module

STRICT = ["--profile", "strict"]
TIMED_OUT = re.compile(r"(\S+\.pyi?): (?:error: )?fixing took longer than")
FIXED_SUMMARY = re.compile(r"(\d+) finding\(s\) fixed in (\d+) file\(s\)")


@dataclass
class Counts:
    files: int = 0
    lines: int = 0
    findings: int = 0
    crashes: int = 0
    parse_errors: int = 0
    fixes_applied: int = 0
    files_fixed: int = 0
    reparse_failures: int = 0
    changed_without_findings: int = 0
    second_fix_changes: int = 0
    fix_timeouts: int = 0  # files the first fix run gave up on (--timeout): left unchanged, fixed by the second
    timeout_partial_writes: int = 0
    exception_writes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.crashes or self.reparse_failures or self.changed_without_findings or self.second_fix_changes
                    or self.timeout_partial_writes or self.exception_writes)


def snapshot(files: list[Path]) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in files}


def emberlint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emberlint.cli", *args], capture_output=True, text=True)


def check_files(files: list[Path], jobs: int, counts: Counts) -> set[Path]:
    """Lint in-process; returns the files with findings."""
    from emberlint.runner import ConfigResolver, Overrides, discover_targets, lint_targets

    targets, _ = discover_targets([str(p) for p in files], ConfigResolver(Overrides(profile="strict")))
    with_findings = set()
    for result in lint_targets(targets, jobs):
        counts.findings += len(result.findings)
        for error in result.errors:
            if error.kind == "internal":
                counts.crashes += 1
                counts.problems.append(f"crash: {error.path}:{error.line}: {error.message}")
            elif error.kind == "parse":
                counts.parse_errors += 1
        if result.findings:
            with_findings.add(Path(result.path))
    return with_findings


def reparses(path: Path) -> bool:
    from emberlint.sources import SourceError, read_source

    try:
        cst.parse_module(read_source(path).text)
    except (SourceError, cst.ParserSyntaxError):
        return False
    return True


def fix_checks(root: Path, files: list[Path], with_findings: set[Path], jobs: int, counts: Counts) -> None:
    before = snapshot(files)
    done = emberlint("fix", "--unsafe-fixes", *STRICT, "--jobs", str(jobs), str(root))
    output = done.stdout + done.stderr
    timed_out = {Path(m[1]).resolve() for m in TIMED_OUT.finditer(output)}
    counts.fix_timeouts = len(timed_out)
    match = FIXED_SUMMARY.search(output)
    if match:
        counts.fixes_applied, counts.files_fixed = int(match[1]), int(match[2])
    after = snapshot(files)
    for path in files:
        if after[path] == before[path]:
            continue
        if not reparses(path):
            counts.reparse_failures += 1
            counts.problems.append(f"does not re-parse after fix: {path}")
        if path not in with_findings:
            counts.changed_without_findings += 1
            counts.problems.append(f"changed without findings: {path}")
    emberlint("fix", "--unsafe-fixes", *STRICT, "--jobs", str(jobs), str(root))
    again = snapshot(files)
    for path in files:
        if again[path] != after[path] and path.resolve() not in timed_out:
            counts.second_fix_changes += 1
            counts.problems.append(f"second fix changed: {path}")
    # Restore the originals, then fix under an impossible time budget: every file is either untouched or
    # exactly what a complete fix produced (a file with nothing to fix can finish in time).
    for path, data in before.items():
        path.write_bytes(data)
    emberlint("fix", "--unsafe-fixes", *STRICT, "--timeout", "0.000001", "--jobs", str(jobs), str(root))
    for path, data in snapshot(files).items():
        if data != before[path] and data != after[path]:
            counts.timeout_partial_writes += 1
            counts.problems.append(f"partial write under timeout: {path}")
    for path, data in before.items():
        path.write_bytes(data)
    counts.exception_writes = raising_fix_writes(root, files, before)


def raising_fix_writes(root: Path, files: list[Path], before: dict[Path, bytes]) -> int:
    """Run ``fix`` in-process with edits that raise: nothing may be written; returns the files changed."""
    from click.testing import CliRunner

    from emberlint import edits, fixing
    from emberlint.fix_command import fix

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")

    saved = [(module, name, getattr(module, name)) for module in (edits, fixing)
             for name in ("apply_edits", "apply_mapped") if hasattr(module, name)]
    for module, name, _ in saved:
        setattr(module, name, broken)
    try:
        CliRunner().invoke(fix, ["--unsafe-fixes", *STRICT, "--jobs", "1", str(root)])
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
    return sum(1 for path in files if path.read_bytes() != before[path])


def run(source_root: Path | None = None, limit: int | None = None, jobs: int = 2) -> Counts:
    work = Path(tempfile.mkdtemp(prefix="emberlint-robustness-"))
    try:
        if source_root is None:
            corpus = corpus_module.collect(work / "corpus")
            root, files = corpus.root, corpus.files
        else:
            root = work / "corpus"
            shutil.copytree(source_root, root)
            files = sorted(root.rglob("*.py"))
        if limit is not None and len(files) > limit:
            step = len(files) / limit
            keep = {files[int(i * step)] for i in range(limit)}
            for path in files:
                if path not in keep:
                    path.unlink()
            files = sorted(keep)
        counts = Counts(files=len(files), lines=sum(p.read_bytes().count(b"\n") for p in files))
        with_findings = check_files(files, jobs, counts)
        fix_checks(root, files, with_findings, jobs, counts)
        return counts
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Watch:
    """What checking a whole package gave."""

    package: str
    version: str = ""
    files: int = 0
    lines: int = 0
    findings: int = 0
    parse_errors: int = 0
    internal_errors: int = 0
    timeouts: int = 0
    hung: bool = False
    exit_code: int | None = None
    wall: float = 0.0
    cpu: float = 0.0  # of the check process and its workers
    load: float = 0.0  # the machine's 1-minute load average when the run ended
    problems: list[str] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.internal_errors or self.timeouts or self.hung) and self.exit_code in (0, 1, 2)


def copy_package(package: str, dest: Path, only: list[str] | None = None) -> tuple[Path, list[Path]]:
    """The package's Python files (all, or the relative paths in ``only``) copied under ``dest/package``."""
    folder = corpus_module.package_folder(package)
    if folder is None:
        raise SystemExit(f"{package} is not installed")
    root = dest / package
    sources = ([folder / name for name in only] if only is not None else
               [p for p in sorted(folder.rglob("*")) if p.suffix in (".py", ".pyi") and p.is_file()
                and "__pycache__" not in p.parts])
    files = []
    for source in sources:
        target = root / source.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        files.append(target)
    return root, files


def watch_package(package: str, jobs: int = 2, only: list[str] | None = None, hang_limit: float = 1800,
                  slowest: int = 0) -> Watch:
    """``emberlint check`` over a copy of the installed ``package`` (or the files ``only`` of it)."""
    import importlib.metadata
    import json
    import time

    watch = Watch(package)
    try:
        watch.version = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        pass
    work = Path(tempfile.mkdtemp(prefix=f"emberlint-watch-{package}-"))
    try:
        root, files = copy_package(package, work, only)
        watch.files, watch.lines = len(files), sum(p.read_bytes().count(b"\n") for p in files)
        command = [sys.executable, "-m", "emberlint", "check", "--profile", "strict", "--no-cache", "--format",
                   "json", "--jobs", str(jobs), str(root)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=hang_limit, cwd=work)
        except subprocess.TimeoutExpired:
            watch.hung = True
            watch.problems.append(f"emberlint check did not finish within {hang_limit:g}s")
            return watch
        watch.wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        watch.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        watch.load = os.getloadavg()[0]
        watch.exit_code = done.returncode
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            watch.problems.append(f"no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")
            watch.internal_errors += 1
            return watch
        watch.findings = len(report["findings"])
        for error in report["errors"]:
            where = f"{Path(error['path']).relative_to(root)}:{error['line']}"
            if error["kind"] == "internal":
                watch.internal_errors += 1
                watch.problems.append(f"internal error: {where}: {error['message']}")
            elif error["kind"] == "timeout":
                watch.timeouts += 1
                watch.problems.append(f"timeout: {where}: {error['message']}")
            elif error["kind"] == "parse":
                watch.parse_errors += 1
                watch.problems.append(f"parse error: {where}: {error['message']}")
        if slowest:
            watch.slowest = slowest_files(files, slowest)
        return watch
    finally:
        shutil.rmtree(work, ignore_errors=True)


def slowest_files(files: list[Path], count: int) -> list[tuple[float, str]]:
    """The ``count`` files slowest to lint in this process (seconds, path), all rules on."""
    import time

    from emberlint.config import Config
    from emberlint.runner import Target, lint_target

    config = Config(profile="strict", timeout=0)
    times = []
    for path in files:
        started = time.perf_counter()
        lint_target(Target(str(path), config))
        times.append((time.perf_counter() - started, path.name))
    return sorted(times, reverse=True)[:count]


def print_watch(watch: Watch) -> None:
    print(f"{watch.package} {watch.version}: {watch.files} files, {watch.lines} lines, {watch.findings} findings, "
          f"{watch.parse_errors} parse errors, {watch.internal_errors} internal errors, {watch.timeouts} timeouts"
          f"{', HUNG' if watch.hung else ''}; emberlint check --profile strict --no-cache: {watch.wall:.1f} s wall, "
          f"{watch.cpu:.1f} s CPU, exit {watch.exit_code} (load average {watch.load:.1f})")
    for problem in watch.problems[:50]:
        print("  " + problem)
    for seconds, name in watch.slowest:
        print(f"  slowest: {seconds:.2f} s {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="an existing corpus folder (copied; default: collect one)")
    parser.add_argument("--limit", type=int, help="only this many files, spread over the corpus")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--whole", action="append", metavar="PACKAGE",
                        help="the watchdog: check every file of this installed package (repeatable)")
    parser.add_argument("--hang-limit", type=float, default=1800, help="seconds before a --whole run counts as hung")
    parser.add_argument("--slowest", type=int, default=0, help="with --whole: time each file, print the K slowest")
    args = parser.parse_args()
    if args.whole:
        watches = [watch_package(name, args.jobs, hang_limit=args.hang_limit, slowest=args.slowest)
                   for name in args.whole]
        for watch in watches:
            print_watch(watch)
        sys.exit(0 if all(watch.ok for watch in watches) else 1)
    counts = run(args.corpus, args.limit, args.jobs)
    for name in ("files", "lines", "findings", "crashes", "parse_errors", "fixes_applied", "files_fixed",
                 "reparse_failures", "changed_without_findings", "second_fix_changes", "fix_timeouts",
                 "timeout_partial_writes",
                 "exception_writes"):
        print(f"{name:24} {getattr(counts, name)}")
    for problem in counts.problems[:50]:
        print("  " + problem)
    sys.exit(0 if counts.ok else 1)


if __name__ == "__main__":
    main()
