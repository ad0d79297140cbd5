"""``m2bert-mlx parity``: output shape and exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner
from m2bert_mlx.cli import main


def test_parity_json_shape(tiny_dir):
    result = CliRunner().invoke(main, ["parity", str(tiny_dir), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {"bundle", "outputs"}
    assert payload["bundle"] == "tiny"
    outputs = payload["outputs"]
    f64_names = {"sequence_output", "pooled_output", "cls_logits", "mlm_logits_head"}
    assert f64_names <= set(outputs)
    for name, entry in outputs.items():
        assert {"max_abs_vs_f32", "mean_abs_vs_f32"} <= set(entry)
        if name in f64_names:
            assert {"max_abs_vs_f64", "ratio"} <= set(entry)
        else:
            assert "ratio" not in entry and "max_abs_vs_f64" not in entry


def test_parity_exit_code_follows_max_ratio(tiny_dir):
    result = CliRunner().invoke(main, ["parity", str(tiny_dir), "--max-ratio", "0.01"])
    assert result.exit_code == 1
    assert "ratio above 0.01" in result.output
