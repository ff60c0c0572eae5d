"""The variables a project is interpolated with: the process environment and its env files.

Compose loads them in two passes (docker/compose@v2.40.3:cmd/compose/compose.go:375-408,
compose-go@v2.9.1:cli/options.go:240-308; compose-facts §3.5, §4.2). Pass one, before the compose
files are known: `--env-file`s, else `COMPOSE_ENV_FILES`, else `<working dir>/.env`, where the
working dir is `--project-directory`, else the first `-f` file's directory, else the cwd. Pass two,
once the project directory is known: `<project dir>/.env`. Nothing ever overwrites a key that is
already set, so the process environment beats pass one, which beats pass two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from compose_ports.compose.dotenv import parse_dotenv
from compose_ports.errors import ComposePortsError
from compose_ports.model import Source
from compose_ports.readfile import read_bytes

# Where a variable of the process environment is set: no file, no line to point at.
PROCESS = Source("environment", 0, 0)


class Environment(NamedTuple):
    values: Mapping[str, str]
    # name -> the env file line that sets it (a finding points there), or PROCESS
    sources: Mapping[str, Source] = MappingProxyType({})
    files: tuple[str, ...] = ()  # the env files read, in order
    explicit: bool = False  # env files were named (`--env-file`, COMPOSE_ENV_FILES)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def source(self, name: str) -> Source | None:
        return self.sources.get(name)


# Parsed env files by path and content, when the content has no `$`: only then does the result not
# depend on the environment it is read in. A monorepo's stacks share a few env files.
_PARSED: dict[tuple[str, bytes], tuple[dict[str, str], dict[str, tuple[int, int]]]] = {}


def read_env_files(
    paths: Sequence[Path], base: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, Source]]:
    """Values of several env files, later files winning, each interpolated against `base` first;
    and where each value is set."""
    values: dict[str, str] = {}
    sources: dict[str, Source] = {}
    for path in paths:
        try:
            data = read_bytes(path)
        except OSError as exc:
            raise ComposePortsError(f"cannot read env file: {exc.strerror}", str(path)) from None
        # The parser skips one leading BOM itself, as compose-go does.
        text = data.decode("utf-8", errors="replace")

        def lookup(name: str, _values: dict[str, str] = values) -> str | None:
            found = base.get(name)
            return found if found is not None else _values.get(name)

        key = (str(path), data)
        found = _PARSED.get(key) if b"$" not in data else None
        if found is None:
            places: dict[str, tuple[int, int]] = {}
            try:
                found = (parse_dotenv(text, lookup, str(path), places), places)
            except ComposePortsError as exc:
                raise exc.located(str(path)) from None
            if b"$" not in data:
                _PARSED[key] = found
        parsed, places = found
        file = str(path)
        for name, value in parsed.items():
            values[name] = value
            line, column = places.get(name, (0, 0))
            sources[name] = Source(file, line, column)
    return values, sources


def _merged(env: Environment, paths: Sequence[Path], explicit: bool) -> Environment:
    extra, extra_sources = read_env_files(paths, env.values)
    values = dict(env.values)
    sources = dict(env.sources)
    for name, value in extra.items():
        if name not in values:
            values[name] = value
            sources[name] = extra_sources[name]
    files = env.files + tuple(str(p) for p in paths if str(p) not in env.files)
    return Environment(values, sources, files, explicit or env.explicit)


def first_pass(
    environ: Mapping[str, str], env_files: Sequence[str] | None, workdir: Path, cwd: Path
) -> Environment:
    """Process environment plus the env files Compose reads before it knows the compose files."""
    env = Environment(dict(environ), dict.fromkeys(environ, PROCESS))
    named = list(env_files or [])
    if not named and environ.get("COMPOSE_ENV_FILES"):
        named = [p for p in environ["COMPOSE_ENV_FILES"].split(",") if p]
    if named:
        paths = []
        for name in named:
            path = (cwd / name).resolve() if not Path(name).is_absolute() else Path(name)
            # Only a missing file is not found: a pipe (`--env-file <(...)`) is read, and a device
            # or a directory is refused by the reading rule, in its own words.
            if not path.exists():
                raise ComposePortsError("couldn't find env file", str(path))
            paths.append(path)
        return _merged(env, paths, explicit=True)
    return _merged(env, _default_env_file(environ, workdir), explicit=False)


def second_pass(env: Environment, project_dir: Path) -> Environment:
    """Add `<project dir>/.env`, with lower precedence than everything already loaded."""
    if env.explicit:
        return env
    paths = [p for p in _default_env_file(env.values, project_dir) if str(p) not in env.files]
    return _merged(env, paths, explicit=False) if paths else env


def _default_env_file(environ: Mapping[str, str], directory: Path) -> list[Path]:
    if environ.get("COMPOSE_DISABLE_ENV_FILE", "").lower() in ("1", "true"):
        return []
    path = directory / ".env"
    return [path] if path.is_file() else []
