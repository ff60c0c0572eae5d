"""`compose-ports rules` and `explain`: the rules and their documentation."""

from __future__ import annotations

import click

from compose_ports.commands.common import (
    echo_text,
    emit,
)


@click.command("rules")
def rules_command() -> None:
    """List the rules: code, name, default severity and what each reports."""
    from compose_ports.rules import RULES

    width = max(len(r.NAME) for r in RULES)
    for rule in RULES:
        fix = f" [{rule.FIX.command.removeprefix('compose-ports ')}]" if rule.FIX else ""
        emit(
            f"{rule.CODE}  {rule.NAME.ljust(width)}  {rule.SEVERITY.value:<7}  {rule.SUMMARY}{fix}"
        )


@click.command("explain")
@click.argument("rule")
def explain_command(rule: str) -> None:
    """Print a rule's documentation, with its examples."""
    from compose_ports.rules import BY_KEY

    found = BY_KEY.get(rule) or BY_KEY.get(rule.upper())
    if found is None:
        raise click.UsageError(f"unknown rule {rule!r}; `compose-ports rules` lists them")
    echo_text(f"{found.CODE} {found.NAME} (default severity: {found.SEVERITY.value})\n")
    if found.FIX is not None:
        echo_text(f"Fix: `{found.FIX.command}` {found.FIX.does}.\n")
    echo_text((found.__doc__ or "").strip().split("\n", 1)[-1].strip())
    for example in found.EXAMPLES:
        verdict = "reported" if example.expect else "not reported"
        echo_text(f"\nExample: {example.name} ({verdict})")
        if example.config:
            echo_text("  # .compose-ports.yaml")
            echo_text("".join(f"  {line}\n" for line in example.config.splitlines()), nl=False)
        for name, text in example.files.items():
            echo_text(f"  # {name}")
            echo_text("".join(f"  {line}\n" for line in text.splitlines()), nl=False)
        for file, line, column in example.expect:
            echo_text(f"  -> {file}:{line}:{column}")
        if example.fixed is not None and found.FIX is not None:
            echo_text(f"  After `{found.FIX.command}`:")
            for name, text in example.fixed.items():
                if text != example.files.get(name):
                    echo_text(f"  # {name}")
                    echo_text("".join(f"  {line}\n" for line in text.splitlines()), nl=False)
