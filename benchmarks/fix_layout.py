"""Does ``emberlint fix`` keep the layout of the code it rewrites? Measured on a copy of a real package.

    python benchmarks/fix_layout.py [--package mlx.nn] [--profile strict] [--unsafe-fixes]

Copies the installed package into a temporary folder, runs ``emberlint fix`` on the copy and compares every changed
line with the original (difflib, per file). Counted as layout damage:
- a line moved left: an added line whose text equals a removed line's but which is indented less (lines moved
  right are counted apart: an operand that was hugged by an operator, now an argument on its own line, moves its
  continuation lines one indentation step right with it);
- a dedented continuation: an added line inside a multi-line call indented less than the line that opens it;
- an added line with trailing whitespace;
- a collapsed expression: an original multi-line statement whose fixed version is on one line.
Also prints the multi-line calls that gained an argument (the EL401 ``dtype=`` fix) and how many kept one
argument per line. Exits 1 when any damage is found.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def multi_line_statements(source: str) -> int:
    tree = ast.parse(source)
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.stmt) and not isinstance(
        node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try))
        and node.end_lineno > node.lineno)


def dedented_continuations(source: str) -> list[int]:
    """Lines inside a multi-line call indented less than the line holding the call's ``(``."""
    lines = source.splitlines()
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.end_lineno > node.lineno:
            opening = indent_of(lines[node.func.end_lineno - 1])
            for number in range(node.func.end_lineno + 1, node.end_lineno + 1):
                text = lines[number - 1]
                if text.strip() and indent_of(text) < opening:
                    bad.append(number)
    return bad


def compare(before: str, after: str) -> dict:
    old, new = before.splitlines(), after.splitlines()
    counts = {"moved_left": 0, "moved_right": 0, "trailing_space": 0, "changed_lines": 0}
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed = {line.strip(): indent_of(line) for line in old[i1:i2] if line.strip()}
        for line in new[j1:j2]:
            counts["changed_lines"] += 1
            if line != line.rstrip():
                counts["trailing_space"] += 1
            if line.strip() in removed and removed[line.strip()] > indent_of(line):
                counts["moved_left"] += 1
            elif line.strip() in removed and removed[line.strip()] < indent_of(line):
                counts["moved_right"] += 1
    new_dedents = set(dedented_continuations(after))
    old_count = len(dedented_continuations(before))
    counts["dedented"] = max(0, len(new_dedents) - old_count)
    counts["collapsed"] = max(0, multi_line_statements(before) - multi_line_statements(after))
    return counts


def dtype_calls(before: str, after: str) -> tuple[int, int]:
    """Multi-line calls that gained ``dtype=``, and how many put it on its own line like their other arguments."""
    gained = kept = 0
    old_calls = {}
    for node in ast.walk(ast.parse(before)):
        if isinstance(node, ast.Call) and node.end_lineno > node.lineno:
            old_calls[(ast.unparse(node.func), tuple(ast.unparse(a) for a in node.args))] = node
    lines = after.splitlines()
    for node in ast.walk(ast.parse(after)):
        if not (isinstance(node, ast.Call) and node.end_lineno > node.lineno):
            continue
        key = (ast.unparse(node.func), tuple(ast.unparse(a) for a in node.args))
        original = old_calls.get(key)
        if original is None or any(k.arg == "dtype" for k in original.keywords):
            continue
        added = [k for k in node.keywords if k.arg == "dtype"]
        if not added:
            continue
        gained += 1
        items = sorted(original.args + original.keywords, key=lambda item: (item.lineno, item.col_offset))
        one_per_line = bool(items) and items[0].lineno != original.func.end_lineno and all(
            a.end_lineno != b.lineno for a, b in zip(items, items[1:]))
        ordered = sorted(node.args + node.keywords, key=lambda item: (item.lineno, item.col_offset))
        previous = ordered[-2] if len(ordered) >= 2 else None
        own_line = previous is not None and added[0].value.lineno != previous.end_lineno
        aligned = previous is None or not own_line or indent_of(lines[added[0].value.lineno - 1]) == indent_of(
            lines[previous.lineno - 1])
        if (own_line == bool(one_per_line)) and aligned:
            kept += 1
    return gained, kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", default="mlx.nn")
    parser.add_argument("--profile", default="strict")
    parser.add_argument("--unsafe-fixes", action="store_true")
    args = parser.parse_args()
    spec = importlib.util.find_spec(args.package)
    if spec is None or not spec.submodule_search_locations:
        print(f"{args.package}: not installed")
        return 2
    source_folder = Path(list(spec.submodule_search_locations)[0])
    with tempfile.TemporaryDirectory(prefix="emberlint-fix-layout-") as tmp:
        copy = Path(tmp) / source_folder.name
        shutil.copytree(source_folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
        originals = {p: p.read_text(encoding="utf-8") for p in sorted(copy.rglob("*.py"))}
        command = [sys.executable, "-m", "emberlint", "fix", "--no-color", "--profile", args.profile, str(copy)]
        if args.unsafe_fixes:
            command.append("--unsafe-fixes")
        done = subprocess.run(command, capture_output=True, text=True)
        summary = [line for line in done.stdout.splitlines() if "fixed in" in line]
        totals = {"files_changed": 0, "changed_lines": 0, "moved_left": 0, "dedented": 0, "trailing_space": 0,
                  "collapsed": 0, "moved_right": 0}
        gained = kept = 0
        for path, before in originals.items():
            after = path.read_text(encoding="utf-8")
            if after == before:
                continue
            totals["files_changed"] += 1
            counts = compare(before, after)
            for key, value in counts.items():
                totals[key] += value
            g, k = dtype_calls(before, after)
            gained, kept = gained + g, kept + k
            if any(counts[key] for key in ("moved_left", "dedented", "trailing_space", "collapsed")):
                print(f"  {path.relative_to(copy)}: {counts}")
    print(f"{args.package} ({len(originals)} files), fix --profile {args.profile}"
          f"{' --unsafe-fixes' if args.unsafe_fixes else ''}: {' '.join(summary)}")
    print("  " + ", ".join(f"{key} {value}" for key, value in totals.items()))
    print(f"  multi-line calls given dtype=: {gained}, laid out like their other arguments: {kept}")
    damage = totals["moved_left"] + totals["dedented"] + totals["trailing_space"] + totals["collapsed"]
    return 1 if damage or kept != gained else 0


if __name__ == "__main__":
    sys.exit(main())
