"""Every project that reads a file `fix` edits: the run's own, and the repository's others.

A pre-commit run names one changed file, but another stack of the repository may reach that
file through `extends` or `include`, with its own `.env`: a name or a port that is right for
the run's projects can be wrong for it. `fix` asks all of them: for the names it may give, and
for the proof that nothing they publish changes but what the findings ask.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from compose_ports.compose import discovery
from compose_ports.compose.loading import FileCache, LoadOptions, absolute_path, load_project
from compose_ports.compose.workspace import (
    Workspace,
    _compose_env_file,
    _declared_name,
    project_key,
)
from compose_ports.errors import ComposePortsError
from compose_ports.model import Project


class Reader(NamedTuple):
    """A project, and how to load it again (its options and stack name)."""

    project: Project
    options: LoadOptions
    stack: str | None
    in_run: bool  # one of the run's projects (its findings are the ones fixed)

    @property
    def key(self) -> str:
        return project_key(self.project)


def repository_start(paths: Sequence[str], files: Sequence[str], cwd: str) -> Path:
    """Where a run looks for its repository: the path given (its directory), else cwd."""
    base = Path(cwd)
    given = [absolute_path(base, p) for p in (*paths, *files)]
    start = given[0] if given else base
    return start if start.is_dir() else start.parent


def git_root(start: Path) -> Path | None:
    return discovery.repository_root(start)


def repository(paths: Sequence[str], files: Sequence[str], workspace: Workspace, cwd: str) -> Path:
    """The repository of a run: the git top level of the path given, else the directory of
    the config in use, else the current directory."""
    root = git_root(repository_start(paths, files, cwd))
    if root is not None:
        return root
    config = next((c for c in workspace.configs.values() if c is not None), None)
    return config.directory if config is not None else Path(cwd)


def run_readers(workspace: Workspace, options: LoadOptions, paths: Sequence[str]) -> list[Reader]:
    """The run's projects, each with the options `load_workspace` loaded it with."""
    whole = bool(options.files) or (not paths and _compose_env_file(options))
    readers = []
    for project in workspace.projects:
        own = options if whole else replace(options, files=project.files)
        readers.append(Reader(project, own, project.stack, True))
    return readers


def other_readers(
    edited: set[str],
    known: Iterable[Reader],
    root: Path,
    environ: dict[str, str],
    config_file: Path | None,
    cache: FileCache,
) -> list[Reader]:
    """The repository's projects outside the run that read one of the edited files.

    Only a stack that names such a file among its own files, or whose files mention `extends`
    or `include`, can reach one: the others are not loaded at all.
    """
    # A stack the run reads with options of its own (`--env-file`, `--profile`) is read here
    # too as `docker compose` reads it in its directory: with its own `.env`.
    seen = {tuple(r.project.files) for r in known if _as_compose_reads_it(r.options)}
    found: list[Reader] = []
    try:
        specs = discovery.stacks_for(discovery.scan(root), config_file)
    except ComposePortsError:
        return found
    for spec in specs:
        files = tuple(map(str, spec.files))
        if files in seen:
            continue
        seen.add(files)
        if not (set(files) & edited or any(_may_reach(cache, f) for f in files)):
            continue
        options = LoadOptions(files=files, environ=environ, cwd=str(root))
        project = load_project(options, stack=spec.name, cache=cache)
        if set(project.reads) & edited:
            name = spec.name or _declared_name(spec.config, files)
            found.append(Reader(project, options, name, False))
    return found


def _as_compose_reads_it(options: LoadOptions) -> bool:
    """Options that read a stack as `docker compose` does in its directory, with nothing else."""
    return not (options.env_files or options.project_directory or options.profiles)


def _may_reach(cache: FileCache, file: str) -> bool:
    try:
        data = cache.read(file)
    except ComposePortsError:
        return False
    return b"extends" in data or b"include" in data


def by_file(readers: Iterable[Reader]) -> dict[str, list[Reader]]:
    """Each file, with the readers that read it."""
    index: dict[str, list[Reader]] = {}
    for reader in readers:
        for file in reader.project.reads or reader.project.files:
            index.setdefault(os.path.normpath(file), []).append(reader)
    return index
