"""`compose-ports env`: the env file of one environment on one host.

One variable per binding of the host's stacks (the names `fix` gives them, or the variable a port
already reads), each value the port plus the environment's offset, moved up to the next free port
where that would collide on the host. The same input always gives the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compose_ports.config import Config
from compose_ports.fix.naming import Target, assign
from compose_ports.hostmap import Claim, HostPortMap
from compose_ports.model import PortBinding, Source
from compose_ports.workspace import Workspace


@dataclass(frozen=True)
class EnvPlan:
    path: Path
    values: dict[str, str]  # name -> value, in file order
    moved: tuple[str, ...]  # names whose value is not port + offset, to avoid a collision


def plan(workspace: Workspace, config: Config, host: str, environment: str) -> EnvPlan:
    if host not in config.hosts:
        raise KeyError(f"host {host!r}")
    spec = config.environments.get(environment)
    offset = spec.offset if spec else 0
    file = (spec.file if spec and spec.file else None) or f".env.{environment}"
    members = list(config.hosts[host])
    projects = sorted(
        workspace.hosts().get((config, host), []), key=lambda p: members.index(p.stack)
    )
    targets: list[Target] = []
    seen: set[Source] = set()
    for project in projects:
        order = {f: i for i, f in enumerate(project.files)}
        for service in project.active_services:
            for binding in sorted(
                service.ports,
                key=lambda b: (order.get(b.source.file, len(order)), b.source.line),
            ):
                if binding.host_range is None or binding.source in seen:
                    continue
                seen.add(binding.source)
                targets.append(Target(project, service, binding))
    taken = set().union(*(p.defined for p in projects)) if projects else set()
    unnamed = [t for t in targets if t.binding.variable is None]
    names = assign(unnamed, lambda _: config.variable, taken - _own(targets))
    host_map = HostPortMap()
    values: dict[str, str] = {}
    moved: list[str] = []
    for target in targets:
        binding = target.binding
        name = binding.variable or names[binding.source]
        if name in values:
            continue
        start, end = binding.host_range  # type: ignore[misc]
        width = end - start
        wanted = start + offset
        port = wanted
        while port + width <= 65535 and not _free(host_map, binding, port, port + width):
            port += 1
        if port + width > 65535:
            port = wanted
        if port != wanted:
            moved.append(name)
        host_map.add(
            Claim(name, binding.spec.protocol, binding.spec.host_ip, port, port + width, False)
        )
        values[name] = str(port) if width == 0 else f"{port}-{port + width}"
    return EnvPlan(config.directory / file, values, tuple(moved))


def _own(targets: list[Target]) -> set[str]:
    """Variables the ports already read are theirs to keep, even if an env file defines them."""
    return {t.binding.variable for t in targets if t.binding.variable}


def _free(host_map: HostPortMap, binding: PortBinding, start: int, end: int) -> bool:
    spec = binding.spec
    probe = Claim(None, spec.protocol, spec.host_ip, start, end, False)
    return not host_map.overlapping(probe)
