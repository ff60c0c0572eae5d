"""`compose-ports suggest`: a free host port for a new service."""

from __future__ import annotations

import sys

import click

from compose_ports.commands.common import (
    EXIT_ERROR,
    any_config,
    config_for,
    emit,
    on_host,
    print_errors,
    read_workspace,
)


@click.command("suggest")
@click.argument("service")
@click.option("--category", help="The policy range (config ranges) to take the port from.")
@click.option("--host", "host", help="The hosts: group whose ports must stay free.")
@click.option("--protocol", default="tcp", show_default=True)
@click.option("--config", "config_file", type=click.Path(), help="Policy file to use.")
@click.argument("paths", nargs=-1, type=click.Path())
def suggest_command(
    service: str,
    category: str | None,
    host: str | None,
    protocol: str,
    config_file: str | None,
    paths: tuple[str, ...],
) -> None:
    """The lowest free host port for a new SERVICE in its category's range on a host."""
    from compose_ports.allocation.suggest import suggest

    workspace = read_workspace(paths, (), (), None, None, (), config_file)
    print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    projects = on_host(workspace, host)
    config = config_for(workspace, host) if host else any_config(workspace)
    if category and (config is None or not any(r.name == category for r in config.ranges)):
        from compose_ports.didyoumean import near

        hint = near(category, [r.name for r in config.ranges]) if config is not None else ""
        raise click.UsageError(f"no range named {category!r} in the config{hint}")
    port, port_range = suggest(projects, config, service, category, protocol)
    if port is None:
        emit(f"no free port for {service}", err=True)
        sys.exit(1)
    where = f" ({port_range.name} {port_range.start}-{port_range.end})" if port_range else ""
    on = f" on {host}" if host else ""
    emit(f"{port}")
    emit(f"{service}: {port}/{protocol} is free{on}{where}", err=True)
