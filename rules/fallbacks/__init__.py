"""EL910+: silent numerics fallbacks.

One module per rule, named for what it catches.
"""
