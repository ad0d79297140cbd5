"""The ``emberlint`` command. Subcommands load lazily so that a one-file check starts fast."""

from __future__ import annotations

import importlib
import sys

import click

from emberlint import __version__
from emberlint.terminal import EXIT_ERROR

#: subcommand -> "module:attribute" of a click command, imported only when used.
LAZY_COMMANDS = {
    "check": "emberlint.check_command:check",
    "fix": "emberlint.fix_command:fix",
    "rules": "emberlint.docs_commands:rules",
    "explain": "emberlint.docs_commands:explain",
    "lsp": "emberlint.lsp:lsp_command",
}
DEFAULT_COMMAND = "check"


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LAZY_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        # `emberlint PATH...` and `emberlint --select ...` mean `emberlint check ...`.
        if args and args[0] not in LAZY_COMMANDS and args[0] not in ("--help", "-h", "--version"):
            args.insert(0, DEFAULT_COMMAND)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):
        """An unexpected exception is exit status 2 with the traceback, never Python's default 1, which a CI job
        reads as "findings" (``emberlint check ... || test $? -eq 1``)."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence of the exit status
            import traceback

            traceback.print_exc()
            click.echo(f"emberlint: internal error: {type(exc).__name__}: {exc} (please report it)", err=True)
            sys.exit(EXIT_ERROR)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:
            args = [DEFAULT_COMMAND]
        elif args[0] not in LAZY_COMMANDS and args[0] not in ("--help", "-h", "--version"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="emberlint")
def main() -> None:
    """emberlint: a numerics linter for MLX and PyTorch code.

    Finds Python scalars, host round trips, bare operators and untyped constants in array code.
    `emberlint PATH...` is short for `emberlint check PATH...`.
    """


if __name__ == "__main__":  # pragma: no cover
    main()
