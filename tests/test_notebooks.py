"""Jupyter notebooks in ``check`` and ``fix``: cells linted as one module, positions per cell, IPython syntax
masked, fixes written back byte for byte outside the changed cells."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from emberlint.cli import main
from emberlint.config import Config
from emberlint.notebooks import build_module, fix_notebook_text, lint_notebook_text, mask_cell, write_cells

DATA = Path(__file__).parent / "data" / "notebooks"


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def notebooks(tmp_path: Path, monkeypatch) -> Path:
    """Copies of the test notebooks in a folder of their own (the repository's config excludes tests/), checked
    under the strict profile: these tests are about cells, not about which rules a profile enables."""
    folder = tmp_path / "nb"
    shutil.copytree(DATA, folder)
    (tmp_path / "pyproject.toml").write_text('[tool.emberlint]\nprofile = "strict"\n')
    monkeypatch.chdir(tmp_path)
    return folder


def notebook(cells: list[tuple[str, str]], language: str = "python") -> str:
    node = nbformat.v4.new_notebook(metadata={"language_info": {"name": language}})
    node.cells = [nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
                  for kind, source in cells]
    for index, cell in enumerate(node.cells):
        cell["id"] = f"cell-{index}"
    return nbformat.writes(node) + "\n"


# --- check -------------------------------------------------------------------------------------------------------

def test_check_reports_cell_and_line_in_text(notebooks: Path) -> None:
    result = run("check", "--no-color", "nb/port_rmsnorm.ipynb")
    lines = result.output.splitlines()
    # cell 10 uses `mx`, imported in cell 3: the cells are one module
    assert "nb/port_rmsnorm.ipynb:cell 10:1:5: EL401 `mx.random.normal(...)` without an explicit dtype: the backend "\
           "picks float32; pass dtype= [*]" in lines
    assert ("nb/port_rmsnorm.ipynb:cell 7:9:16: EL301 Bare operator `*` on an array; use mx.multiply(a, b) (operand "
            "types assumed, not proven by dataflow: the fix is unsafe)") in lines
    assert not any("error:" in line for line in lines)  # %load_ext, !pip, %timeit are not syntax errors
    assert result.exit_code == 1


def test_json_has_a_cell_field_and_keeps_its_shape(notebooks: Path) -> None:
    payload = json.loads(run("check", "--format", "json", "nb/loss_scaling.ipynb").output)
    [first, *_] = payload["findings"]
    assert first == {
        "path": "nb/loss_scaling.ipynb", "line": 2, "column": 10, "end_line": 2, "end_column": 38, "code": "EL401",
        "severity": "error", "message": "`mx.random.normal(...)` without an explicit dtype: the backend picks "
        "float32; pass dtype=", "fix": first["fix"], "cell": 4,
    }
    assert all(edit["cell"] == 4 for edit in first["fix"]["edits"])
    plain = json.loads(run("check", "--format", "json", "-", "--stdin-filename", "x.py",
                           input=b"import mlx.core as mx\nx = mx.ones((2,))\n").output)
    assert "cell" not in plain["findings"][0]  # a .py file's findings keep the old shape exactly


def test_sarif_and_github_name_the_cell(notebooks: Path) -> None:
    sarif = json.loads(run("check", "--format", "sarif", "nb/loss_scaling.ipynb").output)
    [first, *_] = sarif["runs"][0]["results"]
    assert first["properties"]["cell"] == 4
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    github = run("check", "--format", "github", "nb/loss_scaling.ipynb").output.splitlines()
    assert github[0].startswith("::error file=nb/loss_scaling.ipynb,title=EL401 (cell 4%2C line 2)::")


def test_cell_magics_help_and_suppressions(notebooks: Path) -> None:
    result = run("check", "--no-color", "--profile", "strict", "nb/loss_scaling.ipynb")
    # %%bash cell skipped, `mx.array?` masked, %%time's body linted, the EL101 suppression is used (no EL901)
    assert [line.split(": ")[0] for line in result.output.splitlines()[:-1]] == [
        "nb/loss_scaling.ipynb:cell 4:2:10",
        "nb/loss_scaling.ipynb:cell 5:3:12", "nb/loss_scaling.ipynb:cell 5:3:19",
    ]


def test_excludes_and_per_file_ignores_apply_to_notebooks(notebooks: Path) -> None:
    (notebooks / "pyproject.toml").write_text(
        '[tool.emberlint]\nprofile = "strict"\nexclude = ["loss_*.ipynb"]\nper-file-ignores = { "port_*.ipynb" = ["EL3", "EL4"] }\n')
    payload = json.loads(run("check", "--format", "json", "nb").output)
    assert {f["path"] for f in payload["findings"]} == {
        "nb/attention_outputs.ipynb", "nb/port_geglu.ipynb", "nb/port_rmsnorm.ipynb"}
    assert not [f for f in payload["findings"] if "/port_" in f["path"] and f["code"].startswith(("EL3", "EL4"))]
    assert [f for f in payload["findings"] if "/attention" in f["path"] and f["code"].startswith(("EL3", "EL4"))]
    assert payload["files_checked"] == 3


def test_syntax_error_names_its_cell(tmp_path: Path) -> None:
    text = notebook([("markdown", "# x"), ("code", "import mlx.core as mx"), ("code", "def f(:\n    pass")])
    result = lint_notebook_text(text, "bad.ipynb", Config())
    [error] = result.errors
    assert (error.cell, error.line, error.kind) == (3, 1, "parse")
    assert error.location.startswith("bad.ipynb:cell 3:1:")


def test_unreadable_and_non_python_notebooks(tmp_path: Path) -> None:
    assert lint_notebook_text("{not json", "x.ipynb", Config()).errors[0].kind == "read"
    r_notebook = notebook([("code", "import mlx.core as mx\nx <- mx.ones((2,))")], language="R")
    assert lint_notebook_text(r_notebook, "r.ipynb", Config()).findings == []


# --- masking -----------------------------------------------------------------------------------------------------

def test_masking_keeps_strings_and_continuations() -> None:
    source = ("!pip install mlx\nfiles = !ls\ny = (a\n     % b)\ns = '''\n!not a shell escape\n'''\n"
              "obj?\nfor i in range(2):\n    %time f(i)\n")
    cell = mask_cell(1, source)
    assert cell.masked.splitlines() == [
        "pass  # emberlint-masked-ipython-0", "pass  # emberlint-masked-ipython-1", "y = (a", "     % b)", "s = '''",
        "!not a shell escape", "'''", "pass  # emberlint-masked-ipython-4", "for i in range(2):",
        "    pass  # emberlint-masked-ipython-5",
    ]
    module = build_module([(2, source)])
    assert module.split(module.text) == {2: source}
    assert mask_cell(1, "%%bash\necho hi\n") is None
    assert mask_cell(1, "%%timeit\nx = 1\n").masked == "pass  # emberlint-masked-ipython-0\nx = 1\n"


# --- fix ---------------------------------------------------------------------------------------------------------

def _source_lines(raw: str, cell_index: int) -> list[str]:
    return json.loads(raw)["cells"][cell_index]["source"]


def test_fix_changes_only_the_changed_cells_bytes(notebooks: Path) -> None:
    path = notebooks / "attention_outputs.ipynb"
    before = path.read_bytes()
    result = run("fix", "--no-color", str(path.relative_to(notebooks.parent)))
    assert "Fixed nb/attention_outputs.ipynb: 4 (EL301 ×2, EL401 ×2)" in result.output
    after = path.read_bytes()
    old_lines = _source_lines(before.decode(), 3)
    new_lines = _source_lines(after.decode(), 3)
    assert new_lines == [
        "q = mx.random.normal((1, 8, 128, 64), dtype=mx.float32).astype(mx.float16)\n",
        "k = mx.random.normal((1, 8, 128, 64), dtype=mx.float32).astype(mx.float16)\n",
        "scores = mx.multiply(mx.matmul(q, k.transpose(0, 1, 3, 2)), 0.125)\n",
        "print(scores.dtype, scores.abs().max())",
    ]
    expected = before.decode()
    for old, new in zip(old_lines, new_lines):
        if old != new:
            expected = expected.replace(json.dumps(old, ensure_ascii=False), json.dumps(new, ensure_ascii=False), 1)
    assert after == expected.encode()  # outputs, image, widget state, ids, key order, indentation: untouched
    again = run("fix", str(path.relative_to(notebooks.parent))).output
    assert again.endswith("0 finding(s) fixed in 0 file(s); 1 more with --unsafe-fixes.\n")
    assert path.read_bytes() == after


def test_fix_keeps_indentation_and_missing_trailing_newline(notebooks: Path) -> None:
    path = notebooks / "loss_scaling.ipynb"
    before = path.read_text(encoding="utf-8")
    run("fix", "--unsafe-fixes", str(path.relative_to(notebooks.parent)))  # `loss` is a parameter: assumed
    after = path.read_text(encoding="utf-8")
    assert not after.endswith("\n") and '\n  "cells": [' in after
    assert after == before.replace('"logits = mx.random.normal((4, 32000))\\n"',
                                   '"logits = mx.random.normal((4, 32000), dtype=mx.float32)\\n"').replace(
        '"    return loss * 1024"', '"    return mx.multiply(loss, mx.array(1024, dtype=loss.dtype))"')
    assert _source_lines(after, 1) == _source_lines(before, 1)  # the %%bash cell


def test_fix_diff_and_check_write_nothing(notebooks: Path) -> None:
    path = notebooks / "port_rmsnorm.ipynb"
    before = path.read_bytes()
    assert run("fix", "--check", "nb/port_rmsnorm.ipynb").exit_code == 1
    diff = run("fix", "--diff", "nb/port_rmsnorm.ipynb").output
    assert '+    "x = mx.random.normal((2, 8, 64), dtype=mx.float32)\\n",' in diff
    assert path.read_bytes() == before


def test_fix_escapes_like_the_file_does() -> None:
    raw = json.dumps(json.loads(notebook([("code", "import mlx.core as mx\n# café\nx = mx.ones((2,))  # é")])),
                     indent=1, ensure_ascii=True)
    fixed = fix_notebook_text(raw, "esc.ipynb", Config(profile="strict"))
    assert fixed.changed_cells == [1]
    assert fixed.text.isascii()
    assert '"x = mx.ones((2,), dtype=mx.float32)  # \\u00e9"' in fixed.text
    assert '"# caf\\u00e9\\n"' in fixed.text


def test_fix_adds_an_import_in_the_right_cell() -> None:
    text = notebook([("markdown", "# t"), ("code", '"""Setup."""\nfrom mlx.core import ones'), ("code", "y = ones((2,))")])
    fixed = fix_notebook_text(text, "imp.ipynb", Config(profile="strict"))
    assert [c.source for c in nbformat.reads(fixed.text, as_version=4).cells] == [
        "# t", '"""Setup."""\nfrom mlx.core import ones\nimport mlx.core as mx', "y = ones((2,), dtype=mx.float32)"]
    assert fixed.changed_cells == [2, 3]
    # an import above everything goes to the top of the first code cell, before its magic
    text = notebook([("code", "%matplotlib inline\nx = 1"), ("code", "from mlx.core import ones\ny = ones((2,))")])
    fixed = fix_notebook_text(text, "top.ipynb", Config(profile="strict"))
    assert [c.source for c in nbformat.reads(fixed.text, as_version=4).cells] == [
        "import mlx.core as mx\n%matplotlib inline\nx = 1", "from mlx.core import ones\ny = ones((2,), dtype=mx.float32)"]


def test_write_cells_reuses_the_spelling_of_unchanged_lines() -> None:
    raw = '{"cells": [{"cell_type": "code", "source": ["a = \\"\\u00e9\\"\\n", "b = 1"]}], "nbformat": 4}'
    assert write_cells(raw, {1: 'a = "é"\nb = 2'}) == \
        '{"cells": [{"cell_type": "code", "source": ["a = \\"\\u00e9\\"\\n", "b = 2"]}], "nbformat": 4}'


# --- stdin -------------------------------------------------------------------------------------------------------

def test_stdin_check_uses_the_config_of_the_named_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[tool.emberlint]\nprofile = "strict"\nignore = ["EL401"]\n')
    code = b"import mlx.core as mx\n\ndef f(a: mx.array):\n    return a * 2.0, mx.ones((2,))\n"
    result = run("check", "--no-color", "-", "--stdin-filename", "pkg/model.py", input=code)
    assert [line.split(": ")[1].split()[0] for line in result.output.splitlines()[:-1]] == ["EL301", "EL201"]
    assert result.output.startswith("pkg/model.py:4:12: EL301 Bare operator `*` on an array")
    assert result.exit_code == 1  # strict: errors
    elsewhere = run("check", "--no-color", "--profile", "strict", "-", "--stdin-filename", "model.py", input=code)
    assert "EL401" in elsewhere.output and elsewhere.exit_code == 1


def test_stdin_fix_prints_the_fixed_source(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = b"import mlx.core as mx\n\na = mx.ones((2,), dtype=mx.float32)\nb = a * a\n"
    result = CliRunner().invoke(main, ["fix", "--profile", "strict", "-", "--stdin-filename", "m.py"], input=code)
    assert result.stdout_bytes == (b"import mlx.core as mx\n\na = mx.ones((2,), dtype=mx.float32)\n"
                                   b"b = mx.multiply(a, a)\n")
    assert result.exit_code == 0
    broken = CliRunner().invoke(main, ["fix", "-", "--stdin-filename", "m.py"], input=b"def (:\n  mx\n")
    assert broken.stdout_bytes == b"def (:\n  mx\n"  # a formatter chain never loses the buffer
    assert broken.exit_code == 2
    notebook_text = (DATA / "loss_scaling.ipynb").read_bytes()
    fixed = CliRunner().invoke(main, ["fix", "--profile", "strict", "--unsafe-fixes", "-", "--stdin-filename",
                                      "n.ipynb"], input=notebook_text)
    assert b'"    return mx.multiply(loss, mx.array(1024, dtype=loss.dtype))"' in fixed.stdout_bytes


def test_stdin_cannot_be_mixed_with_paths(tmp_path: Path) -> None:
    assert run("check", "-", str(tmp_path), input=b"").exit_code == 2


# --- progress ------------------------------------------------------------------------------------------------------

def test_progress_only_for_text_on_a_terminal_outside_ci(monkeypatch) -> None:
    import sys

    from emberlint.check_command import show_progress

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert show_progress("text", None)
    assert not show_progress("json", None) and not show_progress("github", None)
    assert not show_progress("sarif", None) and not show_progress("text", "report.txt")
    monkeypatch.setenv("CI", "true")
    assert not show_progress("text", None)
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not show_progress("text", None)


def test_baseline_keys_use_the_cell_text(notebooks: Path) -> None:
    run("check", "--write-baseline", "base.json", "nb/port_rmsnorm.ipynb")
    texts = {(f["code"], f["text"]) for f in json.loads(Path("base.json").read_text())["findings"]}
    assert ("EL401", "mx.random.normal((2, 8, 64))") in texts and ("EL201", "self.eps") in texts
    result = run("check", "--baseline", "base.json", "nb/port_rmsnorm.ipynb")
    assert result.exit_code == 0 and "recorded in baseline" in result.output


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.ipynb")))
def test_every_test_notebook_lints_and_fixes_cleanly(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    result = lint_notebook_text(text, name, Config(profile="strict"))
    assert result.errors == [] and result.findings  # each holds something to find, and no magic trips the parser
    fixed = fix_notebook_text(text, name, Config(profile="strict"))
    assert fixed.changed_cells
    before, after = json.loads(text), json.loads(fixed.text)
    nbformat.validate(nbformat.reads(fixed.text, as_version=4))
    assert [list(cell) for cell in before["cells"]] == [list(cell) for cell in after["cells"]]  # key order
    for number, (old, new) in enumerate(zip(before["cells"], after["cells"]), 1):
        assert {k: v for k, v in old.items() if k != "source"} == {k: v for k, v in new.items() if k != "source"}
        assert (old["source"] != new["source"]) == (number in fixed.changed_cells)
    assert {k: v for k, v in before.items() if k != "cells"} == {k: v for k, v in after.items() if k != "cells"}
    again = fix_notebook_text(fixed.text, name, Config(profile="strict"))
    assert again.changed_cells == [] and again.text == fixed.text  # fixing twice = fixing once
