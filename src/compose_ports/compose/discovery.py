"""Which stacks a run reads: Compose's own file discovery, and compose-ports' scan of a tree.

A stack is a list of compose files read together, like `docker compose -f a -f b`:
- a directory with a main file is a project with its override file, as Compose discovers them;
- a variant beside a main file (`docker-compose.prod.yml`) is its own stack: main file + variant;
- a stack declared in the config (`stacks:`) claims its files, which are not read again;
- any other compose file that no stack claims is read alone.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from compose_ports.errors import ComposePortsError
from compose_ports.policy.config import Config, find_config
from compose_ports.readfile import Refused, read_bytes, refusal

# compose-go@v2.9.1:cli/options.go:386-390. Not symmetric: `.yml` wins for the docker-compose
# names and for the override names, `.yaml` for the main `compose` name (compose-facts §3.1).
MAIN_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
COMPOSE_FILE = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$")
# The env files a change to which can move a port: the names the pre-commit hooks pass
# (.pre-commit-hooks.yaml). Which stacks really read one is known only once they are loaded.
ENV_FILE = re.compile(r"^(\.env(\.[^/]+)?|[^/]+\.env)$")
_VARIANT = re.compile(r"^(?:docker-)?compose\.(?P<name>[^/]+)\.ya?ml$")
_SKIP_DIRS = {".git", "node_modules", ".hg", ".svn", ".venv", "__pycache__"}


def default_files(workdir: Path) -> list[Path] | None:
    """Compose's default files: the first main file from workdir upwards, and its override."""
    directory = workdir
    while True:
        main = _first_existing(directory, MAIN_NAMES)
        if main is not None:
            override = _first_existing(directory, OVERRIDE_NAMES)
            return [main, override] if override else [main]
        if directory.parent == directory:
            return None
        directory = directory.parent


def _first_existing(directory: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        path = directory / name
        if path.is_file():
            return path
    return None


def is_compose_file(path: Path) -> bool:
    return bool(COMPOSE_FILE.match(path.name))


def is_env_file(path: Path) -> bool:
    return bool(ENV_FILE.match(path.name))


def variant_name(path: Path) -> str | None:
    """`prod` for `docker-compose.prod.yml`: a variant, read with the main file beside it."""
    if path.name in MAIN_NAMES or path.name in OVERRIDE_NAMES:
        return None
    match = _VARIANT.match(path.name)
    return match.group("name") if match else None


class StackSpec(NamedTuple):
    """A stack to load: its files in `-f` order, and where it comes from."""

    files: tuple[Path, ...]
    name: str | None = None  # the config's stack name, or the variant's name
    config: Config | None = None

    @property
    def project_directory(self) -> Path:
        return self.files[0].parent


def repository_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


class _GitIgnore:
    """The subset of .gitignore that matters for finding compose files (no negated directories)."""

    def __init__(self, notes: list[ComposePortsError] | None = None) -> None:
        self.rules: list[tuple[Path, re.Pattern[str], bool, bool]] = []
        self.notes = notes

    def read(self, directory: Path) -> None:
        path = directory / ".gitignore"
        try:
            data = read_bytes(path, named=False)
        except Refused as exc:
            # A FIFO or a link to a device: read, it would hang the scan or fill the memory.
            _note(self.notes, exc)
            return
        except OSError:
            return
        lines = data.decode("utf-8", errors="replace").splitlines()
        for line in lines:
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.lstrip("/")
            line = line.lstrip("/")
            pattern = fnmatch.translate(line).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
            if not anchored:
                pattern = r"(?:.*/)?" + pattern
            self.rules.append((directory, re.compile(pattern), negate, dir_only))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        result = False
        for base, pattern, negate, dir_only in self.rules:
            if dir_only and not is_dir:
                continue
            try:
                relative = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if pattern.fullmatch(relative):
                result = not negate
        return result


def _ignores_above(directory: Path, notes: list[ComposePortsError] | None = None) -> _GitIgnore:
    """The .gitignore rules that apply in directory: its own and its parents' up to the repo."""
    ignore = _GitIgnore(notes)
    repo = repository_root(directory)
    if repo is not None:
        for parent in reversed((directory, *directory.parents)):
            if parent == repo or repo in parent.parents:
                ignore.read(parent)
    return ignore


def scan(
    root: Path,
    errors: list[ComposePortsError] | None = None,
    notes: list[ComposePortsError] | None = None,
) -> list[Path]:
    """Compose files under root, skipping VCS and dependency folders and what .gitignore ignores.

    Directory symlinks are not followed, so symlink loops cannot trap the walk. Only regular files
    within the size limit are kept; the others are skipped with a note (module readfile).
    """
    ignore = _ignores_above(root, notes)
    found: list[Path] = []

    def on_error(exc: OSError) -> None:
        if errors is not None:
            errors.append(ComposePortsError(f"cannot read directory: {exc.strerror}", exc.filename))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        directory = Path(dirpath)
        if directory != root:
            ignore.read(directory)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _SKIP_DIRS and not ignore.ignored(directory / d, is_dir=True)
        )
        for name in sorted(filenames):
            if COMPOSE_FILE.match(name):
                path = directory / name
                if ignore.ignored(path, is_dir=False):
                    continue
                if _readable(path, errors, notes):
                    found.append(path)
    return found


def _readable(
    path: Path,
    errors: list[ComposePortsError] | None,
    notes: list[ComposePortsError] | None,
) -> bool:
    """Whether a compose file met while scanning is one to read: a regular file, not too large.

    The stat that tells is the one the scan always made to find broken links.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        if errors is not None:
            broken = exc.errno in (errno.ENOENT, errno.ELOOP)
            message = "broken symbolic link" if broken else f"cannot read file: {exc.strerror}"
            errors.append(ComposePortsError(message, str(path)))
        return False
    if stat.S_ISDIR(info.st_mode):
        return False  # a directory with a compose file's name is walked, not read
    problem = refusal(path, info, named=False)
    if problem is not None:
        _note(notes, problem)
        return False
    return True


def _note(notes: list[ComposePortsError] | None, problem: ComposePortsError) -> None:
    if notes is not None:
        notes.append(ComposePortsError(f"{problem.message}: skipped", problem.file))


def stacks_for(files: Iterable[Path], config_file: Path | None = None) -> list[StackSpec]:
    """Group compose files into stacks (see the module docstring)."""
    files = list(dict.fromkeys(files))
    configs: dict[Path, Config | None] = {}
    stacks: list[StackSpec] = []
    claimed: set[Path] = set()
    for path in files:
        config = find_config(path.parent, config_file)
        if config is not None and config.path not in configs:
            configs[config.path] = config
            for name, stack_files in config.stacks.items():
                stacks.append(StackSpec(tuple(stack_files), name, config))
                claimed.update(stack_files)
    by_directory: dict[Path, list[Path]] = {}
    for path in files:
        if path not in claimed:
            by_directory.setdefault(path.parent, []).append(path)
    for directory, members in by_directory.items():
        config = find_config(directory, config_file)
        stacks.extend(_directory_stacks(directory, members, config))
    return stacks


def _directory_stacks(
    directory: Path, members: list[Path], config: Config | None
) -> Iterator[StackSpec]:
    names = {p.name for p in members}
    main = next((directory / n for n in MAIN_NAMES if n in names), None)
    override = next((directory / n for n in OVERRIDE_NAMES if n in names), None)
    used: set[Path] = set()
    if main is not None:
        files = (main, override) if override else (main,)
        used.update(files)
        yield StackSpec(files, None, config)
        for path in members:
            match = _VARIANT.match(path.name)
            if path in used or path.name in MAIN_NAMES or path.name in OVERRIDE_NAMES:
                continue
            if match:
                used.add(path)
                yield StackSpec((main, path), match.group("name"), config)
    for path in members:
        if path not in used:
            yield StackSpec((path,), None, config)


def stacks_of_trigger(
    path: Path,
    config_file: Path | None = None,
    notes: list[ComposePortsError] | None = None,
) -> list[StackSpec]:
    """The stacks a changed file belongs to, plus the stacks sharing a `hosts:` group with them.

    The file's siblings are met as a scan meets them: one that is not a regular file within the
    size limit is skipped with a note; the file itself was named, and is read by the named rule.
    """
    config = find_config(path.parent, config_file)
    if config is not None and path == config.path:
        # The policy itself changed: every stack it declares is concerned.
        return [StackSpec(files, name, config) for name, files in config.stacks.items()]
    ignore = _ignores_above(path.parent, notes)
    siblings = sorted(
        p
        for p in path.parent.iterdir()
        if is_compose_file(p)
        and not ignore.ignored(p, is_dir=False)
        and (p == path or _readable(p, None, notes))
    )
    # Declared stacks come with the config, wherever their files are.
    candidates = stacks_for([*siblings, path], config_file)
    return with_host_partners([s for s in candidates if path in s.files], candidates)


def with_host_partners(chosen: list[StackSpec], candidates: list[StackSpec]) -> list[StackSpec]:
    """The chosen stacks, then the candidates that share a `hosts:` group with one of them."""
    result = list(chosen)
    for config in dict.fromkeys(s.config for s in chosen if s.config is not None):
        names = {s.name for s in result if s.config is config}
        partners = {m for members in config.hosts.values() if names & set(members) for m in members}
        result += [
            s
            for s in candidates
            if s.config is config and s.name in partners and s.name not in names
        ]
    return result


def env_file_candidates(
    path: Path, config_file: Path | None = None, explicit: bool = False
) -> tuple[list[StackSpec], list[StackSpec]]:
    """The stacks of the repository that may interpolate from the env file at path, and all of
    its stacks (among which their host partners are).

    Compose reads the `.env` of a project's directory (here, its first file's), the files that
    `--env-file` or COMPOSE_ENV_FILES name, and for an `include` the included project's `.env`
    or its `env_file` list (never a service's `env_file:`, which only the container sees). So
    only a stack of the env file's directory, or one whose files mention `include`, can read
    it, unless the run names it (`explicit`), when every stack does. Which of them really read
    it is known once they are loaded (compose.workspace).

    Files elsewhere in the repository that cannot be read are not this change's business: the
    scan skips them without a word.
    """
    directory = path.parent
    specs = stacks_for(scan(repository_root(directory) or directory), config_file)
    if explicit:
        return specs, specs
    candidates = [
        s
        for s in specs
        if s.project_directory == directory or any(_mentions_include(f) for f in s.files)
    ]
    return candidates, specs


def _mentions_include(path: Path) -> bool:
    try:
        return b"include" in read_bytes(path, named=False)
    except (OSError, ComposePortsError):
        return False
