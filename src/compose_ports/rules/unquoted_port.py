"""unquoted-port (CP302): an unquoted entry that YAML 1.1 reads as a number.

What it reports
    A plain (unquoted) short-syntax entry that a YAML 1.1 parser reads as a base-60 number:
    `HOST:CONTAINER` where every part after a colon is 0-59, such as `22:22` (1342) or
    `2222:22` (133342). The message says which number. `8080:8080`, `8080:80/tcp`,
    `127.0.0.1:4317:4317` and `${PORT:-80}:80` are strings to every YAML parser and are not
    reported.

    Option `quote-all: true` reports every unquoted `HOST:CONTAINER` entry instead, for teams
    whose convention is to quote them all, as the Compose specification recommends.

Why
    Docker Compose (go-yaml, YAML 1.2) reads these right, but every YAML 1.1 tool in the
    pipeline (PyYAML, older linters, Ansible's templating) reads `22:22` as the number 1342.

Bad
    - 22:22

Good
    - "22:22"

How to fix
    Quote it; `compose-ports fix` does, and quotes nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from compose_ports.findings import Severity
from compose_ports.rules.base import (
    BOOLEAN,
    FIX_COMMAND,
    Example,
    Fix,
    LintContext,
    Option,
    Problem,
    bindings,
)

if TYPE_CHECKING:
    from compose_ports.rules.actions import Action

CODE = "CP302"
NAME = "unquoted-port"
SEVERITY = Severity.WARNING
OPTIONS = {
    "quote-all": Option(BOOLEAN, False, "report every unquoted HOST:CONTAINER entry"),
}
SUMMARY = "An unquoted entry YAML 1.1 reads as a number (22:22 is 1342)."
FIX = Fix(FIX_COMMAND, "quotes the entry")

EXAMPLES = (
    Example(
        "a base-60 number to YAML 1.1",
        {
            "compose.yaml": (
                "services:\n"
                "  ssh:\n"
                "    image: sshd\n"
                "    ports:\n"
                "      - 2222:22\n"
                "      - 8080:8080\n"
            )
        },
        expect=(("compose.yaml", 5, 9),),
        config="rules:\n  hardcoded-host-port: off\n",
        fixed={
            "compose.yaml": (
                "services:\n"
                "  ssh:\n"
                "    image: sshd\n"
                "    ports:\n"
                '      - "2222:22"\n'
                "      - 8080:8080\n"
            )
        },
    ),
    Example(
        "quote-all: every unquoted HOST:CONTAINER entry",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                "      - 8080:80\n"
                '      - "8443:443"\n'
            )
        },
        expect=(("compose.yaml", 5, 9),),
        config="rules:\n  unquoted-port: {quote-all: true}\n",
    ),
)

# YAML 1.1's sexagesimal integer (yaml.org/type/int.html), the only base-60 form a port entry
# can take: its float form needs a '.', which a port entry never has.
_BASE_60 = re.compile(r"[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+")


def yaml11_number(text: str) -> int | None:
    """The number a YAML 1.1 parser reads a plain scalar as, if it reads a base-60 one."""
    if _BASE_60.fullmatch(text) is None:
        return None
    sign = -1 if text.startswith("-") else 1
    value = 0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + int(part)
    return sign * value


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        quote_all = bool(context.options(project).get("quote-all"))
        for _, binding in bindings(project):
            if binding.long_syntax or binding.quoted or ":" not in binding.raw:
                continue
            number = yaml11_number(binding.raw)
            if number is not None:
                message = (
                    f"unquoted {binding.raw}: YAML 1.1 tools read it as the number {number}; "
                    "quote it"
                )
            elif quote_all:
                message = f"unquoted {binding.raw}: the team quotes every HOST:CONTAINER entry"
            else:
                continue
            yield Problem(
                binding.source,
                message,
                project,
                binding.service,
                fixable=True,
                binding=binding,
            )


def fix(problem: Problem) -> Iterator[Action]:
    from compose_ports.rules.actions import QuoteEntry

    assert problem.binding is not None
    yield QuoteEntry(problem.project, problem.binding)
