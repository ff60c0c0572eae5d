"""`compose-ports fix`: the command around the fix pipeline (compose_ports.fix.pipeline)."""

from __future__ import annotations

import sys
from typing import Any

import click

from compose_ports.commands.common import (
    EXIT_ERROR,
    compose_options,
    emit,
    emit_patch,
    run_fix,
)


@click.command("fix")
@compose_options
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if anything would change.")
@click.option("--remap", is_flag=True, help="Also resolve conflicts rooted in override files.")
@click.option("--host", "host", help="With --remap: the hosts: group whose ports must be free.")
@click.option("--live", is_flag=True, help="With --remap: avoid ports in use on this machine.")
def fix_command(
    show_diff: bool, check: bool, remap: bool, host: str | None, live: bool, **kwargs: Any
) -> None:
    """Rewrite literal host ports to env-variable form, byte for byte otherwise.

    `--env-file FILE` is read as Compose reads it, and the new variables are appended to it with
    their current values (a missing FILE is created; existing lines are never changed).
    """
    from compose_ports.fix import unified_diff
    from compose_ports.reporters.common import display_path

    if (host or live) and not remap:
        raise click.UsageError("--host and --live go with --remap")
    if kwargs["files"] and kwargs["paths"]:
        raise click.UsageError("give either PATH arguments or -f files, not both")
    write = not (show_diff or check)
    outcome = run_fix(kwargs, remap=remap, host=host, live=live, write=write)
    for file, (original, new) in outcome.planned.items():
        if show_diff:
            emit_patch(unified_diff(original, new, display_path(file)))
        elif check:
            emit(f"would fix {display_path(file)}")
    for file in outcome.written:
        emit(f"fixed {display_path(file)}")
    for target, added in outcome.env_added:
        emit(f"added {', '.join(added)} to {display_path(target)}")
    for error in outcome.errors:
        emit(error, err=True)
    if outcome.errors:
        sys.exit(EXIT_ERROR)
    changed = outcome.written if write else outcome.planned
    sys.exit(1 if changed or outcome.unresolved else 0)
