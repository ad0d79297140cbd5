"""A warm (cached) one-file ``emberlint check`` with and without a ``[tool.emberlint]`` section, side by side.

    python benchmarks/warm_config.py [--repeat N] [--file PATH]

Two temporary projects hold the same file (default: mlx-lm's ``models/llama.py``, copied at run time); one has a
``pyproject.toml`` with a ``[tool.emberlint]`` section naming a profile, rule codes, excludes and per-file
ignores, the other none. Each is checked once to fill its result cache, then ``emberlint check FILE`` runs in
each, alternately, ``--repeat`` times (fresh processes, bytecode compiled). Prints the median and best wall and
child-CPU seconds of each, the ratio with/without, and how many LibCST modules each warm run imports (issue 13:
reading the section imported the rules and LibCST, 0.25 s against 0.09 s).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECTION = """\
[project]
name = "example"

[tool.emberlint]
profile = "strict"
select = ["EL1", "EL2", "EL3", "EL4"]
ignore = ["EL902"]
exclude = ["build/**", "tests/fixtures/**"]
default-float-dtype = "float32"

[tool.emberlint.per-file-ignores]
"tests/*" = ["EL301", "EL201"]
"""
COUNT_LIBCST = ("import runpy, sys\nsys.argv = ['emberlint', 'check', {name!r}]\n"
                "try:\n    runpy.run_module('emberlint', run_name='__main__')\nexcept SystemExit:\n"
                "    print(sum(1 for m in sys.modules if m.split('.')[0] == 'libcst'), file=sys.stderr)\n")


def default_file() -> Path:
    spec = importlib.util.find_spec("mlx_lm")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("mlx-lm is not installed: pass --file")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "llama.py"


def timed(command: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"emberlint check failed in {cwd} (exit {done.returncode}): {done.stderr.decode()[-400:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def libcst_modules(cwd: Path, name: str, env: dict) -> int:
    done = subprocess.run([sys.executable, "-c", COUNT_LIBCST.format(name=name)], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    return int(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--file", type=Path, help="the file to check (default: mlx-lm's models/llama.py)")
    args = parser.parse_args()
    source = args.file or default_file()
    env = {key: value for key, value in os.environ.items()
           if key not in ("EMBERLINT_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")}
    command = [sys.executable, "-m", "emberlint", "check", source.name]
    with tempfile.TemporaryDirectory(prefix="emberlint-warm-") as temp:
        projects = {"with [tool.emberlint]": Path(temp) / "configured", "without config": Path(temp) / "plain"}
        for folder in projects.values():
            folder.mkdir()
            shutil.copyfile(source, folder / source.name)
        (projects["with [tool.emberlint]"] / "pyproject.toml").write_text(SECTION, encoding="utf-8")
        for folder in projects.values():  # fills the result cache (and compiles emberlint's bytecode)
            timed(command, folder, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in projects}
        for _ in range(args.repeat):
            for name, folder in projects.items():
                times[name].append(timed(command, folder, env))
        print(f"warm one-file `emberlint check {source.name}` ({source.stat().st_size} bytes), {args.repeat} runs "
              f"each, alternating; python {sys.version.split()[0]}")
        print(f"{'':24} {'wall median':>11} {'wall best':>10} {'CPU median':>11} {'CPU best':>9} "
              f"{'LibCST modules':>15}")
        medians = {}
        for name, folder in projects.items():
            walls, cpus = [t[0] for t in times[name]], [t[1] for t in times[name]]
            medians[name] = (statistics.median(walls), statistics.median(cpus))
            print(f"{name:24} {medians[name][0]:10.3f}s {min(walls):9.3f}s {medians[name][1]:10.3f}s "
                  f"{min(cpus):8.3f}s {libcst_modules(folder, source.name, env):15d}")
        with_config, without = medians["with [tool.emberlint]"], medians["without config"]
        print(f"ratio with/without: wall {with_config[0] / without[0]:.2f}, CPU {with_config[1] / without[1]:.2f}")


if __name__ == "__main__":
    main()
