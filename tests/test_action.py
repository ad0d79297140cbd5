"""The composite GitHub Action (``action.yml``): its structure, and its shell steps run as a runner would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ACTION = Path(__file__).resolve().parent.parent / "action.yml"
VIOLATING = "import mlx.core as mx\n\n\ndef scale(a: mx.array, b: mx.array):\n    return a * b\n"


def action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def steps_by_name() -> dict[str, dict]:
    return {step["name"]: step for step in action()["runs"]["steps"]}


def test_action_is_a_composite_with_documented_inputs() -> None:
    data = action()
    assert data["name"] == "emberlint" and data["description"]
    assert data["runs"]["using"] == "composite"
    inputs = data["inputs"]
    assert set(inputs) == {"paths", "args", "version", "python-version", "sarif", "sarif-file"}
    for name, spec in inputs.items():
        assert spec["description"] and "default" in spec and spec["required"] is False, name
    expressions = re.findall(r"\$\{\{(.*?)\}\}", ACTION.read_text(encoding="utf-8"))
    used = {name for expression in expressions for name in re.findall(r"\binputs\.([\w-]+)", expression)}
    assert used == set(inputs)  # every input is used, and nothing undeclared is referenced
    for step in data["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), step["name"]
        if "run" in step:
            assert step["shell"] == "bash", step["name"]  # composite run steps must name their shell
            assert "${{" not in step["run"], step["name"]  # inputs reach scripts through env, never interpolated


def test_steps_install_check_and_upload_sarif() -> None:
    steps = steps_by_name()
    assert list(steps) == ["Set up Python", "Install emberlint", "emberlint check", "emberlint SARIF report",
                           "Upload SARIF"]
    assert steps["Set up Python"]["uses"].startswith("actions/setup-python@")
    assert 'pip install "$GITHUB_ACTION_PATH"' in steps["Install emberlint"]["run"]
    assert steps["emberlint check"]["run"].startswith("emberlint check --format github ")
    assert "if" not in steps["emberlint check"]  # the gate always runs and its exit code fails the job
    for name in ("emberlint SARIF report", "Upload SARIF"):
        assert steps[name]["if"] == "${{ !cancelled() && inputs.sarif == 'true' }}"
    upload = steps["Upload SARIF"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"


def _run_step(name: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run(["bash", "-e", "-c", steps_by_name()[name]["run"]], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PATH": path, **env}, timeout=120)


def test_check_and_sarif_steps_run(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text(VIOLATING)
    env = {"EMBERLINT_PATHS": "src", "EMBERLINT_ARGS": "--profile strict", "EMBERLINT_SARIF": "out.sarif"}
    check = _run_step("emberlint check", tmp_path, env)
    assert check.returncode == 1  # a failing finding fails the job
    assert check.stdout.startswith("::error file=src/model.py,line=5,col=12,endLine=5,endColumn=16,title=EL301::")
    sarif = _run_step("emberlint SARIF report", tmp_path, env)
    assert sarif.returncode == 0  # findings are not a failure of the report step
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["EL301"]
    (tmp_path / "src" / "broken.py").write_text("import mlx.core as mx\ndef (:\n")
    assert _run_step("emberlint SARIF report", tmp_path, env).returncode != 0  # errors (exit 2) still fail it
