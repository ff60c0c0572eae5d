"""`lint --format github`: GitHub Actions workflow commands, shown as annotations on the diff.

    ::error file=shop/compose.yaml,line=12,col=7,title=CP101 host-port-conflict::Host port
    8080/tcp is published by 3 bindings on host staging [service: web, stack: shop, host: staging]
    (also at metrics/compose.yaml:4, shop/compose.dev.yaml:8)
    ::notice title=CP402 registry-out-of-date::The registry lists 2 of the 5 published host ports
    Found 1 error, 1 info in 3 files (12 files read).

(A command is one line; the first one here is wrapped. tests/snapshots/lint_reporters has more.)

- One command per finding: `::error` for errors, `::warning` for warnings, `::notice` for infos;
  `title` is the code and the rule name; the message carries the text format's tail
  (`[service: S, stack: T, host: H]`) and, since an annotation has a single location, the related
  bindings as `(also at path:line, path:line)`.
- `file` is relative to `repository_root` (or `cwd`): GitHub places annotations by the path from the
  repository root. A file outside it keeps its absolute path (GitHub then lists the annotation
  without placing it on a line). A finding without a file has no `file`, `line` or `col`.
- Escaping is GitHub's: in the message, `%` -> `%25`, CR -> `%0D`, LF -> `%0A`; in property values
  also `:` -> `%3A` and `,` -> `%2C`; other control characters are shown as `\\x1b` (see
  `escape`). So no value can end a command or start a line of its own.
- Read and config errors become `::error` commands, placed on their file and line when the error
  has a line; otherwise the message is the text format's line (`path: message`).
- The output ends with the text format's summary line, as a plain log line: Actions shows it in the
  step's log, and it says how many files were read, which annotations do not.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from compose_ports.findings import Finding, Severity
from compose_ports.model import Diagnostic
from compose_ports.reporters.common import display_path
from compose_ports.reporters.context import ReportContext
from compose_ports.reporters.escape import github_data, github_property
from compose_ports.reporters.lint_text import error_text, fixable_line, ordered, summary, tail

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


# GitHub's escapes (reporters/escape.py), under the names this module has always exported.
escape_data = github_data
escape_property = github_property


def command(
    name: str,
    message: str,
    *,
    file: str | None = None,
    line: int = 0,
    column: int = 0,
    title: str | None = None,
) -> str:
    properties = []
    if file:
        properties.append(f"file={escape_property(file)}")
        if line >= 1:
            properties.append(f"line={line}")
            if column >= 1:
                properties.append(f"col={column}")
    if title:
        properties.append(f"title={escape_property(title)}")
    head = f"::{name} {','.join(properties)}" if properties else f"::{name}"
    return f"{head}::{escape_data(message)}"


def annotation_path(path: str, context: ReportContext) -> str:
    """Relative to the repository root, where GitHub looks for it, with `/`."""
    absolute = os.path.normpath(Path(context.cwd) / path)
    return display_path(absolute, os.path.normpath(Path(context.cwd) / context.root))


def _message(finding: Finding, context: ReportContext) -> str:
    message = finding.message + tail(finding)
    if finding.related:
        places = ", ".join(
            f"{annotation_path(r.file, context)}:{r.line}"
            if r.line
            else annotation_path(r.file, context)
            for r in finding.related
        )
        message += f" (also at {places})"
    if finding.fix is not None:
        message += f" (fix: `{finding.fix}`)"
    return message


def _error_command(error: Diagnostic, context: ReportContext) -> str:
    if not (error.file and error.line):
        return command("error", error_text(error, context.cwd), title="compose-ports")
    return command(
        "error",
        error.message,
        file=annotation_path(error.file, context),
        line=error.line,
        column=error.column,
        title="compose-ports",
    )


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    lines = [
        command(
            COMMAND[finding.severity],
            _message(finding, context),
            file=annotation_path(finding.file, context) if finding.file else None,
            line=finding.line,
            column=finding.column,
            title=f"{finding.code} {finding.rule}",
        )
        for finding in ordered(findings, context.cwd)
    ]
    lines.extend(_error_command(error, context) for error in context.errors)
    lines.append(summary(findings, context))
    if (line := fixable_line(findings)) is not None:
        lines.append(line)
    return "\n".join(lines) + "\n"
