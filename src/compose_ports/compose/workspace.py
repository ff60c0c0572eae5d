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
from compose_ports.forked import map_split
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
    # Each env file given as a trigger -> the compose files of the stacks that interpolate from
    # it: what it stands for when findings and fixes are limited to the changed files.
    env_triggers: Mapping[str, tuple[str, ...]] = MappingProxyType({})

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
    if override is not None:
        try:
            find_config(cwd, override)
        except ComposePortsError as exc:
            return Workspace((), {}, (exc,))
    if options.files or (not paths and _compose_env_file(options)):
        return _one_stack(options, cwd, override, cache)
    found = _Found()
    for given in paths or ["."]:
        _find(given, absolute_path(cwd, given), options, override, cache, found)
    projects, configs = _load_stacks(_unique(found.specs), options, found.loaded, cache)
    unique_notes = {str(n): n for n in found.notes}
    return Workspace(
        tuple(projects),
        configs,
        tuple(found.errors),
        cache,
        tuple(unique_notes.values()),
        MappingProxyType(found.env_triggers),
    )


def _one_stack(
    options: LoadOptions, cwd: Path, override: Path | None, cache: FileCache
) -> Workspace:
    """`-f` (or COMPOSE_FILE): exactly that one stack, with Compose's own meaning."""
    errors: list[ComposePortsError] = []
    try:
        config = find_config(cwd, override)
    except ComposePortsError as exc:
        config, errors = None, [exc]
    project = load_project(options, cache=cache)
    stack = _declared_name(config, project.files)
    if stack:
        project = replace(project, stack=stack)
    return Workspace((project,), {project_key(project): config}, tuple(errors), cache)


_StackKey = tuple[str | None, tuple[Path, ...]]


class _Found:
    """What the PATH arguments stand for, gathered before any stack is loaded."""

    def __init__(self) -> None:
        self.specs: list[discovery.StackSpec] = []
        self.errors: list[ComposePortsError] = []
        self.notes: list[ComposePortsError] = []
        self.env_triggers: dict[str, tuple[str, ...]] = {}
        # Stacks loaded early, to know which read a given env file: not loaded twice.
        self.loaded: dict[_StackKey, Project] = {}


def _find(
    given: str,
    path: Path,
    options: LoadOptions,
    override: Path | None,
    cache: FileCache,
    found: _Found,
) -> None:
    """The stacks one PATH argument stands for: a directory's, an env file's readers, or the
    stack a compose file belongs to."""
    try:
        info = os.stat(path)
    except OSError:
        found.errors.append(ComposePortsError("no such file or directory", given))
        return
    explicit = _explicit_env_files(options)
    try:
        if stat.S_ISDIR(info.st_mode):
            files = discovery.scan(path, found.errors, found.notes)
            if not files:
                found.errors.append(ComposePortsError("no compose files found", given))
            found.specs += discovery.stacks_for(files, override)
        elif discovery.is_env_file(path) or os.path.realpath(path) in explicit:
            readers = _env_readers(path, options, override, cache, found.loaded, explicit)
            found.env_triggers[str(path)] = readers.files
            found.specs += readers.specs
        elif stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode):
            # A named file: its size is judged when it is read, with the stack it is in.
            found.specs += discovery.stacks_of_trigger(path, override, found.notes)
        else:
            found.errors.append(ComposePortsError(NOT_REGULAR, given))
    except ComposePortsError as exc:
        found.errors.append(exc)


def _unique(specs: list[discovery.StackSpec]) -> list[discovery.StackSpec]:
    seen: set[_StackKey] = set()
    unique_specs = []
    for spec in specs:
        if (spec.name, spec.files) not in seen:
            seen.add((spec.name, spec.files))
            unique_specs.append(spec)
    return unique_specs


# Below this many stacks a second process costs more than it saves.
_FORK_FROM = 16


def _load_stacks(
    specs: list[discovery.StackSpec],
    options: LoadOptions,
    loaded: dict[_StackKey, Project],
    cache: FileCache,
) -> tuple[list[Project], dict[str, Config | None]]:
    # A parsed file is kept only while a stack still to be loaded reads it: a monorepo's
    # parsed trees would otherwise all be alive at once (the texts stay, for `fix`).
    readers: dict[str, int] = {}
    for spec in specs:
        for file in spec.files:
            readers[str(file)] = readers.get(str(file), 0) + 1

    def load(spec: discovery.StackSpec) -> Project:
        project = loaded.get((spec.name, spec.files)) or load_project(
            replace(options, files=tuple(map(str, spec.files))), stack=spec.name, cache=cache
        )
        for name in map(str, spec.files):
            readers[name] -= 1
            if not readers[name]:
                cache.forget(name)
        return project

    # The stacks are independent: a forked worker loads the second half of a monorepo's
    # (module forked), and hands back the files it read, which `fix` edits and lint's
    # suppression comments come from.
    known = cache.known()
    projects = map_split(load, specs, _FORK_FROM, lambda: cache.read_since(known), cache.take)
    for spec in specs:
        for name in map(str, spec.files):
            cache.forget(name)  # those the worker loaded were parsed here only if shared
    configs = {project_key(p): s.config for p, s in zip(projects, specs, strict=True)}
    return projects, configs


def trigger_files(workspace: Workspace, paths: Sequence[str], cwd: str) -> list[Path]:
    """The files a run's file arguments stand for, when findings and fixes are limited to them.

    A compose file or a config stands for itself; an env file for the compose files of the
    stacks that interpolate from it, as if they had been given (so `fix` edits those, never
    the env file). An env file that no stack reads stands for nothing.
    """
    found: dict[Path, None] = {}
    for given in paths:
        path = absolute_path(Path(cwd), given)
        if not path.is_file():
            continue
        if str(path) in workspace.env_triggers:
            found.update(dict.fromkeys(map(Path, workspace.env_triggers[str(path)])))
        else:
            found[path] = None
    return list(found)


class _EnvReaders(NamedTuple):
    specs: list[discovery.StackSpec]  # the stacks that read the env file, and their host partners
    files: tuple[str, ...]  # the compose files of the stacks that read it


def _env_readers(
    path: Path,
    options: LoadOptions,
    override: Path | None,
    cache: FileCache,
    loaded: dict[tuple[str | None, tuple[Path, ...]], Project],
    explicit: frozenset[str],
) -> _EnvReaders:
    """The stacks that interpolate from the env file at path: the candidates are loaded to
    know (and kept in `loaded`, so the run does not load them again)."""
    target = os.path.realpath(path)
    candidates, everyone = discovery.env_file_candidates(path, override, target in explicit)
    readers: list[discovery.StackSpec] = []
    files: dict[str, None] = {}
    for spec in candidates:
        key = (spec.name, spec.files)
        if key not in loaded:
            stack_options = replace(options, files=tuple(map(str, spec.files)))
            loaded[key] = load_project(stack_options, stack=spec.name, cache=cache)
        project = loaded[key]
        if target in _interpolation_sources(project, cache):
            readers.append(spec)
            files.update(dict.fromkeys(project.reads or project.files))
    chosen = discovery.with_host_partners(readers, everyone)
    # The others' parsed files are not needed again (their bytes stay, as for every file read).
    needed = {f for s in chosen for f in s.files}
    for spec in candidates:
        for file in spec.files:
            if file not in needed:
                cache.forget(str(file))
    return _EnvReaders(chosen, tuple(files))


def _interpolation_sources(project: Project, cache: FileCache) -> set[str]:
    """The env files a project interpolates from, symbolic links resolved: its own (`.env`,
    `--env-file`, COMPOSE_ENV_FILES) and those of the projects it includes."""
    from compose_ports.compose.documents import _include_entry

    sources = {os.path.realpath(f) for f in project.env_files}
    for file in project.reads or project.files:
        try:
            documents = cache.documents(file)
        except ComposePortsError:
            continue
        base = Path(file).parent
        for document in documents:
            includes = document.get("include") if isinstance(document, dict) else None
            for entry in includes if isinstance(includes, list) else ():
                # As the loader reads an include (Loader.included_loader): its `env_file`
                # list, else the `.env` of its project directory.
                paths, env_files, project_dir = _include_entry(entry)
                if not paths:
                    continue
                directory = (
                    absolute_path(base, project_dir)
                    if project_dir
                    else absolute_path(base, paths[0]).parent
                )
                named = [absolute_path(base, e) for e in env_files]
                sources.update(os.path.realpath(p) for p in named or [directory / ".env"])
    return sources


def _explicit_env_files(options: LoadOptions) -> frozenset[str]:
    """The env files the run names (`--env-file`, else COMPOSE_ENV_FILES): every stack of the
    run interpolates from them (compose.variables.first_pass)."""
    named = list(options.env_files)
    if not named and options.environ.get("COMPOSE_ENV_FILES"):
        named = [p for p in options.environ["COMPOSE_ENV_FILES"].split(",") if p]
    cwd = Path(options.cwd)
    return frozenset(os.path.realpath(cwd / name) for name in named)


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
