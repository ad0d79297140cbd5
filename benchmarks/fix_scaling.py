"""How ``emberlint fix`` scales with the size of one file dense with findings.

    python benchmarks/fix_scaling.py [--sizes 40,160,640,2048] [--profile strict] [--timeout 600] [--keep DIR]

Each size (KB) is a generated MLX module of small functions, each with bare operators, Python floats in array
math and constructors without a dtype (several fixable findings per line, some nested, some spanning lines).
``emberlint fix --profile strict`` runs on a temporary copy, in a fresh process, with a time budget larger than
the run; the wall and CPU time (of the child process and the workers it forks: the machine may be shared) and the findings fixed are
printed, with CPU seconds per MB and the ratio of each size's CPU time per byte to the smallest one's (1.0 =
linear). The target (issue 17): 2 MB in under 30 s of wall time.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BLOCK = '''

def layer_{i}(x, w, b):
    y = x @ w + b * 0.5
    z = mx.zeros((4, 4)) + mx.array(1.5) * y
    scale = mx.array([1.0, 2.0, 3.0, 4.0])
    out = (
        mx.exp(-y) * scale
        + z / 3.0
    )
    return out - 0.25 * mx.ones(
        (4, 4)
    )
'''

FIXED = re.compile(r"(\d+) finding\(s\) fixed in")


def generate(size_bytes: int) -> str:
    parts = ["import mlx.core as mx\n"]
    total = len(parts[0])
    i = 0
    while total < size_bytes:
        block = BLOCK.format(i=i)
        parts.append(block)
        total += len(block)
        i += 1
    return "".join(parts)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(size_kb: int, profile: str, timeout: float, folder: Path, keep: Path | None = None) -> dict:
    text = generate(size_kb * 1024)
    path = folder / f"dense_{size_kb}kb.py"
    path.write_text(text, encoding="utf-8")
    command = [sys.executable, "-m", "emberlint", "fix", "--no-color", "--profile", profile,
               "--timeout", str(timeout), str(path)]
    start, cpu_start = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
    fixed = FIXED.search(done.stdout)
    changed = path.read_text(encoding="utf-8") != text
    if keep is not None:  # the fixed file, to compare two versions' output byte for byte
        keep.mkdir(parents=True, exist_ok=True)
        (keep / path.name).write_bytes(path.read_bytes())
    return {"kb": size_kb, "bytes": len(text.encode()), "lines": text.count("\n"), "seconds": seconds, "cpu": cpu,
            "fixed": int(fixed.group(1)) if fixed else 0, "changed": changed, "exit": done.returncode,
            "tail": (done.stdout + done.stderr).strip().splitlines()[-1:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="40,160,640,2048", help="comma-separated sizes in KB")
    parser.add_argument("--profile", default="strict")
    parser.add_argument("--timeout", type=float, default=600.0, help="fix --timeout per file (seconds)")
    parser.add_argument("--keep", type=Path, default=None, help="copy each fixed file into this folder")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="emberlint-fix-scaling-") as tmp:
        for size in sizes:
            row = run(size, args.profile, args.timeout, Path(tmp), args.keep)
            rows.append(row)
            print(f"{row['kb']:>6} KB {row['lines']:>7} lines  wall {row['seconds']:8.2f} s  cpu {row['cpu']:8.2f} s  "
                  f"{row['cpu'] / (row['bytes'] / 2**20):7.2f} cpu-s/MB  fixed {row['fixed']:>7}  "
                  f"exit {row['exit']}  {'written' if row['changed'] else 'NOT WRITTEN'}  {' '.join(row['tail'])}",
                  flush=True)
    base = rows[0]["cpu"] / rows[0]["bytes"]
    print("CPU time per byte relative to the smallest file (1.0 = linear): "
          + ", ".join(f"{r['kb']} KB {r['cpu'] / r['bytes'] / base:.2f}" for r in rows))
    largest = rows[-1]
    if largest["kb"] >= 2048:
        verdict = "meets" if largest["seconds"] < 30 and largest["changed"] else "misses"
        print(f"target 2 MB under 30 s: {verdict} ({largest['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
