"""EL550-EL559: float64 in the compute path of float32 code, and float64 that MLX computes at float32 accuracy.

One module per rule, named for what it catches.
"""
