"""host-port-conflict (CP101): two bindings that collide at run time.

What it reports
    Two port bindings that the Docker engine cannot both make: the same protocol, overlapping host
    ports, the same address family, and equal host IPs or one of them the unspecified address
    (a binding without a host IP takes both 0.0.0.0 and ::). It looks within a stack, across its
    files after merging, and across the stacks that a `hosts:` group of the config runs on one
    machine. Ports that come from variables are compared at their resolved value (the `.env`
    value, or the default). A service with `scale` or `deploy.replicas` above 1 and a fixed host
    port collides with itself.

    The engine starts bindings in order (the `hosts:` group's stacks in turn, each stack's files,
    then lines), and a later binding is the one refused. A host range mapped to one container
    port (`"8000-8010:80"`) is a pool: at its start the engine takes whichever of its ports is
    free. So a pool is an error when the bindings before it (and the pools before it inside its
    range) leave it no free port; a binding after a pool is an error only when the pool had no
    choice but to take its port, and a warning when it depends on the port the pool drew.

    Only what the engine publishes counts: not the ports of a service with `network_mode` host,
    none, `service:` or `container:` (ports-ignored says why), with `scale: 0` or
    `deploy.replicas: 0`, or whose every network is `internal`; and a port without a host IP
    on a network with `com.docker.network.bridge.host_binding_ipv4` binds that address only.

    Checked against a real engine (dockerd 20.10; tests/test_engine_conflicts.py). Where 20.10
    differs from current Docker, this rule follows current Docker: 20.10 may hand a pool a port
    another host IP holds and not retry, may allocate a container's pool before its own fixed
    port and take it, and takes an unset pool's IPv4 and IPv6 ports apart.

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

One host port taken many times is one story: of N bindings that collide, each one after the
first (in the order of the `hosts:` group's stacks, then each stack's files, then lines) gets one
finding, which names the first binding it collides with (the first it collides with for certain,
if a pool's overlap comes before it), lists the first few others in `related`, and counts the
rest. A binding is reported for its own stack when the stack alone makes it collide, wherever the
stack runs; otherwise for each host where it collides with an earlier stack's binding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple, cast

from compose_ports.findings import Severity, set_here
from compose_ports.hostmap import Claim, Conflict, HostPortMap, build
from compose_ports.model import PortBinding, Project, Service
from compose_ports.rules.base import (
    REMAP_COMMAND,
    Example,
    Fix,
    LintContext,
    Option,
    Problem,
    describe,
    related,
    where,
)

if TYPE_CHECKING:
    from compose_ports.rules.actions import Action

CODE = "CP101"
NAME = "host-port-conflict"
SEVERITY = Severity.ERROR
OPTIONS: dict[str, Option] = {}
SUMMARY = "Two bindings collide at run time (port is already allocated)."
# At most this many other bindings are listed with a finding; the rest are counted.
RELATED = 3
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
        "an override's port moves to a free one of its range",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                '    ports: ["8080:80"]\n'
                "  admin:\n"
                "    image: adminer\n"
                '    ports: ["8081:8080"]\n'
            ),
            "compose.override.yaml": ('services:\n  admin:\n    ports: !override ["8080:8080"]\n'),
        },
        expect=(("compose.override.yaml", 3, 23),),
        config=(
            "ranges:\n  web: {ports: 8000-8999, services: [web, admin]}\n"
            "rules:\n  hardcoded-host-port: off\n"
        ),
        fixed={
            "compose.override.yaml": ('services:\n  admin:\n    ports: !override ["8000:8080"]\n'),
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


def _map(projects: list[Project]) -> HostPortMap:
    files = {id(p): {f: i for i, f in enumerate(p.files)} for p in projects}
    index = {id(p): i for i, p in enumerate(projects)}

    def key(project: Project, service: Service, binding: PortBinding) -> _Key:
        src = binding.source
        order = files[id(project)]
        place = (index[id(project)], order.get(src.file, len(order)), src.line, src.column)
        return _Key(place, project, service, binding)

    return build(projects, key)


def _key(claim: Claim) -> _Key:
    # The map keeps whatever key it was given; this rule gives it a _Key.
    return cast(_Key, claim.key)


def _replicas(conflict: Conflict) -> Problem:
    key = _key(conflict.claim)
    binding = key.binding
    message = (
        f"{describe(binding)} of {key.service.name} has {key.service.replicas or 1} replicas: "
        "every replica after the first needs the same host port"
    )
    return Problem(
        binding.source,
        message,
        key.project,
        key.service.name,
        related=set_here(binding.setting),
        binding=binding,
    )


def _also(others: list[_Key], rest: int) -> str:
    """`; it also collides with a, b (stack s), c (stack t) and 1,994 other bindings`."""
    if not others and not rest:
        return ""
    groups: list[tuple[str, list[str]]] = []
    for key in others:
        place = where(key.project)
        if groups and groups[-1][0] == place:
            groups[-1][1].append(key.service.name)
        else:
            groups.append((place, [key.service.name]))
    text = ", ".join(f"{', '.join(names)} ({place})" for place, names in groups)
    if rest:
        noun = "binding" if rest == 1 else "bindings"
        text = f"{text} and {rest:,} other {noun}" if text else f"{rest:,} other {noun}"
    return f"; it also collides with {text}"


def _problem(conflict: Conflict, host: str | None) -> Problem:
    cause = conflict.cause
    assert cause is not None
    later = _key(conflict.claim)
    earlier = _key(cause.first)
    binding = later.binding
    on_host = f" on host {host}" if host else ""
    start, end = cause.ports
    ports = str(start) if start == end else f"{start}-{end}"
    other = f"{earlier.service.name} ({where(earlier.project)})"
    if cause.certain:
        if cause.first.pool or cause.second.pool:
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
    # The one named comes first; then the first of the others, wherever they are in the order.
    partners = (c.second if c.first is conflict.claim else c.first for c in conflict.first)
    shown = [earlier, *(_key(p) for p in partners if p is not cause.first)][:RELATED]
    message += _also(shown[1:], conflict.others - len(shown))
    return Problem(
        binding.source,
        message,
        later.project,
        later.service.name,
        host,
        # The other bindings, then the env file lines that set either side's port.
        tuple(related(key.binding, key.project) for key in shown)
        + set_here(binding.setting, earlier.binding.setting),
        severity,
        # Only a port an override file sets is moved, either side's: base files are the plan.
        fixable=_in_override(later) or _in_override(earlier),
        binding=binding,
        others=((earlier.project, earlier.binding),),
    )


def _in_override(key: _Key) -> bool:
    return key.binding.source.file in key.project.files[1:]


def check(context: LintContext) -> Iterator[Problem]:
    # Whether each binding a stack reports collides for certain there, by (project, binding).
    reported: dict[tuple[int, int], bool] = {}
    for project in context.projects:
        for conflict in _map([project]).conflicts(RELATED):
            if conflict.itself is not None:
                yield _replicas(conflict)
            if conflict.cause is not None:
                key = _key(conflict.claim)
                reported[id(project), id(key.binding)] = conflict.cause.certain
                yield _problem(conflict, None)
    for (_, host), projects in context.workspace.hosts().items():
        for conflict in _map(projects).conflicts(RELATED):
            cause = conflict.cause
            if cause is None:
                continue
            later = _key(conflict.claim)
            if _key(cause.first).project is later.project:
                continue  # the stack's own conflict: reported once, for the stack itself
            # A binding tells one story: its stack's, unless the host's is graver (a pool
            # overlap in the stack, a sure collision on the host).
            known = reported.get((id(later.project), id(later.binding)))
            if known is not None and (known or not cause.certain):
                continue
            yield _problem(conflict, host)


def fix(problem: Problem) -> Iterator[Action]:
    """Move the reported binding if an override file sets it, else the other one."""
    from compose_ports.rules.actions import MoveHostPort

    assert problem.binding is not None
    if problem.binding.source.file in problem.project.files[1:]:
        yield MoveHostPort(problem.project, problem.binding, problem.host)
    else:
        project, binding = problem.others[0]
        yield MoveHostPort(project, binding, problem.host)
