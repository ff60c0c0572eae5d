"""ports-ignored (CP402): `ports` on a service whose network mode cannot publish them.

What it reports
    `ports` on a service with `network_mode: host` (the engine discards them with a warning: the
    container binds the host's ports directly) or `network_mode: service:...` /
    `container:...` (the engine refuses to create the container: "conflicting options: port
    publishing and the container type network mode").

Why
    `docker compose config` accepts both without a word; the first publishes nothing of what the
    file says, the second fails at `up`.

Bad
    network_mode: host
    ports: ["8080:8080"]

Good
    network_mode: host      # and no ports: the app's own ports are the host's

How to fix
    Drop `ports` (with host networking the application's ports are the host's), or drop
    `network_mode` and publish the ports. With `service:`, publish them on that service.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity
from compose_ports.rules.base import (
    Example,
    LintContext,
    Option,
    Problem,
)

CODE = "CP402"
NAME = "ports-ignored"
SEVERITY = Severity.WARNING
OPTIONS: dict[str, Option] = {}
SUMMARY = "ports on a service with network_mode host, service: or container:."
FIX = None

EXAMPLES = (
    Example(
        "host networking",
        {
            "compose.yaml": (
                "services:\n"
                "  app:\n"
                "    image: app\n"
                "    network_mode: host\n"
                '    ports: ["8080:8080"]\n'
            )
        },
        expect=(("compose.yaml", 5, 13),),
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for service in project.active_services:
            mode = service.network_mode or ""
            if not service.ports:
                continue
            if mode == "host":
                why = "the engine discards published ports with network_mode: host"
            elif mode.startswith(("service:", "container:")):
                why = f"the engine refuses published ports with network_mode: {mode}"
            else:
                continue
            for binding in service.ports:
                yield Problem(binding.source, why, project, service.name)
