"""Forward throughput and peak memory of the M2-BERT MLX port at the base-80m shape (CPU),
with Intel MKL (the ``fast-cpu`` extra) and with the BLAS bundled in the ``mlx[cpu]`` wheel.

The BLAS is chosen when ``mlx`` is first imported, so every measurement runs in its own process
(``M2BERT_MLX_NO_MKL=1`` for the bundled BLAS); that also gives each shape its own peak memory.
Weights are random (throughput does not depend on their values). Each process builds the model,
builds the Hyena filter spectra for the length (cached per length, as in use), runs one warm-up
forward (with MKL, up to 8192 tokens), then times ``--repeats`` forwards (MLM head on 8 positions).
On a loaded 2-core machine the default run took over 30 minutes (the 32768 row's float64 filter build
alone 712 s); ``--shapes 128x8 2048x1 8192x1`` leaves that row out.

    python benchmarks/m2bert_forward.py            # MKL: 128x8, 2048x1, 8192x1, 32768x1; bundled: 128x8
    python benchmarks/m2bert_forward.py --shapes 128x8 --bundled-shapes 128x8 --repeats 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

DEFAULT_SHAPES = ["128x8", "2048x1", "8192x1", "32768x1"]
# The bundled (netlib) BLAS runs ~30 tokens/s: longer shapes would take many minutes each.
DEFAULT_BUNDLED_SHAPES = ["128x8"]
WARMUP_MAX_TOKENS = 8192
TARGETS = {
    128: 1151.0,
    2048: 928.0,
    8192: 629.0,
}  # the original PyTorch code, 2 threads


def base_80m_config(seq_len: int):
    from m2bert_mlx import M2BertConfig

    return M2BertConfig(
        max_position_embeddings=seq_len,
        long_conv_l_max=seq_len,
        id2label={"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"},
    )


def random_weights(model) -> None:
    """Replace placeholder weights by N(0, 0.02) draws (integer buffers are left alone)."""
    import mlx.core as mx
    from mlx.utils import tree_map

    scale = mx.array(0.02, dtype=mx.float32)
    key = mx.random.key(0)

    def draw(value):
        if value.dtype != mx.float32:
            return value
        return mx.multiply(
            mx.random.normal(value.shape, dtype=mx.float32, key=key), scale
        )

    model.update(tree_map(draw, model.parameters()))
    mx.eval(model.parameters())


def matmul_gflops() -> float:
    import mlx.core as mx

    a = mx.random.normal((1024, 1024), dtype=mx.float32, key=mx.random.key(2))
    mx.eval(mx.matmul(a, a))
    start = time.perf_counter()
    for _ in range(3):
        mx.eval(mx.matmul(a, a))
    return 3 * 2 * 1024**3 / (time.perf_counter() - start) / 1e9


def child(seq_len: int, batch: int, repeats: int) -> dict:
    """One measurement in this process (``m2bert_mlx`` imported first: it loads MKL)."""
    import m2bert_mlx
    import mlx.core as mx
    from m2bert_mlx.fast_cpu import blas_status

    mx.set_default_device(mx.cpu)
    model = m2bert_mlx.build_model(base_80m_config(seq_len), "masked_lm")
    random_weights(model)
    start = time.perf_counter()
    spectra = [
        hyena.spectrum(seq_len)
        for layer in model.bert.encoder.layer
        for hyena in (layer.attention.filter_fn, layer.attention.filter_fn2)
    ]
    mx.eval(spectra)
    filter_seconds = time.perf_counter() - start
    ids = mx.random.randint(
        1, 30000, (batch, seq_len), dtype=mx.int32, key=mx.random.key(1)
    )

    def forward() -> None:
        out = model(ids, head_positions=8)
        mx.eval(out.sequence_output, out.logits)

    # A bundled-BLAS forward at 128x8 takes ~35 s on a quiet machine: no warm-up there.
    if batch * seq_len <= WARMUP_MAX_TOKENS and blas_status()["blas"] == "mkl":
        forward()
    mx.reset_peak_memory()
    start = time.perf_counter()
    for _ in range(repeats):
        forward()
    seconds = (time.perf_counter() - start) / repeats
    return {
        "seq_len": seq_len,
        "batch": batch,
        **blas_status(),
        "matmul_1024_gflops": matmul_gflops(),
        "filter_build_seconds": filter_seconds,
        "seconds_per_forward": seconds,
        "tokens_per_s": batch * seq_len / seconds,
        "mlx_peak_memory_mb": mx.get_peak_memory() / 2**20,
        "process_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(shape: str, blas: str, repeats: int) -> dict:
    seq_len, batch = (int(v) for v in shape.split("x"))
    env = dict(os.environ)
    env.pop("M2BERT_MLX_NO_MKL", None)
    if blas == "bundled":
        env["M2BERT_MLX_NO_MKL"] = "1"
    command = [sys.executable, __file__, "--child", shape, "--repeats", str(repeats)]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return {
            "seq_len": seq_len,
            "batch": batch,
            "requested": blas,
            "error": result.stderr[-2000:],
        }
    return {"requested": blas, **json.loads(result.stdout.splitlines()[-1])}


def print_row(r: dict) -> None:
    if "error" in r:
        print(
            f"{r['requested']:8s} seq {r['seq_len']:6d} batch {r['batch']}: FAILED\n{r['error']}"
        )
        return
    target = TARGETS.get(r["seq_len"])
    versus = (
        f"  ({r['tokens_per_s'] / target:.2f}x the original's {target:.0f})"
        if target
        else ""
    )
    print(
        f"{r['blas']:8s} seq {r['seq_len']:6d} batch {r['batch']}: "
        f"{r['tokens_per_s']:8.1f} tokens/s, {r['seconds_per_forward']:7.2f} s/forward, "
        f"peak MLX memory {r['mlx_peak_memory_mb']:8.1f} MB, max RSS {r['process_max_rss_mb']:8.1f} MB, "
        f"filters {r['filter_build_seconds']:.2f} s, matmul {r['matmul_1024_gflops']:.1f} GFLOP/s"
        f"{versus}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes", nargs="*", default=DEFAULT_SHAPES, help="LxB with MKL"
    )
    parser.add_argument(
        "--bundled-shapes",
        nargs="*",
        default=DEFAULT_BUNDLED_SHAPES,
        help="LxB, bundled BLAS",
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", metavar="LxB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seq_len, batch = (int(v) for v in args.child.split("x"))
        print(json.dumps(child(seq_len, batch, args.repeats)))
        return
    print(f"cpus {os.cpu_count()}, load average at start {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    results = []
    for blas, shapes in (("mkl", args.shapes), ("bundled", args.bundled_shapes)):
        for shape in shapes:
            result = run_child(shape, blas, args.repeats)
            if "error" not in result and result["blas"] != blas:
                result["error"] = (
                    f"asked for {blas}, got {result['blas']}: {result['note']}"
                )
            results.append(result)
            print_row(result)
    by_shape = {}
    for r in results:
        if "error" not in r:
            by_shape.setdefault((r["seq_len"], r["batch"]), {})[r["blas"]] = r[
                "tokens_per_s"
            ]
    for (seq_len, batch), speeds in sorted(by_shape.items()):
        if {"mkl", "bundled"} <= set(speeds):
            ratio = speeds["mkl"] / speeds["bundled"]
            print(f"seq {seq_len} batch {batch}: MKL / bundled BLAS = {ratio:.1f}x")
    print(
        f"load average at end {os.getloadavg()}, total {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
