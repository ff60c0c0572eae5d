"""`lint --format json`: the contract documented in schemas/lint.schema.json.

Findings come in the text format's order (file, line, column, code); paths are relative to the
current directory when below it, else absolute. Every key is always present (null when unknown)
so that consumers never have to guess between "absent" and "none".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from compose_ports.findings import Finding, Related, Severity
from compose_ports.reporters.common import Encoded, display_path, encode, json_parts
from compose_ports.reporters.context import ReportContext
from compose_ports.reporters.lint_text import error_text, fix_counts, ordered

VERSION = 1


def related_entry(related: Related, cwd: str) -> dict[str, Any]:
    return {
        "file": display_path(related.file, cwd),
        "line": related.line,
        "column": related.column,
        "service": related.service,
        "project": related.project,
        "stack": related.stack,
        "message": related.message,
    }


def finding_entry(finding: Finding, cwd: str) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "code": finding.code,
        "severity": finding.severity.value,
        "message": finding.message,
        "file": display_path(finding.file, cwd) if finding.file else None,
        "line": finding.line,
        "column": finding.column,
        "service": finding.service,
        "project": finding.project,
        "stack": finding.stack,
        "host": finding.host,
        "related": [related_entry(r, cwd) for r in finding.related],
        "fixable": finding.fixable,
        "fix": finding.fix,
    }


def summary_entry(findings: Sequence[Finding], context: ReportContext) -> dict[str, Any]:
    return {
        "findings": len(findings),
        "by_severity": {
            severity.value: sum(1 for f in findings if f.severity is severity)
            for severity in Severity
        },
        "fixable": sum(1 for f in findings if f.fixable),
        "fixable_by": fix_counts(findings),
        "files_with_findings": len(set().union(*(f.files for f in findings))),
        "files_read": context.files_read,
        "files_unreadable": context.files_unreadable,
    }


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(render_parts(findings, context))


def render_parts(findings: Sequence[Finding], context: ReportContext) -> Iterator[str]:
    document = {
        "version": VERSION,
        "findings": Encoded(
            encode(finding_entry(f, context.cwd)) for f in ordered(findings, context.cwd)
        ),
        "errors": [error_text(error, context.cwd) for error in context.errors],
        "summary": summary_entry(findings, context),
    }
    # One finding per line: readable, and encoded by the C encoder.
    yield from json_parts(document, depth=2)
    yield "\n"
