"""host-port-conflict (CP101): two bindings that collide at run time.

What it reports
    Two port bindings that the Docker engine cannot both make: the same protocol, overlapping host
    ports, the same address family, and equal host IPs or one of them the unspecified address
    (a binding without a host IP takes both 0.0.0.0 and ::). It looks within a stack, across its
    files after merging, and across the stacks that a `hosts:` group of the config runs on one
    machine. Ports that come from variables are compared at their resolved value (the `.env`
    value, or the default). A service with `scale` or `deploy.replicas` above 1 and a fixed host
    port collides with itself.

    A host range mapped to one container port (`"8000-8010:80"`) is a pool: the engine takes one
    free port out of it. A pool is an error only when the other bindings leave it no free port,
    and a warning when they overlap it.

Why
    `docker compose up` stops with `Bind for 0.0.0.0:8000 failed: port is already allocated`,
    usually at deploy time, on the machine where the stacks finally meet.

Bad
    # stack api (compose.yaml) and stack mcp (mcp/compose.yaml) on host prod
    - "8000:8000"
    - "8000:8000"

Good
    - "8000:8000"
    - "8001:8000"

How to fix
    Give one of the bindings another host port (the policy range of its category is a good
    place: `compose-ports fix --remap` picks the lowest free one for override files), or bind
    them to different host IPs.

One finding per host and colliding pair, at the binding that comes later in file order, with the
other binding in `related`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from compose_ports.findings import Severity
from compose_ports.hostmap import Collision, HostPortMap, claim_for
from compose_ports.model import PortBinding, Project, Service
from compose_ports.rules.base import (
    REMAP_COMMAND,
    Action,
    Example,
    Fix,
    LintContext,
    MoveHostPort,
    Problem,
    describe,
    related,
    where,
)

CODE = "CP101"
NAME = "host-port-conflict"
SEVERITY = Severity.ERROR
OPTIONS: dict = {}
SUMMARY = "Two bindings collide at run time (port is already allocated)."
FIX = Fix(
    REMAP_COMMAND,
    "moves a colliding port that an override file sets to a free port of the machine",
)

EXAMPLES = (
    Example(
        "two services of one stack",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                '    ports: ["8080:80"]\n'
                "  admin:\n"
                "    image: adminer\n"
                '    ports: ["127.0.0.1:8080:8080"]\n'
            )
        },
        expect=(("compose.yaml", 7, 13),),
    ),
    Example(
        "tcp and udp, or two addresses, do not collide",
        {
            "compose.yaml": (
                "services:\n"
                "  dns:\n"
                "    image: coredns/coredns\n"
                '    ports: ["53:53/udp", "127.0.0.1:8053:53"]\n'
                "  web:\n"
                "    image: nginx\n"
                '    ports: ["53:53", "127.0.0.2:8053:80"]\n'
            )
        },
    ),
    Example(
        "a fixed host port with replicas",
        {
            "compose.yaml": (
                "services:\n"
                "  worker:\n"
                "    image: worker\n"
                "    deploy:\n"
                "      replicas: 3\n"
                '    ports: ["9000:9000"]\n'
            )
        },
        expect=(("compose.yaml", 6, 13),),
    ),
)


class _Key(NamedTuple):
    order: tuple[int, int, int, int]
    project: Project
    service: Service
    binding: PortBinding


def _ordered(project: Project, stack_index: int) -> list[tuple[Service, PortBinding, tuple]]:
    files = {f: i for i, f in enumerate(project.files)}
    entries = []
    for service in project.active_services:
        for binding in service.ports:
            src = binding.source
            order = (stack_index, files.get(src.file, len(files)), src.line, src.column)
            entries.append((service, binding, order))
    entries.sort(key=lambda e: e[2])
    return entries


def _map(projects: list[Project]) -> HostPortMap:
    host_map = HostPortMap()
    for index, project in enumerate(projects):
        for service, binding, order in _ordered(project, index):
            claim = claim_for(
                binding, _Key(order, project, service, binding), replicas=service.replicas or 1
            )
            if claim is not None:
                host_map.add(claim)
    return host_map


def _problem(collision: Collision, host: str | None) -> Problem:
    later: _Key = collision.second.key
    earlier: _Key = collision.first.key
    binding = later.binding
    on_host = f" on host {host}" if host else ""
    if later is earlier or collision.first is collision.second:
        replicas = later.service.replicas or 1
        message = (
            f"{describe(binding)} of {later.service.name} has {replicas} replicas: "
            "every replica after the first needs the same host port"
        )
        return Problem(
            binding.source, message, later.project, later.service.name, host, binding=binding
        )
    start, end = collision.ports
    ports = str(start) if start == end else f"{start}-{end}"
    other = f"{earlier.service.name} ({where(earlier.project)})"
    if collision.certain:
        if collision.first.pool or collision.second.pool:
            message = f"{describe(binding)} of {later.service.name}: no free port left in the pool"
            message += f", {ports} is taken by {other}{on_host}"
        else:
            message = (
                f"host port {ports}/{binding.spec.protocol} of {later.service.name} is already "
                f"bound by {other}{on_host}"
            )
        severity = None
    else:
        message = (
            f"{describe(binding)} of {later.service.name} overlaps {other} on {ports}{on_host}: "
            "the pool still has free ports"
        )
        severity = Severity.WARNING
    return Problem(
        binding.source,
        message,
        later.project,
        later.service.name,
        host,
        (related(earlier.binding, earlier.project),),
        severity,
        # Only a port an override file sets is moved: base files are the team's plan.
        fixable=binding.source.file in later.project.files[1:],
        binding=binding,
        others=(earlier.binding,),
    )


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for collision in _map([project]).collisions():
            yield _problem(collision, None)
    for (config, host), projects in context.workspace.hosts().items():
        members = config.hosts[host]
        projects = sorted(projects, key=lambda p: members.index(p.stack))
        for collision in _map(projects).collisions():
            if collision.first.key.project is collision.second.key.project:
                continue  # reported once, for the stack itself
            yield _problem(collision, host)


def fix(problem: Problem) -> Iterator[Action]:
    assert problem.binding is not None
    yield MoveHostPort(problem.project, problem.binding, problem.host)
