"""`compose-ports check`: whether this machine holds a port the stacks need."""

from __future__ import annotations

import sys
from typing import Any

import click

from compose_ports.commands.common import (
    EXIT_ERROR,
    compose_options,
    emit,
    on_host,
    print_errors,
    read_workspace,
    stack_name,
)


@click.command("check")
@compose_options
@click.option("--host", "host", help="Check only the stacks of this hosts: group.")
def check_command(host: str | None, **kwargs: Any) -> None:
    """Whether something on this machine holds a host port the stacks need, right now.

    `compose-ports check && docker compose up` fails early with the process to blame instead of
    "port is already allocated". Only this machine's own socket table is read.
    """
    from compose_ports.live.availability import taken
    from compose_ports.live.sockets import listeners
    from compose_ports.reporters.common import display_path

    workspace = read_workspace(**kwargs)
    projects = on_host(workspace, host)
    blocked = False
    for item in taken(projects, listeners()):
        src = item.binding.source
        where = f"{display_path(src.file)}:{src.line}:{src.column}"
        severity = "error" if item.blocked else "note (the pool still has free ports)"
        # The process name comes from the system: a listener may rename itself to anything.
        emit(
            f"{where}: {item.describe()}: needed by {item.binding.service} "
            f"({stack_name(item.project)}) [{severity}]"
        )
        blocked = blocked or item.blocked
    count = sum(1 for p in projects for b in p.bindings if b.host_range)
    emit(f"{'Blocked' if blocked else 'Free'}: {count} host ports checked on this machine.")
    print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(1 if blocked else 0)
