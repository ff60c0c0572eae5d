"""`compose-ports map`: the host-port map, in four formats."""

from __future__ import annotations

import sys
from typing import Any

import click

from compose_ports.commands.common import (
    EXIT_ERROR,
    TEXT,
    VERBATIM,
    compose_options,
    emit,
    host_workspace,
    print_errors,
    read_workspace,
    write,
)


@click.command("map")
@compose_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "markdown", "html", "prometheus"]),
    default="table",
    show_default=True,
)
@click.option(
    "--address",
    default="localhost",
    show_default=True,
    help="prometheus: the address of targets on every interface (no specific host IP).",
)
@click.option("--host", "host", help="Only the stacks of this hosts: group (one machine).")
def map_command(output_format: str, address: str, host: str | None, **kwargs: Any) -> None:
    """Print the host-port map: every host port each project publishes, and where it is set."""
    workspace = host_workspace(read_workspace(**kwargs), host)
    if output_format in ("markdown", "html"):
        # The registry formats group the stacks by machine (`hosts:`): they need the workspace.
        from compose_ports.reporters import map_html, map_markdown, registry_view

        registry = map_html if output_format == "html" else map_markdown
        emit(registry.render(registry_view.build(workspace)), kind=TEXT, nl=False)
    elif output_format == "prometheus":
        from compose_ports.reporters import map_prometheus

        emit(map_prometheus.render(workspace, address), kind=VERBATIM, nl=False)
    else:
        from compose_ports.reporters import registry_view

        projects = list(workspace.projects)
        # Which bindings collide, and on which machine: the JSON's `hosts`, the table's
        # CONFLICT column (which also shows a lone project's own conflicts).
        groups = registry_view.build(workspace, unhosted=output_format != "json").groups
        if output_format == "json":
            from compose_ports.reporters import map_json as reporter
        else:
            from compose_ports.reporters import map_table as reporter  # type: ignore[no-redef]
        kind = VERBATIM if output_format == "json" else TEXT
        if hasattr(reporter, "render_parts"):
            write(reporter.render_parts(projects, None, groups), None, kind)
        else:
            emit(reporter.render(projects, None, groups), kind=kind, nl=False)
    # The map shows each project's own errors; what it cannot show goes to stderr.
    print_errors(workspace, kinds=("read",))
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
