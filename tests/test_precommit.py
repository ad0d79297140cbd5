"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit`` tool.

``pre-commit try-repo`` builds a fresh hook environment on every call (its store lives in a temporary folder) and
sees only tracked files, so the test does what try-repo does once, by hand: it commits a snapshot of this working
tree (tracked and untracked package files) to a temporary repository and points a ``.pre-commit-config.yaml`` at
it. ``PRE_COMMIT_HOME`` is shared by the module, so the virtualenv with emberlint is built once for both hooks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE_PATHS = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "emberlint/", "rules/", "fixers/")

VIOLATING = "import mlx.core as mx\n\n\ndef scale(a: mx.array, b: mx.array):\n    return a * b\n"
FIXED = "import mlx.core as mx\n\n\ndef scale(a: mx.array, b: mx.array):\n    return mx.multiply(a, b)\n"
CLEAN = "import mlx.core as mx\n\n\ndef total(a: mx.array):\n    return mx.sum(a)\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(*args: str, cwd: Path) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _snapshot(target: Path) -> str:
    """Commit the package files of the working tree (including uncommitted ones) to ``target``; returns the sha."""
    listed = _git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=REPO).split("\0")
    for name in listed:
        source = REPO / name
        if name and source.is_file() and any(name == p or name.startswith(p) for p in PACKAGE_PATHS if p):
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    _git("init", "-q", cwd=target)
    _git("add", "-A", cwd=target)
    _git("commit", "-q", "-m", "snapshot", cwd=target)
    return _git("rev-parse", "HEAD", cwd=target).strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str, Path]:
    snapshot = tmp_path_factory.mktemp("emberlint-snapshot")
    return snapshot, _snapshot(snapshot), tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path, hook_repo) -> Path:
    snapshot, sha, _ = hook_repo
    (tmp_path / "bad.py").write_text(VIOLATING)
    (tmp_path / "good.py").write_text(CLEAN)
    (tmp_path / ".emberlint.yaml").write_text("select: [EL301]\nwarnings-as-errors: true\n")
    (tmp_path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {snapshot.as_posix()}\n    rev: {sha}\n    hooks:\n"
        "      - id: emberlint\n      - id: emberlint-fix\n"
    )
    _git("init", "-q", cwd=tmp_path)
    _git("add", "-A", cwd=tmp_path)
    return tmp_path


def _pre_commit(project: Path, home: Path, hook: str, *files: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook, "--files", *files],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


def test_check_hook_fails_on_a_violation_and_passes_on_clean_code(project: Path, hook_repo) -> None:
    home = hook_repo[2]
    failing = _pre_commit(project, home, "emberlint", "bad.py", "good.py")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "bad.py:5:12: EL301" in failing.stdout
    assert "good.py" not in failing.stdout
    passing = _pre_commit(project, home, "emberlint", "good.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout


def test_fix_hook_rewrites_and_fails_then_check_passes(project: Path, hook_repo) -> None:
    if not (REPO / "emberlint" / "fix_command.py").is_file():
        pytest.skip("emberlint fix is not in this tree yet")
    home = hook_repo[2]
    fixing = _pre_commit(project, home, "emberlint-fix", "bad.py", "good.py")
    assert fixing.returncode == 1, fixing.stdout + fixing.stderr
    assert "files were modified by this hook" in fixing.stdout
    assert (project / "bad.py").read_text() == FIXED
    assert (project / "good.py").read_text() == CLEAN
    again = _pre_commit(project, home, "emberlint-fix", "bad.py", "good.py")
    assert again.returncode == 0, again.stdout + again.stderr
    after = _pre_commit(project, home, "emberlint", "bad.py", "good.py")
    assert after.returncode == 0, after.stdout + after.stderr
