"""Forward throughput and peak memory of the M2-BERT MLX port at the base-80m shape (CPU).

Weights are random (throughput does not depend on their values). Prints one line per sequence
length and, with ``--json``, a JSON list of the figures.

    python benchmarks/m2bert_forward.py                 # 128, 512, 2048, 8192
    python benchmarks/m2bert_forward.py --seq-lens 128 512 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import mlx.core as mx
from m2bert_mlx import M2BertConfig, build_model
from mlx.utils import tree_map

# Batch per sequence length: about 256-8192 tokens per forward.
DEFAULT_BATCH = {128: 2, 512: 1, 2048: 1, 8192: 1}


def base_80m_config(seq_len: int) -> M2BertConfig:
    """The published 80M pretraining shape with filters built for ``seq_len``."""
    return M2BertConfig(
        max_position_embeddings=seq_len,
        long_conv_l_max=seq_len,
        id2label={"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"},
    )


def random_weights(model) -> None:
    """Replace placeholder weights by N(0, 0.02) draws (integer buffers are left alone)."""
    scale = mx.array(0.02, dtype=mx.float32)
    key = mx.random.key(0)

    def draw(value: mx.array) -> mx.array:
        if value.dtype != mx.float32:
            return value
        return mx.multiply(
            mx.random.normal(value.shape, dtype=mx.float32, key=key), scale
        )

    model.update(tree_map(draw, model.parameters()))
    mx.eval(model.parameters())


def bench(seq_len: int, batch: int, repeats: int) -> dict:
    model = build_model(base_80m_config(seq_len), "masked_lm")
    random_weights(model)
    ids = mx.random.randint(
        1, 30000, (batch, seq_len), dtype=mx.int32, key=mx.random.key(1)
    )

    def forward() -> None:
        out = model(ids, head_positions=8)
        mx.eval(out.sequence_output, out.logits)

    forward()  # warm-up
    mx.reset_peak_memory()
    start = time.perf_counter()
    for _ in range(repeats):
        forward()
    seconds = (time.perf_counter() - start) / repeats
    return {
        "seq_len": seq_len,
        "batch": batch,
        "seconds_per_forward": seconds,
        "tokens_per_s": batch * seq_len / seconds,
        "mlx_peak_memory_mb": mx.get_peak_memory() / 2**20,
        "process_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seq-lens", type=int, nargs="+", default=[128, 512, 2048, 8192]
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="override the per-length batch"
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    mx.set_default_device(mx.cpu)
    results = []
    for seq_len in args.seq_lens:
        batch = args.batch or DEFAULT_BATCH.get(seq_len, 1)
        result = bench(seq_len, batch, args.repeats)
        results.append(result)
        print(
            f"seq {seq_len:5d} batch {batch}: {result['tokens_per_s']:8.1f} tokens/s, "
            f"{result['seconds_per_forward']:7.2f} s/forward, "
            f"peak MLX memory {result['mlx_peak_memory_mb']:8.1f} MB, "
            f"max RSS {result['process_max_rss_mb']:8.1f} MB",
            flush=True,
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
