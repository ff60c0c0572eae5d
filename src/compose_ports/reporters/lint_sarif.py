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
- Related bindings are `relatedLocations`, numbered from 1; one has a message only when the
  binding has a note of its own (the result's message already names the other services: 5,000
  conflicts naming the same first bindings would repeat `service web-0000` 15,000 times).
- `partialFingerprints["composePorts/v1"]` is the sha256 of the code, the repository-relative
  file, service, stack, `hosts:` group and the message with its `file:line` and `line N`
  references removed: the same problem keeps its fingerprint when lines move, so code scanning
  keeps tracking one alert instead of closing and reopening it.
- Read and config errors become `toolExecutionNotifications` of the invocation (with a location
  when the error has a line; otherwise the message is the text format's `path: message`), which
  is then `executionSuccessful: false`.
- Message texts (results, related locations, notifications) double `{` and `}`, as SARIF
  requires of plain-text messages (§3.11.5: braces are placeholder syntax), so `${PORT}` reads
  `${{PORT}}` in the file and `${PORT}` in a conforming viewer.
- A path's byte that is not UTF-8 is percent-encoded from the raw bytes in a URI (`x%FF/a.yaml`)
  and written as the text `\\xff` in messages and properties (see `escape`).
- Lean at scale (5,000 services on one port are 5,000 results): the rules' metadata is written
  once, in `tool.driver`, and results refer to it by `ruleIndex`; each file's URI and relative
  path are worked out once; the document is compact JSON from the C encoder, one result per
  line; a result's level is written only where it differs from its rule's default level, and
  `properties.fixable` only when true (`properties.fix` then names the command).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

from compose_ports.findings import Finding, Related, Severity
from compose_ports.model import Diagnostic
from compose_ports.reporters.common import encode_compact
from compose_ports.reporters.context import ReportContext, RuleInfo
from compose_ports.reporters.escape import uri_path
from compose_ports.reporters.lint_text import error_text, ordered, related_note

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
    if "{" in message or "}" in message:
        message = message.replace("{", "{{").replace("}", "}}")
    return {"text": message}


class Paths:
    """Each file's SARIF forms, worked out once: a crowded port names one file thousands of times.

    Plain strings, not pathlib: `normpath`, not `resolve()`, since a reporter formats paths and
    does not follow symlinks on disk.
    """

    def __init__(self, context: ReportContext) -> None:
        self.cwd = context.cwd
        self.root = self.absolute(context.root)
        self._below = self.root if self.root.endswith("/") else self.root + "/"
        self._relative: dict[str, str | None] = {}
        self._artifacts: dict[str, dict[str, str]] = {}

    def absolute(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.cwd, path))

    def relative(self, path: str) -> str | None:
        """The POSIX path below the root, or None when the file is outside it."""
        try:
            return self._relative[path]
        except KeyError:
            pass
        absolute = self.absolute(path)
        if absolute == self.root:
            relative: str | None = "."
        elif absolute.startswith(self._below):
            relative = absolute[len(self._below) :]
        else:
            relative = None
        self._relative[path] = relative
        return relative

    def artifact(self, path: str) -> dict[str, str]:
        """The `artifactLocation`, one object per file shared by every location in it."""
        found = self._artifacts.get(path)
        if found is None:
            relative = self.relative(path)
            if relative is None:
                found = {"uri": "file://" + uri_path(self.absolute(path))}
            else:
                # Everything but unreserved characters and '/' percent-encoded: a space, '%',
                # ',' and a ':' (which would otherwise read as a URI scheme in a first segment
                # like `a:b/compose.yaml`), and a byte that is not UTF-8 as itself (`%FF`).
                found = {"uri": uri_path(relative), "uriBaseId": SRCROOT}
            self._artifacts[path] = found
        return found

    def fingerprint_file(self, path: str) -> str:
        relative = self.relative(path)
        return relative if relative is not None else self.absolute(path)

    def root_uri(self) -> str:
        uri = "file://" + uri_path(self.root)
        return uri if uri.endswith("/") else uri + "/"


def physical_location(path: str, line: int, column: int, paths: Paths) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": paths.artifact(path)}
    if line >= 1:  # SARIF lines and columns start at 1; 0 means "no position"
        region: dict[str, int] = {"startLine": line}
        if column >= 1:
            region["startColumn"] = column
        location["region"] = region
    return location


def fingerprint(finding: Finding, paths: Paths) -> str:
    """Stable across line moves; changes with what the finding is about."""
    file = paths.fingerprint_file(finding.file) if finding.file else ""
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
    # JSON rather than a separator: no field's content can shift into the next one. (ASCII JSON,
    # so a path's undecodable byte hashes as its `\udcff` escape, as it always has.)
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


def _related_location(index: int, related: Related, paths: Paths) -> dict[str, Any]:
    location: dict[str, Any] = {
        "id": index,
        "physicalLocation": physical_location(related.file, related.line, related.column, paths),
    }
    if related.message:
        location["message"] = _text(related_note(related))
    return location


def result(finding: Finding, rule_index: int, rule_level: str, paths: Paths) -> dict[str, Any]:
    entry: dict[str, Any] = {"ruleId": finding.code, "ruleIndex": rule_index}
    level = LEVEL[finding.severity]
    if level != rule_level:  # a config's severity for the rule; else the rule's default applies
        entry["level"] = level
    entry["message"] = _text(finding.message)
    if finding.file:  # always, in practice: file-less findings are notifications (see render)
        entry["locations"] = [
            {
                "physicalLocation": physical_location(
                    finding.file, finding.line, finding.column, paths
                )
            }
        ]
    if finding.related:
        entry["relatedLocations"] = [
            _related_location(i, r, paths) for i, r in enumerate(finding.related, start=1)
        ]
    entry["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding, paths)}
    properties: dict[str, Any] = {}
    if finding.service is not None:
        properties["service"] = finding.service
    if finding.project is not None:
        properties["project"] = finding.project
    if finding.stack is not None:
        properties["stack"] = finding.stack
    if finding.host is not None:
        properties["host"] = finding.host
    if finding.fix is not None:
        properties["fixable"] = True
        properties["fix"] = finding.fix
    if properties:
        entry["properties"] = properties
    return entry


def _error_notification(error: Diagnostic, paths: Paths) -> dict[str, Any]:
    if not (error.file and error.line):
        return {"level": "error", "message": _text(error_text(error, paths.cwd))}
    return {
        "level": "error",
        "message": _text(error.message),
        "locations": [
            {"physicalLocation": physical_location(error.file, error.line, error.column, paths)}
        ],
    }


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(render_parts(findings, context))


def render_parts(findings: Sequence[Finding], context: ReportContext) -> Iterator[str]:
    paths = Paths(context)
    rules = _rules(findings, context)
    index = {rule.code: i for i, rule in enumerate(rules)}
    default_level = {rule.code: LEVEL[rule.severity] for rule in rules}
    findings = ordered(findings, context.cwd)
    notifications = [_error_notification(error, paths) for error in context.errors]
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
        "originalUriBaseIds": {SRCROOT: {"uri": paths.root_uri()}},
        "columnKind": "unicodeCodePoints",
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    # Compact JSON from the C encoder: the document on its first line, then one result per line.
    head = encode_compact(document)
    yield head[: -len("}]}")] + ',"results":['
    separator = "\n"
    for finding in findings:
        if finding.file:
            entry = result(finding, index[finding.code], default_level[finding.code], paths)
            yield separator + encode_compact(entry)
            separator = ",\n"
    yield "\n]}]}\n"
