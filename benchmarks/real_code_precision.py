"""How much the recommended profile reports on real code nobody on this team wrote, and how much of it is right.

The code is copied at run time from the installed packages (never stored in this repository), at pinned versions:
mlx-lm's models, transformers' bert/llama/gpt2/t5/whisper/mistral models, and the mlx package's own Python files.
Every ``.py`` file there is linted (whether it imports a backend or not: that is what a user's ``check .`` sees).

    python benchmarks/real_code_precision.py [--profile recommended|strict] [--dump FILE] [--unlabelled]

prints, per rule: findings, findings per 1,000 lines, error findings per 1,000 lines, and the labelled precision
(TP / (TP + debatable + FP)) from ``real_code_labels.json``. A label is keyed by package, file (relative to the
package), code and a fingerprint of the flagged line (whitespace removed, sha1, 10 hex digits), and carries the line
it was found on: a label matches the finding with that key nearest to its line, so labels survive small shifts.
``--dump`` writes the findings (with their fingerprints) as JSON; ``--unlabelled`` lists findings without a label.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib.metadata
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.sources import read_source

PINNED = {"mlx-lm": "0.32.2", "transformers": "5.25.0", "mlx": "0.32.4"}
#: (distribution, import package, folders inside it)
SOURCES = (
    ("mlx-lm", "mlx_lm", ("models",)),
    ("transformers", "transformers", tuple(f"models/{m}" for m in ("bert", "llama", "gpt2", "t5", "whisper", "mistral"))),
    ("mlx", "mlx", ("",)),
)
LABELS = Path(__file__).with_name("real_code_labels.json")
TARGETS = {"error_per_kloc": 0.5, "all_per_kloc": 3.0, "precision": 0.8}


def fingerprint(line: str) -> str:
    return hashlib.sha1("".join(line.split()).encode()).hexdigest()[:10]


@dataclass
class Item:
    package: str
    file: str
    line: int
    code: str
    severity: str
    message: str
    fingerprint: str


def copy_corpus(root: Path) -> list[tuple[str, str, Path]]:
    import importlib.util

    files = []
    for distribution, package, folders in SOURCES:
        version = importlib.metadata.version(distribution)
        if version != PINNED[distribution]:
            sys.exit(f"{distribution} {version} is installed; this benchmark and its labels are for {PINNED[distribution]}")
        base = Path(list(importlib.util.find_spec(package).submodule_search_locations)[0])
        for folder in folders:
            for source in sorted((base / folder).rglob("*.py")):
                if "__pycache__" in source.parts:
                    continue
                rel = source.relative_to(base).as_posix()
                target = root / package / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                files.append((package, rel, target))
    return files


def run(profile: str) -> tuple[list[Item], int, int]:
    root = Path(tempfile.mkdtemp(prefix="emberlint-real-code-"))
    try:
        files = copy_corpus(root)
        config = Config(profile=profile)
        items: list[Item] = []
        lines = 0
        for package, rel, path in files:
            text = read_source(path).text
            source_lines = text.splitlines()
            lines += len(source_lines)
            result = lint_source(text, str(path), config)
            for f in result.findings:
                flagged = source_lines[f.start.line - 1] if f.start.line <= len(source_lines) else ""
                items.append(Item(package, rel, f.start.line, f.code, f.severity.value, f.message, fingerprint(flagged)))
        return items, lines, len(files)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def match_labels(items: list[Item], labels: list[dict]) -> dict[int, dict]:
    """Index of item -> its label: each label takes the nearest unlabelled finding with its key."""
    by_key: dict[tuple, list[int]] = collections.defaultdict(list)
    for index, item in enumerate(items):
        by_key[(item.package, item.file, item.code, item.fingerprint)].append(index)
    matched: dict[int, dict] = {}
    for label in labels:
        candidates = [i for i in by_key.get((label["package"], label["file"], label["code"], label["fingerprint"]), [])
                      if i not in matched]
        if candidates:
            best = min(candidates, key=lambda i: abs(items[i].line - label["line"]))
            matched[best] = label
    return matched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="recommended", choices=("recommended", "strict"))
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--unlabelled", action="store_true")
    args = parser.parse_args(argv)

    items, lines, nfiles = run(args.profile)
    labels = json.loads(LABELS.read_text())["labels"] if LABELS.exists() else []
    matched = match_labels(items, labels)
    kloc = lines / 1000
    versions = ", ".join(f"{d} {importlib.metadata.version(d)}" for d in PINNED)
    print(f"profile {args.profile}: {nfiles} files, {lines:,} lines ({versions})")
    errors = sum(1 for i in items if i.severity == "error")
    print(f"all findings: {len(items)} ({len(items) / kloc:.2f} per 1,000 lines; target <= {TARGETS['all_per_kloc']})")
    print(f"error findings: {errors} ({errors / kloc:.2f} per 1,000 lines; target <= {TARGETS['error_per_kloc']})")
    print(f"labelled: {len(matched)} of {len(items)} findings here; {len(labels)} labels in {LABELS.name}")
    print()
    print(f"{'rule':6} {'sev':7} {'n':>5} {'/kloc':>6} {'err/kloc':>8} {'labelled':>8} {'TP':>4} {'deb':>4} {'FP':>4} {'precision':>9}")
    per_rule = collections.defaultdict(list)
    for index, item in enumerate(items):
        per_rule[item.code].append(index)
    for code in sorted(per_rule):
        indices = per_rule[code]
        severity = items[indices[0]].severity
        errs = sum(1 for i in indices if items[i].severity == "error")
        verdicts = collections.Counter(matched[i]["verdict"] for i in indices if i in matched)
        n_labelled = sum(verdicts.values())
        precision = f"{verdicts['TP'] / n_labelled:.2f}" if n_labelled else "-"
        print(f"{code:6} {severity:7} {len(indices):5} {len(indices) / kloc:6.2f} {errs / kloc:8.2f} {n_labelled:8} "
              f"{verdicts['TP']:4} {verdicts['debatable']:4} {verdicts['FP']:4} {precision:>9}")
    from emberlint.registry import enabled_rules

    below = []
    for code, indices in per_rule.items():
        verdicts = collections.Counter(matched[i]["verdict"] for i in indices if i in matched)
        labelled = sum(verdicts.values())
        if labelled < len(indices) or verdicts["TP"] < TARGETS["precision"] * labelled:
            below.append(f"{code} ({verdicts['TP']}/{labelled} TP, {len(indices)} findings)")
    print(f"rules under precision {TARGETS['precision']} or not fully labelled here: {', '.join(below) or 'none'}")

    silent = sorted(rule.CODE for rule in enabled_rules(Config(profile=args.profile)) if rule.CODE not in per_rule)
    print(f"enabled with no finding on this code (precision not measurable here): {', '.join(silent)}")
    print(f"labels not matched in this run (their rule is off in this profile, or the code no longer reports "
          f"the finding): {len(labels) - len(matched)}")
    # every label, whatever the profile: the labelled set was sampled from the strict profile's findings, so a
    # rule's line here covers its strict-only findings too (the table above is the profile being measured)
    print()
    print("labels per rule over the whole labelled set (sampled from strict-profile findings):")
    by_code = collections.defaultdict(collections.Counter)
    for label in labels:
        by_code[label["code"]][label["verdict"]] += 1
    for code in sorted(by_code):
        c = by_code[code]
        total = sum(c.values())
        print(f"  {code}: {total:4} labels, TP {c['TP']:3}, debatable {c['debatable']:3}, FP {c['FP']:3}, "
              f"precision {c['TP'] / total:.2f}")
    if args.dump:
        args.dump.write_text(json.dumps([item.__dict__ for item in items], indent=1))
    if args.unlabelled:
        for index, item in enumerate(items):
            if index not in matched:
                print(f"UNLABELLED {item.package}/{item.file}:{item.line} {item.code} {item.fingerprint} {item.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
