"""`compose-ports env`: the env file of one environment on one host.

One variable per binding of the host's stacks (the names `fix` gives them, or the variable a port
already reads), each value the port plus the environment's offset, unless that value breaks the
team's policy: outside the service's range, on a port the registry gives another service, or
colliding on the host with a value chosen before it. Such a value moves to the lowest free port
of the service's range above its base port (without a range: the next free port above the
offset one), and the output says so. The same input always gives the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from compose_ports import policy
from compose_ports.compose.workspace import Workspace
from compose_ports.hostmap import Claim, HostPortMap
from compose_ports.model import PortBinding, Source
from compose_ports.policy.config import Config, PortRange
from compose_ports.policy.naming import Target, assign


class EnvPlan(NamedTuple):
    path: Path
    values: dict[str, str]  # name -> value, in file order
    moved: dict[str, str]  # name -> why its value is not the port plus the offset


def plan(workspace: Workspace, config: Config, host: str, environment: str) -> EnvPlan:
    if host not in config.hosts:
        raise KeyError(f"host {host!r}")
    spec = config.environments.get(environment)
    offset = policy.offset(config, environment)
    file = (spec.file if spec and spec.file else None) or f".env.{environment}"
    projects = workspace.hosts().get((config, host), [])
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
    moved: dict[str, str] = {}
    for target in targets:
        binding = target.binding
        name = binding.variable or names[binding.source]
        if name in values:
            continue
        start, end = binding.host_range  # type: ignore[misc]
        width = end - start
        service = target.service
        category = policy.category(config, service.name, service.image)
        others = policy.registered_to_others(config, service.name)
        wanted = start + offset
        reason = _breaks(host_map, binding, wanted, width, category, others, host)
        port = wanted
        if reason is not None:
            port = _lowest(host_map, binding, start, width, category, others, wanted)
            moved[name] = reason
        host_map.add(
            Claim(name, binding.spec.protocol, binding.spec.host_ip, port, port + width, False)
        )
        values[name] = str(port) if width == 0 else f"{port}-{port + width}"
    return EnvPlan(config.directory / file, values, moved)


def _breaks(
    host_map: HostPortMap,
    binding: PortBinding,
    port: int,
    width: int,
    category: PortRange | None,
    others: set[int],
    host: str,
) -> str | None:
    """Why port (the base plus the offset) cannot be the value, or None."""
    if port + width > 65535:
        return "the offset takes it past 65535"
    if category is not None and not category.start <= port <= port + width <= category.end:
        bounds = f"{category.start}-{category.end}"
        return f"the offset takes it out of the {category.name} range {bounds}"
    taken = sorted(p for p in others if port <= p <= port + width)
    if taken:
        return f"the registry gives {taken[0]} to another service"
    if not _free(host_map, binding, port, port + width):
        return f"it would collide on {host}"
    return None


def _lowest(
    host_map: HostPortMap,
    binding: PortBinding,
    base: int,
    width: int,
    category: PortRange | None,
    others: set[int],
    wanted: int,
) -> int:
    """The lowest port of the range above the base port that keeps the policy; without a range,
    the next free one above the offset one. The offset one when there is none."""
    if category is not None:
        starts = [range(max(base + 1, category.start), category.end - width + 1)]
        # A base port below its range (a policy adopted later): anywhere in the range.
        starts.append(range(category.start, category.end - width + 1))
    else:
        starts = [range(wanted + 1, 65535 - width + 1)]
    for candidates in starts:
        for port in candidates:
            if not any(port <= p <= port + width for p in others) and _free(
                host_map, binding, port, port + width
            ):
                return port
    return wanted


def _own(targets: list[Target]) -> set[str]:
    """Variables the ports already read are theirs to keep, even if an env file defines them."""
    return {t.binding.variable for t in targets if t.binding.variable}


def _free(host_map: HostPortMap, binding: PortBinding, start: int, end: int) -> bool:
    spec = binding.spec
    probe = Claim(None, spec.protocol, spec.host_ip, start, end, False)
    return not host_map.overlapping(probe)
