"""`compose-ports suggest`: the lowest free host port for a new service."""

from __future__ import annotations

from collections.abc import Iterable

from compose_ports.config import Config, PortRange, matches_any
from compose_ports.hostmap import HostPortMap, claim_for
from compose_ports.model import Project

EPHEMERAL = (32768, 60999)


def category_for(config: Config | None, service: str, name: str | None) -> PortRange | None:
    if config is None:
        return None
    if name is not None:
        return next((r for r in config.ranges if r.name == name), None)
    for port_range in config.ranges:
        if matches_any(port_range.services, service):
            return port_range
    return None


def occupied(projects: Iterable[Project]) -> HostPortMap:
    host_map = HostPortMap()
    for project in projects:
        for binding in project.bindings:
            claim = claim_for(binding)
            if claim is not None:
                host_map.add(claim)
    return host_map


def suggest(
    projects: Iterable[Project],
    config: Config | None,
    service: str,
    category: str | None = None,
    protocol: str = "tcp",
) -> tuple[int | None, PortRange | None]:
    """The port, and the range it was taken from (None: outside any policy range)."""
    port_range = category_for(config, service, category)
    host_map = occupied(projects)
    exclude = {
        port for name, port in (config.registry_ports.items() if config else ()) if name != service
    }
    registered = config.registry_ports.get(service) if config else None
    if registered is not None and host_map.is_free(registered, protocol):
        return registered, port_range
    if port_range is not None:
        port = host_map.lowest_free(port_range.start, port_range.end, protocol, None, exclude)
        return port, port_range
    port = host_map.lowest_free(1024, EPHEMERAL[0] - 1, protocol, None, exclude)
    return port, None
