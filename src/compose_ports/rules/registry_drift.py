"""registry-drift (CP204): a host port that differs from the team's registry.

What it reports
    On the hosts that the config's `registry.hosts` names (every stack when it names none), a
    service that publishes a host port other than the one `registry.ports` assigns it, or a port
    that the registry assigns to another service.

Why
    The registry is where people look up which port is whose; a stack that drifts from it
    collides with the service that the registry promised the port to.

Bad
    # registry: {ports: {api: 8000}}
    personas:
      ports: ["8000:8000"]

Good
    personas:
      ports: ["8007:8000"]

How to fix
    Publish the registered port, or update the registry (`compose-ports map --format markdown`
    prints the current one).
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports import policy
from compose_ports.findings import Severity, set_here
from compose_ports.model import PortBinding, Project
from compose_ports.rules.base import (
    Example,
    LintContext,
    Option,
    Problem,
    describe,
)

CODE = "CP204"
NAME = "registry-drift"
SEVERITY = Severity.WARNING
OPTIONS: dict[str, Option] = {}
SUMMARY = "A host port that differs from the registry."
FIX = None

EXAMPLES = (
    Example(
        "another service takes a registered port",
        {
            "compose.yaml": (
                "services:\n"
                "  api:\n"
                "    image: api\n"
                '    ports: ["8001:8000"]\n'
                "  personas:\n"
                "    image: personas\n"
                '    ports: ["8000:8000"]\n'
            )
        },
        config="registry:\n  ports:\n    api: 8000\n",
        expect=(("compose.yaml", 4, 13), ("compose.yaml", 7, 13)),
    ),
)


def _governed(context: LintContext) -> Iterator[Project]:
    """The projects the registry speaks for: those on its hosts, or all when it names none."""
    on_hosts = {
        id(p)
        for (config, host), projects in context.workspace.hosts().items()
        if host in config.registry_hosts
        for p in projects
    }
    for project in context.projects:
        config = context.config(project)
        if config is None or not config.registry_ports:
            continue
        if not config.registry_hosts or id(project) in on_hosts:
            yield project


def _holds(binding: PortBinding, port: int) -> bool:
    start, end = binding.host_range or (0, -1)
    return start <= port <= end


def check(context: LintContext) -> Iterator[Problem]:
    for project in _governed(context):
        config = context.config(project)
        assert config is not None
        owners = policy.registry_owners(config)
        for service in project.active_services:
            fixed = [b for b in service.ports if b.host_range is not None]
            assigned = policy.registered(config, service.name)
            if assigned is not None and fixed and not any(_holds(b, assigned) for b in fixed):
                yield Problem(
                    fixed[0].source,
                    f"{service.name} publishes {describe(fixed[0])}, but the registry "
                    f"assigns it {assigned}",
                    project,
                    service.name,
                    related=set_here(fixed[0].setting),
                )
            for binding in fixed:
                start, end = binding.host_range or (0, -1)
                for port in sorted(p for p in owners if start <= p <= end):
                    if owners[port] != service.name:
                        yield Problem(
                            binding.source,
                            f"{service.name} publishes {describe(binding)}, but the registry "
                            f"assigns {port} to {owners[port]}",
                            project,
                            service.name,
                            related=set_here(binding.setting),
                        )
