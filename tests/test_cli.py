"""The `emberlint check` command: exit codes, formats, configuration, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from emberlint.cli import main
from tests.conftest import shared_dir

VIOLATING = textwrap.dedent(
    """\
    import mlx.core as mx
    a, b = mx.ones((2,), dtype=mx.float32), mx.zeros((2,), dtype=mx.float32)
    def f():
        return a * b
    """
)
CLEAN = "import mlx.core as mx\na, b = mx.ones((2,), dtype=mx.float32), mx.zeros((2,), dtype=mx.float32)\ndef f():\n    return mx.multiply(a, b)\n"


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is not None:
        with runner.isolated_filesystem(temp_dir=cwd):
            pass
    return runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(VIOLATING)
    (tmp_path / "good.py").write_text(CLEAN)
    (tmp_path / "plain.py").write_text("x = 1 * 2\n")
    return tmp_path


def test_exit_codes_follow_severity(project):
    warnings_only = run("check", str(project / "bad.py"), "--select", "EL301", "--no-color")
    assert warnings_only.exit_code == 0
    assert f"{project / 'bad.py'}:4:12: EL301 Bare operator `*` on an array; use mx.multiply(a, b)" in warnings_only.output
    assert run("check", str(project / "bad.py"), "--select", "EL301", "--warnings-as-errors").exit_code == 1
    assert run("check", str(project / "bad.py"), "--profile", "strict", "--select", "EL301").exit_code == 1
    assert run("check", str(project / "good.py"), "--profile", "strict").exit_code == 0


def test_default_command_is_check(project):
    result = run(str(project / "bad.py"), "--profile", "strict", "--select", "EL301")
    assert result.exit_code == 1
    assert "EL301" in result.output


def test_json_output_shape(project):
    result = run("check", str(project / "bad.py"), "--profile", "strict", "--select", "EL301", "--format", "json")
    payload = json.loads(result.output)
    assert set(payload) == {"version", "files_checked", "findings", "errors"}
    (finding,) = payload["findings"]
    assert finding == {
        "path": str(project / "bad.py"),
        "line": 4,
        "column": 12,
        "end_line": 4,
        "end_column": 17,
        "code": "EL301",
        "severity": "error",
        "message": "Bare operator `*` on an array; use mx.multiply(a, b)",
        "fix": {
            "safe": True,
            "description": "Use mx.multiply",
            "edits": [{"line": 4, "column": 12, "end_line": 4, "end_column": 17, "text": "mx.multiply(a, b)"}],
        },
    }


def test_syntax_error_in_a_folder_exits_2_and_checks_the_rest(project):
    (project / "broken.py").write_text("import mlx.core as mx\ndef f(:\n")
    result = run("check", str(project), "--profile", "strict", "--select", "EL301", "--format", "json")
    assert result.exit_code == 2
    payload = json.loads(result.output)
    assert [e["path"] for e in payload["errors"]] == [str(project / "broken.py")]
    assert payload["errors"][0]["line"] == 2
    assert [f["path"] for f in payload["findings"]] == [str(project / "bad.py")]


def test_missing_path_exits_2(tmp_path):
    result = run("check", str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_unknown_code_on_the_command_line_exits_2(project):
    result = CliRunner().invoke(main, ["check", str(project), "--select", "EL999"])
    assert result.exit_code == 2
    assert "unknown rule code or prefix 'EL999'" in result.output


@pytest.mark.parametrize(
    "content,message",
    [
        ("[tool.emberlint]\nprofil = 'strict'\n", "unknown setting(s) profil"),
        ("[tool.emberlint]\nprofile = 'lenient'\n", "profile must be one of recommended, strict"),
        ("[tool.emberlint]\nselect = ['EL777']\n", "unknown rule code or prefix 'EL777'"),
        ("[tool.emberlint]\ndefault-float-dtype = 'float8'\n", "'default-float-dtype' must be one of"),
        ("[tool.emberlint\n", "invalid TOML"),
    ],
)
def test_bad_config_is_a_clear_error(project, content, message):
    (project / "pyproject.toml").write_text(content)
    result = CliRunner().invoke(main, ["check", str(project)])
    assert result.exit_code == 2
    assert "configuration error" in result.output
    assert message in result.output


def test_yaml_config_is_found_walking_up(project):
    sub = project / "pkg" / "deep"
    sub.mkdir(parents=True)
    (sub / "m.py").write_text(VIOLATING)
    (project / ".emberlint.yaml").write_text("profile: strict\nselect: [EL3]\nexclude: ['good.py']\n")
    result = run("check", str(sub / "m.py"), "--format", "json")
    assert result.exit_code == 1
    assert [f["code"] for f in json.loads(result.output)["findings"]] == ["EL301"]
    whole = json.loads(run("check", str(project), "--format", "json").output)
    assert whole["files_checked"] == 3  # bad.py, plain.py, pkg/deep/m.py: good.py is excluded


def test_shared_reference_folder_has_no_python():
    folder = shared_dir("m2bert_reference")
    result = run("check", str(folder), "--profile", "strict")
    assert result.exit_code == 0
    assert "All checks passed" not in result.output  # nothing was checked: say so (issue 17)
    assert "No Python files checked." in result.output
    assert "warning: no Python files found under the given path(s)" in result.output


def test_parallel_output_is_deterministic(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i:02d}.py").write_text(VIOLATING * (1 + i % 3))
    outputs = set()
    for jobs in ("1", "2", "2"):
        result = run("check", str(tmp_path), "--profile", "strict", "--select", "EL301", "--format", "json", "-j", jobs)
        outputs.add(result.output)
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())["findings"]) == sum(1 + i % 3 for i in range(40))


def test_rules_and_explain():
    listing = run("rules", "--format", "json")
    codes = [row["code"] for row in json.loads(listing.output)]
    assert "EL301" in codes and codes == sorted(codes)
    explained = run("explain", "EL301")
    assert explained.output.startswith("EL301 bare-operator-on-array\n")
    assert "Why it matters numerically" in explained.output
    assert run("explain", "EL999").exit_code == 2


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "emberlint", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "emberlint" in out.stdout


def test_rules_doc_is_up_to_date(repo_root):
    from emberlint.docs_commands import rules_markdown

    assert (repo_root / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `emberlint rules --format markdown > docs/rules.md`"
    )


def test_force_exclude_applies_excludes_to_named_files(project):
    (project / ".emberlint.yaml").write_text("profile: strict\nselect: [EL3]\nexclude: ['bad.py']\n")
    named = json.loads(run("check", str(project / "bad.py"), "--format", "json").output)
    assert [f["code"] for f in named["findings"]] == ["EL301"]
    forced = run("check", str(project / "bad.py"), "--force-exclude", "--format", "json")
    assert forced.exit_code == 0  # as ruff: nothing to check is a warning, not a failure
    assert json.loads(forced.stdout)["files_checked"] == 0
    assert "warning: no Python files found" in forced.stderr
    assert run("fix", str(project / "bad.py"), "--force-exclude", "--check").exit_code == 0
