"""EL4xx: explicit dtypes -- constructors without ``dtype=``, casts, untyped constants and list literals.

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
