"""What several rules of the ``dtype`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

import functools

import libcst as cst

from emberlint.api_facts import load_table
from emberlint.backends import ARRAY_BACKENDS, backend_of
from emberlint.syntax import kind


@functools.lru_cache(maxsize=1)
def dtype_names() -> frozenset[str]:
    families = load_table("scalar_dtypes")["families"]
    return frozenset(name for names in families.values() for name in names)


def is_dtype_expression(node: cst.BaseExpression, context) -> bool:
    """``mx.float32``, ``torch.int64``, ``np.float64``, ``x.dtype``, or a name called ``dtype``."""
    if kind(node) == "Attribute" and node.attr.value == "dtype":
        return True
    if kind(node) == "Name" and node.value in ("dtype", "dt"):
        return True
    qualified = context.qualified_name(node)
    return (
        qualified is not None
        and backend_of(qualified) in ARRAY_BACKENDS
        and qualified.rsplit(".", 1)[-1] in dtype_names()
    )
