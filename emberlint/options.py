"""Options shared by ``check`` and ``fix``: rule selection, profile, config file, exclusion."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from emberlint.config import PROFILES, ConfigError


def _codes(value: str | None, name: str) -> tuple[str, ...] | None:
    if not value:
        return None
    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    from emberlint.registry import validate_codes  # lazy: imports every rule (and LibCST)

    validate_codes(codes, f"--{name}")
    return codes


def _remember_force_exclude(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta["emberlint.force_exclude"] = value


def selection_options(function: Callable) -> Callable:
    decorators = [
        click.option("--select", help="Comma-separated rule codes or prefixes to enable (e.g. EL1,EL301, ALL)."),
        click.option("--ignore", help="Comma-separated rule codes or prefixes to disable."),
        click.option("--profile", type=click.Choice(PROFILES), help="Rule profile (default: from config, else recommended)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Use this config file."),
        click.option("--exclude", multiple=True, help="Glob of paths to skip (repeatable)."),
        click.option(
            "--force-exclude", is_flag=True, expose_value=False, callback=_remember_force_exclude,
            help="Apply excludes to files named on the command line too (for pre-commit, which passes file names).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def overrides_from(select, ignore, profile, exclude, warnings_as_errors=None, timeout=None) -> dict:
    """Config overrides from the command line; raises ConfigError on an unknown code."""
    overrides: dict = {
        "select": _codes(select, "select"),
        "ignore": _codes(ignore, "ignore"),
        "profile": profile,
    }
    if warnings_as_errors:
        overrides["warnings_as_errors"] = True
    if timeout is not None:
        overrides["timeout"] = float(timeout)
    if exclude:
        overrides["extra_exclude"] = tuple(exclude)
    context = click.get_current_context(silent=True)
    if context is not None and context.meta.get("emberlint.force_exclude"):
        overrides["force_exclude"] = True
    return overrides


def config_path(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"{value}: config file not found")
    return path
