"""The lint pipeline: rules over the model, then severities, suppressions and selection.

model -> rules -> problems -> findings. Rules never read files; the one thing read here is the
text of the files findings point into, for `# compose-ports: ignore[...]` comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from compose_ports.config import Config
from compose_ports.findings import Finding, Severity
from compose_ports.rules import RULES, select
from compose_ports.rules.base import LintContext, Problem, Rule, rule_setting
from compose_ports.workspace import Workspace, all_diagnostics
from compose_ports.yamlread import decode

_IGNORE = re.compile(r"#\s*compose-ports:\s*ignore(?:\[(?P<codes>[^\]]*)\])?\s*$")
_IGNORE_FILE = re.compile(r"#\s*compose-ports:\s*ignore-file\b")


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    errors: tuple[str, ...]  # `path:line:col: message` lines: bad input, exit code 2
    files_read: int
    files_unreadable: int


def chosen_rules(selected: Sequence[str] = (), ignored: Sequence[str] = ()) -> list[Rule]:
    """`--select` then `--ignore`, by code, code prefix or name (ruff's way)."""
    codes = select(list(selected)) if selected else {r.CODE for r in RULES}
    codes -= select(list(ignored)) if ignored else set()
    return [r for r in RULES if r.CODE in codes]


def lint(
    workspace: Workspace,
    rules: Iterable[Rule] = RULES,
    triggers: Sequence[Path] | None = None,
    display: callable = str,  # type: ignore[valid-type]
) -> LintResult:
    """Every finding of the chosen rules, suppressed, de-duplicated and sorted."""
    context = LintContext(workspace)
    findings: list[Finding] = []
    seen: set[tuple] = set()
    comments = _Comments()
    for rule in rules:
        context.rule = rule
        for problem in rule.check(context):
            finding = _finding(rule, problem, context)
            if finding is None or comments.suppressed(finding):
                continue
            key = (
                finding.code,
                finding.file,
                finding.line,
                finding.column,
                finding.service,
                finding.host,
                finding.related,
            )
            if key in seen:
                # A file shared by several stacks shows its problems once.
                continue
            seen.add(key)
            findings.append(finding)
    if triggers is not None:
        findings = _involving(findings, triggers, workspace)
    findings.sort(key=Finding.sort_key)
    diagnostics = [d for d in all_diagnostics(workspace) if d.kind == "read"]
    errors = tuple(
        f"{display(d.file)}:{d.line}:{d.column}: {d.message}"
        if d.file and d.line
        else (f"{display(d.file)}: {d.message}" if d.file else d.message)
        for d in diagnostics
    )
    files = {f for p in workspace.projects for f in p.files}
    unreadable = {d.file for d in diagnostics if d.file in files}
    return LintResult(tuple(findings), errors, len(files), len(unreadable))


def _finding(rule: Rule, problem: Problem, context: LintContext) -> Finding | None:
    config = context.config(problem.project)
    severity = problem.severity or rule.SEVERITY
    setting = rule_setting(config, rule) if config is not None else None
    if isinstance(setting, dict):
        setting = setting.get("severity")
    if setting == "off":
        return None
    if isinstance(setting, str):
        severity = Severity(setting)
    src = problem.source
    return Finding(
        code=rule.CODE,
        rule=rule.NAME,
        severity=severity,
        message=problem.message,
        file=src.file if src else None,
        line=src.line if src else 0,
        column=src.column if src else 0,
        service=problem.service,
        project=problem.project.name,
        stack=problem.project.stack,
        host=problem.host,
        related=problem.related,
        fixable=problem.fixable,
    )


def _involving(
    findings: list[Finding], triggers: Sequence[Path], workspace: Workspace
) -> list[Finding]:
    """pre-commit: the findings that involve a changed file; all of them if a config changed."""
    changed = {str(t) for t in triggers}
    configs: set[Config] = {c for c in workspace.configs.values() if c is not None}
    if any(str(c.path) in changed for c in configs):
        return findings
    return [f for f in findings if f.files & changed]


class _Comments:
    """`# compose-ports: ignore[CP101]` on the line or alone above it; `ignore-file` on top."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {}

    def _lines(self, file: str) -> list[str]:
        if file not in self.lines:
            try:
                self.lines[file] = decode(Path(file).read_bytes(), file).splitlines()
            except Exception:  # an unreadable file has no comments; reading it reports it
                self.lines[file] = []
        return self.lines[file]

    def suppressed(self, finding: Finding) -> bool:
        if not finding.file or "#" not in "".join(self._lines(finding.file)):
            return False
        lines = self._lines(finding.file)
        for line in lines:
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                break
            if _IGNORE_FILE.search(stripped):
                return True
        candidates = []
        if 0 < finding.line <= len(lines):
            candidates.append(lines[finding.line - 1])
        if 1 < finding.line <= len(lines) + 1:
            above = lines[finding.line - 2].strip()
            if above.startswith("#"):
                candidates.append(above)
        for text in candidates:
            match = _IGNORE.search(text)
            if match is None:
                continue
            codes = match.group("codes")
            if codes is None:
                return True
            names = {c.strip() for c in codes.split(",") if c.strip()}
            if finding.code in names or finding.rule in names:
                return True
        return False
