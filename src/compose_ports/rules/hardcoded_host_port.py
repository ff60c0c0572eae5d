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
from typing import TYPE_CHECKING

from compose_ports.findings import Severity
from compose_ports.model import Origin
from compose_ports.rules.base import (
    FIX_COMMAND,
    Example,
    Fix,
    LintContext,
    Option,
    Problem,
    bindings,
    describe,
)

if TYPE_CHECKING:
    from compose_ports.rules.actions import Action

CODE = "CP301"
NAME = "hardcoded-host-port"
SEVERITY = Severity.INFO
OPTIONS: dict[str, Option] = {}
SUMMARY = "A literal host port where an env-variable one belongs."
FIX = Fix(FIX_COMMAND, "writes the host port as ${NAME:-PORT}, today's port as the default")

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
        fixed={
            "compose.yaml": (
                "services:\n"
                "  db:\n"
                "    image: postgres\n"
                "    ports:\n"
                '      - "${DB_5432_PORT:-5432}:5432"\n'
                '      - "${METRICS_PORT:-9187}:9187"\n'
            )
        },
    ),
    Example(
        "long syntax",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                "      - target: 80\n"
                "        published: 8080\n"
            )
        },
        expect=(("compose.yaml", 6, 20),),
        fixed={
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                "      - target: 80\n"
                '        published: "${WEB_PORT:-8080}"\n'
            )
        },
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
                    # One scalar that several services reach (an alias, extends) cannot carry
                    # a name for each: `fix` leaves it, with a note.
                    fixable=not binding.shared,
                    not_fixed=SHARED if binding.shared else None,
                    binding=binding,
                )


SHARED = (
    "this port is reached by several services (an alias or extends), "
    "and one scalar cannot carry two names"
)


def fix(problem: Problem) -> Iterator[Action]:
    from compose_ports.rules.actions import RenameHostPort

    assert problem.binding is not None
    yield RenameHostPort(problem.project, problem.binding)
