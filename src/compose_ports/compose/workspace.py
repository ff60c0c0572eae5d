"""One run's projects: the stacks that the command line selects, loaded into the model."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from compose_ports.compose import discovery
from compose_ports.compose.loading import FileCache, LoadOptions, absolute_path, load_project
from compose_ports.compose.variables import first_pass
from compose_ports.errors import ComposePortsError
from compose_ports.model import Diagnostic, Project
from compose_ports.policy.config import Config, find_config
from compose_ports.readfile import NOT_REGULAR


class Workspace(NamedTuple):
    projects: tuple[Project, ...]
    configs: Mapping[str, Config | None] = MappingProxyType({})  # project key -> config
    errors: tuple[ComposePortsError, ...] = ()  # problems outside any project (bad arguments)
    cache: FileCache | None = None  # what was read, for `fix` to edit exactly those bytes
    # Files met while scanning and skipped, `path: not a regular file: skipped`: shown as notes,
    # they change no exit code (module readfile).
    notes: tuple[ComposePortsError, ...] = ()

    def config_of(self, project: Project) -> Config | None:
        return self.configs.get(project_key(project))

    def hosts(self) -> dict[tuple[Config, str], list[Project]]:
        """The machines the configs declare, with the projects that run on each.

        Projects come in the config's order of the host's stacks: the earlier stack is the
        one a conflict's report names first.
        """
        groups: dict[tuple[Config, str], list[tuple[int, Project]]] = {}
        for project in self.projects:
            config = self.config_of(project)
            if config is None or project.stack is None:
                continue
            for host in config.hosts_of(project.stack):
                rank = config.hosts[host].index(project.stack)
                groups.setdefault((config, host), []).append((rank, project))
        return {
            key: [p for _, p in sorted(ranked, key=lambda item: item[0])]
            for key, ranked in groups.items()
        }

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(p.diagnostics for p in self.projects)


def project_key(project: Project) -> str:
    return "\0".join((project.stack or "", *project.files))


def load_workspace(
    paths: Sequence[str],
    options: LoadOptions,
    config_file: str | None = None,
    cache: FileCache | None = None,
    keep_text: bool = True,
) -> Workspace:
    """Load what the command line names, as the README describes for PATH and `-f`."""
    cwd = Path(options.cwd)
    cache = cache or FileCache(keep_text=keep_text)
    override = absolute_path(cwd, config_file) if config_file else None
    errors: list[ComposePortsError] = []
    if override is not None:
        try:
            find_config(cwd, override)
        except ComposePortsError as exc:
            return Workspace((), {}, (exc,))
    if options.files or (not paths and _compose_env_file(options)):
        # `-f` (or COMPOSE_FILE): exactly that one stack, with Compose's own meaning.
        try:
            config = find_config(cwd, override)
        except ComposePortsError as exc:
            config, errors = None, [exc]
        project = load_project(options, cache=cache)
        stack = _declared_name(config, project.files)
        if stack:
            project = replace(project, stack=stack)
        return Workspace((project,), {project_key(project): config}, tuple(errors), cache)
    specs: list[discovery.StackSpec] = []
    notes: list[ComposePortsError] = []
    for given in paths or ["."]:
        path = absolute_path(cwd, given)
        try:
            info = os.stat(path)
        except OSError:
            errors.append(ComposePortsError("no such file or directory", given))
            continue
        try:
            if stat.S_ISDIR(info.st_mode):
                files = discovery.scan(path, errors, notes)
                if not files:
                    errors.append(ComposePortsError("no compose files found", given))
                specs += discovery.stacks_for(files, override)
            elif stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode):
                # A named file: its size is judged when it is read, with the stack it is in.
                specs += discovery.stacks_of_trigger(path, override, notes)
            else:
                errors.append(ComposePortsError(NOT_REGULAR, given))
        except ComposePortsError as exc:
            errors.append(exc)
    projects: list[Project] = []
    configs: dict[str, Config | None] = {}
    seen: set[tuple[str | None, tuple[Path, ...]]] = set()
    unique_specs = []
    for spec in specs:
        if (spec.name, spec.files) not in seen:
            seen.add((spec.name, spec.files))
            unique_specs.append(spec)
    # A parsed file is kept only while a stack still to be loaded reads it: a monorepo's
    # parsed trees would otherwise all be alive at once (the texts stay, for `fix`).
    readers: dict[str, int] = {}
    for spec in unique_specs:
        for file in spec.files:
            readers[str(file)] = readers.get(str(file), 0) + 1
    for spec in unique_specs:
        stack_options = replace(options, files=tuple(map(str, spec.files)))
        project = load_project(stack_options, stack=spec.name, cache=cache)
        for name in map(str, spec.files):
            readers[name] -= 1
            if not readers[name]:
                cache.forget(name)
        projects.append(project)
        configs[project_key(project)] = spec.config
    unique_notes = {str(n): n for n in notes}
    return Workspace(tuple(projects), configs, tuple(errors), cache, tuple(unique_notes.values()))


def _compose_env_file(options: LoadOptions) -> bool:
    """COMPOSE_FILE set in the environment, or in the `.env` a Compose run from here reads:
    then a run without arguments means that stack, as `docker compose` would read it."""
    if options.environ.get("COMPOSE_FILE"):
        return True
    cwd = Path(options.cwd)
    if not (cwd / ".env").is_file():
        return False
    try:
        env = first_pass(options.environ, options.env_files, cwd, cwd)
    except ComposePortsError:
        return False
    return bool(env.get("COMPOSE_FILE"))


def _declared_name(config: Config | None, files: tuple[str, ...]) -> str | None:
    if config is None:
        return None
    for name, stack_files in config.stacks.items():
        if tuple(map(str, stack_files)) == files:
            return name
    return None


def all_diagnostics(workspace: Workspace) -> list[Diagnostic]:
    result = [Diagnostic(e.file, e.line, e.column, e.message) for e in workspace.errors]
    for project in workspace.projects:
        result.extend(d for d in project.diagnostics if d not in result)
    return result
