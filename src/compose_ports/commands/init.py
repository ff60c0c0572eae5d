"""`compose-ports init`: a starter `.compose-ports.yaml`, from what the repository runs today.

The first step of moving a team onto a port policy, "audit current usage": what it proposes is
the starter policy's (policy.starter), written where policy.writing allows. The ports outside
their template range are lint's CP201 findings with it, counted with lint's own rule, so the two
always agree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from compose_ports.commands.common import EXIT_ERROR, emit, load_options, print_errors
from compose_ports.policy.templates import TEMPLATES

if TYPE_CHECKING:
    from compose_ports.compose.workspace import Workspace
    from compose_ports.policy.starter import Stack

NO_RANGES = "none"
DEFAULT_HOST = "main"


@click.command("init")
@click.argument("path", default=".", type=click.Path())
@click.option(
    "--ranges",
    "template",
    type=click.Choice([*TEMPLATES, NO_RANGES]),
    default="standard",
    show_default=True,
    help="The ranges to start from (standard: 3000s frontends, 5000s databases, ...).",
)
@click.option(
    "--host",
    "host",
    default=DEFAULT_HOST,
    show_default=True,
    help="The name of the hosts: group the main stacks go in.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the config (default: PATH/.compose-ports.yaml); never over a file.",
)
def init_command(path: str, template: str, host: str, output: str | None) -> None:
    """Write a starter .compose-ports.yaml from the compose files under PATH.

    It declares every stack found, one hosts: group, the ranges of a template and the registry
    of today's ports, and prints how many of today's ports fall outside their range: what
    `compose-ports lint` then reports as CP201. An existing config is never overwritten.
    """
    from compose_ports.compose.discovery import repository_root
    from compose_ports.compose.workspace import project_key
    from compose_ports.errors import ComposePortsError
    from compose_ports.lint import chosen_rules, lint
    from compose_ports.policy import starter, writing
    from compose_ports.reporters.common import display_path

    root = Path(os.path.abspath(path))
    if not root.is_dir():
        _fail(f"{path}: not a directory")
    target = Path(os.path.abspath(output)) if output else root / ".compose-ports.yaml"
    shown = display_path(str(target))
    refusal = writing.place_problem(target, repository_root(root) or root, output is None)
    if refusal is not None:
        _fail(f"{shown}: {refusal}: nothing written")
    files, stacks, workspace = _read(root, shown)
    if not files:
        _fail(f"{path}: no compose files found: nothing written")
    try:
        proposal = starter.propose(stacks, workspace.projects, target, host, template)
    except ComposePortsError as exc:
        _fail(str(exc))
    configs = {project_key(p): proposal.config for p in workspace.projects}
    outside = lint(workspace._replace(configs=configs), chosen_rules(["CP201"])).findings
    try:
        written = writing.create(target, proposal.data)
    except OSError as exc:
        _fail(f"{shown}: cannot write the config: {exc.strerror or exc}: nothing written")
    if not written:
        _fail(f"{shown}: already exists: init never overwrites a config: nothing written")
    for line in starter.summary(proposal, len(files), outside, shown, display_path):
        emit(line)


def find_stacks(root: Path, files: Iterable[Path]) -> list[Stack]:
    """The stacks init proposes of the compose files under root, by Compose's file names."""
    from compose_ports.compose import discovery
    from compose_ports.compose.loading import project_name_from
    from compose_ports.policy.starter import ComposeNames
    from compose_ports.policy.starter import find_stacks as propose_stacks

    names = ComposeNames(
        discovery.MAIN_NAMES, discovery.OVERRIDE_NAMES, discovery.variant_name, project_name_from
    )
    return list(propose_stacks(root, files, names))


def _read(root: Path, shown: str) -> tuple[list[Path], list[Stack], Workspace]:
    """The compose files under root, their stacks, and those loaded as lint loads them."""
    from compose_ports.compose import discovery
    from compose_ports.compose.loading import FileCache, load_project
    from compose_ports.compose.workspace import Workspace
    from compose_ports.errors import ComposePortsError

    errors: list[ComposePortsError] = []
    notes: list[ComposePortsError] = []
    files = discovery.scan(root, errors, notes)
    stacks = [] if errors else find_stacks(root, files)
    cache = FileCache(keep_text=False)
    projects = tuple(
        load_project(load_options(tuple(map(str, s.files)), (), None, None, ()), s.name, cache)
        for s in stacks
    )
    workspace = Workspace(projects, {}, tuple(errors), cache, tuple(notes))
    # What lint could not read would make its exit code 2: nothing is written until it can.
    print_errors(workspace, kinds=("read",))
    if errors or any(d.kind == "read" for p in projects for d in p.diagnostics):
        _fail(f"{shown}: the compose files above cannot be read: nothing written")
    return files, stacks, workspace


def _fail(line: str) -> NoReturn:
    emit(line, err=True)
    sys.exit(EXIT_ERROR)
