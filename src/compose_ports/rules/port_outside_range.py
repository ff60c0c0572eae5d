"""port-outside-range (CP201): a host port outside its category's range in the policy.

What it reports
    A host port outside the range that the config's `ranges` give the service's category. A
    service joins a category by its name (`services:` globs, checked first) or its image
    (`images:` globs).

Why
    The ranges are the team's allocation plan: ports that stray from it collide later, with
    something that was planned.

Bad
    # ranges: {monitoring: {ports: 9000-9999, images: ["grafana/loki*"]}}
    loki:
      image: grafana/loki:3.1.1
      ports: ["3100:3100"]

Good
    ports: ["9100:3100"]

How to fix
    Move the host port into the range (`compose-ports suggest SERVICE` names the lowest free
    one), or put the service in the right category.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity, set_here
from compose_ports.rules.base import (
    Example,
    LintContext,
    Option,
    Problem,
    describe,
)

CODE = "CP201"
NAME = "port-outside-range"
SEVERITY = Severity.WARNING
OPTIONS: dict[str, Option] = {}
SUMMARY = "A host port outside its category's range in the policy."
FIX = None

EXAMPLES = (
    Example(
        "loki outside the monitoring range",
        {
            "compose.yaml": (
                "services:\n"
                "  loki:\n"
                "    image: grafana/loki:3.1.1\n"
                '    ports: ["3100:3100"]\n'
                "  prometheus:\n"
                "    image: prom/prometheus\n"
                '    ports: ["9090:9090"]\n'
            )
        },
        config=(
            "ranges:\n  monitoring:\n    ports: 9000-9999\n"
            '    images: ["grafana/loki*", "prom/*"]\n'
        ),
        expect=(("compose.yaml", 4, 13),),
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for service in project.active_services:
            category = context.category(service, project)
            if category is None:
                continue
            for binding in service.ports:
                rng = binding.host_range
                if rng is None or (category.start <= rng[0] and rng[1] <= category.end):
                    continue
                yield Problem(
                    binding.source,
                    f"{describe(binding)} of {service.name} is outside the {category.name} "
                    f"range {category.start}-{category.end}",
                    project,
                    service.name,
                    related=set_here(binding.setting),
                )
