"""EL7xx: device moves and graph evaluation in the compute path.

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
