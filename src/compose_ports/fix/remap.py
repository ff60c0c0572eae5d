"""`fix --remap`: what override files break, fixed in the override files, finding by finding.

Two kinds of findings lead here, each through its rule's fix:
- override-appends-ports (CP103): the override's `ports` gets `!override`, so that the earlier
  files' entries the finding names stop being published; the earlier files' other entries are
  copied into the override's list so that they stay published;
- host-port-conflict (CP101) on a port an override file sets: once the `!override` drops are
  made, a port that still collides moves to a free port of its machine: the lowest free one in
  the service's policy range, else the earlier port plus the environment's offset, else the
  lowest free port above 1023 below (or above) the ephemeral range. Free means bound by no
  stack on the same machine, not given to another service by the registry, and with `--live`
  not in use here. The same input always gives the same ports.

Nothing else is touched: an override entry no rule flags stays as it is. What cannot be done
safely is reported with the reason, and the rest still done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from compose_ports import policy
from compose_ports.compose.workspace import Workspace, project_key
from compose_ports.fix.readers import Reader
from compose_ports.hostmap import Claim, HostPortMap, build, claim_for
from compose_ports.model import Origin, PortBinding, Project, Service, Source
from compose_ports.policy.config import Config
from compose_ports.policy.naming import Target
from compose_ports.rules.actions import MoveHostPort, ReplaceEarlierPorts
from compose_ports.rules.base import where


class Override(NamedTuple):
    """One service's `ports` in one override file, tagged `!override`."""

    project: Project
    service: Service
    file: str
    dropped: tuple[PortBinding, ...]  # what the findings say stops being published
    copied: tuple[PortBinding, ...]  # the earlier files' other entries, written again


class RemapPlan(NamedTuple):
    overrides: list[Override]
    # An override's host-port scalar -> its new port, and what its name would be made from.
    moves: dict[Source, tuple[int, Target]]
    unresolved: list[str]


def plan(
    workspace: Workspace,
    replaces: Sequence[ReplaceEarlierPorts],
    moves: Sequence[MoveHostPort],
    readers: Mapping[str, list[Reader]],
    in_use: Iterable[int] = (),
) -> RemapPlan:
    unresolved: list[str] = []
    overrides = _overrides(replaces, readers, unresolved)
    dropped = {project_key(o.project): {b.source for b in o.dropped} for o in overrides}
    chosen: dict[Source, int] = {}
    targets: dict[Source, Target] = {}
    live = set(in_use)
    wanted = {(project_key(m.project), m.binding.source) for m in moves}
    for move in sorted(moves, key=lambda m: (m.binding.source, project_key(m.project))):
        source = move.binding.source
        if source in chosen:
            continue
        reason = _unmovable(move, readers, wanted)
        if reason is None:
            port = _free_port(workspace, move, dropped, chosen, live)
            if port is None:
                continue  # it no longer collides once the drops are made
            if port < 0:
                reason = f"no free host port found for {move.binding.service}"
            else:
                chosen[source] = port
                service = next(s for s in move.project.services if s.name == move.binding.service)
                targets[source] = Target(move.project, service, move.binding)
                continue
        unresolved.append(f"{_where(move.binding)}: not moved: {reason}")
    return RemapPlan(overrides, {s: (p, targets[s]) for s, p in chosen.items()}, unresolved)


def _overrides(
    replaces: Sequence[ReplaceEarlierPorts],
    readers: Mapping[str, list[Reader]],
    unresolved: list[str],
) -> list[Override]:
    grouped: dict[tuple[str, str, str], list[ReplaceEarlierPorts]] = {}
    for action in replaces:
        key = (project_key(action.project), action.binding.service, action.binding.source.file)
        grouped.setdefault(key, []).append(action)
    overrides: list[Override] = []
    for (_, name, file), actions in sorted(grouped.items()):
        project = actions[0].project
        service = next(s for s in project.services if s.name == name)
        files = project.files
        problem = None
        if any(b.source.file not in files for b in service.ports):
            problem = "some of its ports come through extends or include"
        elif file not in files[1:]:
            problem = "the entry is not in an override file of the stack"
        else:
            problem = _shared_override(project, name, file, readers, grouped)
        if problem is not None:
            unresolved.append(
                f"{file}: {name}'s ports not tagged !override ({where(project)}): {problem}"
            )
            continue
        limit = files.index(file)
        earlier = [b for b in service.ports if files.index(b.source.file) < limit]
        gone = {b.source for a in actions for b in a.dropped}
        dropped = tuple(b for b in earlier if b.source in gone)
        copied = tuple(b for b in earlier if b.source not in gone)
        overrides.append(Override(project, service, file, dropped, copied))
    return overrides


def _shared_override(
    project: Project,
    service: str,
    file: str,
    readers: Mapping[str, list[Reader]],
    grouped: Mapping[tuple[str, str, str], object],
) -> str | None:
    """Another stack reads the override too: `!override` must be right for it as well."""
    for reader in readers.get(file, []):
        other = reader.project
        if (
            project_key(other) == project_key(project)
            or (project_key(other), service, file) in grouped
        ):
            continue
        found = next((s for s in other.services if s.name == service), None)
        if found is None or file not in other.files:
            continue
        limit = other.files.index(file)
        if any(
            b.source.file not in other.files or other.files.index(b.source.file) < limit
            for b in found.ports
        ):
            return f"{where(other)} reads it too, and there it has no such finding"
    return None


def _unmovable(
    move: MoveHostPort, readers: Mapping[str, list[Reader]], wanted: set[tuple[str, Source]]
) -> str | None:
    binding = move.binding
    if binding.origin is Origin.ENVIRONMENT:
        return f"{binding.variable} is set in the environment or an env file; change it there"
    if binding.host_range is None or binding.is_pool or binding.spec.count > 1:
        return "only a single host port is moved, not a range"
    for reader in readers.get(binding.source.file, []):
        key = project_key(reader.project)
        if key == project_key(move.project) or (key, binding.source) in wanted:
            continue
        if any(b.source == binding.source for b in reader.project.bindings):
            return f"{where(reader.project)} reads it too, and there it does not collide"
    return None


def _free_port(
    workspace: Workspace,
    move: MoveHostPort,
    dropped: Mapping[str, set[Source]],
    chosen: Mapping[Source, int],
    live: set[int],
) -> int | None:
    """The port to move to; None when the binding no longer collides; -1 when none is free."""
    binding, project = move.binding, move.project
    maps = [
        _machine(members, binding, dropped, chosen)
        for members in _machines(workspace, project, move.host)
    ]
    mine = claim_for(binding)
    assert mine is not None and binding.host_range is not None
    start = binding.host_range[0]
    if all(not m.overlapping(mine) for m in maps) and start not in live:
        return None
    config = workspace.config_of(project)
    service = next(s for s in project.services if s.name == binding.service)
    exclude = policy.registered_to_others(config, service.name) | live
    base = _base_port(service, project, binding) or start
    port = _lowest(maps, binding, exclude, config, service, project, base)
    return -1 if port is None else port


def _machines(workspace: Workspace, project: Project, host: str | None) -> list[list[Project]]:
    """The projects that share a machine with project (itself included), per machine."""
    groups = [
        members
        for (_, name), members in workspace.hosts().items()
        if project in members and (host is None or name == host)
    ]
    return groups or [[project]]


def _machine(
    members: list[Project],
    binding: PortBinding,
    dropped: Mapping[str, set[Source]],
    chosen: Mapping[Source, int],
) -> HostPortMap:
    gone = {s for member in members for s in dropped.get(project_key(member), ())}

    def left_out(other: PortBinding) -> bool:
        return other.source in gone or other.source == binding.source or other.source in chosen

    host_map = build(members, skip=left_out)
    for port in chosen.values():
        host_map.add(Claim(None, binding.spec.protocol, binding.spec.host_ip, port, port, False))
    return host_map


def _base_port(service: Service, project: Project, binding: PortBinding) -> int | None:
    """The earlier files' port for the same container port: what an offset applies to."""
    for other in service.ports:
        if (
            other.spec.target == binding.spec.target
            and other.host_range is not None
            and other.source.file not in project.files[1:]
        ):
            return other.host_range[0]
    return None


def _lowest(
    maps: list[HostPortMap],
    binding: PortBinding,
    exclude: set[int],
    config: Config | None,
    service: Service,
    project: Project,
    base: int,
) -> int | None:
    protocol, ip = binding.spec.protocol, binding.spec.host_ip

    def lowest(start: int, end: int) -> int | None:
        # The lowest port free on every machine the stack runs on.
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

    category = policy.category(config, service.name, service.image)
    if category is not None:
        port = lowest(category.start, category.end)
        if port is not None:
            return port
    offset = _offset(config, project)
    if offset:
        shifted = base + offset
        if 1024 <= shifted <= 65535 and lowest(shifted, shifted) == shifted:
            return shifted
    ephemeral = policy.ephemeral_range(config)
    return lowest(1024, ephemeral[0] - 1) or lowest(ephemeral[1] + 1, 65535)


def _offset(config: Config | None, project: Project) -> int:
    """The offset of the environment the stack is (named after it, or the only one)."""
    if config is None:
        return 0
    if project.stack in config.environments:
        return policy.offset(config, project.stack)
    if len(config.environments) == 1:
        return policy.offset(config, next(iter(config.environments)))
    return 0


def _where(binding: PortBinding) -> str:
    src = binding.source
    return f"{src.file}:{src.line}:{src.column}"
