"""The names `fix` gives the variables of host ports (config `env.variable`).

Placeholders: {SERVICE}, {TARGET}, {PROTOCOL}, {STACK}. With the default `{SERVICE}_PORT`:
`{SERVICE}_{TARGET}_PORT` when a service publishes several host ports, `_UDP`/`_SCTP` for those
protocols, and the stack's name in front for a binding that a later file of the stack sets (the
development override's `api` becomes DEVELOPMENT_API_PORT, the production one API_PORT).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from compose_ports.model import PortBinding, Project, Service, Source

_NOT_NAME = re.compile(r"[^A-Z0-9_]")


@dataclass(frozen=True)
class Target:
    """One host-port scalar to name: the binding that reads it, in the stack that reads it."""

    project: Project
    service: Service
    binding: PortBinding


def sanitize(name: str) -> str:
    """Upper case, `[A-Z0-9_]` only, no leading digit: names Compose can interpolate."""
    name = _NOT_NAME.sub("_", name.upper())
    return f"_{name}" if not name or name[0].isdigit() else name


def base_name(target: Target, template: str) -> str:
    binding, service, project = target.binding, target.service, target.project
    protocol = binding.spec.protocol.lower()
    # A range entry expands to many bindings of one scalar: count each scalar once, by its
    # first container port.
    first_target: dict[Source, int] = {}
    for b in service.ports:
        if b.host_range:
            first_target.setdefault(b.source, b.spec.target)
    several = len(set(first_target.values())) > 1
    pattern = template
    if several and "{TARGET}" not in pattern:
        pattern = (
            pattern[: -len("_PORT")] + "_{TARGET}_PORT"
            if pattern.endswith("_PORT")
            else pattern + "_{TARGET}"
        )
    if protocol != "tcp" and "{PROTOCOL}" not in pattern:
        pattern += "_{PROTOCOL}"
    stack = project.stack or project.name
    # A later file of the stack (an override), not a file reached through extends or include.
    later_file = binding.source.file in project.files[1:]
    if later_file and "{STACK}" not in pattern:
        pattern = "{STACK}_" + pattern
    name = (
        pattern.replace("{SERVICE}", service.name)
        .replace("{TARGET}", str(binding.spec.target))
        .replace("{PROTOCOL}", protocol)
        .replace("{STACK}", stack)
    )
    return sanitize(name)


def assign(
    targets: Iterable[Target], template: Callable[[Target], str], taken: set[str]
) -> dict[Source, str]:
    """A name per scalar, never one name for two scalars nor one the environment defines.

    Deterministic: scalars are named in file order, and `_2`, `_3`, ... resolve clashes.
    """
    names: dict[Source, str] = {}
    used = set(taken)
    for target in sorted(targets, key=lambda t: t.binding.source):
        source = target.binding.source
        if source in names:
            continue
        name = base_name(target, template(target))
        candidate, suffix = name, 2
        while candidate in used:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        names[source] = candidate
        used.add(candidate)
    return names
