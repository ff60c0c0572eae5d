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
    stack_name,
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
    from compose_ports.reporters.common import display_path

    workspace = read_workspace(**kwargs)
    projects = on_host(workspace, host)
    needed = [(p, b) for p in projects for b in p.bindings if b.host_range]
    engine = _engine() if needed or probe else None
    blocked = running = 0
    for item in taken(projects, sockets.listeners(), engine.containers if engine else ()):
        src = item.binding.source
        where = f"{display_path(src.file)}:{src.line}:{src.column}"
        if item.running:
            severity = "running"
        elif item.blocked:
            severity = "error"
        else:
            severity = "note (the pool still has free ports)"
        whose = f"{item.binding.service} ({stack_name(item.project)})"
        # The process name comes from the system: a listener may rename itself to anything.
        said = (
            f"{item.describe()}: {whose}"
            if item.running
            else f"{item.describe()}: needed by {whose}"
        )
        emit(f"{where}: {said} [{severity}]")
        blocked += item.blocked
        running += item.running
    emit(_summary(len(needed), blocked, running))
    failed = _probe(projects, engine, http, timeout) if probe else False
    print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(1 if blocked or failed else 0)


def _summary(count: int, blocked: int, running: int) -> str:
    ports = "host port" if count == 1 else "host ports"
    said = f"{count} {ports} checked on this machine: {blocked} blocked"
    if running:
        said += f", {running} published by their own running service"
    return f"{'Blocked' if blocked else 'Free'}: {said}."


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


def _probe(projects: list[Any], engine: Any, http: bool, timeout: float) -> bool:
    """Probe every declared TCP binding; whether one of a running service did not answer."""
    from compose_ports.live.probe import plan, probe_all
    from compose_ports.reporters.common import display_path

    planned = plan(projects, engine, http=http)
    outcomes = probe_all([t for p in planned for t in p.targets], timeout=timeout)
    failed = answering = silent = skipped = 0
    for item in planned:
        src = item.binding.source
        where = f"{display_path(src.file)}:{src.line}:{src.column}"
        whose = f"{item.binding.service} ({stack_name(item.project)})"
        if not item.targets:
            skipped += 1
            port = item.spec.published or "*"
            emit(f"{where}: {port}/{item.spec.protocol} not probed: {item.skipped}: {whose} [note]")
            continue
        for target in item.targets:
            outcome = outcomes[target]
            if outcome.answers:
                answering += 1
                severity = "ok"
            elif item.counts:
                failed += 1
                severity = "error"
            else:
                silent += 1
                severity = "note (the service is not running)"
            emit(f"{where}: {target.show()}/tcp {outcome.describe()}: {whose} [{severity}]")
    probed = answering + failed + silent
    said = f"{probed} probed: {answering} answering, {failed} not answering"
    if silent:
        said += f", {silent} of services that are not running"
    if skipped:
        said += f"; {skipped} not probed"
    if engine is None:
        said += " (no engine: every declared binding counts)"
    emit(f"{_headline(answering, failed, silent)}: {said}.")
    return failed > 0


def _headline(answering: int, failed: int, silent: int) -> str:
    # Says what holds of every port probed: "Answering" only when they all answered.
    if failed:
        return "Not answering"
    if silent:
        return "Answering where running" if answering else "Not running"
    return "Answering" if answering else "Nothing probed"
