"""A real editor: headless Neovim with tests/data/nvim/init.lua attaches ``emberlint lsp`` to a Python buffer.

Needs ``nvim`` (Debian: ``apt-get install -y neovim``, 0.7.2 on bookworm); fails under CI without it, skips elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INIT = Path(__file__).parent / "data" / "nvim" / "init.lua"
VIOLATING = "import mlx.core as mx\n\n\ndef scale(a: mx.array, b: mx.array):\n    return a * b\n"


@pytest.fixture
def nvim() -> str:
    found = shutil.which("nvim")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nvim is missing: CI must `apt-get install -y neovim`")
        pytest.skip("nvim is not installed")
    return found


def test_neovim_shows_emberlint_diagnostics(nvim: str, tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text(VIOLATING)
    # EL301 is strict-only (issue 14); the project's config selects it, as a user adopting the strict policy would
    (tmp_path / "pyproject.toml").write_text('[tool.emberlint]\nprofile = "strict"\nselect = ["EL301"]\n')
    out = tmp_path / "diagnostics.json"
    env = dict(
        os.environ,
        EMBERLINT_LSP_CMD=json.dumps([sys.executable, "-m", "emberlint", "lsp"]),
        XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    completed = subprocess.run(
        [nvim, "--headless", "--clean", "-u", str(INIT), "-c", "filetype on", "-c", "edit " + str(source),
         "-c", f"lua emberlint_dump([[{out}]], 30000)", "-c", "qa!"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL,
    )
    assert out.exists(), completed.stdout + completed.stderr
    diagnostics = json.loads(out.read_text())
    assert [(d["code"], d["source"], d["lnum"], d["col"], d["end_lnum"], d["end_col"]) for d in diagnostics] == [
        ("EL301", "emberlint", 4, 11, 4, 16)
    ]
    # `a` and `b` are parameters: assumed arrays, so the message says the fix is unsafe (issue 12)
    assert diagnostics[0]["message"] == ("Bare operator `*` on an array; use mx.multiply(a, b) (operand types assumed, "
                                         "not proven by dataflow: the fix is unsafe)")
    assert diagnostics[0]["severity"] == 1  # vim.diagnostic.severity.ERROR: every strict finding is an error
