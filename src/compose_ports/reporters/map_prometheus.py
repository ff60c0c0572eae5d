"""`map --format prometheus`: each host's bindings as Prometheus `file_sd` targets.

`[{"targets": ["ADDRESS:PORT", ...], "labels": {"service": ..., "stack": ..., "host": ...}}]`,
one entry per service of a stack on a host, ready for a blackbox exporter's TCP probes. So only
TCP bindings are targets, and only those with a fixed host port: a pool (a host range for one
container port) and an ephemeral port get the port the engine picks when the container starts,
which a file cannot know. ADDRESS is the binding's host IP when it is a specific one, else the
address the scrape reaches the machine at (`--address`). Deterministic: no dates, stable order.
"""

from __future__ import annotations

import json
from typing import Any

from compose_ports.compose.workspace import Workspace
from compose_ports.errors import ComposePortsError
from compose_ports.hostmap import bound_addresses
from compose_ports.model import PortSpec, Project
from compose_ports.reporters.escape import json_safe

DEFAULT_ADDRESS = "localhost"


def groups(workspace: Workspace) -> list[tuple[str, list[Project]]]:
    """The machines (`hosts:` groups) with their stacks, then the stacks on none (host "")."""
    found: list[tuple[str, list[Project]]] = []
    hosted: set[int] = set()
    for (_, host), projects in workspace.hosts().items():
        hosted.update(id(p) for p in projects)
        found.append((host, projects))
    alone = [p for p in workspace.projects if id(p) not in hosted]
    if alone:
        found.append(("", alone))
    return found


def entries(
    machines: list[tuple[str, list[Project]]], address: str = DEFAULT_ADDRESS
) -> list[dict[str, Any]]:
    result: dict[tuple[str, str, str], list[str]] = {}
    for host, projects in machines:
        for project in projects:
            stack = project.stack or project.name
            for service, binding in project.publishing():
                targets = result.setdefault((host, stack, service.name), [])
                for spec in binding.spec.expand():
                    for target in _targets(spec, address):
                        if target not in targets:
                            targets.append(target)
    return [
        {"targets": targets, "labels": {"service": service, "stack": stack, "host": host}}
        for (host, stack, service), targets in result.items()
        if targets
    ]


def render(workspace: Workspace, address: str = DEFAULT_ADDRESS) -> str:
    if not address or any(c.isspace() or c in '/,"' for c in address):
        raise ComposePortsError(f"--address {address!r}: not a host name or address")
    # A name's lone surrogate (a byte that is not UTF-8) as text, as every JSON output here.
    return json_safe(json.dumps(entries(groups(workspace), address), indent=2)) + "\n"


def _targets(spec: PortSpec, address: str) -> list[str]:
    rng = spec.host_range()
    if spec.protocol.lower() != "tcp" or rng is None or spec.is_pool:
        return []
    host = _specific(spec.host_ip) or _bracketed(address)
    return [f"{host}:{port}" for port in range(rng[0], rng[1] + 1)]


def _specific(host_ip: str | None) -> str | None:
    """A specific host IP as a target's host (IPv6 in brackets); None for every interface."""
    bound = bound_addresses(host_ip)  # as the engine binds it: ::ffff:10.0.0.1 is 10.0.0.1
    if len(bound) != 1 or bound[0][1] is None:
        return None
    ip = bound[0][1]
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _bracketed(address: str) -> str:
    if ":" in address and not address.startswith("["):
        return f"[{address}]"
    return address
