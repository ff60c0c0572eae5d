"""For `check`: which of the host ports the stacks need are held on this machine, and by whom.

Two witnesses: the socket table (any process) and the engine (its containers, named by compose
project and service). The engine is the one that knows a container's ports: with
`userland-proxy: false` or rootless Docker they are not in the socket table at all, and where
they are, the holder is an anonymous `docker-proxy`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compose_ports.hostmap import same_address_collides
from compose_ports.live.engine import Container, Published
from compose_ports.live.sockets import Listener
from compose_ports.model import PortBinding, Project

# The engine's own process that holds a published port for its container; when the engine
# names the container, this listener says nothing more.
PROXY = "docker-proxy"


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A host port a running container publishes, by the engine's word."""

    container: Container
    published: Published

    @property
    def port(self) -> int:
        return self.published.host_port

    @property
    def protocol(self) -> str:
        return self.published.protocol

    @property
    def address(self) -> str:
        return self.published.host_ip


Holder = Listener | ContainerPort


@dataclass(frozen=True)
class Taken:
    """A binding whose host port something on this machine already holds."""

    project: Project
    binding: PortBinding
    holders: tuple[Holder, ...]  # everything but the binding's own running containers
    own: tuple[ContainerPort, ...]  # the running containers of the same project and service
    blocked: bool  # False for a pool that still has a free port, and for a running service

    @property
    def running(self) -> bool:
        """Held only by the service's own containers: it is up, not in the way."""
        return not self.holders

    def describe(self) -> str:
        if self.running:
            names = ", ".join(dict.fromkeys(h.container.name for h in self.own))
            return f"{_port(self.own[0])} published by its own running container {names}"
        first_holder = self.holders[0]
        return f"{_port(first_holder)} in use by {_who(first_holder)}{_more(self.holders)}"


def _more(holders: Iterable[Holder]) -> str:
    # A container or a process that holds the port on 0.0.0.0 and on :: is one holder.
    count = len({_who(h) for h in holders})
    return f" and {count - 1} more" if count > 1 else ""


def _port(holder: Holder) -> str:
    return f"{holder.port}/{holder.protocol}"


def _who(holder: Holder) -> str:
    if isinstance(holder, ContainerPort):
        return holder.container.describe()
    if holder.pid is None and holder.process is None:
        return "a process this user cannot see"
    return f"{holder.process} (pid {holder.pid})" if holder.process else "another process"


def container_ports(containers: Iterable[Container]) -> list[ContainerPort]:
    return [ContainerPort(c, p) for c in containers for p in c.ports]


def taken(
    projects: Iterable[Project],
    listeners: Iterable[Listener],
    containers: Iterable[Container] = (),
) -> list[Taken]:
    """Every binding of the projects that a listener or a container holds.

    `containers` are those of an engine on this machine: a `docker-proxy` (or a listener whose
    process cannot be seen) on a port the engine publishes is that container's, said once.
    """
    by_port = _holders_by_port(listeners, containers)
    result = []
    for project in projects:
        for binding in project.bindings:
            found = _holding(binding, by_port)
            if not found:
                continue
            rng = binding.host_range
            assert rng is not None
            own = [
                h
                for h in found
                if isinstance(h, ContainerPort)
                and h.container.belongs_to(project.name, binding.service)
            ]
            others = [h for h in found if h not in own]
            held = {h.port for h in others}
            blocked = bool(others) and (not binding.is_pool or len(held) >= rng[1] - rng[0] + 1)
            others.sort(key=_holder_order)
            own.sort(key=_holder_order)
            result.append(Taken(project, binding, tuple(others), tuple(own), blocked))
    return result


def _holders_by_port(
    listeners: Iterable[Listener], containers: Iterable[Container]
) -> dict[tuple[int, str], list[Holder]]:
    published = container_ports(containers)
    engine_ports = {(p.port, p.protocol) for p in published}
    holders: list[Holder] = list(published)
    for listener in listeners:
        proxy = listener.process == PROXY or (listener.pid is None and listener.process is None)
        if proxy and (listener.port, listener.protocol) in engine_ports:
            continue  # the engine's own proxy: the container is named instead
        holders.append(listener)
    by_port: dict[tuple[int, str], list[Holder]] = {}
    for holder in holders:
        by_port.setdefault((holder.port, holder.protocol), []).append(holder)
    return by_port


def _holding(binding: PortBinding, by_port: dict[tuple[int, str], list[Holder]]) -> list[Holder]:
    """What holds one of the binding's host ports on an address it would collide with."""
    rng = binding.host_range
    if rng is None:
        return []
    protocol = binding.spec.protocol.lower()
    return [
        holder
        for port, proto in by_port
        if proto == protocol and rng[0] <= port <= rng[1]
        for holder in by_port[(port, proto)]
        if same_address_collides(binding.spec.host_ip, holder.address)
    ]


def _holder_order(holder: Holder) -> tuple[int, int, str, int]:
    # A container first: it is named by project and service, a process only by its name.
    if isinstance(holder, ContainerPort):
        return (holder.port, 0, holder.address, 0)
    return (holder.port, 1, holder.address, holder.pid or 0)
