"""Loads the YAML tables of API facts shipped under ``rules/`` (installed as ``emberlint.rules``)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=None)
def load_table(name: str) -> Any:
    """The parsed YAML file ``rules/<name>.yaml``."""
    text = resources.files("emberlint.rules").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_LOADER)  # libyaml's loader when present: ~10x faster at start-up


def matches_prefix(qualified: str, names: frozenset[str]) -> bool:
    """True when ``qualified`` is one of ``names`` or lies inside one of them (``torch.cuda.is_available``)."""
    parts = qualified.split(".")
    return any(".".join(parts[:i]) in names for i in range(len(parts), 0, -1))
