"""`compose-ports check`: whether this machine holds a port the stacks need, and with `--probe`
whether something answers behind each one."""

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
)


@click.command("check")
@compose_options
@click.option("--host", "host", help="Check only the stacks of this hosts: group.")
@click.option(
    "--probe",
    is_flag=True,
    help="Also connect to every declared TCP binding on this machine and say whether it answers.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="--probe: seconds to wait for a connection, and for a reply.",
)
@click.option("--http", is_flag=True, help="--probe: send `HEAD /` to every TCP binding.")
def check_command(host: str | None, probe: bool, timeout: float, http: bool, **kwargs: Any) -> None:
    """Whether something on this machine holds a host port the stacks need, right now.

    `compose-ports check && docker compose up` fails early with the container or process to
    blame instead of "port is already allocated". A port that the service's own running
    container publishes is shown as running. This machine's socket table is read, and the
    Docker engine (DOCKER_HOST or the default socket) is asked for its containers; nothing
    is sent anywhere else, and `--probe` connects only to this machine's own addresses.
    """
    from compose_ports.live import sockets
    from compose_ports.live.availability import taken
    from compose_ports.reporters import check as report

    workspace = read_workspace(**kwargs)
    projects = on_host(workspace, host)
    needed = [(p, b) for p in projects for b in p.bindings if b.host_range]
    engine = _engine() if needed or probe else None
    held = taken(projects, sockets.listeners(), engine.containers if engine else ())
    for line in report.held_lines(held):
        emit(line)
    blocked = sum(1 for item in held if item.blocked)
    emit(report.held_summary(len(needed), blocked, sum(1 for item in held if item.running)))
    failed = False
    if probe:
        from compose_ports.live.probe import judge, plan, probe_all

        planned = plan(projects, engine, http=http)
        verdicts = judge(planned, probe_all([t for p in planned for t in p.targets], timeout))
        for line in report.probe_lines(verdicts, engine is not None):
            emit(line)
        failed = verdicts.failed > 0
    print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(1 if blocked or failed else 0)


def _engine() -> Any:
    """This machine's engine, or None, saying why where it changes what check can see."""
    from compose_ports.live.engine import Engine, connect

    found = connect()
    if not isinstance(found, Engine):
        emit(
            f"note: {found.describe()}: a container's ports are seen only as its docker-proxy "
            "process, and not at all without one (userland-proxy: false, rootless Docker)",
            err=True,
        )
        return None
    if not found.local:
        emit(
            f"note: the Docker engine at {found.address} is not on this machine: "
            "only this machine's socket table is read",
            err=True,
        )
        return None
    return found
