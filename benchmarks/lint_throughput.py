"""Throughput of ``emberlint check`` (cold and warm, all rules on) beside Fixit, TorchFix and ruff on one corpus.

    python benchmarks/lint_throughput.py [--corpus DIR] [--jobs N] [--tools-dir DIR] [--setup-tools]
    python benchmarks/lint_throughput.py --no-backend-only [--repeat N]   # only the no-backend figure

Fixit and TorchFix cannot share emberlint's environment (TorchFix 0.7.0 pins ``libcst<1.6``; Fixit 2.2.1 pins
``click<8.2`` while transformers needs a newer click), so each lives in its own virtualenv under ``--tools-dir``
(default ``.bench-tools/``; ``--setup-tools`` creates them from ``benchmarks/requirements-tools.txt``). A tool
that is missing is reported as skipped. Every run is a fresh process; wall time and the CPU time of the child
processes are both printed (on a loaded machine CPU time is the steadier figure).

Every tool runs with its bytecode compiled, as after ``pip install``: a first untimed ``emberlint`` run writes
emberlint's ``__pycache__`` even where ``PYTHONDONTWRITEBYTECODE`` is set (otherwise every process would compile
emberlint's modules again, about 50 ms).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpus_module

HERE = Path(__file__).resolve().parent
#: tool name -> pinned requirement, from requirements-tools.txt
TOOL_PINS = {line.split("==")[0].strip().lower(): line.strip()
             for line in (HERE / "requirements-tools.txt").read_text().splitlines() if "==" in line}


@dataclass
class Timing:
    name: str
    wall: float
    cpu: float
    returncode: int

    def rate(self, files: int) -> float:
        return files / self.wall if self.wall else float("inf")


def run(name: str, command: list[str], env: dict | None = None) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        sys.stderr.write(f"{name}: exit {done.returncode}: {done.stderr.decode(errors='replace')[-400:]}\n")
    return Timing(name, wall, cpu, done.returncode)


def tool_path(tools_dir: Path, name: str) -> str | None:
    candidate = tools_dir / name / "bin" / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


def setup_tools(tools_dir: Path) -> None:
    for name, pin in TOOL_PINS.items():
        venv = tools_dir / name
        if not (venv / "bin" / name).exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", pin], check=True)


def single_file_latency(path: Path, env: dict, repeat: int = 5) -> float:
    times = [run("one file", ["emberlint", "check", "--no-cache", "--profile", "strict", str(path)], env).wall
             for _ in range(repeat)]
    return statistics.median(times)


def no_backend_files() -> list[Path]:
    """Python's own top-level modules that do not import an array backend (what should cost almost nothing)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return [path for path in sorted(stdlib.glob("*.py"))
            if not corpus_module.BACKEND_IMPORT.search(path.read_bytes())]


def no_backend_figure(jobs: str, repeat: int) -> None:
    """CPU per line of ``emberlint check`` over the stdlib's no-backend modules, median of ``repeat`` runs."""
    plain = no_backend_files()
    lines = sum(path.read_bytes().count(b"\n") for path in plain)
    env = dict(os.environ, NO_COLOR="1")
    command = ["emberlint", "check", "--profile", "strict", "--jobs", jobs, "--no-cache", *map(str, plain)]
    run("compile bytecode", command, env)
    timings = [run("emberlint cold, no-backend stdlib", command, env) for _ in range(repeat)]
    cpu = statistics.median(t.cpu for t in timings)
    wall = statistics.median(t.wall for t in timings)
    print(f"files without a backend import ({len(plain)} stdlib modules, {lines} lines), median of {repeat}: "
          f"{cpu:.2f} s CPU, {wall:.2f} s wall, {cpu / lines * 1e6:.1f} us CPU per line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="an existing corpus folder (default: collect a new one)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tools-dir", type=Path, default=Path(".bench-tools"))
    parser.add_argument("--setup-tools", action="store_true", help="create the Fixit/TorchFix virtualenvs first")
    parser.add_argument("--skip", default="", help="comma-separated tools to skip (fixit,torchfix,ruff)")
    parser.add_argument("--no-backend-only", action="store_true",
                        help="only the files without a backend import (the stdlib's), --repeat times")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.no_backend_only:
        no_backend_figure(str(args.jobs), args.repeat)
        return
    if args.setup_tools:
        setup_tools(args.tools_dir)
    owned = args.corpus is None
    corpus = corpus_module.collect() if owned else corpus_module.load(args.corpus)
    files, lines = len(corpus.files), corpus.lines
    root = str(corpus.root)
    skip = set(filter(None, args.skip.split(",")))
    cache_dir = tempfile.mkdtemp(prefix="emberlint-bench-cache-")
    env = dict(os.environ, EMBERLINT_CACHE_DIR=cache_dir, NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    by_size = sorted(corpus.files, key=lambda p: p.stat().st_size)
    typical = by_size[len(by_size) // 2]
    for output in ("text", "json"):
        run("compile bytecode", ["emberlint", "check", "--no-cache", "--format", output, str(typical)], env)
    jobs = str(args.jobs)
    emberlint = ["emberlint", "check", "--profile", "strict", "--jobs", jobs, root]
    timings: list[Timing] = [
        run("emberlint cold (--no-cache)", [*emberlint, "--no-cache"], env),
        run("emberlint cold (filling cache)", emberlint, env),
        run("emberlint warm (unchanged tree)", emberlint, env),
        run("emberlint warm, --format json", [*emberlint, "--format", "json"], env),
        run("emberlint cold, 1 job", ["emberlint", "check", "--profile", "strict", "--jobs", "1", "--no-cache",
                                      root], env),
    ]
    plain = no_backend_files()
    plain_lines = sum(path.read_bytes().count(b"\n") for path in plain)
    timings.append(run("emberlint cold, no-backend stdlib", [*emberlint[:-1], "--no-cache", *map(str, plain)], env))
    if "ruff" not in skip and shutil.which("ruff"):
        timings.append(run("ruff --select ALL --no-cache", ["ruff", "check", "--select", "ALL", "--no-cache",
                                                             "--exit-zero", "--quiet", root]))
        timings.append(run("ruff ... --output-format json", ["ruff", "check", "--select", "ALL", "--no-cache",
                                                              "--exit-zero", "--output-format", "json", root]))
    for name, command in (("fixit", ["lint", root]), ("torchfix", [root])):
        path = tool_path(args.tools_dir, name) if name not in skip else None
        if path:
            timings.append(run(name, [path, *command]))
        elif name not in skip:
            print(f"({name} not found: run with --setup-tools)")
    latency = single_file_latency(typical, env)

    print(f"corpus: {files} files, {lines} lines; jobs={jobs}; "
          + ", ".join(f"{k} {v}" for k, v in corpus.versions.items()))
    print(f"{'tool':36} {'wall s':>8} {'cpu s':>8} {'files/s':>9} {'lines/s':>10}")
    for timing in timings:
        print(f"{timing.name:36} {timing.wall:8.2f} {timing.cpu:8.2f} {timing.rate(files):9.1f} "
              f"{lines / timing.wall:10.0f}")
    by_name = {t.name: t for t in timings}
    cold = by_name["emberlint cold (--no-cache)"]
    warm = by_name["emberlint warm (unchanged tree)"]
    for other in ("fixit", "torchfix", "ruff --select ALL --no-cache"):
        if other in by_name:
            theirs = by_name[other]
            print(f"emberlint cold vs {other}: {theirs.wall / cold.wall:.1f}x files/s (wall), "
                  f"{theirs.cpu / cold.cpu:.1f}x (cpu)")
    ruff = by_name.get("ruff --select ALL --no-cache")
    if ruff:
        print(f"emberlint warm vs ruff without cache: {ruff.wall / warm.wall:.2f}x (wall, >1 = emberlint faster)")
        ruff_json, warm_json = by_name["ruff ... --output-format json"], by_name["emberlint warm, --format json"]
        print(f"  same, both writing JSON: {ruff_json.wall / warm_json.wall:.2f}x (wall), "
              f"{ruff_json.cpu / warm_json.cpu:.2f}x (cpu)")
    plain_run = by_name["emberlint cold, no-backend stdlib"]
    print(f"files without a backend import ({len(plain)} stdlib modules, {plain_lines} lines): "
          f"{plain_run.cpu / plain_lines * 1e6:.1f} us CPU per line, against {cold.cpu / lines * 1e6:.1f} on the "
          f"corpus ({cold.cpu / lines / (plain_run.cpu / plain_lines):.1f}x less)")
    typical_lines = typical.read_bytes().count(b"\n")
    print(f"single-file latency ({typical.stat().st_size} B, {typical_lines} lines, the median "
          f"file; median of 5 runs): {latency:.3f} s")
    shutil.rmtree(cache_dir, ignore_errors=True)
    if owned:
        corpus_module.remove(corpus)


if __name__ == "__main__":
    main()
