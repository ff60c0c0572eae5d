"""`lint --format sarif`: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One run. `tool.driver.rules` lists every rule that ran (sorted by code), plus a bare descriptor for
any finding whose rule the context does not list, so that every result has a valid `ruleIndex`.

- Locations are repository-relative: `uri` is the path below `repository_root` (or `cwd`), POSIX,
  percent-encoded, with `uriBaseId` "SRCROOT"; `originalUriBaseIds.SRCROOT` is the root as a
  `file://` URI ending in '/'. A file outside the root gets an absolute `file://` URI instead.
  A finding without a line (0) has no region. A finding without a file cannot be a result: GitHub
  code scanning rejects the whole log when one result has no location, so it becomes a
  `toolExecutionNotifications` entry of the invocation, of its level and tied to its rule
  (`associatedRule`), which leaves `executionSuccessful` alone.
- Related bindings are `relatedLocations`, numbered from 1, each with a message naming its service.
- `partialFingerprints["composePorts/v1"]` is the sha256 of the code, the repository-relative
  file, service, stack, `hosts:` group and the message with its `file:line` and `line N`
  references removed: the same problem keeps its fingerprint when lines move, so code scanning
  keeps tracking one alert instead of closing and reopening it.
- Read and config errors become `toolExecutionNotifications` of the invocation (with a location
  when the error starts with `path:line:col: `), which is then `executionSuccessful: false`.
- Message texts (results, related locations, notifications) double `{` and `}`, as SARIF
  requires of plain-text messages (§3.11.5: braces are placeholder syntax), so `${PORT}` reads
  `${{PORT}}` in the file and `${PORT}` in a conforming viewer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from compose_ports.findings import Finding, Related, Severity
from compose_ports.reporters.context import ReportContext, RuleInfo
from compose_ports.reporters.lint_text import ordered, parse_error, related_note

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://compose-ports.dev/"
TOOL_NAME = "compose-ports"
SRCROOT = "SRCROOT"
FINGERPRINT_KEY = "composePorts/v1"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

# `compose.yaml:12:7`, `.env:3` and `line 12` / `column 7`: positions a message may quote, which
# must not enter the fingerprint. Port numbers (`127.0.0.1:8080`) do stay: they are the problem.
_FILE_POSITION = re.compile(r"(\.(?:ya?ml|env|toml)):\d+(?::\d+)?")
_WORD_POSITION = re.compile(r"\b(lines?|col(?:umn)?s?)\s+\d+", re.IGNORECASE)


def _text(message: str) -> dict[str, str]:
    """A SARIF message object: braces doubled, since `{0}` would be read as a placeholder."""
    return {"text": message.replace("{", "{{").replace("}", "}}")}


def _absolute(path: str, cwd: str) -> Path:
    # normpath, not resolve(): a reporter formats paths, it does not follow symlinks on disk.
    return Path(os.path.normpath(Path(cwd) / path))


def _root(context: ReportContext) -> Path:
    return _absolute(context.root, context.cwd)


def root_uri(context: ReportContext) -> str:
    uri = _root(context).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def relative_path(path: str, context: ReportContext) -> str | None:
    """The POSIX path below the root, or None when the file is outside it."""
    try:
        return _absolute(path, context.cwd).relative_to(_root(context)).as_posix()
    except ValueError:
        return None


def artifact_location(path: str, context: ReportContext) -> dict[str, str]:
    relative = relative_path(path, context)
    if relative is None:
        return {"uri": _absolute(path, context.cwd).as_uri()}
    # quote() encodes everything but unreserved characters and '/': a space, '%', ',' and a ':'
    # (which would otherwise read as a URI scheme in a first segment like `a:b/compose.yaml`).
    return {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}


def physical_location(path: str, line: int, column: int, context: ReportContext) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": artifact_location(path, context)}
    if line >= 1:  # SARIF lines and columns start at 1; 0 means "no position"
        region: dict[str, int] = {"startLine": line}
        if column >= 1:
            region["startColumn"] = column
        location["region"] = region
    return location


def fingerprint(finding: Finding, context: ReportContext) -> str:
    """Stable across line moves; changes with what the finding is about."""
    file = ""
    if finding.file:
        relative = relative_path(finding.file, context)
        file = relative or _absolute(finding.file, context.cwd).as_posix()
    message = _FILE_POSITION.sub(r"\1", finding.message)
    message = _WORD_POSITION.sub(r"\1", message)
    parts = [
        finding.code,
        file,
        finding.service or "",
        finding.stack or "",
        finding.host or "",
        message,
    ]
    # JSON rather than a separator: no field's content can shift into the next one.
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def rule_descriptor(rule: RuleInfo) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help_text},
        "help": {"text": rule.help_text},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
    }
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    return descriptor


def _rules(findings: Sequence[Finding], context: ReportContext) -> list[RuleInfo]:
    rules: dict[str, RuleInfo] = {}
    for rule in context.rules:
        rules.setdefault(rule.code, rule)
    for finding in findings:
        if finding.code not in rules:
            rules[finding.code] = RuleInfo(
                finding.code, finding.rule, finding.severity, finding.rule, finding.rule
            )
    return sorted(rules.values(), key=lambda r: r.code)


def _related_location(index: int, related: Related, context: ReportContext) -> dict[str, Any]:
    return {
        "id": index,
        "physicalLocation": physical_location(related.file, related.line, related.column, context),
        "message": _text(related_note(related) or "Related binding"),
    }


def result(finding: Finding, rule_index: int, context: ReportContext) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": _text(finding.message),
    }
    if finding.file:  # always, in practice: file-less findings are notifications (see render)
        entry["locations"] = [
            {
                "physicalLocation": physical_location(
                    finding.file, finding.line, finding.column, context
                )
            }
        ]
    if finding.related:
        entry["relatedLocations"] = [
            _related_location(i, r, context) for i, r in enumerate(finding.related, start=1)
        ]
    entry["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding, context)}
    properties: dict[str, Any] = {
        key: value
        for key, value in (
            ("service", finding.service),
            ("project", finding.project),
            ("stack", finding.stack),
            ("host", finding.host),
        )
        if value is not None
    }
    properties["fixable"] = finding.fixable
    if finding.fix is not None:
        properties["fix"] = finding.fix
    entry["properties"] = properties
    return entry


def _error_notification(error: str, context: ReportContext) -> dict[str, Any]:
    notification: dict[str, Any] = {"level": "error", "message": _text(error)}
    parsed = parse_error(error)
    if parsed is not None:
        path, line, column, message = parsed
        notification["message"] = _text(message)
        notification["locations"] = [
            {"physicalLocation": physical_location(path, line, column, context)}
        ]
    return notification


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    rules = _rules(findings, context)
    index = {rule.code: i for i, rule in enumerate(rules)}
    findings = ordered(findings, context.cwd)
    located = [f for f in findings if f.file]
    notifications = [_error_notification(error, context) for error in context.errors]
    notifications.extend(
        {
            "level": LEVEL[f.severity],
            "message": _text(f.message),
            "associatedRule": {"id": f.code, "index": index[f.code]},
        }
        for f in findings
        if not f.file
    )
    invocation: dict[str, Any] = {"executionSuccessful": not context.errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": context.version,
                "semanticVersion": context.version,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(rule) for rule in rules],
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": root_uri(context)}},
        "columnKind": "unicodeCodePoints",
        "results": [result(f, index[f.code], context) for f in located],
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"
