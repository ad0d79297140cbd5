"""Options shared by ``check`` and ``fix``: rule selection, profile, config file, exclusion, read into
``config.Overrides``."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from emberlint.config import PROFILES, ConfigError, Overrides


def _codes(value: str | None) -> tuple[str, ...] | None:
    """``--select``/``--ignore``'s codes (checked against the rules where they are loaded: ``runner.check_codes``)."""
    if not value:
        return None
    return tuple(c.strip().upper() for c in value.split(",") if c.strip())


def selection_options(function: Callable) -> Callable:
    decorators = [
        click.option("--select", help="Comma-separated rule codes or prefixes to enable (e.g. EL1,EL301, ALL)."),
        click.option("--ignore", help="Comma-separated rule codes or prefixes to disable."),
        click.option("--profile", type=click.Choice(PROFILES), help="Rule profile (default: from config, else recommended)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Use this config file."),
        click.option("--exclude", multiple=True, help="Glob of paths to skip (repeatable)."),
        click.option(
            "--force-exclude", is_flag=True,
            help="Apply excludes to files named on the command line too (for pre-commit, which passes file names).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def overrides_from(select, ignore, profile, exclude, warnings_as_errors=False, timeout=None,
                   force_exclude=False) -> Overrides:
    """The command line's overrides of the configuration."""
    return Overrides(
        select=_codes(select),
        ignore=_codes(ignore),
        profile=profile,
        extra_exclude=tuple(exclude or ()),
        force_exclude=bool(force_exclude),
        warnings_as_errors=bool(warnings_as_errors),
        timeout=float(timeout) if timeout is not None else None,
    )


def config_path(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"{value}: config file not found")
    return path
