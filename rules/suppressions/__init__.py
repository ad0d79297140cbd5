"""EL9xx: housekeeping of suppression comments.

One module per rule, named for what it catches.
"""
