"""duplicate-port-entry (CP303): an entry Compose drops as a duplicate of another.

What it reports
    A port entry with the same unicity key as another entry of the same service (the same text,
    or the same host IP, host port, container port and protocol once normalized), in one file or
    across the files of a stack. Compose keeps one of them, at the first one's place.

Why
    It does nothing, and it hides what the author meant: often an override that repeats the base
    file's port, believing it replaces it.

Bad
    - "8000:8000"
    - "0.0.0.0:8000:8000"

Good
    - "8000:8000"

How to fix
    Delete the repeated entry.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Related, Severity
from compose_ports.rules.base import (
    Example,
    LintContext,
    Option,
    Problem,
)

CODE = "CP303"
NAME = "duplicate-port-entry"
SEVERITY = Severity.WARNING
OPTIONS: dict[str, Option] = {}
SUMMARY = "A port entry Compose drops as a duplicate of another in the same service."
FIX = None

EXAMPLES = (
    Example(
        "the same port twice",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                '      - "8000:8000"\n'
                '      - "0.0.0.0:8000:8000"\n'
            )
        },
        expect=(("compose.yaml", 6, 9),),
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for service in project.active_services:
            for duplicate in service.duplicates:
                kept = duplicate.kept
                yield Problem(
                    duplicate.source,
                    f"this entry of {service.name} repeats the one at line {kept.line}"
                    f"{'' if kept.file == duplicate.source.file else ' of another file'}: "
                    "Compose keeps only one",
                    project,
                    service.name,
                    related=(Related(kept.file, kept.line, kept.column, service.name),),
                )
