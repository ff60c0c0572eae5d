"""unquoted-port (CP302): an unquoted `HOST:CONTAINER` entry.

What it reports
    A short-syntax entry with a colon that is not quoted (`- 2222:22`).

Why
    Docker Compose (YAML 1.2) reads it right, but every YAML 1.1 tool in the pipeline (PyYAML,
    older linters, Ansible) reads `22:22` as the base-60 number 1342, and the Compose
    specification asks for quotes.

Bad
    - 2222:22

Good
    - "2222:22"

How to fix
    Quote it; `compose-ports fix` does.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity
from compose_ports.rules.base import Example, LintContext, Problem, bindings

CODE = "CP302"
NAME = "unquoted-port"
SEVERITY = Severity.WARNING
OPTIONS: dict = {}
SUMMARY = "An unquoted HOST:CONTAINER entry (YAML 1.1 reads 22:22 as 1342)."

EXAMPLES = (
    Example(
        "unquoted",
        {
            "compose.yaml": (
                "services:\n"
                "  ssh:\n"
                "    image: sshd\n"
                "    ports:\n"
                "      - 2222:22\n"
                '      - "2223:22"\n'
            )
        },
        expect=(("compose.yaml", 5, 9),),
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for _, binding in bindings(project):
            if not binding.long_syntax and not binding.quoted and ":" in binding.raw:
                yield Problem(
                    binding.source,
                    f"unquoted {binding.raw}: YAML 1.1 tools read it as a number; quote it",
                    project,
                    binding.service,
                    fixable=True,
                )
