"""What ``emberlint fix`` prints and how it exits (issue 17, items 6 and 7; issue 12, item 4): positions are those
of the file on disk, ``--check``/``--diff`` exit 1 only when a fix would apply, a file that fails still reports
its findings, and ``fix`` takes ``check``'s cache options."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from emberlint import fixing
from emberlint.cli import main
from emberlint.config import Config
from emberlint.engine import lint_source

# Line 4 (74 columns) gets longer when fixed: the EL202 findings that remain sit after the rewritten operators.
LONG = (
    "import mlx.core as mx\n"
    "x = mx.ones((3,), dtype=mx.float32)\n"  # proven an array: the operator fixes are safe (issue 12)
    "def gelu():\n"
    "    return 0.5 * x * (1.0 + mx.tanh(0.79788456 * (x + 0.044715 * x ** 3)))\n"
)
STRICT = ("--profile", "strict")


def run(*args: str):
    return CliRunner().invoke(main, [*args], catch_exceptions=False)


def located(output: str, path: Path) -> list[tuple[int, int, str]]:
    found = []
    for line in output.splitlines():
        if line.startswith(f"{path}:") and ": EL" in line:
            where, code = line[len(str(path)) + 1:].split(": ", 1)
            row, column = where.split(":")
            found.append((int(row), int(column), code.split()[0]))
    return found


def literal_columns(line: str, *literals: str) -> list[int]:
    return [line.index(literal) + 1 for literal in literals]


@pytest.fixture
def long_file(tmp_path: Path) -> Path:
    path = tmp_path / "gelu.py"
    path.write_text(LONG)
    return path


# --- positions ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["--diff", "--check"])
def test_dry_run_places_remaining_findings_in_the_file_on_disk(long_file: Path, mode: str):
    result = run("fix", "--no-cache", mode, *STRICT, str(long_file))
    output = result.stdout + result.stderr
    remaining = [f for f in located(output, long_file) if f[2] == "EL202"]
    line = LONG.splitlines()[3]
    assert len(line) == 74
    # each literal the rewrite kept is reported where it is on disk, on a line of 74 columns (`0.5 * x` and
    # `x ** 3` get safe typed scalars of x's proven dtype; the float32 default of the others is unsafe)
    assert sorted(column for _, column, _ in remaining) == literal_columns(line, "1.0", "0.79788456", "0.044715")
    assert all(row == 4 for row, _, _ in remaining)
    assert long_file.read_text() == LONG


def test_written_file_places_remaining_findings_in_the_fixed_text(long_file: Path):
    result = run("fix", "--no-cache", *STRICT, str(long_file))
    fixed_line = long_file.read_text().splitlines()[3]
    remaining = located(result.stdout, long_file)
    assert remaining and all(row == 4 for row, _, _ in remaining)
    for _, column, _ in remaining:  # each points at the literal it names, in the file as written
        assert fixed_line[column - 1].isdigit()


def test_position_map_follows_every_round():
    outcome = fixing.fix_text(LONG, "gelu.py", Config(profile="strict"))
    assert outcome.rounds >= 2
    original = lint_source(LONG, "gelu.py", Config(profile="strict", select=("EL201",)))
    literals = sorted((f.start.line, f.start.column) for f in original.findings if not f.fix.safe)
    mapped = sorted((outcome.on_source(f).start.line, outcome.on_source(f).start.column)
                    for f in outcome.remaining.findings if f.code == "EL202")
    assert len(literals) == 3  # EL201 on the source and EL202 after the fix name the same three literals
    assert mapped == literals


# --- exit codes of --check and --diff -----------------------------------------------------------------------

UNFIXABLE_ONLY = "import mlx.core as mx\n\ndef f(x: mx.array):\n    return float(x.sum().item())\n"


@pytest.mark.parametrize("mode", ["--check", "--diff"])
def test_dry_run_exits_zero_when_no_fix_applies_even_with_errors_left(tmp_path: Path, mode: str):
    path = tmp_path / "host.py"
    path.write_text(UNFIXABLE_ONLY)
    assert run("check", "--no-cache", *STRICT, str(path)).exit_code == 1  # errors remain
    result = run("fix", "--no-cache", mode, *STRICT, str(path))
    assert result.exit_code == 0
    assert "EL101" in result.stdout + result.stderr  # still listed


@pytest.mark.parametrize("mode", ["--check", "--diff"])
def test_dry_run_exits_one_when_a_fix_would_apply(long_file: Path, mode: str):
    assert run("fix", "--no-cache", mode, *STRICT, str(long_file)).exit_code == 1


def test_dry_run_exits_two_on_a_file_error(tmp_path: Path, long_file: Path):
    broken = tmp_path / "broken.py"
    broken.write_text("import mlx.core as mx\ndef f(:\n")
    assert run("fix", "--no-cache", "--check", *STRICT, str(long_file), str(broken)).exit_code == 2


# --- a file that fails still reports its findings -----------------------------------------------------------

def test_failed_write_reports_the_files_findings(long_file: Path, monkeypatch):
    import emberlint.sources as sources

    def refuse(source, text):
        raise OSError("disk full")

    monkeypatch.setattr(sources, "write_atomically", refuse)
    result = run("fix", "--no-cache", *STRICT, str(long_file))
    assert result.exit_code == 2
    assert "cannot write" in result.stdout
    assert "Found 0 problem(s)" not in result.stdout
    remaining = located(result.stdout, long_file)
    assert remaining and all(row == 4 and column <= 74 for row, column, _ in remaining)
    assert long_file.read_text() == LONG


def test_timeout_after_the_first_round_reports_the_files_findings(long_file: Path, monkeypatch):
    real = fixing._lint

    def slow_rounds(text, path, config, first, unsafe=False, focus=None, workers=None):
        if not first:
            raise fixing.FixTimeout(f"{path}: fixing took longer than 1s; file left unchanged")
        return real(text, path, config, first, unsafe)

    monkeypatch.setattr(fixing, "_lint", slow_rounds)
    result = run("fix", "--no-cache", *STRICT, str(long_file))
    assert result.exit_code == 2
    assert "fixing took longer than 1s" in result.stdout
    codes = {code for _, _, code in located(result.stdout, long_file)}
    assert {"EL201", "EL301"} <= codes  # the findings of the file as it is on disk
    assert long_file.read_text() == LONG


# --- cache options ------------------------------------------------------------------------------------------

def test_fix_takes_checks_cache_options(long_file: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("EMBERLINT_CACHE_DIR", str(tmp_path / "cache"))
    check_options = {p.name for p in __import__("emberlint.check_command", fromlist=["check"]).check.params}
    fix_options = {p.name for p in __import__("emberlint.fix_command", fromlist=["fix"]).fix.params}
    assert {name for name in check_options if "cache" in name} <= fix_options
    assert run("fix", "--no-cache", "--check", *STRICT, str(long_file)).exit_code == 1
    assert not (tmp_path / "cache").exists()  # --no-cache: nothing written


def test_fix_answers_clean_files_from_the_cache(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("EMBERLINT_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "host.py"
    path.write_text(UNFIXABLE_ONLY)
    first = run("fix", *STRICT, str(path))
    assert (tmp_path / "cache").exists()

    def must_not_run(*args, **kwargs):
        raise AssertionError("linted again")

    monkeypatch.setattr(fixing, "fix_text", must_not_run)
    again = run("fix", *STRICT, str(path))
    assert again.stdout == first.stdout and again.exit_code == first.exit_code == 1
    fresh = run("fix", "--no-cache", *STRICT, str(path))  # --no-cache: the file is linted (here: refused)
    assert fresh.exit_code == 2 and "linted again" in fresh.stdout


def test_timeout_before_the_file_is_linted_says_its_findings_are_unknown(long_file: Path, monkeypatch):
    def never_done(text, path, config, first, unsafe=False, focus=None, workers=None):
        raise fixing.FixTimeout(f"{path}: fixing took longer than 1s; file left unchanged")

    monkeypatch.setattr(fixing, "_lint", never_done)
    result = run("fix", "--no-cache", *STRICT, str(long_file))
    assert result.exit_code == 2
    assert "linting it did not finish: its findings are not known" in result.stdout


# --- the diff: linear in the file size, and correct ---------------------------------------------------------

def apply_unified_diff(before: str, diff: str) -> str:
    """Apply a unified diff (as ``fix --diff`` prints it) to ``before``."""
    import re

    from emberlint.diffs import split_lines

    old = split_lines(before)
    result: list[str] = []
    at = 0
    for line in diff.splitlines(keepends=True)[2:]:
        hunk = re.match(r"@@ -(\d+)(?:,(\d+))? ", line)
        if hunk:
            start = int(hunk.group(1)) - (0 if hunk.group(2) == "0" else 1)
            result += old[at:start]
            at = start
        elif line.startswith("\\ No newline"):
            result[-1] = result[-1].rstrip("\r\n")
        elif line[0] == " ":
            result.append(old[at])
            at += 1
        elif line[0] == "-":
            at += 1
        else:
            result.append(line[1:])
    return "".join(result + old[at:])


def test_diff_of_a_fix_compares_only_the_changed_regions():
    from emberlint.diffs import unified_diff

    source = "import mlx.core as mx\nt = mx.ones((3,), dtype=mx.float32)\ndef f():\n" + "".join(
        f"    a{i} = (\n        t * t\n        + t\n    )\n" + "    b = t\n" * 7 + f"    c{i} = mx.zeros(\n        (3,)\n    )\n" + "    b = t\n" * 7
        for i in range(40)) + "    return t\n"
    outcome = fixing.fix_text(source, "many.py", Config(profile="strict"))
    regions = outcome.positions.changed_lines()
    assert len(regions) == 80  # one per rewritten statement; the unchanged lines between them are not compared
    diff = unified_diff("many.py", source, outcome.text, regions)
    assert diff.startswith("--- a/many.py\n+++ b/many.py\n@@ -1,9 +1,9 @@\n")
    assert diff.count("@@ -") == 80
    assert apply_unified_diff(source, diff) == outcome.text
    whole = unified_diff("many.py", source, outcome.text)  # difflib over the whole texts: another valid diff
    assert apply_unified_diff(source, whole) == outcome.text
