"""EL8xx: PyTorch-to-MLX porting pitfalls (files that import MLX).

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
