"""`compose-ports suggest`: the lowest free host port for a new service."""

from __future__ import annotations

from collections.abc import Iterable

from compose_ports import policy
from compose_ports.hostmap import HostPortMap, build
from compose_ports.model import Project
from compose_ports.policy.config import Config, PortRange


def category_for(config: Config | None, service: str, name: str | None) -> PortRange | None:
    if name is not None:
        return policy.range_named(config, name)
    # A new service has no image yet: its name decides.
    return policy.category(config, service)


def occupied(projects: Iterable[Project]) -> HostPortMap:
    return build(list(projects))


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
    exclude = policy.registered_to_others(config, service)
    registered = policy.registered(config, service)
    if registered is not None and host_map.is_free(registered, protocol):
        return registered, port_range
    if port_range is not None:
        port = host_map.lowest_free(port_range.start, port_range.end, protocol, None, exclude)
        return port, port_range
    ephemeral = policy.ephemeral_range(config)
    port = host_map.lowest_free(1024, ephemeral[0] - 1, protocol, None, exclude)
    return port, None
