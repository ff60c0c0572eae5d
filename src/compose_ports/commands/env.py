"""`compose-ports env`: the env file of an environment on a host."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from compose_ports.commands.common import (
    EXIT_ERROR,
    compose_options,
    config_for,
    emit,
    print_errors,
    read_workspace,
)


@click.command("env")
@compose_options
@click.option("--host", "host", required=True, help="The hosts: group the file is for.")
@click.option("--environment", required=True, help="The environment (config env.environments).")
def env_command(host: str, environment: str, **kwargs: Any) -> None:
    """Write the env file of an environment: a variable per port, offset and collision-free.

    The file is the environment's `file` in the config (default `.env.<environment>`, beside the
    config). Existing keys, lines and comments are never changed; missing keys are appended.
    """
    from pathlib import Path

    from compose_ports.allocation import environments as envfiles
    from compose_ports.errors import ComposePortsError
    from compose_ports.fix import envfile, readers
    from compose_ports.reporters.common import display_path

    workspace = read_workspace(**kwargs)
    print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    config = config_for(workspace, host)
    if environment not in config.environments:
        from compose_ports.didyoumean import near

        known = ", ".join(sorted(config.environments)) or "none"
        hint = near(environment, config.environments)
        emit(
            f"{display_path(str(config.path))}: no environment named {environment!r}{hint} in "
            f"env.environments (known: {known})",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    env_plan = envfiles.plan(workspace, config, host, environment)
    root = readers.repository(kwargs["paths"], kwargs["files"], workspace, os.getcwd())
    shown = display_path(str(env_plan.path))
    reason = envfile.check_env_target(Path(env_plan.path), root)
    if reason is not None:
        emit(f"{shown}: {reason}", err=True)
        sys.exit(EXIT_ERROR)
    try:
        added = envfile.append_env(env_plan.path, env_plan.values, ordered=True, repository=root)
    except ComposePortsError as exc:
        emit(f"{shown}: {exc.message}", err=True)
        sys.exit(EXIT_ERROR)
    for name, why in env_plan.moved.items():
        emit(f"note: {name}={env_plan.values[name]}: moved, {why}")
    emit(f"{shown}: {len(added)} added, {len(env_plan.values) - len(added)} already there")
