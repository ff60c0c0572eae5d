"""undefined-port-variable (CP104): a port's variable has no value.

What it reports
    A variable in a port entry that has no value and no default (`"${API_PORT}:8000"` with
    API_PORT set nowhere), and a `${VAR:?message}` in a port that is unset, which makes Compose
    refuse the whole project.

Why
    Compose substitutes an empty string with a warning: the port silently becomes an ephemeral
    one (or a bad entry), and nothing listens where people expect it.

Bad
    - "${API_PORT}:8000"

Good
    - "${API_PORT:-8000}:8000"

How to fix
    Give the variable a default (`${API_PORT:-8000}`), or define it in `.env` or the env file
    the stack is run with.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity
from compose_ports.model import Source
from compose_ports.rules.base import (
    Example,
    LintContext,
    Option,
    Problem,
    bindings,
    describe,
)

CODE = "CP104"
NAME = "undefined-port-variable"
SEVERITY = Severity.ERROR
OPTIONS: dict[str, Option] = {}
SUMMARY = "A port's variable has no value and no default."
FIX = None

EXAMPLES = (
    Example(
        "no value, no default",
        {
            "compose.yaml": (
                "services:\n"
                "  api:\n"
                "    image: api\n"
                "    ports:\n"
                '      - "${API_PORT}:8000"\n'
                '      - "${ADMIN_PORT:-9000}:9000"\n'
            )
        },
        expect=(("compose.yaml", 5, 9),),
    ),
    Example(
        "a value in .env",
        {
            "compose.yaml": 'services:\n  api:\n    image: api\n    ports: ["${API_PORT}:8000"]\n',
            ".env": "API_PORT=8001\n",
        },
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for diagnostic in project.diagnostics:
            if diagnostic.kind == "variable" and diagnostic.file:
                yield Problem(
                    Source(diagnostic.file, diagnostic.line, diagnostic.column),
                    diagnostic.message,
                    project,
                    diagnostic.service,
                )
        for _, binding in bindings(project):
            if binding.unset_variables:
                names = ", ".join(binding.unset_variables)
                yield Problem(
                    binding.source,
                    f"{names} has no value and no default: Compose reads "
                    f"{binding.raw!r} as {describe(binding)}",
                    project,
                    binding.service,
                )
