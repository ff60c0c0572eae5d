"""`compose-ports check`: which host ports the stacks need are held on this machine right now.

Only this machine's own socket table is read (through psutil); nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compose_ports.hostmap import same_address_collides
from compose_ports.live.sockets import Listener
from compose_ports.model import PortBinding, Project


@dataclass(frozen=True)
class Taken:
    """A binding whose host port something on this machine already holds."""

    project: Project
    binding: PortBinding
    holders: tuple[Listener, ...]
    blocked: bool  # False for a pool that still has a free port

    def describe(self) -> str:
        first = self.holders[0]
        who = f"{first.process} (pid {first.pid})" if first.process else "another process"
        if first.pid is None and first.process is None:
            who = "a process this user cannot see"
        port = f"{first.port}/{first.protocol}"
        more = f" and {len(self.holders) - 1} more" if len(self.holders) > 1 else ""
        return f"{port} in use by {who}{more}"


def taken(projects: Iterable[Project], listeners: Iterable[Listener]) -> list[Taken]:
    by_port: dict[tuple[int, str], list[Listener]] = {}
    for listener in listeners:
        by_port.setdefault((listener.port, listener.protocol), []).append(listener)
    result = []
    for project in projects:
        for binding in project.bindings:
            rng = binding.host_range
            if rng is None:
                continue
            protocol = binding.spec.protocol.lower()
            holders = [
                listener
                for port, proto in by_port
                if proto == protocol and rng[0] <= port <= rng[1]
                for listener in by_port[(port, proto)]
                if same_address_collides(binding.spec.host_ip, listener.address)
            ]
            if not holders:
                continue
            held = {h.port for h in holders}
            blocked = not binding.is_pool or len(held) >= rng[1] - rng[0] + 1
            holders.sort(key=lambda h: (h.port, h.address, h.pid or 0))
            result.append(Taken(project, binding, tuple(holders), blocked))
    return result
