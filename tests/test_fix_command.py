"""``emberlint fix``: what it prints, what it writes (and refuses to write), and its exit codes."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from emberlint import fixing
from emberlint.cli import main
from emberlint.edits import apply_edits
from emberlint.model import Edit, Position

BAD = "import mlx.core as mx\na, b = mx.ones((2,)), mx.zeros((2,))\ndef f():\n    return a * b  # product\n"
FIXED = "import mlx.core as mx\na, b = mx.ones((2,)), mx.zeros((2,))\ndef f():\n    return mx.multiply(a, b)  # product\n"
AUG = "import mlx.core as mx\n\ndef f(a: mx.array, b: mx.array):\n    a += b\n    return a\n"
AUG_FIXED = "import mlx.core as mx\n\ndef f(a: mx.array, b: mx.array):\n    a = mx.add(a, b)\n    return a\n"
CLEAN = "import mlx.core as mx\na, b = mx.ones((2,)), mx.zeros((2,))\ndef f():\n    return mx.multiply(a, b)\n"
SEL = ("--select", "EL301")


def fix(*args: str):
    return CliRunner().invoke(main, ["fix", *args], catch_exceptions=False)


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.py"
    path.write_text(BAD)
    return path


def test_fix_rewrites_and_reports(bad: Path):
    result = fix(str(bad), *SEL)
    assert result.exit_code == 0, result.output
    assert bad.read_text() == FIXED
    assert f"Fixed {bad}: 1 (EL301 \u00d71)" in result.stdout
    assert "1 finding(s) fixed in 1 file(s) (EL301 \u00d71)." in result.stdout
    again = fix(str(bad), *SEL)
    assert again.exit_code == 0 and bad.read_text() == FIXED
    assert "0 finding(s) fixed in 0 file(s)." in again.stdout


def test_diff_prints_and_writes_nothing(bad: Path):
    before = bad.stat().st_mtime_ns
    result = fix(str(bad), "--diff", *SEL)
    assert result.exit_code == 1  # as ruff's --diff: a fix would apply
    assert result.stdout == (
        f"--- a/{bad}\n+++ b/{bad}\n@@ -1,4 +1,4 @@\n import mlx.core as mx\n a, b = mx.ones((2,)), mx.zeros((2,))\n"
        " def f():\n-    return a * b  # product\n+    return mx.multiply(a, b)  # product\n"
    )
    assert "Would fix" in result.stderr
    assert bad.read_text() == BAD and bad.stat().st_mtime_ns == before


def test_diff_marks_missing_final_newline(tmp_path: Path):
    path = tmp_path / "nonl.py"
    path.write_text(BAD.rstrip("\n"))
    out = fix(str(path), "--diff", *SEL).stdout
    assert out.endswith("+    return mx.multiply(a, b)  # product\n\\ No newline at end of file\n")
    assert out.count("\\ No newline at end of file") == 2


def test_check_exits_one_when_a_fix_would_apply(bad: Path, tmp_path: Path):
    result = fix(str(bad), "--check", *SEL)
    assert result.exit_code == 1
    assert f"Would fix {bad}: 1 (EL301 \u00d71)" in result.stdout
    assert bad.read_text() == BAD
    clean = tmp_path / "clean.py"
    clean.write_text(CLEAN)
    assert fix(str(clean), "--check", *SEL).exit_code == 0


def test_unsafe_fixes_only_with_the_flag(tmp_path: Path):
    path = tmp_path / "aug.py"
    path.write_text(AUG)
    result = fix(str(path), *SEL)
    assert path.read_text() == AUG
    assert f"{path}:4:5: EL301" in result.stdout
    assert "1 more with --unsafe-fixes" in result.stdout
    assert fix(str(path), "--check", *SEL).exit_code == 0  # no safe fix would apply
    result = fix(str(path), "--unsafe-fixes", *SEL)
    assert result.exit_code == 0
    assert path.read_text() == AUG_FIXED


def test_remaining_findings_set_the_exit_code(tmp_path: Path):
    path = tmp_path / "aug.py"
    path.write_text(AUG + BAD.split("\n", 1)[1])
    result = fix(str(path), "--select", "EL301", "--profile", "strict")
    assert result.exit_code == 1  # the augmented assignment remains, an error under strict
    assert path.read_text().endswith("return mx.multiply(a, b)  # product\n")
    assert "Found 1 problem(s) (1 error(s), 0 warning(s))" in result.stdout
    assert fix(str(path), *SEL, "--warnings-as-errors").exit_code == 1
    assert fix(str(path), *SEL).exit_code == 0


def test_parse_error_exits_two(tmp_path: Path):
    path = tmp_path / "broken.py"
    path.write_text("import mlx.core as mx\ndef f(:\n")
    result = fix(str(path), *SEL)
    assert result.exit_code == 2
    assert "syntax error" in result.stdout
    assert path.read_text() == "import mlx.core as mx\ndef f(:\n"


def test_missing_path_exits_two(tmp_path: Path):
    assert fix(str(tmp_path / "nope.py"), *SEL).exit_code == 2


def _round_trip(tmp_path: Path, raw: bytes, name: str = "enc.py") -> bytes:
    path = tmp_path / name
    path.write_bytes(raw)
    result = fix(str(path), *SEL)
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def test_write_keeps_crlf(tmp_path: Path):
    assert _round_trip(tmp_path, BAD.replace("\n", "\r\n").encode()) == FIXED.replace("\n", "\r\n").encode()


def test_write_keeps_crlf_when_adding_an_import(tmp_path: Path):
    source = "from mlx.core import array\r\n\r\ndef f(a_in: array, b_in: array):\r\n    a, b = array(a_in), array(b_in)\r\n    return a * b\r\n"
    expected = (
        "from mlx.core import array\r\nimport mlx.core as mx\r\n\r\ndef f(a_in: array, b_in: array):\r\n"
        "    a, b = array(a_in), array(b_in)\r\n    return mx.multiply(a, b)\r\n"
    )
    assert _round_trip(tmp_path, source.encode()) == expected.encode()


def test_write_keeps_bom(tmp_path: Path):
    assert _round_trip(tmp_path, b"\xef\xbb\xbf" + BAD.encode()) == b"\xef\xbb\xbf" + FIXED.encode()


def test_write_keeps_latin1_cookie(tmp_path: Path):
    cookie = "# -*- coding: latin-1 -*-\n# caf\u00e9 \u00b5\n"
    data = _round_trip(tmp_path, (cookie + BAD).encode("latin-1"))
    assert data == (cookie + FIXED).encode("latin-1")
    assert b"\xe9" in data  # still latin-1 bytes, not UTF-8


def test_write_keeps_permissions(bad: Path):
    os.chmod(bad, 0o751)
    fix(str(bad), *SEL)
    assert bad.read_text() == FIXED
    assert stat.S_IMODE(bad.stat().st_mode) == 0o751
    assert [p.name for p in bad.parent.iterdir()] == ["bad.py"]  # no temporary file left behind


def test_changed_on_disk_is_not_overwritten(bad: Path, monkeypatch):
    real = fixing.fix_text

    def fix_while_someone_edits(*args, **kwargs):
        outcome = real(*args, **kwargs)
        bad.write_text(BAD + "# edited meanwhile\n")
        return outcome

    monkeypatch.setattr(fixing, "fix_text", fix_while_someone_edits)
    result = fix(str(bad), *SEL)
    assert result.exit_code == 2
    assert "changed on disk since it was read; not overwritten" in result.stdout
    assert bad.read_text() == BAD + "# edited meanwhile\n"


def test_fix_that_does_not_parse_leaves_file_untouched(bad: Path, monkeypatch):
    """LibCST refuses to build most invalid nodes, so the broken fixer corrupts its edits' text instead."""
    import emberlint.engine as engine

    real = engine.build_fix

    def broken_fix(*args):
        built = real(*args)
        return dataclasses.replace(built, edits=tuple(dataclasses.replace(e, text=e.text + "(") for e in built.edits))

    monkeypatch.setattr(engine, "build_fix", broken_fix)
    result = fix(str(bad), *SEL)
    assert result.exit_code == 2
    assert "a fix (EL301) produced code that does not parse" in result.stdout
    assert "file left unchanged" in result.stdout
    assert bad.read_text() == BAD
    assert fix(str(bad), "--diff", *SEL).stdout == ""


def test_fix_that_throws_leaves_file_untouched(bad: Path, monkeypatch):
    import emberlint.rules.operators.bare_operator_on_array as operators

    def boom(node, callee):
        raise RuntimeError("fixer bug")

    monkeypatch.setattr(operators, "binary_call_text", boom)
    monkeypatch.setattr(operators, "binary_to_call", boom)
    result = fix(str(bad), *SEL)
    assert result.exit_code == 2
    assert "a rule crashed" in result.stdout and "fixer bug" in result.stdout
    assert bad.read_text() == BAD


def test_exception_outside_rules_is_caught(bad: Path, monkeypatch):
    def explode(*args, **kwargs):
        raise KeyError("positions")

    monkeypatch.setattr(fixing, "apply_mapped", explode)
    result = fix(str(bad), *SEL)
    assert result.exit_code == 2
    assert "internal error while fixing (KeyError" in result.stdout
    assert bad.read_text() == BAD


def test_time_budget_leaves_pathological_file_untouched(bad: Path, monkeypatch):
    import emberlint.rules.operators.bare_operator_on_array as operators

    def hang(self, node):
        while True:
            pass

    monkeypatch.setattr(operators.BareOperatorOnArray, "visit_BinaryOperation", hang)
    result = fix(str(bad), "--timeout", "0.2", *SEL)
    assert result.exit_code == 2
    assert "fixing took longer than 0.2s; file left unchanged" in result.stdout
    assert bad.read_text() == BAD


def test_oscillating_fixes_are_refused(monkeypatch):
    """Two rounds that undo each other: the loop notices the repeated text instead of running 64 rounds."""
    from emberlint.model import FileResult, Finding, Fix, Severity

    def flip(text, path, config, fixes="all", focus=None):
        other = "x = 2\n" if text == "x = 1\n" else "x = 1\n"
        edit = Edit(Position(1, 1), Position(2, 1), other)
        finding = Finding(path, Position(1, 1), Position(1, 2), "EL999", Severity.WARNING, "flip", Fix(True, (edit,)))
        return FileResult(path, [finding]), cst.parse_module(text)

    monkeypatch.setattr(fixing, "lint_text", flip)
    with pytest.raises(fixing.FixError, match="undo each other"):
        fixing.fix_text("x = 1\n")


def test_json_edits_applied_by_an_editor_equal_fix_output(tmp_path: Path):
    source = (
        "import mlx.core as mx\na, b = mx.ones((2,)), mx.zeros((2,))\ndef f():\n    y = a * b\n"
        "    z = (a - b)  # keep\n    return -y, z\n"
    )
    path = tmp_path / "editor.py"
    path.write_text(source)
    report = json.loads(CliRunner().invoke(main, ["check", str(path), *SEL, "--format", "json"]).stdout)
    findings = report["findings"]
    edits = [
        Edit(Position(e["line"], e["column"]), Position(e["end_line"], e["end_column"]), e["text"])
        for f in findings if f["fix"] and f["fix"]["safe"] for e in f["fix"]["edits"]
    ]
    assert len(edits) == 3
    by_editor = apply_edits(source, edits)
    assert fixing.fix_text(source, str(path), _strict_el301()).rounds == 1
    assert fix(str(path), *SEL).exit_code == 0
    assert path.read_text() == by_editor
    assert by_editor.splitlines()[3:] == [
        "    y = mx.multiply(a, b)", "    z = mx.subtract(a, b)  # keep", "    return mx.negative(y), z"
    ]


def _strict_el301():
    from emberlint.config import Config

    return Config(profile="strict", select=("EL301",))


def test_json_edits_with_an_import_equal_fix_output(tmp_path: Path):
    source = "from mlx.core import array\n\ndef f(a_in: array, b_in: array):\n    a, b = array(a_in), array(b_in)\n    return a * b\n"
    path = tmp_path / "imports.py"
    path.write_text(source)
    report = json.loads(CliRunner().invoke(main, ["check", str(path), *SEL, "--format", "json"]).stdout)
    (finding,) = report["findings"]
    assert finding["fix"]["safe"] is True
    assert [e["text"] for e in finding["fix"]["edits"]] == ["import mlx.core as mx\n", "mx.multiply(a, b)"]
    by_editor = apply_edits(source, [
        Edit(Position(e["line"], e["column"]), Position(e["end_line"], e["end_column"]), e["text"])
        for e in finding["fix"]["edits"]
    ])
    fix(str(path), *SEL)
    assert path.read_text() == by_editor == (
        "from mlx.core import array\nimport mlx.core as mx\n\ndef f(a_in: array, b_in: array):\n"
        "    a, b = array(a_in), array(b_in)\n    return mx.multiply(a, b)\n"
    )


def test_deadline_is_checked_between_rounds_off_the_main_thread(monkeypatch):
    """Without SIGALRM (a worker thread) the budget still stops the loop between rounds."""
    import threading
    import time

    real = fixing.lint_text

    def slow(*args, **kwargs):
        time.sleep(0.15)
        return real(*args, **kwargs)

    monkeypatch.setattr(fixing, "lint_text", slow)
    nested = "import mlx.core as mx\na, b = mx.ones((2,)), mx.zeros((2,))\ndef f():\n    return a - (b - a)\n"
    caught = []

    def work():
        try:
            fixing.fix_text(nested, "t.py", _strict_el301(), timeout=0.1)
        except fixing.FixTimeout as exc:
            caught.append(str(exc))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert caught == ["t.py: fixing took longer than 0.1s; file left unchanged"]


def test_many_files_in_parallel(tmp_path: Path):
    for index in range(20):
        (tmp_path / f"m{index:02d}.py").write_text(BAD)
    result = fix(str(tmp_path), "-j", "2", *SEL)
    assert result.exit_code == 0
    assert "20 finding(s) fixed in 20 file(s) (EL301 \u00d720)." in result.stdout
    assert all(p.read_text() == FIXED for p in tmp_path.iterdir())


def test_write_keeps_form_feeds_and_lone_cr(tmp_path: Path):
    source = "import mlx.core as mx\r\x0c\ra, b = mx.ones((2,)), mx.zeros((2,))\rdef f():\r    return a * b\r"
    assert _round_trip(tmp_path, source.encode()) == source.replace("a * b", "mx.multiply(a, b)").encode()


def test_configuration_errors_exit_two(bad: Path):
    result = fix(str(bad), "--select", "EL999")
    assert result.exit_code == 2
    assert "configuration error: --select: unknown rule code or prefix 'EL999'" in result.stderr
    assert bad.read_text() == BAD


DENSE = '''import mlx.core as mx

def layer(x, w, b):
    z = mx.zeros((4, 4)) + mx.array(1.5) * x  # note
    scale = mx.array([1.0, 2.0])
    out = (
        mx.exp(-z) * scale
        + z / 3.0
    )
    return out - 0.25 * mx.ones(
        (4, 4)
    )
'''


def test_safe_only_lint_reports_what_a_full_lint_does_without_unsafe_edits():
    """``fix`` without --unsafe-fixes builds only the safe fixes' edits: the findings, the [*] facts (a fix and
    whether it is safe) and the safe edits are those of a full lint; unsafe fixes have no edits."""
    from emberlint.config import Config
    from emberlint.engine import lint_text

    config = Config(profile="strict")
    full, _ = lint_text(DENSE, "x.py", config)
    safe, _ = lint_text(DENSE, "x.py", config, "safe")
    assert any(f.fix is not None and f.fix.safe for f in full.findings)
    assert any(f.fix is not None and not f.fix.safe for f in full.findings)
    assert len(full.findings) == len(safe.findings)
    for a, b in zip(full.findings, safe.findings):
        assert dataclasses.replace(a, fix=None) == dataclasses.replace(b, fix=None)
        assert (a.fix is None) == (b.fix is None)
        if a.fix is not None:
            assert (a.fix.safe, a.fix.description) == (b.fix.safe, b.fix.description)
            assert b.fix.edits == (a.fix.edits if a.fix.safe else ())
    assert fixing.complete(full) and not fixing.complete(safe)


def test_a_deferred_fixer_that_crashes_is_its_rules_internal_error(monkeypatch):
    """A replacement built after the traversal (``fixers.deferred``) that raises is a crash of its rule, as a crash
    during the visit: an internal error at the finding, the other rules' findings kept."""
    import emberlint.rules.operators.bare_operator_on_array as operators
    from emberlint.config import Config
    from emberlint.engine import lint_text

    def boom(node, callee):
        raise RuntimeError("fixer bug")

    monkeypatch.setattr(operators, "binary_call_text", boom)
    monkeypatch.setattr(operators, "binary_to_call", boom)
    result, _ = lint_text(DENSE.replace("  # note", ""), "x.py", Config(profile="strict"))
    crashes = [e for e in result.errors if e.kind == "internal"]
    assert len(crashes) == 1 and crashes[0].code == "EL301" and "fixer bug" in crashes[0].message
    assert crashes[0].line is not None
    assert {f.code for f in result.findings} >= {"EL401", "EL201"}
