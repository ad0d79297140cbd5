"""``emberlint rules`` (a table of every rule) and ``emberlint explain CODE`` (a rule's docs)."""

from __future__ import annotations

import sys

import click

from emberlint.cli import use_color


def explain_text(code: str) -> str | None:
    """The text ``emberlint explain CODE`` prints: header, docstring, and the rule's examples."""
    from emberlint.registry import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        return None
    severity = rule.SEVERITY.value if rule.SEVERITY else "off (strict profile only)"
    lines = [f"{rule.CODE} {rule.NAME}", "", f"Severity (recommended profile): {severity}; strict profile: error", ""]
    lines.append(rule.docs())
    if rule.INVALID:
        lines += ["", "Reported:"]
        for case in rule.INVALID:
            lines += ["", _indent(case.code)]
            if case.fixed is not None:
                lines += ["", f"  Fixed ({'unsafe' if case.unsafe else 'safe'} fix):", "", _indent(case.fixed)]
    if rule.VALID:
        lines += ["", "Not reported:"]
        for source in rule.VALID:
            lines += ["", _indent(source)]
    return "\n".join(lines) + "\n"


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.splitlines())


@click.command()
@click.argument("code")
@click.option("--no-color", is_flag=True)
def explain(code: str, no_color: bool) -> None:
    """Explain a rule: what it catches, why it matters numerically, and the fix."""
    text = explain_text(code)
    if text is None:
        click.echo(f"emberlint: unknown rule code {code!r} (see `emberlint rules`)", err=True)
        sys.exit(2)
    click.echo(text, nl=False)


@click.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--no-color", is_flag=True)
def rules(output_format: str, no_color: bool) -> None:
    """List every rule with its code, name, severity and summary."""
    from emberlint.registry import all_rules

    rows = [
        {
            "code": rule.CODE,
            "name": rule.NAME,
            "family": rule.family(),
            "recommended": rule.SEVERITY.value if rule.SEVERITY else "off",
            "strict": "error",
            "fixable": any(case.fixed is not None for case in rule.INVALID),
            "summary": rule.summary(),
        }
        for rule in all_rules()
    ]
    if output_format == "json":
        import json

        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("code", "name", "recommended", "fix", "summary"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["code"], row["name"], row["recommended"], "yes" if row["fixable"] else "", row["summary"])
    Console(no_color=not use_color(no_color), width=160 if not use_color(no_color) else None).print(table)
