"""The lint pipeline: rules over the model, then severities, suppressions and selection.

model -> rules -> problems -> findings. Rules never read files; the one thing read here is the
text of the files findings point into, for `# compose-ports: ignore[...]` comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from compose_ports.config import Config
from compose_ports.findings import Finding, Severity
from compose_ports.loading import FileCache
from compose_ports.rules import RULES, select
from compose_ports.rules.base import LintContext, Problem, Rule, rule_setting
from compose_ports.workspace import Workspace, all_diagnostics
from compose_ports.yamlread import decode

_IGNORE = re.compile(r"#\s*compose-ports:\s*ignore(?:\[(?P<codes>[^\]]*)\])?\s*$")
_IGNORE_FILE = re.compile(r"#\s*compose-ports:\s*ignore-file\b")


class LintResult(NamedTuple):
    findings: tuple[Finding, ...]
    errors: tuple[str, ...]  # `path:line:col: message` lines: bad input, exit code 2
    files_read: int
    files_unreadable: int
    # With `fixes=True`: the rule and problem of every fixable finding, for `fix`; and of
    # every finding a fixable rule cannot fix, for `fix` to say why.
    fixes: tuple[tuple[Rule, Problem], ...] = ()
    unfixed: tuple[tuple[Rule, Problem], ...] = ()


def chosen_rules(selected: Sequence[str] = (), ignored: Sequence[str] = ()) -> list[Rule]:
    """`--select` then `--ignore`, by code, code prefix or name (ruff's way)."""
    codes = select(list(selected)) if selected else {r.CODE for r in RULES}
    codes -= select(list(ignored)) if ignored else set()
    return [r for r in RULES if r.CODE in codes]


def lint(
    workspace: Workspace,
    rules: Iterable[Rule] = RULES,
    triggers: Sequence[Path] | None = None,
    display: Callable[[str | None], str] = str,
    fixes: bool = False,
) -> LintResult:
    """Every finding of the chosen rules, suppressed, de-duplicated and sorted."""
    context = LintContext(workspace)
    findings: list[Finding] = []
    fixable: list[tuple[Finding, Rule, Problem]] = []
    unfixed: list[tuple[Finding, Rule, Problem]] = []
    seen: set[tuple] = set()
    comments = _Comments(workspace.cache)
    for rule in rules:
        context.rule = rule
        for problem in rule.check(context):
            finding = _finding(rule, problem, context)
            if finding is None or comments.suppressed(finding):
                continue
            if fixes and rule.FIX is not None:
                # Every stack's own problem, even where the finding is shown once: a fix
                # must be right for each stack that reads the file.
                (fixable if finding.fix is not None else unfixed).append((finding, rule, problem))
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
        # fix works from the same findings as lint: those that involve a changed file.
        fixable = [f for f in fixable if _involving([f[0]], triggers, workspace)]
        unfixed = [f for f in unfixed if _involving([f[0]], triggers, workspace)]
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
    return LintResult(
        tuple(findings),
        errors,
        len(files),
        len(unreadable),
        tuple((r, p) for _, r, p in fixable),
        tuple((r, p) for _, r, p in unfixed),
    )


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
        fix=rule.FIX.command if problem.fixable and rule.FIX is not None else None,
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
    """`# compose-ports: ignore[CP101]` on the line or alone above it; `ignore-file` on top.

    Each file is scanned once for the marker; most files have none.
    """

    def __init__(self, cache: FileCache | None) -> None:
        self.cache = cache
        self.files: dict[str, tuple[bool, dict[int, list[set[str] | None]]]] = {}

    def _text(self, file: str) -> str:
        try:
            if self.cache is not None:
                return self.cache.text(file)
            return decode(Path(file).read_bytes(), file)
        except Exception:  # an unreadable file has no comments; reading it reports it
            return ""

    def _scan(self, file: str) -> tuple[bool, dict[int, list[set[str] | None]]]:
        if file in self.files:
            return self.files[file]
        text = self._text(file)
        whole, marks = False, {}
        if "compose-ports:" in text:
            lines = text.splitlines()
            for line in lines:
                stripped = line.strip()
                if stripped and not stripped.startswith("#"):
                    break
                whole = whole or bool(_IGNORE_FILE.search(stripped))
            for number, line in enumerate(lines, start=1):
                if "compose-ports:" not in line:
                    continue
                match = _IGNORE.search(line)
                if match is None:
                    continue
                codes = match.group("codes")
                names = None if codes is None else {c.strip() for c in codes.split(",")}
                marks.setdefault(number, []).append(names)
                if line.strip().startswith("#"):
                    marks.setdefault(number + 1, []).append(names)
        self.files[file] = (whole, marks)
        return whole, marks

    def suppressed(self, finding: Finding) -> bool:
        if not finding.file:
            return False
        whole, marks = self._scan(finding.file)
        if whole:
            return True
        return any(
            names is None or finding.code in names or finding.rule in names
            for names in marks.get(finding.line, ())
        )
