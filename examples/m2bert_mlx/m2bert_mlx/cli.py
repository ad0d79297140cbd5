"""``m2bert-mlx`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.parity import bundle_parity


@click.group()
def main() -> None:
    """MLX port of M2-BERT (Monarch Mixer BERT)."""


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3e}"


@main.command()
@click.argument(
    "bundle_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of a table."
)
@click.option(
    "--max-ratio",
    default=1.5,
    show_default=True,
    type=float,
    help="Fail (exit 1) when an output's error ratio against float64 exceeds this.",
)
def parity(bundle_dir: Path, as_json: bool, max_ratio: float) -> None:
    """Compare the port with the original PyTorch outputs stored in BUNDLE_DIR."""
    bundle = ReferenceBundle.open(bundle_dir)
    report = bundle_parity(bundle)
    if as_json:
        outputs = {name: item.as_dict() for name, item in report.items()}
        click.echo(json.dumps({"bundle": bundle.name, "outputs": outputs}))
    else:
        click.echo(f"bundle {bundle.name}")
        header = (
            "output",
            "max_abs_vs_f32",
            "mean_abs_vs_f32",
            "max_abs_vs_f64",
            "mean_abs_vs_f64",
            "orig_vs_f64",
            "ratio",
        )
        click.echo("  ".join(f"{h:>16s}" for h in header))
        for name, item in report.items():
            ratio = "-" if item.ratio is None else f"{item.ratio:.3f}"
            cells = (
                name,
                _fmt(item.max_abs_vs_f32),
                _fmt(item.mean_abs_vs_f32),
                _fmt(item.max_abs_vs_f64),
                _fmt(item.mean_abs_vs_f64),
                _fmt(item.original_max_abs_vs_f64),
                ratio,
            )
            click.echo("  ".join(f"{c:>16s}" for c in cells))
    worst = [
        name
        for name, item in report.items()
        if item.ratio is not None and item.ratio > max_ratio
    ]
    if worst:
        click.echo(f"ratio above {max_ratio}: {', '.join(worst)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
