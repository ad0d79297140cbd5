"""Configuration: ``[tool.emberlint]`` in ``pyproject.toml`` or ``.emberlint.yaml``, found by walking up, and the
overrides of the command line or the editor on top of it.

Only the shape of the settings is validated here (no rule is imported: a warm cached run stays light). The rule
codes a configuration names are kept in ``Config.rule_codes`` with where they were written, and checked against
the registry where the rules are loaded anyway (``registry.check_codes``, before anything is linted).
"""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from emberlint.budget import DEFAULT_TIMEOUT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROFILES = ("recommended", "strict")
DTYPES = {
    "float": ("float16", "bfloat16", "float32", "float64"),
    "int": ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"),
}
CONFIG_FILES = (".emberlint.yaml", ".emberlint.yml", "pyproject.toml")


class ConfigError(Exception):
    """A configuration problem; the CLI reports it and exits with code 2."""


@dataclass(frozen=True)
class Config:
    profile: str = "recommended"
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    exempt_apis: tuple[tuple[str, tuple[str, ...]], ...] = ()
    default_float_dtype: str = "float32"
    default_int_dtype: str = "int32"
    warnings_as_errors: bool = False
    force_exclude: bool = False  # excludes apply to files named explicitly too
    extra_exclude: tuple[str, ...] = ()  # from the command line, matched against the path as given
    root: str | None = None  # folder of the config file; relative globs are matched against it
    source: str | None = None  # the config file
    # seconds one file may take (check and fix); 0: no limit. Not part of the repr: the cache key ignores it
    timeout: float = field(default=DEFAULT_TIMEOUT, repr=False)
    # every rule code the settings name (also those an override replaced), with where: ("--select", codes),
    # ("pyproject.toml [tool.emberlint]: 'select'", codes)...; in the repr, so a cached result implies they passed
    rule_codes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def relative(self, path: str | Path) -> str:
        path = Path(path)
        if self.root:
            try:
                return PurePosixPath(path.resolve().relative_to(Path(self.root).resolve())).as_posix()
            except ValueError:
                pass
        return PurePosixPath(path).as_posix()

    def is_excluded(self, path: str | Path) -> bool:
        if self.extra_exclude and _matches_any(PurePosixPath(Path(path)).as_posix(), self.extra_exclude):
            return True
        return _matches_any(self.relative(path), self.exclude)

    def ignored_codes_for(self, path: str | Path) -> tuple[str, ...]:
        rel = self.relative(path)
        codes: list[str] = []
        for pattern, pattern_codes in self.per_file_ignores:
            if _matches_any(rel, (pattern,)):
                codes.extend(pattern_codes)
        return tuple(codes)

    def exempt_parameters(self) -> dict[str, tuple[str, ...]]:
        return dict(self.exempt_apis)


@dataclass(frozen=True)
class Overrides:
    """Settings given on the command line (``options.overrides_from``) or by the editor (``lsp``), applied on top
    of each folder's configuration by ``runner.ConfigResolver``. None / empty: the configuration's value."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    profile: str | None = None
    extra_exclude: tuple[str, ...] = ()  # --exclude: matched against the path as given
    force_exclude: bool = False
    warnings_as_errors: bool = False
    timeout: float | None = None
    #: how an error names the setting a rule code came from: "--select", "editor setting emberlint.select"
    origin: str = "--{}"

    def apply(self, config: Config) -> Config:
        changes: dict[str, Any] = {}
        if self.select is not None:
            changes["select"] = self.select
        if self.ignore is not None:
            changes["ignore"] = self.ignore
        if self.profile is not None:
            changes["profile"] = self.profile
        if self.extra_exclude:
            changes["extra_exclude"] = self.extra_exclude
        if self.force_exclude:
            changes["force_exclude"] = True
        if self.warnings_as_errors:
            changes["warnings_as_errors"] = True
        if self.timeout is not None:
            changes["timeout"] = self.timeout
        named = tuple((self.origin.format(key), codes) for key, codes in (("select", self.select),
                                                                           ("ignore", self.ignore)) if codes)
        if named:
            changes["rule_codes"] = named + config.rule_codes
        return replace(config, **changes) if changes else config


def _matches_any(rel: str, patterns: tuple[str, ...]) -> bool:
    parts = rel.split("/")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern + "/**"):
            return True
        if pattern.endswith("/**") and (rel == pattern[:-3] or rel.startswith(pattern[:-2])):
            return True
        if "/" not in pattern and any(fnmatch.fnmatch(part, pattern) for part in parts):
            return True
    return False


_KEYS = {
    "profile",
    "select",
    "ignore",
    "per-file-ignores",
    "exclude",
    "exempt-apis",
    "default-float-dtype",
    "default-int-dtype",
    "warnings-as-errors",
    "force-exclude",
    "timeout",
}


def _string_list(key: str, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings, got {value!r}")
    return tuple(value)


def parse_config(data: Any, where: str, root: str | None = None) -> Config:
    """Validate the shape of a mapping of settings (as written in the file) into a ``Config``; its rule codes are
    recorded in ``rule_codes``, not checked."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the emberlint settings must be a table/mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    config = Config(root=root, source=where)
    rule_codes: list[tuple[str, tuple[str, ...]]] = []
    if "profile" in data:
        if data["profile"] not in PROFILES:
            raise ConfigError(f"{where}: profile must be one of {', '.join(PROFILES)}, got {data['profile']!r}")
        config = replace(config, profile=data["profile"])
    for key in ("select", "ignore"):
        if key in data:
            codes = _string_list(key, data[key], where)
            rule_codes.append((f"{where}: '{key}'", codes))
            config = replace(config, **{key: codes})
    if "exclude" in data:
        config = replace(config, exclude=_string_list("exclude", data["exclude"], where))
    if "per-file-ignores" in data:
        table = data["per-file-ignores"]
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: 'per-file-ignores' must map glob patterns to lists of codes")
        entries = []
        for pattern, codes in table.items():
            codes = _string_list(f"per-file-ignores.{pattern}", codes, where)
            rule_codes.append((f"{where}: 'per-file-ignores' for {pattern!r}", codes))
            entries.append((str(pattern), codes))
        config = replace(config, per_file_ignores=tuple(entries))
    if "exempt-apis" in data:
        table = data["exempt-apis"]
        if not isinstance(table, dict):
            raise ConfigError(
                f"{where}: 'exempt-apis' must map a qualified function name (e.g. 'mlx.core.pad') "
                "to the parameter names whose numbers are shapes/axes"
            )
        config = replace(
            config,
            exempt_apis=tuple(
                (str(name), _string_list(f"exempt-apis.{name}", params, where)) for name, params in table.items()
            ),
        )
    for key, family in (("default-float-dtype", "float"), ("default-int-dtype", "int")):
        if key in data:
            value = data[key]
            if value not in DTYPES[family]:
                raise ConfigError(f"{where}: '{key}' must be one of {', '.join(DTYPES[family])}, got {value!r}")
            config = replace(config, **{key.replace("-", "_"): value})
    if "force-exclude" in data:
        if not isinstance(data["force-exclude"], bool):
            raise ConfigError(f"{where}: 'force-exclude' must be true or false")
        config = replace(config, force_exclude=data["force-exclude"])
    if "timeout" in data:
        value = data["timeout"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{where}: 'timeout' must be a number of seconds (0: no limit), got {value!r}")
        config = replace(config, timeout=float(value))
    if "warnings-as-errors" in data:
        if not isinstance(data["warnings-as-errors"], bool):
            raise ConfigError(f"{where}: 'warnings-as-errors' must be true or false")
        config = replace(config, warnings_as_errors=data["warnings-as-errors"])
    return replace(config, rule_codes=tuple(rule_codes))


def load_file(path: Path) -> Config | None:
    """The config in ``path``; None for a pyproject.toml without ``[tool.emberlint]``."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from exc
    if path.name == "pyproject.toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: invalid TOML: {exc}") from exc
        section = data.get("tool", {}).get("emberlint")
        if section is None:
            return None
        return parse_config(section, f"{where} [tool.emberlint]", str(path.parent))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from exc
    return parse_config(data, where, str(path.parent))


def find_config_file(start: Path) -> Path | None:
    """The nearest config file from ``start`` (a file or folder) upwards."""
    folder = start.resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate_dir in (folder, *folder.parents):
        for name in CONFIG_FILES:
            candidate = candidate_dir / name
            if candidate.is_file():
                if name == "pyproject.toml":
                    try:
                        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
                    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                        return candidate  # load_file reports the problem
                    if "emberlint" not in data.get("tool", {}):
                        continue
                return candidate
    return None


def discover(start: Path, explicit: Path | None = None) -> Config:
    """The configuration for ``start``: an explicit file, else the nearest one, else the defaults."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        return load_file(explicit) or Config(root=str(explicit.parent.resolve()))
    found = find_config_file(start)
    if found is None:
        return Config()
    return load_file(found) or Config()
