"""invalid-port (CP102): a port that Docker Compose or the engine rejects.

What it reports
    Ports outside 0-65535 (long-syntax `published` too, which `docker compose config` does not
    check but the engine refuses), reversed ranges, host and container ranges of different
    lengths, unknown protocols, host IPs that are not IP addresses, float, bool or null ports,
    entries without a target port; and unquoted numbers with a leading zero (`published: 0120`),
    which Compose reads as octal (80) where people and YAML 1.2 tools read 120. A long-syntax
    `protocol: foo`, which `config` passes and the engine refuses ("invalid transport
    protocol"), too.

    Checked against a real engine (dockerd 20.10; tests/test_engine_conflicts.py). `target: 0`
    is reported as current Docker has it (no container port); dockerd 20.10 differs: it starts
    the container, holding the published port for container port 0.

Why
    Compose refuses the whole project (`invalid hostPort: 70000`), or the engine refuses the
    container at `up` (`invalid port specification`), or the port is not the one people read.

Bad
    - "70000:80"
    - target: 80
      published: 0120

Good
    - "7000:80"
    - target: 80
      published: "120"

How to fix
    Write the port Compose should publish: a number from 1 to 65535, a range `a-b` with a <= b
    and as many host as container ports, tcp, udp or sctp; quote numbers with leading zeros.

The message is Compose's own where Compose has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compose_ports.findings import Severity
from compose_ports.model import Diagnostic, Source
from compose_ports.rules.base import (
    Example,
    LintContext,
    Option,
    Problem,
    bindings,
)
from compose_ports.yamlread import go_int

CODE = "CP102"
NAME = "invalid-port"
SEVERITY = Severity.ERROR
OPTIONS: dict[str, Option] = {}
SUMMARY = "A port that Docker Compose or the engine rejects."
FIX = None

EXAMPLES = (
    Example(
        "out of range and reversed",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                '      - "70000:80"\n'
                '      - "8000-7000:80"\n'
                '      - "8080:80"\n'
            )
        },
        expect=(("compose.yaml", 5, 9), ("compose.yaml", 6, 9)),
    ),
    Example(
        "an octal-looking long-syntax port",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                "      - target: 80\n"
                "        published: 0120\n"
            )
        },
        expect=(("compose.yaml", 6, 20),),
    ),
)

_LEADING_ZERO = re.compile(r"^[+-]?0[0-9_]+$")


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        for diagnostic in project.diagnostics:
            if diagnostic.kind == "port" and diagnostic.file:
                yield Problem(
                    _source(diagnostic),
                    diagnostic.message,
                    project,
                    diagnostic.service,
                )
        for _, binding in bindings(project):
            if not binding.quoted and _LEADING_ZERO.match(binding.raw):
                value = go_int(binding.raw)
                yield Problem(
                    binding.source,
                    f"unquoted {binding.raw} is octal to Compose: it publishes {value}, "
                    f"not {int(binding.raw.replace('_', ''), 10)}; quote it or drop the zero",
                    project,
                    binding.service,
                )


def _source(diagnostic: Diagnostic) -> Source:
    return Source(diagnostic.file or "", diagnostic.line, diagnostic.column)
