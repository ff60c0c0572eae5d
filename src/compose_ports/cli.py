"""The command line: `compose-ports map|lint|fix ...` with Compose's own options.

Exit codes follow ruff: 0 clean, 1 findings (or files changed by fix), 2 usage, config, read and
internal errors.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from compose_ports import __version__

EXIT_ERROR = 2


def compose_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Docker Compose's own options, with Compose's meaning (README: "What is read")."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option(
            "-f",
            "--file",
            "files",
            multiple=True,
            help="Compose file, as in `docker compose -f` (repeatable; exactly that stack).",
        ),
        click.option("--env-file", "env_files", multiple=True, help="Env file (repeatable)."),
        click.option("--project-directory", help="Compose's --project-directory."),
        click.option("-p", "--project-name", help="Compose's project name."),
        click.option("--profile", "profiles", multiple=True, help="Activate a profile."),
        click.option(
            "--config",
            "config_file",
            type=click.Path(),
            help="Policy file to use instead of the nearest .compose-ports.yaml.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _workspace(
    paths: tuple[str, ...],
    files: tuple[str, ...],
    env_files: tuple[str, ...],
    project_directory: str | None,
    project_name: str | None,
    profiles: tuple[str, ...],
    config_file: str | None,
) -> Any:
    from compose_ports.loading import LoadOptions
    from compose_ports.workspace import load_workspace

    if files and paths:
        raise click.UsageError("give either PATH arguments or -f files, not both")
    options = LoadOptions(
        files=files,
        env_files=env_files,
        project_directory=project_directory,
        project_name=project_name,
        profiles=profiles,
        environ=dict(os.environ),
        cwd=os.getcwd(),
    )
    return load_workspace(paths, options, config_file)


def _print_errors(workspace: Any) -> None:
    from compose_ports.reporters.common import display_path

    for error in workspace.errors:
        where = display_path(error.file) if error.file else ""
        if where and error.line:
            where = f"{where}:{error.line}:{error.column}"
        click.echo(f"{where}: {error.message}" if where else error.message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compose-ports")
def main() -> None:
    """Lint, map and rewrite the host ports of Docker Compose projects."""


@main.command("map")
@compose_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
)
def map_command(output_format: str, **kwargs: Any) -> None:
    """Print the host-port map: every host port each project publishes, and where it is set."""
    workspace = _workspace(**kwargs)
    projects = list(workspace.projects)
    if output_format == "json":
        from compose_ports.reporters import map_json as reporter
    elif output_format == "markdown":
        from compose_ports.reporters import map_markdown as reporter  # type: ignore[no-redef]
    else:
        from compose_ports.reporters import map_table as reporter  # type: ignore[no-redef]
    click.echo(reporter.render(projects), nl=False)
    _print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":  # pragma: no cover
    main()
