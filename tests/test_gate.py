"""Issue 17: a CI gate that never hangs, never lies and never loses a link. Each repro of the issue (in this
branch's scope) fails without its fix."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from emberlint import registry
from emberlint.cli import main
from emberlint.config import Config, ConfigError, parse_config
from emberlint.engine import lint_source
from emberlint.light import build
from emberlint.reporters import RenderOptions, Report
from emberlint.reporters.text import code_frame, render
from emberlint.rule import Rule
from emberlint.scope import build_scopes

STRICT = Config(profile="strict")
VIOLATING = "import mlx.core as mx\n\nx = mx.ones(3, dtype=mx.float32) * 2\n"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def scopes_of(source: str):
    return build_scopes(build(source, ast.parse(source)).module)


# --- 1. the module-level ``global`` hang --------------------------------------------------------------------------

def test_module_level_global_does_not_hang_check(tmp_path):
    path = tmp_path / "g.py"
    path.write_text("import torch\nglobal log\nlog = print\nlog(1)\n")
    done = subprocess.run([sys.executable, "-m", "emberlint", "check", "--no-cache", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "All checks passed (1 file(s))." in done.stdout


def test_global_names_resolve_at_module_level():
    source = ("import torch as t\nimport mlx.core as mx\nglobal mx\n\n"
              "def f():\n    global t\n    t = 1\n    return t.ones\n\n"
              "class C:\n    def g(self):\n        global mx\n        return mx.ones\n")
    builder = scopes_of(source)
    functions = {scope.node.name.value: scope for scope in builder.scopes.values() if scope.kind == "function"}
    assert builder.root.globals_ == set()  # ``global`` at module level changes nothing
    assert functions["f"].resolve("t") == "torch"
    assert functions["g"].resolve("mx") == "mlx.core"
    assert functions["g"].resolve("unknown") is None
    assert [scope.kind for scope in functions["g"].chain()] == ["function", "class", "module"]
    assert functions["g"].module is builder.root


# --- the per-file time budget --------------------------------------------------------------------------------------

class SlowOnMarker(Rule):
    """Spins forever on a file holding ``SPIN_FOREVER`` (a stand-in for an analysis that never ends)."""

    CODE = "EL998"
    NAME = "slow-on-marker"
    MESSAGE = "never reported"
    SEVERITY = None

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "SPIN_FOREVER":
            while True:  # burns CPU, as the scope loop of issue 17 did
                pass


@pytest.fixture
def slow_rule(monkeypatch):
    original = registry.all_rules
    monkeypatch.setattr(registry, "all_rules", lambda: (*original(), SlowOnMarker))


@pytest.mark.parametrize("files, jobs", [(2, "1"), (20, "2")], ids=["one-process", "parallel"])
def test_a_file_over_its_time_budget_is_its_error_and_the_others_are_checked(tmp_path, slow_rule, files, jobs):
    for index in range(files):
        (tmp_path / f"m{index:02d}.py").write_text(VIOLATING)
    (tmp_path / "m00.py").write_text("import mlx.core as mx\nSPIN_FOREVER = mx.ones(3) * 2\n")
    started = time.monotonic()
    result = invoke("check", "--profile", "strict", "--select", "EL301,EL998", "--format", "json", "--no-cache",
                    "--jobs", jobs, "--timeout", "0.5", str(tmp_path))
    assert time.monotonic() - started < 30
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert [(Path(e["path"]).name, e["kind"]) for e in report["errors"]] == [("m00.py", "timeout")]
    assert "checking took more than 0.5s of CPU time" in report["errors"][0]["message"]
    assert sorted(Path(f["path"]).name for f in report["findings"]) == [f"m{i:02d}.py" for i in range(1, files)]


def test_the_time_budget_comes_from_the_config(tmp_path, slow_rule):
    (tmp_path / "pyproject.toml").write_text("[tool.emberlint]\ntimeout = 0.5\nselect = ['EL998']\n")
    (tmp_path / "m.py").write_text("import mlx.core as mx\nSPIN_FOREVER = 1\n")
    result = invoke("check", "--no-cache", "--jobs", "1", str(tmp_path / "m.py"))
    assert result.exit_code == 2 and "m.py: error: checking took more than 0.5s of CPU time" in result.stdout
    fixed = invoke("fix", "--jobs", "1", str(tmp_path / "m.py"))
    assert fixed.exit_code == 2 and "fixing took longer than 0.5s" in fixed.output


@pytest.mark.parametrize("value", ["-1", "'long'", "true"])
def test_a_bad_timeout_setting_is_a_configuration_error(value):
    with pytest.raises(ConfigError, match="'timeout' must be a number of seconds"):
        parse_config({"timeout": eval(value.replace("true", "True"))}, "pyproject.toml")
    assert parse_config({"timeout": 0}, "x").timeout == 0.0


# --- 2. exit codes CI can trust -------------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_text(VIOLATING)
    (tmp_path / "file").write_text("")
    return tmp_path


@pytest.mark.parametrize("option", ["--output-file", "--write-baseline"])
def test_a_report_or_baseline_that_cannot_be_written_is_exit_2_without_traceback(project, option):
    result = invoke("check", "--select", "EL301", option, "file/report.json", "bad.py")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    what = "report" if option == "--output-file" else "baseline"
    assert f"emberlint: error: cannot write {what} file/report.json: Not a directory" in result.stderr


@pytest.mark.parametrize("option", ["--output-file", "--write-baseline"])
def test_missing_folders_of_a_report_are_created_as_ruff_does(project, option):
    result = invoke("check", "--profile", "strict", "--select", "EL301", "--format", "sarif", option,
                    "out/deeper/r.sarif", "bad.py")
    assert result.exit_code == (1 if option == "--output-file" else 0)
    assert (project / "out" / "deeper" / "r.sarif").stat().st_size > 0


def test_an_unexpected_exception_exits_2_not_1(project, monkeypatch):
    import emberlint.check_command

    def explode(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(emberlint.check_command, "run_check", explode)
    result = invoke("check", "bad.py")
    assert result.exit_code == 2
    assert "emberlint: internal error: OSError: disk on fire (please report it)" in result.stderr


def test_an_unexpected_exception_in_a_real_process_exits_2(tmp_path):
    # the console entry point, as CI runs it: Python's own status for a traceback would be 1 ("findings")
    (tmp_path / "bad.py").write_text(VIOLATING)
    code = ("import sys, emberlint.check_command as c\n"
            "def boom(*a, **k): raise MemoryError('simulated')\n"
            "c.run_check = boom\n"
            "from emberlint.cli import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code, "check", str(tmp_path / "bad.py")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "internal error: MemoryError" in done.stderr


@pytest.mark.parametrize("layout", ["empty", "no-python", "all-excluded", "excluded-named"])
def test_nothing_checked_is_a_warning_as_in_ruff(tmp_path, layout):
    folder = tmp_path / "src"
    folder.mkdir()
    named = folder
    if layout == "no-python":
        (folder / "notes.txt").write_text("x = 1\n")
    elif layout in ("all-excluded", "excluded-named"):
        (folder / "m.py").write_text(VIOLATING)
        (tmp_path / "pyproject.toml").write_text("[tool.emberlint]\nexclude = ['src']\nforce-exclude = true\n")
        named = folder / "m.py" if layout == "excluded-named" else folder
    result = invoke("check", "--no-cache", str(named))
    assert result.exit_code == 0  # ruff 0.17: "warning: No Python files found under the given path(s)", exit 0
    assert result.stderr == "emberlint: warning: no Python files found under the given path(s)\n"
    assert result.stdout == "No Python files checked.\n" and "All checks passed" not in result.output


def test_a_missing_path_is_still_an_error(tmp_path):
    result = invoke("check", str(tmp_path / "typo"))
    assert result.exit_code == 2 and "no such file or directory" in result.stdout


def test_a_syntax_error_without_a_backend_import_is_reported(tmp_path):
    result = lint_source("import os\n\nx = = 1\n", "plain.py", STRICT)
    assert [(e.kind, e.line, e.column, e.message) for e in result.errors] == [
        ("parse", 3, 5, "syntax error: invalid syntax")]
    (tmp_path / "plain.py").write_text("import os\n\nx = = 1\n")
    assert invoke("check", "--no-cache", str(tmp_path / "plain.py")).exit_code == 2
    # the same errors as in a file the engine analyses (what CPython's compiler alone rejects is not one)
    assert lint_source("return 1\nx = '\\d'\n", "plain.py", STRICT).errors == []
    with_backend = lint_source("import torch\n\nx = = 1\n", "b.py", STRICT).errors
    assert [(e.line, e.column, e.message) for e in with_backend] == [(3, 5, "syntax error: invalid syntax")]


def test_deep_nesting_without_a_backend_is_a_clean_error():
    source = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    assert [e.message for e in lint_source(source, "deep.py", STRICT).errors] == ["too deeply nested to analyse"]


# --- 3. fix keeps what files are -------------------------------------------------------------------------------------

BAD = "import mlx.core as mx\nx = mx.ones(3) * 2\n"
FIXED = "import mlx.core as mx\nx = mx.multiply(mx.ones(3), 2)\n"


def fix(*args: str):
    return invoke("fix", "--profile", "strict", "--select", "EL301", *args)


def test_fix_writes_through_a_symlink_to_its_target(tmp_path):
    target = tmp_path / "real.py"
    target.write_text(BAD)
    link = tmp_path / "link.py"
    link.symlink_to("real.py")
    result = fix(str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == "real.py"
    assert target.read_text() == FIXED


def test_fix_keeps_hard_links(tmp_path):
    first = tmp_path / "a.py"
    first.write_text(BAD)
    second = tmp_path / "b.py"
    os.link(first, second)
    result = fix(str(first))
    assert result.exit_code == 0, result.output
    assert first.stat().st_ino == second.stat().st_ino and first.stat().st_nlink == 2
    assert second.read_text() == FIXED
    assert {p.name for p in tmp_path.iterdir()} == {"a.py", "b.py"}  # no temporary file left behind


@pytest.mark.parametrize("via_link", [False, True])
def test_fix_refuses_read_only_files(tmp_path, via_link):
    path = tmp_path / "ro.py"
    path.write_text(BAD)
    os.chmod(path, 0o444)
    named = path
    if via_link:
        named = tmp_path / "link.py"
        named.symlink_to(path)
    try:
        result = fix(str(named))
        assert result.exit_code == 2
        assert f"{named}: error: read-only " in result.output and "(mode 0444); not changed" in result.output
        assert path.read_text() == BAD and stat.S_IMODE(path.stat().st_mode) == 0o444
        # a dry run writes nothing, so a read-only file is no error: exit 1 says only that a fix would apply
        assert fix(str(named), "--diff").exit_code == 1
    finally:
        os.chmod(path, 0o644)


# --- 9. other linters' noqa codes ------------------------------------------------------------------------------------

def test_unused_and_unexplained_suppressions_concern_emberlint_codes_only():
    source = ("import mlx.core as mx\n"
              "import os  # noqa: F401\n"
              "import sys  # noqa: SIM401, E501\n"
              "y = mx.ones(3)  # noqa: SIM401, EL301\n"
              "z = 1  # noqa\n"
              "w = 2  # emberlint: ignore[EL301]\n")
    result = lint_source(source, "s.py", Config(profile="strict", select=("EL9",)))
    assert [(f.start.line, f.code, f.message.split(":")[0]) for f in result.findings] == [
        (4, "EL901", "Unused suppression of EL301"), (4, "EL902", "Suppression without a reason"),
        (5, "EL901", "Unused suppression"), (5, "EL902", "Suppression without a reason"),
        (6, "EL901", "Unused suppression of EL301"), (6, "EL902", "Suppression without a reason"),
    ]


# --- 10. text output -----------------------------------------------------------------------------------------------

NESTED = "import mlx.core as mx\nx = mx.ones(3, dtype=mx.float32)\ny = 0.5 * x * (x + 1)\n"


def test_nested_operators_sharing_a_start_are_one_line_of_text():
    result = lint_source(NESTED, "n.py", Config(profile="strict", select=("EL301",)))
    # two ``*`` operators whose expressions both start at ``0.5``: two findings (two fixes), one position
    assert [(f.start.line, f.start.column, f.end.column) for f in result.findings] == [(3, 5, 22), (3, 5, 12),
                                                                                      (3, 16, 21)]
    text = render(Report(findings=result.findings, files_checked=1), RenderOptions())
    assert text.splitlines()[:2] == [
        "n.py:3:5: EL301 Bare operator `*` on an array; use mx.multiply(a, b) [*] (\u00d72 at this position)",
        "n.py:3:16: EL301 Bare operator `+` on an array; use mx.add(a, b) [*]",
    ]
    # different messages at one position (``x * x + x``, ``x.astype(a).astype(b)``): one line, none lost
    source = "import mlx.core as mx\nx = mx.ones(3, dtype=mx.float32)\nz = x * x + x\n"
    findings = lint_source(source, "m.py", Config(profile="strict", select=("EL301",))).findings
    assert render(Report(findings=findings, files_checked=1), RenderOptions()).splitlines()[:2] == [
        "m.py:3:5: EL301 Bare operator `*` on an array; use mx.multiply(a, b) [*]",
        "    also here: Bare operator `+` on an array; use mx.add(a, b) [*]",
    ]


def test_one_code_frame_per_line_with_a_caret_under_each_column():
    result = lint_source(NESTED, "n.py", STRICT)
    report = Report(findings=result.findings, files_checked=1, sources={"n.py": NESTED})
    text = render(report, RenderOptions(color=True))
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert plain.count("3 | y = 0.5 * x * (x + 1)") == 1
    assert "  | " + " " * 4 + "^" + " " * 10 + "^   ^" in plain
    assert code_frame(["\tx = a * b"], 1, [2, 6]) == ["1 | \tx = a * b", "  | \t^   ^"]


def test_terminal_docs_are_markdown_not_rst():
    for args in (["explain", "EL301"], ["rules", "--format", "json"], ["rules", "--format", "markdown"]):
        assert "``" not in invoke(*args).output, args
    assert "(`mx.multiply`," in invoke("explain", "EL301").output
    coached = render(Report(findings=lint_source(NESTED, "n.py", STRICT).findings, files_checked=1),
                     RenderOptions(coach=True))
    assert "``" not in coached


def test_a_read_error_prints_the_path_once(tmp_path):
    path = tmp_path / "binary.py"
    path.write_bytes(b"import torch\nx = 1\x00\n")
    output = invoke("check", "--no-cache", str(path)).stdout
    assert output.splitlines()[0] == f"{path}: error: file contains NUL bytes; not Python source"


# --- the watchdog's finding on torch (testing/_internal/autograd_function_db.py) -----------------------------------

def test_a_commented_tuple_of_starred_calls_is_no_internal_error():
    source = ("import torch\n\n\ndef backward(ctx, gx, gy):\n    return (\n        # a comment first\n"
              "        torch.zeros(3, 4, *gx.shape, dtype=gx.dtype),\n        torch.zeros(gy.shape),\n    )\n")
    result = lint_source(source, "a.py", STRICT)
    assert result.errors == []
    assert [(f.code, f.start.line, f.start.column) for f in result.findings] == [("EL401", 8, 9)]


# --- the documented CI recipe fails the job on every kind of crash ---------------------------------------------------

def _sarif_steps(repo: Path) -> dict[str, str]:
    """The ``run:`` script of the SARIF step in each document's GitHub Actions YAML."""
    import re

    import yaml

    scripts = {}
    for name in ("README.md", "docs/ci.md"):
        text = (repo / name).read_text(encoding="utf-8")
        for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
            data = yaml.safe_load(block)
            steps = data if isinstance(data, list) else data.get("jobs", {}).get("emberlint", {}).get("steps", [])
            for step in steps:
                if "--format sarif" in str(step.get("run", "")):
                    scripts[name] = step["run"]
    return scripts


FAKE_RUNS = {  # what the fake emberlint does -> whether the SARIF step must pass
    "clean": ("echo '{}' > emberlint.sarif; exit 0", True),
    "findings": ("echo '{}' > emberlint.sarif; exit 1", True),
    "emberlint error (exit 2)": ("echo '{}' > emberlint.sarif; exit 2", False),
    "killed (out of memory)": ("kill -9 $$", False),
    "broken install (Python's own exit 1, no report)": ("echo 'ImportError' >&2; exit 1", False),
    "stale report, then a crash": ("exit 1", False),
}


@pytest.mark.parametrize("case", sorted(FAKE_RUNS))
def test_the_documented_sarif_step_fails_on_every_crash(repo_root, tmp_path, case):
    behaviour, passes = FAKE_RUNS[case]
    scripts = _sarif_steps(repo_root)
    assert set(scripts) == {"README.md", "docs/ci.md"}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "emberlint"
    fake.write_text(f"#!/bin/bash\n{behaviour}\n")
    fake.chmod(0o755)
    for name, script in scripts.items():
        (tmp_path / "emberlint.sarif").write_text("{}")  # a report left by an earlier run
        # GitHub runs ``run:`` steps with ``bash --noprofile --norc -eo pipefail {0}``
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=tmp_path,
                              env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, capture_output=True)
        assert (done.returncode == 0) == passes, (name, case, done.returncode)


# --- the LSP server publishes diagnostics for a module-level ``global`` (it hung before) ---------------------------

from tests.test_lsp import client, open_doc, published  # noqa: E402,F401 - the pytest-lsp client fixture


async def test_lsp_publishes_diagnostics_for_a_module_level_global(client, tmp_path):  # noqa: F811
    source = "import torch\nglobal log\nlog = print\nlog(1)\nx = torch.ones(2) * 2\n"
    uri = open_doc(client, tmp_path / "g.py", source)
    params = await published(client, uri)
    # the test client selects EL1 and EL301 (tests.test_lsp)
    assert sorted((d.code, d.range.start.line) for d in params.diagnostics) == [("EL301", 4)]
