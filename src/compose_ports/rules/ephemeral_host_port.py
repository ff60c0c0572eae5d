"""ephemeral-host-port (CP203): a host port in the kernel's ephemeral range.

What it reports
    A host port inside the range the kernel hands out to outgoing connections (Linux's
    `net.ipv4.ip_local_port_range`, 32768-60999 by default; set `range` to your hosts' value).

Why
    Any outgoing connection may hold such a port at the moment the container starts, and then
    `docker compose up` fails with `address already in use`, at random.

Bad
    - "45000:80"

Good
    - "8045:80"

How to fix
    Pick a port below the ephemeral range (the policy's ranges are a good place).

Options
    range: the ephemeral range, as `start-end` (default: 32768-60999).
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports import policy
from compose_ports.findings import Severity, set_here
from compose_ports.rules.base import (
    PORT_RANGE,
    Example,
    LintContext,
    Option,
    Problem,
    describe,
)

CODE = "CP203"
NAME = "ephemeral-host-port"
SEVERITY = Severity.WARNING
OPTIONS = {
    "range": Option(
        PORT_RANGE, "32768-60999", "the hosts' ephemeral range; every command avoids it"
    ),
}
SUMMARY = "A host port in the kernel's ephemeral range."
FIX = None

EXAMPLES = (
    Example(
        "a port outgoing connections may hold",
        {"compose.yaml": 'services:\n  app:\n    image: shop\n    ports: ["45000:80"]\n'},
        expect=(("compose.yaml", 4, 13),),
    ),
    Example(
        "a narrower ephemeral range",
        {"compose.yaml": 'services:\n  app:\n    image: shop\n    ports: ["45000:80"]\n'},
        config='rules:\n  ephemeral-host-port:\n    range: "50000-60999"\n',
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        bounds = policy.ephemeral_range(context.config(project))
        for service in project.active_services:
            for binding in service.ports:
                rng = binding.host_range
                if rng is None or rng[1] < bounds[0] or rng[0] > bounds[1]:
                    continue
                yield Problem(
                    binding.source,
                    f"{describe(binding)} of {service.name} is in the ephemeral range "
                    f"{bounds[0]}-{bounds[1]}: an outgoing connection may hold it",
                    project,
                    service.name,
                    related=set_here(binding.setting),
                )
