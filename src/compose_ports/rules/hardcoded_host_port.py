"""hardcoded-host-port (CP301): a literal host port where an env-variable one belongs.

What it reports
    A host port written as a literal number instead of coming from a variable with today's value
    as its default.

Why
    A literal port can only be changed by editing the compose file. With
    `"${POSTGRES_PORT:-5432}:5432"` each machine sets its own port in `.env` (or per
    environment), and the compose file stays the same everywhere.

Bad
    - "5432:5432"

Good
    - "${POSTGRES_PORT:-5432}:5432"

How to fix
    `compose-ports fix` rewrites every literal host port to that form, byte for byte otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity
from compose_ports.model import Origin
from compose_ports.rules.base import Example, LintContext, Problem, bindings, describe

CODE = "CP301"
NAME = "hardcoded-host-port"
SEVERITY = Severity.INFO
OPTIONS: dict = {}
SUMMARY = "A literal host port where an env-variable one belongs."

EXAMPLES = (
    Example(
        "a literal port",
        {
            "compose.yaml": (
                "services:\n"
                "  db:\n"
                "    image: postgres\n"
                "    ports:\n"
                '      - "5432:5432"\n'
                '      - "${METRICS_PORT:-9187}:9187"\n'
            )
        },
        expect=(("compose.yaml", 5, 9),),
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for _, binding in bindings(project):
            if binding.origin is Origin.LITERAL and binding.host_range is not None:
                yield Problem(
                    binding.source,
                    f"{describe(binding)} of {binding.service} is hard-coded; "
                    "`compose-ports fix` moves it to an env variable",
                    project,
                    binding.service,
                    fixable=not binding.shared,
                )
