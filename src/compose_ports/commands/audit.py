"""`compose-ports audit`: the bindings the stacks declare against what the engine publishes."""

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
    on_host,
    print_errors,
    read_workspace,
)


@click.command("audit")
@compose_options
@click.option("--host", "host", help="Audit only the stacks of this hosts: group.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
def audit_command(host: str | None, output_format: str, **kwargs: Any) -> None:
    """Compare the declared bindings with the running containers' actual ones.

    Reports what is declared but not published (the service is not running, or publishes
    another port: moved), what is published on another host IP than declared, and what the
    engine publishes that no stack read declares (a container started by hand, a project
    that is not in the repository). The engine is reached through DOCKER_HOST or the default
    socket. Exit 0 when they agree, 1 on drift, 2 on errors or without an engine.
    """
    from compose_ports.live.audit import audit
    from compose_ports.live.engine import Engine, connect
    from compose_ports.reporters import audit as reporter

    workspace = read_workspace(**kwargs)
    projects = on_host(workspace, host)
    engine = connect()
    if not isinstance(engine, Engine):
        print_errors(workspace)
        emit(f"audit: {engine.describe()}", err=True)
        sys.exit(EXIT_ERROR)
    result = audit(projects, engine.containers)
    if output_format == "json":
        emit(reporter.render_json(result, engine, projects), kind=VERBATIM, nl=False)
    elif output_format == "markdown":
        emit(reporter.render_markdown(result, engine), kind=TEXT, nl=False)
    else:
        emit(reporter.render_text(result, engine), kind=TEXT, nl=False)
    print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(1 if result.drift else 0)
