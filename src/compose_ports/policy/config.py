"""The team's port policy: `.compose-ports.yaml`, or `[tool.compose-ports]` in `pyproject.toml`.

The config that applies to a compose file is the nearest one in its directory or above, up to the
repository root; `--config FILE` overrides that for the whole run. Paths in it are relative to it.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from compose_ports.errors import ComposePortsError
from compose_ports.readfile import read_bytes
from compose_ports.yamlread import YMap, decode, read_documents, source_of

CONFIG_NAMES = (".compose-ports.yaml", ".compose-ports.yml")
DEFAULT_VARIABLE = "{SERVICE}_PORT"


def matches_any(globs: Iterable[str], text: str) -> bool:
    """Whether `text` matches one of the shell-style globs (case-sensitive, as fnmatchcase)."""
    names, pattern = _compiled_globs(tuple(globs))
    return text in names or (pattern is not None and pattern.match(text) is not None)


@lru_cache(maxsize=256)
def _compiled_globs(globs: tuple[str, ...]) -> tuple[frozenset[str], re.Pattern[str] | None]:
    # Plain names are looked up; the real globs become one expression. Compiling the default
    # image list glob by glob was a noticeable part of a one-file lint.
    names = frozenset(g for g in globs if not _GLOB_SPECIAL.search(g))
    patterns = [fnmatch.translate(g) for g in globs if g not in names]
    return names, re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


_GLOB_SPECIAL = re.compile(r"[*?\[]")


class PortRange(NamedTuple):
    """A category of the allocation policy: a host-port range and who belongs to it."""

    name: str
    start: int
    end: int
    services: tuple[str, ...] = ()  # shell-style globs on the service name
    images: tuple[str, ...] = ()  # shell-style globs on the image


class Environment(NamedTuple):
    name: str
    offset: int = 0
    file: str | None = None


@dataclass(frozen=True, eq=False)  # its own equality, not one dataclass compiles and drops
class Config:
    """One policy file: its stacks, hosts, categories, registry, rule settings and env naming.

    Two are equal when they are the same file, whatever was read from it."""

    path: Path
    stacks: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    hosts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: tuple[PortRange, ...] = ()
    registry_hosts: tuple[str, ...] = ()
    registry_ports: dict[str, int] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)
    variable: str = DEFAULT_VARIABLE
    environments: dict[str, Environment] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def __hash__(self) -> int:
        return hash(self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and other.path == self.path

    def hosts_of(self, stack: str | None) -> list[str]:
        return [h for h, members in self.hosts.items() if stack in members]


_cache: dict[Path, Config | None] = {}


def find_config(directory: Path, override: Path | None = None) -> Config | None:
    """The config for files in `directory`: `override`, or the nearest one up to the repo root."""
    if override is not None:
        return load_config(override)
    if directory in _cache:
        return _cache[directory]
    found: Config | None = None
    visited = []
    for candidate in (directory, *directory.parents):
        if candidate in _cache:
            found = _cache[candidate]
            break
        visited.append(candidate)
        config = _config_in(candidate)
        if config is not None:
            found = config
            break
        if (candidate / ".git").exists():
            break
    # Every directory on the way up has the same nearest config: a monorepo's stacks then
    # look only in their own folder, not again in each parent up to the root.
    for candidate in visited:
        _cache[candidate] = found
    return found


def _config_in(directory: Path) -> Config | None:
    for name in CONFIG_NAMES:
        path = directory / name
        if path.is_file():
            return load_config(path)
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        table = _pyproject_table(pyproject)
        if table is not None:
            return parse_config(table, pyproject)
    return None


_loaded: dict[Path, Config] = {}


def load_config(path: Path) -> Config:
    # Read through the path as given: `--config <(...)` resolves to a pipe's pseudo-name, and a
    # link to /dev/zero is refused under the user's name for it.
    given = path
    path = path.resolve()
    if path in _loaded:
        return _loaded[path]
    if path.name == "pyproject.toml":
        table = _pyproject_table(given)
        config = parse_config(table or {}, path)
    else:
        try:
            data = read_bytes(given)
        except OSError as exc:
            raise ComposePortsError(f"cannot read config: {exc.strerror}", str(path)) from None
        documents = read_documents(decode(data, str(path)), str(path))
        raw = documents[0] if documents else None
        if raw is None:
            raw = YMap()
        if not isinstance(raw, dict):
            src = source_of(raw)
            raise ComposePortsError(
                "the config must be a mapping", str(path), src.line if src else 1, 1
            )
        config = parse_config(raw, path, data)
    _loaded[path] = config
    return config


def _pyproject_table(path: Path) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        data = tomllib.loads(read_bytes(path).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise ComposePortsError(f"cannot read pyproject.toml: {exc}", str(path)) from None
    table = data.get("tool", {}).get("compose-ports")
    return table if isinstance(table, dict) else None


def _fail(path: Path, value: Any, parent: Any, key: str | None, message: str) -> ComposePortsError:
    src = None
    if isinstance(parent, YMap) and key is not None:
        src = parent.key_src.get(key)
    src = source_of(value) or src or source_of(parent)
    if src is None:
        return ComposePortsError(message, str(path))
    return ComposePortsError(message, str(path), src.line, src.column)


def parse_port_range(text: Any) -> tuple[int, int] | None:
    """`"9000-9999"` or `9000` -> (start, end); None when it is not a valid range."""
    if isinstance(text, int) and not isinstance(text, bool):
        return (int(text), int(text)) if 1 <= text <= 65535 else None
    if not isinstance(text, str):
        return None
    first, sep, last = text.strip().partition("-")
    if not first.isdigit() or (sep and not last.isdigit()):
        return None
    start, end = int(first), int(last) if sep else int(first)
    if not 1 <= start <= end <= 65535:
        return None
    return start, end


def parse_config(raw: dict[str, Any], path: Path, content: bytes | None = None) -> Config:
    """The config's meaning; its shape is checked against schemas/config.schema.json first."""
    from compose_ports.policy.schema import validate

    validate(raw, path, content)
    base = path.parent
    stacks = {
        str(name): tuple(Path(_norm(base / str(f))) for f in files or [])
        for name, files in (raw.get("stacks") or {}).items()
    }
    registry = raw.get("registry") or {}
    env = raw.get("env") or {}
    environments = {
        str(name): Environment(str(name), int(spec.get("offset") or 0), spec.get("file"))
        for name, spec in (env.get("environments") or {}).items()
    }
    return Config(
        path=path,
        stacks=stacks,
        hosts=_hosts(raw.get("hosts") or {}, stacks, path),
        ranges=_ranges(raw.get("ranges") or {}, path),
        registry_hosts=tuple(str(h) for h in registry.get("hosts") or []),
        registry_ports={str(k): int(v) for k, v in (registry.get("ports") or {}).items()},
        rules=dict(raw.get("rules") or {}),
        variable=str(env.get("variable") or DEFAULT_VARIABLE),
        environments=environments,
    )


def _hosts(
    raw: dict[str, Any], stacks: dict[str, tuple[Path, ...]], path: Path
) -> dict[str, tuple[str, ...]]:
    """Each `hosts:` group's stacks, every one of them a stack the config defines."""
    for host, members in raw.items():
        for member in members or []:
            if str(member) not in stacks:
                from compose_ports.didyoumean import near

                hint = near(str(member), stacks)
                raise _fail(
                    path, member, members, None, f"host {host!r}: unknown stack {member!r}{hint}"
                )
    return {str(name): tuple(str(s) for s in members or []) for name, members in raw.items()}


def _ranges(raw: dict[str, Any], path: Path) -> tuple[PortRange, ...]:
    ranges = []
    for name, spec in raw.items():
        bounds = parse_port_range(spec.get("ports"))
        if bounds is None:
            raise _fail(path, spec.get("ports"), spec, "ports", f"ranges.{name}: bad port range")
        ranges.append(
            PortRange(
                str(name),
                bounds[0],
                bounds[1],
                tuple(str(s) for s in spec.get("services") or []),
                tuple(str(s) for s in spec.get("images") or []),
            )
        )
    return tuple(ranges)


def _norm(path: Path) -> str:
    import os

    return os.path.normpath(path)
