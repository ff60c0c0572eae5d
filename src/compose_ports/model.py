"""The model every command works from: what a compose project publishes, and where it is written.

Plain frozen dataclasses. Paths are absolute; reporters make them relative for display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from functools import cache
from operator import attrgetter
from typing import NamedTuple, TypeVar

_Class = TypeVar("_Class", bound=type)


def _record(cls: _Class) -> _Class:
    """A model class's equality, hash, repr and pickling, shared, all by its fields in order.

    Equality, hash and repr are what `dataclass` would write (the same fields, compared as a
    tuple, only with an object of the same class), but `dataclass` compiles its methods from
    source for each class as the module is imported, which every run pays: the shared ones
    take a quarter off the model's import. The classes say `eq=False, repr=False` for that.

    Pickling is as its class and its fields' values, rebuilt by `__init__`: a monorepo's
    projects come back from the forked worker pickled (module forked), and the `__getstate__`
    a slotted dataclass gets asks `fields()` for every object; this halves the time to pickle
    and unpickle 5,000 bindings.
    """
    names = tuple(f.name for f in fields(cls))
    values = attrgetter(*names)

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    if cls.__dataclass_params__.eq:  # type: ignore[attr-defined]
        return cls  # Source: ordered, so dataclass writes its comparisons, equality included

    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self: object) -> int:
        return hash(values(self))

    def __repr__(self: object) -> str:
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(names, values(self), strict=True)
        )
        return f"{type(self).__qualname__}({shown})"

    cls.__eq__ = __eq__  # type: ignore[assignment,method-assign]
    cls.__hash__ = __hash__  # type: ignore[assignment,method-assign]
    cls.__repr__ = __repr__  # type: ignore[assignment,method-assign]
    return cls


@_record
@dataclass(frozen=True, order=True, slots=True)
class Source:
    """A place in a file: 1-based line and column of the first character of a YAML scalar."""

    file: str
    line: int
    column: int


class Origin(str, Enum):
    """Where the value of a host port came from."""

    LITERAL = "literal"  # written in the compose file
    DEFAULT = "default"  # the default of a variable that had no value (`${P:-8080}`)
    ENVIRONMENT = "env"  # a variable's value, from the process environment or an env file
    NONE = "none"  # no host port at all (ephemeral)


@_record
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PortSpec:
    """One port entry exactly as `docker compose config --format json` prints it.

    With `count` > 1 it stands for a run of entries that an equal-length range such as
    `"8000-8999:8000-8999"` expands to: targets target..target+count-1, published ports from
    `published` up (or none). Compose prints them one by one (`expand`); everything else works
    on the run as a whole, so that a 20,000-port range costs what one port costs.
    """

    target: int
    published: str | None = None
    host_ip: str | None = None
    protocol: str = "tcp"
    mode: str = "ingress"
    name: str | None = None
    app_protocol: str | None = None
    count: int = 1

    def host_range(self) -> tuple[int, int] | None:
        """The host ports this entry asks for, or None when the engine picks an ephemeral one."""
        if self.count > 1:
            start = parse_host_range(self.published)
            return (start[0], start[0] + self.count - 1) if start else None
        return parse_host_range(self.published)

    @property
    def is_pool(self) -> bool:
        """A host range for one container port: the engine takes one free port out of it."""
        rng = self.host_range()
        return self.count == 1 and rng is not None and rng[0] != rng[1]

    def expand(self) -> list[PortSpec]:
        """The entries Compose prints for this one, in its order.

        compose-go@v2.9.1:types/types.go ParsePortConfig sorts the `port/proto` keys as
        strings, so `8-12` comes out as 10, 11, 12, 8, 9.
        """
        if self.count == 1:
            return [self]
        first = int(self.published) if self.published else None
        entries = [
            replace(
                self,
                target=self.target + i,
                published=None if first is None else str(first + i),
                count=1,
            )
            for i in range(self.count)
        ]
        entries.sort(key=lambda spec: f"{spec.target}/{spec.protocol}")
        return entries


@cache  # asked for again by every rule; a project repeats few published values
def parse_host_range(published: str | None) -> tuple[int, int] | None:
    """`"8000"` -> (8000, 8000), `"8000-9000"` -> (8000, 9000); None for ephemeral or invalid."""
    if not published:
        return None
    first, sep, last = published.partition("-")
    # The engine's nat.ParsePortRange reads two parts: "1-2-3" is the range 1-2.
    last = last.partition("-")[0]
    if not first.isdigit() or (sep and not last.isdigit()):
        return None
    start = int(first)
    end = int(last) if sep else start
    if start == 0 or end < start or end > 65535:
        # "0" asks the engine for an ephemeral port: it binds nothing we can know.
        return None
    return start, end


class EnvSetting(NamedTuple):
    """The line of an env file that gives a port's variable its value: `WEB_PORT=8001`.

    Findings point there besides the compose line: the port is changed in the env file. (A
    NamedTuple: Python builds one at a tenth of a dataclass's import cost, which one-file lint
    pays on every run.)
    """

    name: str
    value: str
    file: str
    line: int
    column: int


@_record
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PortBinding:
    """A published port of a service, with where its host port was written."""

    service: str
    spec: PortSpec
    source: Source  # the scalar that set the host port (the override's one where it set it)
    raw: str  # the entry as written, before interpolation (short syntax) or `published`'s text
    long_syntax: bool = False
    variable: str | None = None  # the variable whose value became the host port, if any
    origin: Origin = Origin.LITERAL
    unset_variables: tuple[str, ...] = ()  # variables used with no value and no default
    quoted: bool = True  # whether the host-port scalar is quoted in YAML
    shared: bool = False  # reached through an alias or `extends`: one scalar, several places
    # With Origin.ENVIRONMENT, where an env file sets the variable (None for the process
    # environment, which has no place to point at).
    setting: EnvSetting | None = None

    @property
    def host_range(self) -> tuple[int, int] | None:
        return self.spec.host_range()

    @property
    def protocol(self) -> str:
        return self.spec.protocol

    @property
    def host_ip(self) -> str | None:
        return self.spec.host_ip

    @property
    def is_pool(self) -> bool:
        """A host range for one container port: the engine takes one free port out of it."""
        return self.spec.is_pool


@_record
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Diagnostic:
    """A problem found while reading: an invalid port, a YAML error, an unset required variable."""

    file: str | None
    line: int
    column: int
    message: str
    kind: str = "read"  # "read", "port" (invalid port), "variable" (required variable unset)
    service: str | None = None

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@_record
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Duplicate:
    """A port entry that repeats another of the same service: Compose keeps only one."""

    source: Source  # the repeating (later) entry
    kept: Source  # the entry it repeats
    # Each one's host-port scalar as written (before interpolation), for `fix`, which must
    # rewrite both alike: "" where there is no such scalar (a long entry without `published`).
    raw: str = ""
    kept_raw: str = ""


@_record
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Network:
    """What of a project's network decides whether and where ports are published."""

    internal: bool = False  # `internal: true`: the engine maps no port of a container on it
    # driver_opts `com.docker.network.bridge.host_binding_ipv4`: where a port without a host
    # IP is bound instead of 0.0.0.0 and ::.
    host_binding_ipv4: str | None = None


@_record
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Service:
    """A service of a project: its published ports, and what decides whether they are published.

    (Each dataclass of the model has a docstring: without one, `dataclass` writes one from
    `inspect.signature` at import, a third of the class's cost, which every run pays.)
    """

    name: str
    image: str | None = None
    profiles: tuple[str, ...] = ()
    active: bool = True  # False when its profiles match no active profile: Compose drops it
    network_mode: str | None = None
    replicas: int | None = None  # `scale` or `deploy.replicas`
    networks: tuple[str, ...] = ()  # the networks it joins (`default` when it names none)
    ports: tuple[PortBinding, ...] = ()
    source: Source | None = None
    duplicates: tuple[Duplicate, ...] = ()


@_record
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Project:
    """One stack: the files Compose reads together (`-f a -f b`), and what they publish."""

    name: str
    directory: str
    files: tuple[str, ...]
    stack: str | None = None
    services: tuple[Service, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    rejection: str | None = None  # why Compose itself would refuse the project (outside ports)
    warnings: tuple[str, ...] = field(default=())
    defined: frozenset[str] = frozenset()  # variables the environment and env files define
    env_files: tuple[str, ...] = ()  # the env files read, in order
    reads: tuple[str, ...] = ()  # every compose file read: `files`, and what include/extends reach
    networks: Mapping[str, Network] = field(default_factory=dict)  # by name, as declared

    @property
    def active_services(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.active)

    @property
    def bindings(self) -> tuple[PortBinding, ...]:
        """Every port Compose publishes for this project, in Compose's order."""
        return tuple(b for s in self.services if s.active for b in s.ports)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return self.diagnostics

    def publishing(self) -> tuple[tuple[Service, PortBinding], ...]:
        """The bindings the engine really publishes, each with its service, in Compose's order.

        Not those of a service that starts no container (`scale: 0`), whose network drops or
        refuses ports (`network_mode: host`, `none`, `service:`, `container:`), or whose every
        network is `internal`. A binding without a host IP is bound where the service's
        networks say (`host_binding_ipv4`), when they all say the same.
        """
        result = []
        for service in self.services:
            if not service.active or service.replicas == 0 or not _publishes(self, service):
                continue
            where = _host_binding(self, service)
            for binding in service.ports:
                if where is not None and binding.spec.host_ip is None:
                    binding = replace(binding, spec=replace(binding.spec, host_ip=where))
                result.append((service, binding))
        return tuple(result)

    def entries(self) -> list[tuple[PortBinding, PortSpec]]:
        """Every port entry exactly as `docker compose config` prints them, runs expanded."""
        return [(b, spec) for b in self.bindings for spec in b.spec.expand()]


_NO_PORTS = ("host", "none")
_SHARED_NETWORK = ("service:", "container:")


def _publishes(project: Project, service: Service) -> bool:
    mode = service.network_mode
    if mode is not None and (mode in _NO_PORTS or mode.startswith(_SHARED_NETWORK)):
        return False
    networks = [project.networks.get(n, _DEFAULT_NETWORK) for n in service.networks]
    return not networks or not all(n.internal for n in networks)


def _host_binding(project: Project, service: Service) -> str | None:
    found = {project.networks.get(n, _DEFAULT_NETWORK).host_binding_ipv4 for n in service.networks}
    return found.pop() if len(found) == 1 else None


_DEFAULT_NETWORK = Network()
