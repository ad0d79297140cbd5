"""CI gate formats of ``emberlint check``: SARIF, GitHub workflow commands, baselines and ``--output-file``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from emberlint.cli import main
from emberlint.reporters.github import command
from tests.conftest import shared_dir

VIOLATING = "import mlx.core as mx\na, b = mx.ones((2,)), mx.zeros((2,))\ndef f():\n    return a * b\n"
BROKEN = "import mlx.core as mx\ndef g(:\n"


def check(*args: str):
    return CliRunner().invoke(main, ["check", "--select", "EL301", "--no-color", *args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_text(VIOLATING)
    return tmp_path


# --- SARIF ----------------------------------------------------------------------------------------------------------

def test_sarif_validates_and_carries_rules_results_and_fixes(project: Path) -> None:
    import jsonschema

    schema = json.loads((shared_dir("schemas") / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    (project / "broken.py").write_text(BROKEN)
    result = check("bad.py", "broken.py", "--format", "sarif")
    assert result.exit_code == 2  # the syntax error
    log = json.loads(result.stdout)
    jsonschema.validate(log, schema)

    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "emberlint"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    rule = rules["EL301"]
    assert rule["name"] == "bare-operator-on-array"
    assert rule["shortDescription"]["text"].startswith("A bare arithmetic, matrix or bitwise operator")
    assert "Why it matters numerically" in rule["fullDescription"]["text"]
    assert rule["help"]["text"].endswith("Run `emberlint explain EL301` for examples.")
    # EL301 is strict-only since issue 14 (a policy): off by default, an error where the strict profile enables it
    assert rule["defaultConfiguration"] == {"enabled": False, "level": "error"}
    assert all(r["shortDescription"]["text"] and r["fullDescription"]["text"] for r in driver["rules"])

    assert run["columnKind"] == "unicodeCodePoints"
    [finding] = run["results"]
    assert finding["ruleId"] == "EL301"
    assert driver["rules"][finding["ruleIndex"]]["id"] == "EL301"
    assert finding["level"] == "warning"
    assert finding["message"]["text"] == "Bare operator `*` on an array; use mx.multiply(a, b)"
    location = finding["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "bad.py"},
                        "region": {"startLine": 4, "startColumn": 12, "endLine": 4, "endColumn": 17}}
    assert finding["fixes"] == [{
        "description": {"text": "Use mx.multiply"},
        "artifactChanges": [{
            "artifactLocation": {"uri": "bad.py"},
            "replacements": [{
                "deletedRegion": {"startLine": 4, "startColumn": 12, "endLine": 4, "endColumn": 17},
                "insertedContent": {"text": "mx.multiply(a, b)"},
            }],
        }],
    }]
    assert len(finding["partialFingerprints"]["emberlint/v1"]) == 32

    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [notification] = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"


def test_sarif_fingerprint_survives_moving_lines(project: Path) -> None:
    before = json.loads(check("bad.py", "--format", "sarif").stdout)["runs"][0]["results"][0]
    (project / "bad.py").write_text("# a comment\n\n" + VIOLATING)
    after = json.loads(check("bad.py", "--format", "sarif").stdout)["runs"][0]["results"][0]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert after["partialFingerprints"] == before["partialFingerprints"]


# --- GitHub workflow commands ---------------------------------------------------------------------------------------

def test_github_annotations(project: Path) -> None:
    (project / "odd, name:1.py").write_text(VIOLATING)
    warnings = check("bad.py", "odd, name:1.py", "--format", "github")
    assert warnings.exit_code == 0
    message = "Bare operator `*` on an array; use mx.multiply(a, b)"
    assert warnings.stdout.splitlines() == [
        f"::warning file=bad.py,line=4,col=12,endLine=4,endColumn=16,title=EL301::{message}",
        f"::warning file=odd%2C name%3A1.py,line=4,col=12,endLine=4,endColumn=16,title=EL301::{message}",
    ]
    errors = check("bad.py", "--format", "github", "--profile", "strict")
    assert errors.exit_code == 1
    assert errors.stdout.startswith("::error file=bad.py,line=4,col=12,")


def test_github_escaping() -> None:
    assert command("error", "100%\r\nnext: a, b", file="a,b:c.py", line=3, title="T") == (
        "::error file=a%2Cb%3Ac.py,line=3,title=T::100%25%0D%0Anext: a, b"
    )
    assert command("warning", "plain") == "::warning::plain"


def test_github_reports_file_errors(project: Path) -> None:
    (project / "broken.py").write_text(BROKEN)
    result = check("broken.py", "--format", "github")
    assert result.exit_code == 2
    [line] = result.stdout.splitlines()
    assert line.startswith("::error file=broken.py,line=")
    assert ",title=emberlint parse error::syntax error" in line


# --- baselines ------------------------------------------------------------------------------------------------------

def test_baseline_ignores_known_findings_and_survives_moved_lines(project: Path) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "more.py").write_text(VIOLATING + "\ndef h(a: mx.array, b: mx.array):\n    return a * b\n")
    written = check(".", "--write-baseline", "baseline.json", "--warnings-as-errors")
    assert written.exit_code == 0
    baseline = json.loads((project / "baseline.json").read_text())
    assert baseline["findings"] == [
        {"path": "bad.py", "code": "EL301", "text": "a * b", "occurrence": 0},
        {"path": "sub/more.py", "code": "EL301", "text": "a * b", "occurrence": 0},
        {"path": "sub/more.py", "code": "EL301", "text": "a * b", "occurrence": 1},
    ]
    assert check(".", "--warnings-as-errors").exit_code == 1

    # moving code around (new lines above, reindented) keeps every finding known
    (project / "bad.py").write_text("'''Docs.'''\n\n\n" + VIOLATING.replace("return a * b", "return (a  *  b)"))
    quiet = check(".", "--baseline", "baseline.json", "--warnings-as-errors", "--format", "json")
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.stdout)["findings"] == []

    # a third occurrence and a different expression are new; only they are reported
    (project / "sub" / "more.py").write_text(
        VIOLATING + "\ndef h(a: mx.array, b: mx.array):\n    return a * b\n"
        "\ndef k(a: mx.array, b: mx.array):\n    return a * b, b - a\n"
    )
    fresh = check(".", "--baseline", "baseline.json", "--warnings-as-errors", "--format", "json")
    assert fresh.exit_code == 1
    assert [(f["path"], f["line"], f["column"]) for f in json.loads(fresh.stdout)["findings"]] == [
        (str(Path("sub/more.py")), 10, 12), (str(Path("sub/more.py")), 10, 19)]

    # the baseline's paths are relative to its own folder, not to the working directory
    elsewhere = project / "sub"
    from_sub = CliRunner().invoke(main, ["check", "--select", "EL301", "--warnings-as-errors", str(project / "bad.py"),
                                         "--baseline", str(project / "baseline.json")], catch_exceptions=False)
    assert elsewhere.is_dir() and from_sub.exit_code == 0


def test_baseline_text_is_the_flagged_code_after_a_form_feed_line() -> None:
    """Positions count lines at \\n, \\r\\n and \\r only; a form feed (a page break, common in older code) must not
    shift the line whose text keys the finding."""
    from emberlint.baseline import flagged_text
    from emberlint.model import Finding, Position

    source = "import mlx.core as mx\n\x0c\nx = 1\ny = a * b\n"
    finding = Finding("f.py", Position(4, 5), Position(4, 10), "EL301", None, "message")
    assert flagged_text(finding, source) == "a * b"


def test_bad_baseline_is_a_usage_error(project: Path) -> None:
    (project / "baseline.json").write_text("[1, 2]")
    result = check("bad.py", "--baseline", "baseline.json")
    assert result.exit_code == 2
    assert "not an emberlint baseline" in result.stderr
    missing = check("bad.py", "--baseline", "nope.json")
    assert missing.exit_code == 2
    assert "cannot read baseline" in missing.stderr


# --- --output-file --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_output_file_holds_what_stdout_would(project: Path, output_format: str) -> None:
    printed = check("bad.py", "--format", output_format)
    written = check("bad.py", "--format", output_format, "--output-file", "report.out")
    assert written.exit_code == printed.exit_code == 0
    assert written.stdout == ""
    assert (project / "report.out").read_text(encoding="utf-8") == printed.stdout
    assert "EL301" in printed.stdout
