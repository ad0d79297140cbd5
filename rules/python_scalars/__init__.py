"""EL2xx: Python numbers used as operands of array math.

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
