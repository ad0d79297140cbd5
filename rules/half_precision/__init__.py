"""EL41x: what half precision and integer dtypes do to real model code (dtype-aware: ``emberlint/dtypes.py``).

Each rule decides from the dtype the code states (``x.astype(mx.float16)``, ``dtype=``, a constructor); where the
dtype is unknown on an MLX model's compute path (weights are usually loaded in bfloat16/float16), the message
says "if ... is float16/bfloat16". Every consequence in a message was measured with mlx 0.32.4
(``scripts/measure_half_precision.py``).

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
