"""Typed settings: config files checked for shape only, ``Overrides`` from the command line and the editor, rule
codes checked where the rules load, one resolver, the suppression editor, error kinds, terminal helpers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from emberlint.cache import result_from_json, result_to_json
from emberlint.cli import main
from emberlint.config import Config, ConfigError, Overrides, parse_config
from emberlint.model import ErrorKind, FileError, FileResult
from emberlint.options import overrides_from
from emberlint.registry import check_codes
from emberlint.runner import ConfigResolver, discover_targets
from emberlint.suppress import ignore_edit, parse_suppressions
from emberlint.terminal import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, exit_code, use_color

VIOLATING = "import mlx.core as mx\na = mx.ones((2,))\nb = a * a\n"


def test_parse_config_checks_shape_only_and_records_the_rule_codes():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent("""\
        import sys
        from emberlint.config import parse_config
        config = parse_config({"select": ["EL999"], "per-file-ignores": {"t/*": "EL3"}}, "p.toml")
        print(config.rule_codes, sorted(m for m in sys.modules if m.startswith(("libcst", "emberlint.r"))))
        """)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "((\"p.toml: 'select'\", ('EL999',)), (\"p.toml: 'per-file-ignores' for 't/*'\", " \
                                  "('EL3',))) []"
    with pytest.raises(ConfigError, match="'select' must be a list of strings"):
        parse_config({"select": [3]}, "p.toml")


def test_check_codes_names_where_the_unknown_code_was_written():
    config = Overrides(select=("EL3",), origin="editor setting emberlint.{}").apply(
        parse_config({"ignore": ["EL1"], "per-file-ignores": {"t/*": ["EL777"]}}, "p.toml"))
    assert config.select == ("EL3",) and config.ignore == ("EL1",)
    assert [where for where, _ in config.rule_codes] == [
        "editor setting emberlint.select", "p.toml: 'ignore'", "p.toml: 'per-file-ignores' for 't/*'"]
    with pytest.raises(ConfigError, match=r"^p.toml: 'per-file-ignores' for 't/\*': unknown rule code or prefix "
                                          r"'EL777' \(see `emberlint rules`\)$"):
        check_codes(config)
    check_codes(Config(select=("EL999",)))  # a Config built in code names no setting: nothing to check


def test_overrides_replace_only_what_they_set():
    base = parse_config({"profile": "strict", "select": ["EL3"], "exclude": ["gen/**"], "timeout": 5}, "p.toml")
    assert Overrides().apply(base) is base
    overrides = overrides_from(" el1, EL301 ", None, None, ("x.py",), warnings_as_errors=True, timeout=0,
                               force_exclude=True)
    assert overrides == Overrides(select=("EL1", "EL301"), extra_exclude=("x.py",), force_exclude=True,
                                  warnings_as_errors=True, timeout=0.0)
    config = overrides.apply(base)
    assert (config.profile, config.select, config.ignore, config.exclude, config.extra_exclude) == (
        "strict", ("EL1", "EL301"), (), ("gen/**",), ("x.py",))
    assert (config.force_exclude, config.warnings_as_errors, config.timeout) == (True, True, 0.0)
    assert config.rule_codes == (("--select", ("EL1", "EL301")), ("p.toml: 'select'", ("EL3",)))


def _check(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def test_a_code_the_command_line_replaces_is_still_checked(tmp_path: Path):
    (tmp_path / "m.py").write_text(VIOLATING)
    (tmp_path / "pyproject.toml").write_text("[tool.emberlint]\nselect = ['EL777']\n")
    for no_cache in (["--no-cache"], []):
        result = _check(str(tmp_path), "--select", "EL3", *no_cache)
        assert result.exit_code == 2
        assert f"{tmp_path / 'pyproject.toml'} [tool.emberlint]: 'select': unknown rule code or prefix 'EL777'" in (
            result.stderr)


def test_rule_codes_are_checked_when_nothing_is_linted(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.emberlint]\nignore = ['EL777']\n")
    result = _check(str(tmp_path))  # no Python file: checked by discovery
    assert result.exit_code == 2 and "'ignore': unknown rule code or prefix 'EL777'" in result.stderr
    result = _check(str(tmp_path / "missing.py"), "--select", "EL999")
    assert result.exit_code == 2 and "--select: unknown rule code or prefix 'EL999'" in result.stderr
    with pytest.raises(ConfigError, match="--ignore: unknown rule code or prefix 'XX1'"):
        discover_targets([str(tmp_path)], ConfigResolver(Overrides(ignore=("XX1",))))


def test_stdin_checks_the_rule_codes(tmp_path: Path):
    result = CliRunner().invoke(main, ["check", "-", "--stdin-filename", str(tmp_path / "m.py"), "--select", "EL99"],
                                input=VIOLATING)
    assert result.exit_code == 2 and "--select: unknown rule code or prefix 'EL99'" in result.stderr


def test_force_exclude_is_an_override_of_fix_too(tmp_path: Path):
    (tmp_path / "m.py").write_text(VIOLATING)
    (tmp_path / ".emberlint.yaml").write_text("profile: strict\nexclude: ['m.py']\n")
    named = CliRunner().invoke(main, ["fix", str(tmp_path / "m.py"), "--check"])
    assert named.exit_code == 1  # a file named explicitly is checked despite the exclude
    forced = CliRunner().invoke(main, ["fix", str(tmp_path / "m.py"), "--check", "--force-exclude"])
    assert forced.exit_code == 0 and (tmp_path / "m.py").read_text() == VIOLATING


@pytest.mark.parametrize(
    "line,code,expected",
    [
        ("x = a * b", "EL301", "x = a * b  # emberlint: ignore[EL301]"),
        ("x = a * b   \t", "EL301", "x = a * b  # emberlint: ignore[EL301]"),
        ("x = a * b  # emberlint: ignore[EL1]  # reason: shapes", "EL301",
         "x = a * b  # emberlint: ignore[EL1, EL301]  # reason: shapes"),
        ("x = a * b  # EMBERLINT: IGNORE[]", "EL301", "x = a * b  # EMBERLINT: IGNORE[EL301]"),
        ("x = a * b  # emberlint: ignore [EL1,EL301 ]", "EL301", "x = a * b  # emberlint: ignore [EL1, EL301]"),
        ("x = a * b  # emberlint: ignore-file[EL1]", "EL301",
         "x = a * b  # emberlint: ignore-file[EL1]  # emberlint: ignore[EL301]"),
        ("x = a * b  # noqa: E501", "EL301", "x = a * b  # noqa: E501  # emberlint: ignore[EL301]"),
    ],
)
def test_ignore_edit_writes_what_the_parser_reads(line, code, expected):
    start, end, text = ignore_edit(line, code)
    edited = line[:start] + text + line[end:]
    assert edited == expected
    [entry] = [s for s in parse_suppressions(edited + "\n").by_line[1] if not s.noqa]
    assert entry.covers(code)


def test_file_error_kind_is_an_enum():
    error = FileError("m.py", "cannot read", "read")
    assert error.kind is ErrorKind.READ and error.kind == "read" and f"{error.kind}-error" == "read-error"
    assert error.to_json()["kind"] == "read" and json.dumps(error.to_json())
    with pytest.raises(ValueError, match="'reed' is not a valid ErrorKind"):
        FileError("m.py", "cannot read", "reed")
    result = FileResult("m.py", errors=[FileError("m.py", "over budget", ErrorKind.TIMEOUT, 3, 1)])
    assert result_from_json("m.py", json.loads(json.dumps(result_to_json(result)))) == result


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_terminal_colour_and_exit_codes(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(False, _Stream(True))
    assert not use_color(True, _Stream(True)) and not use_color(False, _Stream(False))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(False, _Stream(True))

    class Report:
        def __init__(self, errors=(), findings=()):
            self.errors, self.findings = list(errors), list(findings)

    from emberlint.engine import lint_source

    [warning] = lint_source(VIOLATING, "m.py", Config(select=("EL301",))).findings
    assert (exit_code(Report(), False), exit_code(Report(findings=[warning]), False),
            exit_code(Report(findings=[warning]), True), exit_code(Report(errors=[object()]), False)) == (
        EXIT_CLEAN, EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR)
