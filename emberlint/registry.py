"""Finds rules (built-in modules under ``emberlint.rules``, one per rule in family folders, and the
``emberlint.rules`` entry-point group) and decides which are enabled, at which severity, for a configuration."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
from importlib.metadata import entry_points
from types import ModuleType
from typing import Iterable

from emberlint.config import Config, ConfigError
from emberlint.model import Severity
from emberlint.rule import Rule

ENTRY_POINT_GROUP = "emberlint.rules"
CODE_PATTERN = re.compile(r"^[A-Z]+[0-9]{3}$")


def _rules_in(module: ModuleType) -> list[type[Rule]]:
    found = []
    for _, value in inspect.getmembers(module, inspect.isclass):
        if issubclass(value, Rule) and value is not Rule and value.CODE and value.__module__ == module.__name__:
            found.append(value)
    return found


def _load_entry_point(target: object) -> list[type[Rule]]:
    if inspect.isclass(target) and issubclass(target, Rule):
        return [target]
    if isinstance(target, ModuleType):
        return _rules_in(target)
    if isinstance(target, (list, tuple)):
        return [rule for item in target for rule in _load_entry_point(item)]
    raise TypeError(f"entry point in group {ENTRY_POINT_GROUP!r} must name a Rule class, a list or a module")


@functools.lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    import emberlint.rules as package

    rules: list[type[Rule]] = []
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):  # rules/<family>/<rule>.py
        if info.ispkg or any(part.startswith("_") for part in info.name.split(".")):
            continue
        rules.extend(_rules_in(importlib.import_module(info.name)))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        rules.extend(_load_entry_point(ep.load()))
    by_code: dict[str, type[Rule]] = {}
    for rule in rules:
        if not CODE_PATTERN.match(rule.CODE):
            raise ValueError(f"rule {rule.__name__} has an invalid code {rule.CODE!r}")
        if rule.CODE in by_code and by_code[rule.CODE] is not rule:
            raise ValueError(f"rule code {rule.CODE} is used by {by_code[rule.CODE].__name__} and {rule.__name__}")
        by_code[rule.CODE] = rule
    return tuple(sorted(by_code.values(), key=lambda r: r.CODE))


def rule_by_code(code: str) -> type[Rule] | None:
    for rule in all_rules():
        if rule.CODE == code.upper():
            return rule
    return None


def _matches(code: str, selectors: Iterable[str]) -> bool:
    return any(sel == "ALL" or code.startswith(sel) for sel in selectors)


def validate_codes(codes: Iterable[str], where: str) -> None:
    known = [rule.CODE for rule in all_rules()]
    for code in codes:
        if code == "ALL":
            continue
        if not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: unknown rule code or prefix {code!r} (see `emberlint rules`)")


def check_codes(config: Config) -> None:
    """Raise ConfigError for the first rule code the configuration names (``Config.rule_codes``: its file's and
    the overrides') that no rule has."""
    for where, codes in config.rule_codes:
        validate_codes(codes, where)


def enabled_rules(config: Config) -> dict[type[Rule], Severity]:
    """Every enabled rule with its severity under the configuration's profile, select and ignore."""
    strict = config.profile == "strict"
    enabled: dict[type[Rule], Severity] = {}
    for rule in all_rules():
        if strict:
            severity: Severity | None = Severity.ERROR
        else:
            severity = rule.SEVERITY
        if config.select:
            if not _matches(rule.CODE, config.select):
                continue
            severity = severity or Severity.WARNING
        if severity is None or _matches(rule.CODE, config.ignore):
            continue
        enabled[rule] = severity
    return enabled
