"""The fast-cpu extra: MKL is loaded before mlx when installed, the switch turns it off, and the
parity ratios hold with either BLAS (each run in a fresh process: the BLAS is chosen at import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from m2bert_mlx.fast_cpu import DISABLE_ENV


def _run(code: str, disable: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(DISABLE_ENV, None)
    if disable:
        env[DISABLE_ENV] = "1"
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


STATUS = "import json, m2bert_mlx.fast_cpu as f, m2bert_mlx; print(json.dumps(f.blas_status()))"


def test_switch_keeps_the_bundled_blas():
    status = json.loads(_run(STATUS, disable=True).stdout)
    assert status == {
        "blas": "bundled",
        "library": None,
        "note": f"disabled by {DISABLE_ENV}",
    }


def test_mkl_is_loaded_when_installed():
    status = json.loads(_run(STATUS, disable=False).stdout)
    if status["blas"] == "bundled":
        assert not sys.platform.startswith("linux") or "not installed" in status["note"]
        pytest.skip(f"MKL not in use here: {status['note']}")
    assert "libmkl_rt" in status["library"]
    maps = _run(
        STATUS + "\nprint(open('/proc/self/maps').read())", disable=False
    ).stdout
    assert "libmkl_rt" in maps


@pytest.mark.parametrize("disable", [True, False], ids=["bundled-blas", "mkl"])
def test_parity_ratios_hold_with_either_blas(tiny_dir, disable):
    code = (
        "import sys, m2bert_mlx; from m2bert_mlx.cli import main; "
        f"sys.argv = ['m2bert-mlx', 'parity', {str(tiny_dir)!r}, '--json', '--max-ratio', '1.0']; main()"
    )
    result = _run(code, disable)
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)["outputs"]
    ratios = {name: o["ratio"] for name, o in outputs.items() if "ratio" in o}
    assert len(ratios) == 4 and all(r <= 1.0 for r in ratios.values()), ratios
