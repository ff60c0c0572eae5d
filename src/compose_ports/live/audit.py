"""`audit`: the bindings the stacks declare against those the engine's containers publish.

Declared is what Compose would publish (`Project.publishing`, runs expanded entry by entry);
published is what `docker ps` shows. A container belongs to a declared service by its compose
labels, as Compose itself finds its containers. Each declared entry is matched in each running
container of its service, in three passes so that an exact match is never taken for a move:
the same port on the same host IP (agree), the same port on another host IP (other-ip), then
another port for the same container port (moved). What stays unmatched on the declared side is
`not-running` (no container) or `not-published` (the container publishes nothing for it); on
the engine's side, `undeclared`.

One binding without a host IP shows in the engine as `0.0.0.0` and `::`: the engine's entries
that differ only in the host IP's family are one binding here, counted once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from compose_ports.live.engine import UNSPECIFIED, Container
from compose_ports.model import PortBinding, PortSpec, Project

AGREE = "agree"
NOT_RUNNING = "not-running"
NOT_PUBLISHED = "not-published"
MOVED = "moved"
OTHER_IP = "other-ip"
UNDECLARED = "undeclared"
DRIFT = (NOT_RUNNING, NOT_PUBLISHED, MOVED, OTHER_IP, UNDECLARED)
KINDS = (AGREE, *DRIFT)


@dataclass(frozen=True, slots=True)
class Declared:
    """One entry Compose would publish for a service."""

    project: Project
    service: str
    binding: PortBinding
    spec: PortSpec  # one entry (a run's ports one by one)

    @property
    def protocol(self) -> str:
        return self.spec.protocol.lower()


@dataclass(frozen=True, slots=True)
class Binding:
    """One published binding of a container, its host IPs together (`0.0.0.0` and `::`)."""

    container: Container
    host_ips: tuple[str, ...]
    host_port: int
    target: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the audit: a declared entry and what the engine has for it, or a published
    binding nothing declares."""

    kind: str  # one of KINDS
    declared: Declared | None
    published: Binding | None
    reason: str = ""  # for `undeclared`: why no selected stack claims it


@dataclass(frozen=True)
class Audit:
    entries: list[Entry]
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.entries if e.kind == kind)

    @property
    def declared(self) -> int:
        return sum(1 for e in self.entries if e.declared is not None)

    @property
    def drift(self) -> bool:
        return any(e.kind != AGREE for e in self.entries)


def bindings(container: Container) -> list[Binding]:
    """The container's published bindings, the host IPs of one binding together."""
    groups: dict[tuple[int, int, str], list[str]] = {}
    for port in container.ports:
        key = (port.host_port, port.target, port.protocol)
        groups.setdefault(key, []).append(_normal(port.host_ip))
    return [
        Binding(container, tuple(sorted(set(ips), key=_ip_order)), port, target, protocol)
        for (port, target, protocol), ips in groups.items()
    ]


def declared(projects: Iterable[Project]) -> list[Declared]:
    return [
        Declared(project, service.name, binding, spec)
        for project in projects
        for service, binding in project.publishing()
        for spec in binding.spec.expand()
    ]


def audit(projects: Sequence[Project], containers: Iterable[Container]) -> Audit:
    containers = sorted(containers, key=lambda c: (c.name, c.id))
    published = {c.id: bindings(c) for c in containers}
    entries: list[Entry] = []
    claimed: set[int] = set()  # id() of the bindings that some stack declares
    for project in projects:
        # Per stack: two stacks that are one compose project each meet all its containers.
        mine: set[int] = set()
        by_service: dict[str, list[Declared]] = {}
        for item in declared([project]):
            by_service.setdefault(item.service, []).append(item)
        for service, items in by_service.items():
            running = [c for c in containers if c.belongs_to(project.name, service)]
            if not running:
                entries += [Entry(NOT_RUNNING, d, None) for d in items]
            for container in running:
                entries += _match(items, published[container.id], mine)
        claimed |= mine
    unclaimed = [b for c in containers for b in published[c.id] if id(b) not in claimed]
    unclaimed.sort(key=lambda b: (b.host_port, b.protocol, b.container.name))
    entries += [Entry(UNDECLARED, None, b, _unclaimed(b, projects)) for b in unclaimed]
    return Audit(entries, _shared_names(projects))


def _match(items: list[Declared], offered: list[Binding], claimed: set[int]) -> list[Entry]:
    """One container's bindings against its service's declared entries."""
    found: dict[int, Entry] = {}
    for kind in (AGREE, OTHER_IP, MOVED):
        for index, item in enumerate(items):
            if index in found:
                continue
            for binding in offered:
                if id(binding) in claimed or not _fits(kind, item, binding):
                    continue
                claimed.add(id(binding))
                found[index] = Entry(kind, item, binding)
                break
    return [found.get(i, Entry(NOT_PUBLISHED, item, None)) for i, item in enumerate(items)]


def _fits(kind: str, item: Declared, binding: Binding) -> bool:
    if (binding.target, binding.protocol) != (item.spec.target, item.protocol):
        return False
    if kind == MOVED:
        return True
    fits = _port_fits(item.spec, binding.host_port)
    return fits and (kind == OTHER_IP or _same_ips(item.spec, binding.host_ips))


def _port_fits(spec: PortSpec, port: int) -> bool:
    rng = spec.host_range()
    # No host port (or "0"): the engine picks any; a pool: any port of its range.
    return rng is None or rng[0] <= port <= rng[1]


def _same_ips(spec: PortSpec, host_ips: tuple[str, ...]) -> bool:
    wanted = _normal(spec.host_ip) if spec.host_ip and spec.host_ip.strip() else None
    if wanted is None:
        # Every interface: 0.0.0.0 and ::, or 0.0.0.0 alone on a host without IPv6.
        return bool(host_ips) and all(ip in UNSPECIFIED for ip in host_ips)
    return host_ips == (wanted,)


def _normal(ip: str) -> str:
    """An address as the engine writes it: compressed, IPv4-mapped unmapped (the engine binds
    `::ffff:127.0.0.1` as 127.0.0.1, compose-facts §6.3)."""
    try:
        address = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _ip_order(ip: str) -> tuple[int, str]:
    return (1 if ":" in ip else 0, ip)


def _unclaimed(binding: Binding, projects: Sequence[Project]) -> str:
    container = binding.container
    if container.project is None:
        return "started by hand (no compose project label)"
    names = {p.name for p in projects}
    if container.project not in names:
        return f"its project {container.project} is not among the stacks read"
    services = {s.name for p in projects if p.name == container.project for s, _ in p.publishing()}
    if container.service not in services:
        return f"its service {container.service} publishes nothing in project {container.project}"
    return f"not declared for its service {container.service} of project {container.project}"


def _shared_names(projects: Sequence[Project]) -> list[str]:
    """Stacks that are one compose project: each is compared with the same containers."""
    by_name: dict[str, list[str]] = {}
    for project in projects:
        by_name.setdefault(project.name, []).append(project.stack or project.name)
    return [
        f"stacks {', '.join(stacks)} are all compose project {name}: each is compared with "
        "its containers (select one with --host or -f)"
        for name, stacks in by_name.items()
        if len(stacks) > 1
    ]
