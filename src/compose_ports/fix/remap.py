"""`fix --remap`: resolve what override files break, in the override files only.

For every service that a later file of a stack (an override) gives ports:
- when the override re-publishes a container port that an earlier file already publishes
  (override-appends-ports), its `ports` gets `!override`, so the earlier host port stops being
  published; the earlier file's entries for other container ports, which the override did not
  mean to replace, are copied into the override's list so they stay published;
- an override port that still collides with something on the same host moves to a free port:
  the lowest free one in the service's policy range, else the earlier port plus the environment's
  offset from the config, else the lowest free port above 1023 outside the ephemeral range.
  Free means bound by no stack on the same host, not given to another service by the registry,
  and, with `--live`, not in use on this machine. The same input always gives the same ports.

Base files are never edited. What cannot be resolved is reported, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compose_ports.config import Config
from compose_ports.hostmap import Claim, HostPortMap, claim_for
from compose_ports.model import Origin, PortBinding, Project, Service, Source
from compose_ports.rules.base import LintContext
from compose_ports.workspace import Workspace

EPHEMERAL = (32768, 60999)


@dataclass(frozen=True)
class Replace:
    """Tag one service's ports list in an override file with `!override`, copying some entries."""

    project: Project
    service: Service
    file: str
    copied: tuple[PortBinding, ...]  # earlier files' entries that must stay published
    dropped: tuple[PortBinding, ...]  # earlier files' entries the override replaces


@dataclass
class RemapPlan:
    replaces: list[Replace] = field(default_factory=list)
    ports: dict[Source, int] = field(default_factory=dict)  # override scalar -> new host port
    unresolved: list[str] = field(default_factory=list)


def _later(project: Project, binding: PortBinding) -> bool:
    return bool(project.files) and binding.source.file in project.files[1:]


def _hosts(workspace: Workspace, project: Project, only: str | None) -> list[list[Project]]:
    """The projects that share a machine with project (itself included), per host."""
    groups = [
        members
        for (config, host), members in workspace.hosts().items()
        if project in members and (only is None or host == only)
    ]
    return groups or [[project]]


def _in_scope(workspace: Workspace, project: Project, only: str | None) -> bool:
    if len(project.files) < 2:
        return False
    if only is None:
        return True
    config = workspace.config_of(project)
    return config is not None and only in config.hosts_of(project.stack)


def plan(workspace: Workspace, host: str | None = None, in_use: Iterable[int] = ()) -> RemapPlan:
    result = RemapPlan()
    context = LintContext(workspace)
    live = set(in_use)
    chosen: dict[int, Source] = {}
    for project in workspace.projects:
        if not _in_scope(workspace, project, host):
            continue
        config = workspace.config_of(project)
        for service in project.active_services:
            overrides = [b for b in service.ports if _later(project, b)]
            if not overrides:
                continue
            earlier = [b for b in service.ports if not _later(project, b)]
            covered = {(b.spec.target, b.spec.protocol.lower()) for b in overrides}
            dropped = tuple(
                b for b in earlier if (b.spec.target, b.spec.protocol.lower()) in covered
            )
            if dropped:
                files = {b.source.file for b in overrides}
                if len(files) > 1:
                    result.unresolved.append(
                        f"{service.name} ({_name(project)}): ports come from several override "
                        "files; tag the list in the last one with !override by hand"
                    )
                    continue
                copied = tuple(b for b in earlier if b not in dropped)
                result.replaces.append(
                    Replace(project, service, next(iter(files)), copied, dropped)
                )
            gone = {b.source for b in dropped}
            for binding in overrides:
                base = next(
                    (b for b in earlier if b.spec.target == binding.spec.target and b.host_range),
                    binding,
                )
                _move_if_colliding(
                    result,
                    context,
                    workspace,
                    project,
                    service,
                    binding,
                    gone,
                    host,
                    config,
                    live,
                    chosen,
                    base.host_range[0] if base.host_range else 0,
                )
    return result


def _name(project: Project) -> str:
    return f"stack {project.stack}" if project.stack else f"project {project.name}"


def _move_if_colliding(
    result: RemapPlan,
    context: LintContext,
    workspace: Workspace,
    project: Project,
    service: Service,
    binding: PortBinding,
    gone: set[Source],
    host: str | None,
    config: Config | None,
    live: set[int],
    chosen: dict[int, Source],
    base_port: int,
) -> None:
    if binding.host_range is None or binding.is_pool:
        return
    maps = []
    for members in _hosts(workspace, project, host):
        host_map = HostPortMap()
        for member in members:
            for other in member.bindings:
                if other.source in gone or other is binding or other.source == binding.source:
                    continue
                claim = claim_for(other)
                if claim is not None:
                    host_map.add(claim)
        for port, source in chosen.items():
            if source != binding.source:
                host_map.add(_claim(port, binding))
        maps.append(host_map)
    mine = claim_for(binding)
    assert mine is not None
    start = binding.host_range[0]
    if all(not m.overlapping(mine) for m in maps) and start not in live:
        return
    if binding.origin is Origin.ENVIRONMENT:
        result.unresolved.append(
            f"{_where(binding)}: {binding.variable} is set in the environment or an env file; "
            "change its value there"
        )
        return
    registered = {
        port
        for name, port in (config.registry_ports.items() if config else ())
        if name != service.name
    }
    exclude = _Excluded(registered | live)
    port = _free(maps, binding, exclude, context, project, service, config, base_port or start)
    if port is None:
        result.unresolved.append(f"{_where(binding)}: no free host port found for {service.name}")
        return
    result.ports[binding.source] = port
    chosen[port] = binding.source


class _Excluded:
    def __init__(self, ports: set[int]) -> None:
        self.ports = ports

    def __contains__(self, port: object) -> bool:
        return port in self.ports


def _claim(port: int, binding: PortBinding) -> Claim:
    return Claim(None, binding.spec.protocol, binding.spec.host_ip, port, port, False)


def _free(
    maps: list[HostPortMap],
    binding: PortBinding,
    exclude: _Excluded,
    context: LintContext,
    project: Project,
    service: Service,
    config: Config | None,
    base_port: int,
) -> int | None:
    protocol, ip = binding.spec.protocol, binding.spec.host_ip

    def lowest(start: int, end: int) -> int | None:
        # The lowest port free on every host the stack runs on.
        port = start
        while port <= end:
            found = [m.lowest_free(port, end, protocol, ip, exclude) for m in maps]
            if any(f is None for f in found):
                return None
            highest = max(f for f in found if f is not None)
            if all(f == highest for f in found):
                return highest
            port = highest
        return None

    category = context.category(service, project)
    if category is not None:
        port = lowest(category.start, category.end)
        if port is not None:
            return port
    offset = _offset(config, project)
    if offset:
        base = base_port + offset
        if 1024 <= base <= 65535 and lowest(base, base) == base:
            return base
    return lowest(1024, EPHEMERAL[0] - 1) or lowest(EPHEMERAL[1] + 1, 65535)


def _offset(config: Config | None, project: Project) -> int:
    if config is None:
        return 0
    environment = config.environments.get(project.stack or "")
    if environment is None and len(config.environments) == 1:
        environment = next(iter(config.environments.values()))
    return environment.offset if environment else 0


def _where(binding: PortBinding) -> str:
    src = binding.source
    return f"{src.file}:{src.line}:{src.column}"
