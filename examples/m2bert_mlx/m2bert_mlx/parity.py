"""Run a reference bundle through the port and measure it against the original's outputs."""

from __future__ import annotations

import dataclasses

import mlx.core as mx

from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.host import host_float
from m2bert_mlx.models import model_from_state

HEAD_POSITIONS = 8  # ``mlm_logits_head`` holds MLM logits of positions 0..7.


@dataclasses.dataclass
class OutputParity:
    """Agreement of one output: with the original float32 run and, if stored, with float64 truth."""

    max_abs_vs_f32: float
    mean_abs_vs_f32: float
    max_abs_vs_f64: float | None = None
    mean_abs_vs_f64: float | None = None
    original_max_abs_vs_f64: float | None = None

    @property
    def ratio(self) -> float | None:
        """Port error over the original float32 error, both as max_abs against float64."""
        if self.max_abs_vs_f64 is None or self.original_max_abs_vs_f64 is None:
            return None
        if self.original_max_abs_vs_f64 == 0.0:
            return 0.0 if self.max_abs_vs_f64 == 0.0 else float("inf")
        return self.max_abs_vs_f64 / self.original_max_abs_vs_f64

    def as_dict(self) -> dict[str, float]:
        """The ``--json`` entry: float32 agreement, plus float64 error and ratio when known."""
        values = {
            "max_abs_vs_f32": self.max_abs_vs_f32,
            "mean_abs_vs_f32": self.mean_abs_vs_f32,
        }
        if self.ratio is not None:
            values.update(
                max_abs_vs_f64=self.max_abs_vs_f64,
                mean_abs_vs_f64=self.mean_abs_vs_f64,
                ratio=self.ratio,
            )
        return values


def abs_error(actual: mx.array, expected: mx.array) -> tuple[float, float]:
    """``(max |a - e|, mean |a - e|)`` computed in float64 (exact for float32 inputs)."""
    if actual.shape != expected.shape:
        raise ValueError(
            f"shape {tuple(actual.shape)} vs reference {tuple(expected.shape)}"
        )
    # Measured in float64 so the metric adds no rounding of its own.
    actual64 = actual.astype(mx.float64)  # emberlint: ignore[EL402]  # reason: metric
    truth64 = expected.astype(mx.float64)  # emberlint: ignore[EL402]  # reason: metric
    diff = mx.abs(mx.subtract(actual64, truth64))
    return host_float(mx.max(diff)), host_float(mx.mean(diff))


def run_port(bundle: ReferenceBundle) -> dict[str, mx.array]:
    """Port outputs under the bundle's output names (MLM model, then classification model)."""
    inputs = bundle.inputs()
    args = (inputs["input_ids"], inputs["token_type_ids"], inputs["attention_mask"])
    expected = bundle.outputs()
    config = bundle.config
    mlm = model_from_state(config, bundle.state_dict("masked_lm"), "masked_lm")
    result = mlm(*args)
    outputs = {
        "embeddings": result.embeddings,
        "sequence_output": result.sequence_output,
    }
    outputs.update({f"layer_{i}": out for i, out in enumerate(result.layer_outputs)})
    outputs["mlm_logits"] = result.logits
    outputs["mlm_logits_head"] = result.logits[:, :HEAD_POSITIONS]
    mx.eval(outputs)
    if "cls_logits" in expected or "pooled_output" in expected:
        del mlm, result
        classifier = model_from_state(
            config,
            bundle.state_dict("sequence_classification"),
            "sequence_classification",
        )
        cls_result = classifier(*args)
        outputs.update(
            pooled_output=cls_result.pooled_output, cls_logits=cls_result.logits
        )
        mx.eval(outputs)
    return outputs


def _original_f32(name: str, expected: dict[str, mx.array]) -> mx.array:
    """The original float32 output that pairs with float64 output ``name``."""
    if name in expected:
        return expected[name]
    if name == "mlm_logits_head" and "mlm_logits" in expected:
        return expected["mlm_logits"][:, :HEAD_POSITIONS]
    raise KeyError(f"no float32 output pairs with float64 output {name!r}")


def bundle_parity(bundle: ReferenceBundle) -> dict[str, OutputParity]:
    """Per-output agreement of the port with the bundle, for every stored output."""
    expected = bundle.outputs()
    truth = bundle.outputs_f64()
    port = run_port(bundle)
    report: dict[str, OutputParity] = {}
    for name, reference in expected.items():
        report[name] = OutputParity(*abs_error(port[name], reference))
    for name, exact in truth.items():
        original = _original_f32(name, expected)
        parity = report.get(name) or OutputParity(*abs_error(port[name], original))
        parity.max_abs_vs_f64, parity.mean_abs_vs_f64 = abs_error(port[name], exact)
        parity.original_max_abs_vs_f64, _ = abs_error(original, exact)
        report[name] = parity
    return report
