"""malformed-suppression (CP501): a suppression comment that silences nothing, being malformed.

What it reports
    A `# compose-ports:` comment that does not parse, so that it silences nothing: an unknown
    directive (`ingore`), a rule list without its `]`, an unknown rule in the list (with the
    near miss), `ignore-file` below the comment block at the top of the file, or codes written
    without brackets (`ignore CP101`). A rule's name without brackets
    (`ignore host-port-conflict`) is reported too: as written, it silences every rule.

Why
    A suppression that quietly does not work is worse than none: the finding it was meant to
    silence comes back, or every rule on the line is silenced when one was meant.

Bad
    - "8080:80"  # compose-ports: ignore CP101

Good
    - "8080:80"  # compose-ports: ignore[CP101] the dev proxy takes it first

How to fix
    Write it as `# compose-ports: ignore[CODES] reason`, `ignore` alone, or `ignore-file` at
    the top of the file.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.didyoumean import near
from compose_ports.findings import Severity
from compose_ports.model import Source
from compose_ports.rules.base import Example, LintContext, Option, Problem

CODE = "CP501"
NAME = "malformed-suppression"
SEVERITY = Severity.WARNING
OPTIONS: dict[str, Option] = {}
SUMMARY = "A suppression comment that does not parse, and so silences nothing."
FIX = None
AFTER_SUPPRESSIONS = True

EXAMPLES = (
    Example(
        "rules without brackets, an unknown rule",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                '      - "8080:80"  # compose-ports: ignore CP101\n'
                '      - "8443:443"  # compose-ports: ignore[CP1O1]\n'
                '      - "9000:9000"  # compose-ports: ignore[CP301] a reason, after\n'
            )
        },
        expect=(("compose.yaml", 5, 20), ("compose.yaml", 6, 21)),
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    from compose_ports.rules import BY_KEY

    for use in context.markers:
        marker = use.marker
        problem = marker.problem
        if problem is None and marker.codes is not None:
            unknown = [c for c in marker.codes if c not in BY_KEY]
            if unknown:
                problem = f"unknown rule {unknown[0]!r}{near(unknown[0], BY_KEY)}"
        elif problem is None and marker.codes is None and not marker.whole_file:
            first = marker.reason.split(maxsplit=1)[0].rstrip(",") if marker.reason else ""
            if first in BY_KEY:
                yield Problem(
                    Source(use.file, marker.line, marker.column),
                    f"this suppression silences every rule: write the rules in brackets, "
                    f"ignore[{first}]",
                    use.project,
                )
                continue
        if problem is not None:
            yield Problem(
                Source(use.file, marker.line, marker.column),
                f"this suppression silences nothing: {problem}",
                use.project,
            )
