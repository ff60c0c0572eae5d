"""Load one compose project (a stack of files) into the model, as Docker Compose loads it.

The stages, each in its module: the files read once (files), their documents interpolated with
include and extends (documents), each file's ports made canonical (canonical), and the project
model built from the merged result (build). Where Compose would refuse the project for a reason
outside ports (an unset `${SECRET:?}` in `environment`, say), the ports are still mapped and
the reason is kept as `Project.rejection`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compose_ports.compose import discovery
from compose_ports.compose.build import project as build_project
from compose_ports.compose.documents import Loader, absolute_path
from compose_ports.compose.files import FileCache
from compose_ports.compose.problems import Problems
from compose_ports.compose.variables import Environment, first_pass, second_pass
from compose_ports.errors import ComposePortsError
from compose_ports.model import Diagnostic, Project
from compose_ports.yamlread import YMap

__all__ = ["FileCache", "LoadOptions", "absolute_path", "load_project", "project_name_from"]


@dataclass(frozen=True)
class LoadOptions:
    """Compose's own options for one run (compose-facts §3)."""

    files: tuple[str, ...] = ()  # -f, in order
    env_files: tuple[str, ...] = ()  # --env-file
    project_directory: str | None = None
    project_name: str | None = None  # -p
    profiles: tuple[str, ...] = ()  # --profile
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: str = field(default_factory=os.getcwd)


def project_name_from(directory: Path) -> str:
    # compose-go@v2.9.1:cli/options.go:526-544: lower-cased, only [a-z0-9_-] kept.
    return re.sub(r"[^a-z0-9_-]", "", directory.name.lower())


def load_project(
    options: LoadOptions,
    stack: str | None = None,
    cache: FileCache | None = None,
) -> Project:
    """Load a project like `docker compose [options] config` would. Never raises for bad input."""
    cache = cache or FileCache()
    problems = Problems()
    cwd = Path(options.cwd)
    files = [absolute_path(cwd, f) for f in options.files]
    workdir = (
        absolute_path(cwd, options.project_directory)
        if options.project_directory
        else (files[0].parent if files else cwd)
    )
    try:
        env = first_pass(options.environ, options.env_files, workdir, cwd)
    except ComposePortsError as exc:
        problems.error(exc)
        env = Environment(dict(options.environ))
    if not files and env.get("COMPOSE_FILE"):
        separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        files = [absolute_path(cwd, f) for f in env.values["COMPOSE_FILE"].split(separator) if f]
    if not files:
        found = discovery.default_files(workdir)
        if found is None:
            problems.add(
                Diagnostic(str(workdir), 0, 0, "no configuration file provided: not found")
            )
            name = project_name_from(workdir)
            return build_project(options.profiles, stack, workdir, (), {}, problems, env, name)
        files = list(found)
    project_dir = (
        absolute_path(cwd, options.project_directory)
        if options.project_directory
        else files[0].parent
    )
    try:
        env = second_pass(env, project_dir)
    except ComposePortsError as exc:
        problems.error(exc)
    loader = Loader(env, cache, problems)
    model: YMap = YMap()
    for index, path in enumerate(files):
        model = loader.merge_file(model, path, main=index == 0)
    name = _project_name(options, env, model, project_dir)
    read = tuple(map(str, files))
    return build_project(options.profiles, stack, project_dir, read, model, problems, env, name)


def _project_name(
    options: LoadOptions, env: Environment, model: Mapping[str, Any], directory: Path
) -> str:
    if options.project_name:
        return options.project_name
    if env.get("COMPOSE_PROJECT_NAME"):
        return str(env.get("COMPOSE_PROJECT_NAME"))
    if isinstance(model.get("name"), str) and model["name"]:
        return str(model["name"])
    return project_name_from(directory)
