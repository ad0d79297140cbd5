"""EL5xx: Python ``math`` and NumPy float math feeding MLX/PyTorch arrays.

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
