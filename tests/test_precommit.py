"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit`` tool with ``pre-commit
try-repo`` against this repository (it includes uncommitted changes through a shadow repository) in a temporary
git repository holding a violating and a clean file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

VIOLATING = "import mlx.core as mx\na, b = mx.ones((2,), dtype=mx.float32), mx.ones((2,), dtype=mx.float32)\n\ndef scale():\n    return a * b\n"
FIXED = "import mlx.core as mx\na, b = mx.ones((2,), dtype=mx.float32), mx.ones((2,), dtype=mx.float32)\n\ndef scale():\n    return mx.multiply(a, b)\n"
CLEAN = "import mlx.core as mx\n\n\ndef total(a: mx.array):\n    return mx.sum(a)\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(*args: str, cwd: Path) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(VIOLATING)
    (tmp_path / "good.py").write_text(CLEAN)
    (tmp_path / ".emberlint.yaml").write_text("profile: strict\nselect: [EL301]\n")
    _git("init", "-q", cwd=tmp_path)
    _git("add", "-A", cwd=tmp_path)
    return tmp_path


def _try_repo(project: Path, home: Path, hook: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook, "--files", "bad.py", "good.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


def test_check_hook_fails_then_passes_after_the_fix_hook(project: Path, tmp_path_factory) -> None:
    home = tmp_path_factory.mktemp("pre-commit-home")
    failing = _try_repo(project, home, "emberlint")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "bad.py:5:12: EL301 Bare operator `*` on an array; use mx.multiply(a, b)" in failing.stdout
    assert "good.py:" not in failing.stdout

    fixing = _try_repo(project, home, "emberlint-fix")
    assert fixing.returncode == 1, fixing.stdout + fixing.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in fixing.stdout
    assert (project / "bad.py").read_text() == FIXED
    assert (project / "good.py").read_text() == CLEAN

    passing = _try_repo(project, home, "emberlint")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
