"""EL1xx: host round trips -- array values pulled to Python inside compute code.

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
