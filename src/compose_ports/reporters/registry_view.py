"""What the port-registry outputs (`map --format markdown|html`) show, computed once.

Reporters format and never compute, so everything the registry needs beyond the model is decided
here: which machine each binding lands on, which policy category it falls in, which bindings
collide there, and where a port strays from the policy: outside its service's range (CP201's
case) or other than the registry's port (CP204's, on the hosts the registry speaks for).
`build(workspace)` returns a frozen view; `map_markdown`, `map_html`, and the conflicts of
`map_table` and `map_json`, only lay it out.

The groups are the machines: every `hosts:` group of a config, with the bindings of all its
stacks, then one group per project that runs on no declared host (titled by its stack, or by its
project name). A stack on two hosts appears under both, because its ports take room on both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

from compose_ports import hostmap, policy
from compose_ports.compose.workspace import Workspace
from compose_ports.hostmap import Claim, Collision, Conflict
from compose_ports.model import PortBinding, Project, Service
from compose_ports.policy.config import Config, PortRange
from compose_ports.reporters.common import port_sort_key
from compose_ports.rules.base import LintContext

# Host port first (port_sort_key), then stack and source, so that the order is stable.
_SortKey = tuple[bool, tuple[int, int], str, str, str, str, str, int, int]

# The bindings a row names as the other side of its conflicts; the rest are counted. N bindings
# on one port would otherwise fill N rows with N - 1 names each.
PEERS = 3


@dataclass(frozen=True)
class Band:
    """A policy range of the host's config: the picture's coloured band and the legend."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Peer:
    """The other side of a collision, as the reader needs it to find the binding."""

    service: str
    stack: str  # the stack, or the project name of a project without a stack
    ports: str  # the overlapping host ports: "8000" or "8000-8010"
    protocol: str
    certain: bool  # False: a pool overlaps it but keeps free ports (CP101's warning case)
    itself: bool = False  # the binding's own replicas on one fixed host port


@dataclass(frozen=True)
class Row:
    """One published port on one machine."""

    published: str | None  # "8000", "8000-8010" (a pool or a run), None when ephemeral
    start: int | None  # the host-port interval, None when the engine picks the port
    end: int | None
    protocol: str
    host_ip: str | None  # None binds every interface
    service: str
    stack: str | None
    project: str
    container_port: int
    container_end: int  # the last container port of a run (`"9000-9100:9000-9100"`), else the same
    category: str | None  # the range holding the port, else the service's category
    service_category: str | None  # the service's own category (by name or image), if any
    variable: str | None
    file: str  # absolute; reporters make it relative
    line: int
    column: int
    peers: tuple[Peer, ...] = ()  # the first few it collides with (at most PEERS, and itself)
    others: int = 0  # how many more it collides with: a crowded port is counted, not listed
    registered: int | None = None  # the port the registry gives the service, wherever it runs
    # Where the port strays from the policy: outside the range of its service's own category
    # (that range); and, on a host the registry speaks for, in a service none of whose ports
    # is its registered one, or on a port the registry gives another service (that service).
    outside: Band | None = None
    drift: bool = False
    registered_to: str | None = None

    @property
    def strays(self) -> bool:
        """Whether the port breaks the team's policy (its range, or the registry)."""
        return self.outside is not None or self.drift or self.registered_to is not None

    @property
    def conflict(self) -> bool:
        """Whether the binding collides with another one (or with itself) on this machine."""
        return bool(self.peers)

    @property
    def stack_title(self) -> str:
        return self.stack or self.project


@dataclass(frozen=True)
class Member:
    """A stack that runs on the machine."""

    project: str
    stack: str | None
    directory: str
    files: tuple[str, ...]

    @property
    def title(self) -> str:
        return self.stack or self.project


@dataclass(frozen=True)
class HostGroup:
    title: str  # the host name, or the stack/project of a project on no host
    host: str | None  # None: a project that no `hosts:` group of its config names
    config: str | None  # the config file that declares the host and the ranges
    members: tuple[Member, ...]
    ranges: tuple[Band, ...]
    rows: tuple[Row, ...]  # sorted by host port, ephemeral ones last

    @property
    def conflicts(self) -> int:
        return sum(1 for row in self.rows if row.conflict)

    @property
    def strays(self) -> int:
        return sum(1 for row in self.rows if row.strays)


@dataclass(frozen=True)
class RegistryView:
    groups: tuple[HostGroup, ...]

    @property
    def hosts(self) -> tuple[HostGroup, ...]:
        return tuple(g for g in self.groups if g.host is not None)

    @property
    def unhosted(self) -> tuple[HostGroup, ...]:
        return tuple(g for g in self.groups if g.host is None)

    @property
    def rows(self) -> tuple[Row, ...]:
        return tuple(row for group in self.groups for row in group.rows)

    @property
    def conflicts(self) -> int:
        return sum(group.conflicts for group in self.groups)


def build(workspace: Workspace, *, unhosted: bool = True) -> RegistryView:
    """The view of every machine; with `unhosted=False`, of the declared hosts only (the JSON
    map's `hosts`), which spares a monorepo's many lone projects a map each."""
    context = LintContext(workspace)
    groups: list[HostGroup] = []
    hosted: set[int] = set()
    for (config, host), projects in workspace.hosts().items():
        hosted.update(id(p) for p in projects)
        groups.append(_group(context, host, host, config, projects))
    for project in workspace.projects if unhosted else ():
        if id(project) not in hosted:
            title = project.stack or project.name
            groups.append(_group(context, title, None, workspace.config_of(project), [project]))
    return RegistryView(tuple(groups))


@dataclass(frozen=True)
class _Key:
    index: int  # the binding's place in the group's list of entries


_Entry = tuple[Project, Service, PortBinding]


def _group(
    context: LintContext,
    title: str,
    host: str | None,
    config: Config | None,
    projects: list[Project],
) -> HostGroup:
    ranges = config.ranges if config is not None else ()
    entries: list[_Entry] = [
        (project, service, binding)
        for project in projects
        for service in project.active_services
        for binding in service.ports
    ]
    conflicts = _conflicts(projects, entries)
    # The registry speaks for its hosts (for every stack when it names none), as CP204 does.
    registry = config is not None and (
        not config.registry_hosts or (host is not None and host in config.registry_hosts)
    )
    owners = policy.registry_owners(config) if registry else {}
    drifting = _drifting(entries, config) if registry else set()
    table: list[tuple[_SortKey, Row]] = []
    for index, (project, service, binding) in enumerate(entries):
        conflict = conflicts.get(index)
        host_range = binding.host_range
        own_range = policy.display_category(context.config(project), service.name, service.image)
        own = own_range.name if own_range is not None else None
        row = _row(project, binding, _category(ranges, host_range, own), own)
        row = replace(
            row,
            peers=_peers(entries, conflict) if conflict else (),
            others=conflict.others - len(conflict.first) if conflict else 0,
            registered=policy.registered(config, service.name),
            outside=_outside(context, project, service, host_range),
            drift=(id(project), service.name) in drifting,
            registered_to=_owner(owners, host_range, service.name),
        )
        table.append((_sort_key(binding, project), row))
    table.sort(key=lambda item: item[0])
    return HostGroup(
        title=title,
        host=host,
        config=str(config.path) if config is not None else None,
        members=tuple(Member(p.name, p.stack, p.directory, p.files) for p in projects),
        ranges=tuple(Band(r.name, r.start, r.end) for r in ranges),
        rows=tuple(row for _, row in table),
    )


def _conflicts(projects: list[Project], entries: list[_Entry]) -> dict[int, Conflict]:
    """The conflicts of the group's host map, by entry: the map of what the engine publishes,
    started in its order (hostmap.build), each claim keyed by its entry."""
    places = {
        (id(project), binding.source, binding.spec.target, binding.spec.protocol): index
        for index, (project, _, binding) in enumerate(entries)
    }

    def key(project: Project, _: Service, binding: PortBinding) -> _Key:
        spec = binding.spec
        return _Key(places[id(project), binding.source, spec.target, spec.protocol])

    host_map = hostmap.build(projects, key)
    return {_index(conflict.claim): conflict for conflict in host_map.conflicts(PEERS)}


def _row(project: Project, binding: PortBinding, category: str | None, own: str | None) -> Row:
    """The binding's row as the file declares it; the policy's marks are added by the caller."""
    host_range = binding.host_range
    spec = binding.spec
    published = spec.published
    if spec.count > 1:
        # One entry for the run Compose expands a range-to-range mapping into: the registry
        # shows it as the range it was written as, not as thousands of rows.
        published = f"{host_range[0]}-{host_range[1]}" if host_range else None
    return Row(
        published=published,
        start=host_range[0] if host_range else None,
        end=host_range[1] if host_range else None,
        protocol=spec.protocol,
        host_ip=spec.host_ip,
        service=binding.service,
        stack=project.stack,
        project=project.name,
        container_port=spec.target,
        container_end=spec.target + spec.count - 1,
        category=category,
        service_category=own,
        variable=binding.variable,
        file=binding.source.file,
        line=binding.source.line,
        column=binding.source.column,
    )


def _index(claim: Claim) -> int:
    # The map keeps whatever key it was given; this view gives it a _Key.
    return cast(_Key, claim.key).index


def _peers(
    entries: list[tuple[Project, Service, PortBinding]], conflict: Conflict
) -> tuple[Peer, ...]:
    """The first bindings it collides with, in the order of the host's stacks; its own
    replicas after the earlier ones, where a stack-by-stack reading meets them."""
    own = _index(conflict.claim)
    earlier: list[Peer] = []
    later: list[Peer] = []
    for collision in conflict.first:
        partner = collision.second if collision.first is conflict.claim else collision.first
        other = _index(partner)
        (earlier if other < own else later).append(_peer(entries[other], collision))
    if conflict.itself is not None:
        earlier.append(_peer(entries[own], conflict.itself, itself=True))
    return (*earlier, *later)


def _peer(
    entry: tuple[Project, Service, PortBinding], collision: Collision, *, itself: bool = False
) -> Peer:
    project, _, binding = entry
    start, end = collision.ports
    return Peer(
        service=binding.service,
        stack=project.stack or project.name,
        ports=str(start) if start == end else f"{start}-{end}",
        protocol=binding.spec.protocol,
        certain=collision.certain,
        itself=itself,
    )


def _outside(
    context: LintContext, project: Project, service: Service, host_range: tuple[int, int] | None
) -> Band | None:
    """The range of the service's category when the port leaves it (CP201's case)."""
    # The category the policy gives the service (by name, then image), as CP201 judges it,
    # whatever the row shows as its category.
    own = context.category(service, project)
    if own is None or host_range is None or own.start <= host_range[0] <= host_range[1] <= own.end:
        return None
    return Band(own.name, own.start, own.end)


def _drifting(
    entries: list[tuple[Project, Service, PortBinding]], config: Config | None
) -> set[tuple[int, str]]:
    """(project, service) of each service that publishes ports, none of them the one the
    registry gives it (CP204's case)."""
    held: dict[tuple[int, str], bool] = {}
    for project, service, binding in entries:
        assigned = policy.registered(config, service.name)
        rng = binding.host_range
        if assigned is None or rng is None:
            continue
        key = (id(project), service.name)
        held[key] = held.get(key, False) or rng[0] <= assigned <= rng[1]
    return {key for key, holds in held.items() if not holds}


def _owner(owners: dict[int, str], host_range: tuple[int, int] | None, service: str) -> str | None:
    """The other service the registry gives one of these ports to (the lowest one's), if any."""
    if host_range is None:
        return None
    start, end = host_range
    taken = sorted(p for p, name in owners.items() if start <= p <= end and name != service)
    return owners[taken[0]] if taken else None


def _sort_key(binding: PortBinding, project: Project) -> _SortKey:
    # By host port first; the stack and the source break ties so that the order is stable.
    src = binding.source
    return (*port_sort_key(binding), project.stack or project.name, src.file, src.line, src.column)


def _category(
    ranges: tuple[PortRange, ...], host_range: tuple[int, int] | None, own: str | None
) -> str | None:
    """Where the port sits in the policy, else where the service belongs by name or image.

    The port decides first because the registry answers "what is this port?"; a port outside
    its service's range (CP201's case) still shows the category its service claims.
    """
    if host_range is not None:
        for port_range in ranges:
            if port_range.start <= host_range[0] and host_range[1] <= port_range.end:
                return port_range.name
    return own
