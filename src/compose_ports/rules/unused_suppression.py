"""unused-suppression (CP502): a suppression comment that silenced nothing (off by default).

What it reports
    A `# compose-ports: ignore[...]` comment (or `ignore-file`) that silenced no finding in this
    run: the port it was written for has moved, or the finding is gone. For a comment naming
    rules, the rules that ran and found nothing there are named; rules that did not run
    (`--select`) are not judged.

    Off by default: turn it on with `--select CP502` or in the config
    (`rules: {unused-suppression: warning}`).

Why
    A stale suppression waits to hide the next real finding on that line.

Bad
    - "8080:80"  # compose-ports: ignore[CP101] (no conflict on this line any more)

Good
    - "8080:80"

How to fix
    Delete the comment, or the rules it no longer needs.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity
from compose_ports.model import Source
from compose_ports.rules.base import Example, LintContext, Option, Problem

CODE = "CP502"
NAME = "unused-suppression"
SEVERITY = Severity.WARNING
OPTIONS: dict[str, Option] = {}
SUMMARY = "A suppression comment that silenced nothing (off by default)."
FIX = None
AFTER_SUPPRESSIONS = True
ENABLED = False

EXAMPLES = (
    Example(
        "a conflict that is gone",
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n"
                "    image: nginx\n"
                "    ports:\n"
                '      - "${WEB_PORT:-8080}:80"  # compose-ports: ignore[CP101] proxy\n'
                '      - "8080:8080"  # compose-ports: ignore[CP301]\n'
            )
        },
        expect=(("compose.yaml", 5, 33),),
        config="rules:\n  unused-suppression: warning\n",
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    from compose_ports.rules import BY_KEY

    for use in context.markers:
        marker = use.marker
        if marker.problem is not None:
            continue  # malformed-suppression says why
        if marker.codes is None:
            if not use.silenced:
                what = "ignore-file" if marker.whole_file else "ignore"
                message = f"this {what} silenced nothing"
            else:
                continue
        else:
            codes = [BY_KEY[c].CODE for c in marker.codes if c in BY_KEY]
            idle = [c for c in dict.fromkeys(codes) if c in context.ran and c not in use.silenced]
            if not idle:
                continue
            message = f"ignore[{', '.join(idle)}] silenced nothing here"
        yield Problem(Source(use.file, marker.line, marker.column), message, use.project)
