"""EL3xx: bare operators on arrays.

One module per rule, named for what it catches.
"""
