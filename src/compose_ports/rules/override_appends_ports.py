"""override-appends-ports (CP103): an override adds a second host port for the same container port.

What it reports
    A later file of a stack (an override such as `docker-compose.override.yml`) adds ports to a
    service that an earlier file already publishes for the same container port and protocol.

Why
    Compose appends an override's `ports` to the base's; it does not replace them. The service
    then publishes both host ports: the dev override meant to move PostgreSQL to 5433 and still
    holds 5432, which is what it wanted to free.

Bad
    # compose.yaml                 # compose.override.yaml
    ports: ["5432:5432"]           ports: ["5433:5432"]

Good
    # compose.override.yaml
    ports: !override ["5433:5432"]

How to fix
    Tag the override's list with `!override` (Compose 2.24.4 and later) so that it replaces the
    base's list, or `!reset []` to publish nothing. `compose-ports fix --remap` does this, and
    keeps the base's other ports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from compose_ports.findings import Severity
from compose_ports.rules.base import (
    REMAP_COMMAND,
    Example,
    Fix,
    LintContext,
    Option,
    Problem,
    describe,
    related,
)

if TYPE_CHECKING:
    from compose_ports.model import PortBinding
    from compose_ports.rules.actions import Action

CODE = "CP103"
NAME = "override-appends-ports"
SEVERITY = Severity.WARNING
OPTIONS: dict[str, Option] = {}
SUMMARY = "An override appends a second host port for a container port the base publishes."
FIX = Fix(
    REMAP_COMMAND,
    "tags the override's ports with !override, keeping the earlier files' other ports",
)

EXAMPLES = (
    Example(
        "the dev override keeps the production port",
        {
            "compose.yaml": 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n',
            "compose.override.yaml": 'services:\n  db:\n    ports: ["5433:5432"]\n',
        },
        expect=(("compose.override.yaml", 3, 13),),
        config="rules:\n  hardcoded-host-port: off\n",
        fixed={
            "compose.yaml": 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n',
            "compose.override.yaml": 'services:\n  db:\n    ports: !override ["5433:5432"]\n',
        },
    ),
    Example(
        "a container-only entry publishes no second host port",
        {
            "compose.yaml": 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n',
            "compose.override.yaml": 'services:\n  db:\n    ports: ["5432"]\n',
        },
    ),
    Example(
        "!override replaces the list",
        {
            "compose.yaml": 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n',
            "compose.override.yaml": 'services:\n  db:\n    ports: !override ["5433:5432"]\n',
        },
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        if len(project.files) < 2:
            continue
        order = {f: i for i, f in enumerate(project.files)}
        for service in project.active_services:
            seen: dict[tuple[int, str], list[PortBinding]] = {}
            entries = sorted(
                (b for b in service.ports if b.source.file in order),
                key=lambda b: (order[b.source.file], b.source.line, b.source.column),
            )
            for binding in entries:
                key = (binding.spec.target, binding.spec.protocol.lower())
                earlier = [
                    b
                    for b in seen.get(key, [])
                    if order[b.source.file] < order[binding.source.file]
                ]
                if earlier and binding.spec.published is not None:
                    base = earlier[0]
                    yield Problem(
                        binding.source,
                        f"{describe(binding)} is appended to {service.name}'s "
                        f"{describe(base)}: Compose publishes both; use `ports: !override` "
                        "to replace the base's ports",
                        project,
                        service.name,
                        related=tuple(related(b, project) for b in earlier),
                        fixable=True,
                        binding=binding,
                        others=tuple((project, b) for b in earlier),
                    )
                seen.setdefault(key, []).append(binding)


def fix(problem: Problem) -> Iterator[Action]:
    from compose_ports.rules.actions import ReplaceEarlierPorts

    assert problem.binding is not None
    yield ReplaceEarlierPorts(problem.project, problem.binding, tuple(b for _, b in problem.others))
