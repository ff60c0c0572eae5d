"""The lint pipeline: rules over the model, then severities, suppressions and selection.

model -> rules -> problems -> findings. Rules never read files; the suppression comments
(`# compose-ports: ignore[...]`) come from the loader, which reads them with each file. The
rules about suppressions themselves (malformed, unused) run last, once the others have said
what each comment silenced.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from compose_ports.compose.loading import FileCache
from compose_ports.compose.suppressions import Marker, scan
from compose_ports.compose.workspace import Workspace, all_diagnostics
from compose_ports.findings import Finding, Severity
from compose_ports.policy.config import Config
from compose_ports.rules import RULES, select
from compose_ports.rules.base import LintContext, MarkerUse, Problem, Rule, rule_setting
from compose_ports.yamlread import decode


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


def named_exactly(selected: Sequence[str]) -> frozenset[str]:
    """The codes `--select` names by code or name: what turns on a rule that is off by
    default (a prefix such as `CP5` does not)."""
    by_key = {r.CODE: r.CODE for r in RULES} | {r.NAME: r.CODE for r in RULES}
    return frozenset(by_key[s.strip()] for s in selected if s.strip() in by_key)


def lint(
    workspace: Workspace,
    rules: Iterable[Rule] = RULES,
    triggers: Sequence[Path] | None = None,
    display: Callable[[str | None], str] = str,
    fixes: bool = False,
    enabled: Collection[str] = (),
) -> LintResult:
    """Every finding of the chosen rules, suppressed, de-duplicated and sorted.

    A rule off by default (unused-suppression) reports only where `enabled` names it or the
    project's config sets it.
    """
    rules = list(rules)
    context = LintContext(workspace)
    findings: list[Finding] = []
    fixable: list[tuple[Finding, Rule, Problem]] = []
    unfixed: list[tuple[Finding, Rule, Problem]] = []
    seen: set[tuple[object, ...]] = set()
    comments = _Comments(workspace.cache)
    first = [r for r in rules if not getattr(r, "AFTER_SUPPRESSIONS", False)]
    last = [r for r in rules if getattr(r, "AFTER_SUPPRESSIONS", False)]
    for rule in first + last:
        if rule is (last[0] if last else None):
            context.markers = comments.uses(workspace)
            context.ran = frozenset(r.CODE for r in first)
        context.rule = rule
        for problem in rule.check(context):
            finding = _finding(rule, problem, context, enabled)
            if finding is None or comments.suppressed(finding, rule in last):
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
                # Two problems of one rule at one place (registry-drift: not its registered
                # port, and another service's) are two findings.
                finding.message,
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


def _finding(
    rule: Rule, problem: Problem, context: LintContext, enabled: Collection[str]
) -> Finding | None:
    config = context.config(problem.project)
    severity = problem.severity or rule.SEVERITY
    setting = rule_setting(config, rule) if config is not None else None
    if setting is None and not getattr(rule, "ENABLED", True) and rule.CODE not in enabled:
        return None  # off by default, and nobody turned it on
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
    """Which findings the suppression comments silence, and what each comment silenced."""

    def __init__(self, cache: FileCache | None) -> None:
        self.cache = cache
        self.files: dict[str, tuple[bool, dict[int, list[Marker]]]] = {}
        self.silenced: dict[tuple[str, int], set[str]] = {}  # (file, marker line) -> codes

    def markers(self, file: str) -> tuple[Marker, ...]:
        if self.cache is None:
            try:
                return scan(decode(Path(file).read_bytes(), file))
            except Exception:  # an unreadable file has no comments; reading it reports it
                return ()
        if file not in self.cache.markers:
            try:
                self.cache.text(file)  # a file the loader did not read: reading records them
            except Exception:
                return ()
        return self.cache.markers.get(file, ())

    def _scan(self, file: str) -> tuple[bool, dict[int, list[Marker]]]:
        if file not in self.files:
            whole = False
            by_line: dict[int, list[Marker]] = {}
            for marker in self.markers(file):
                if marker.problem is not None:
                    continue
                if marker.whole_file:
                    whole = True
                for line in marker.lines:
                    by_line.setdefault(line, []).append(marker)
            self.files[file] = (whole, by_line)
        return self.files[file]

    def suppressed(self, finding: Finding, whole_file_only: bool = False) -> bool:
        if not finding.file:
            return False
        whole, by_line = self._scan(finding.file)
        if whole:
            for marker in self.markers(finding.file):
                if marker.whole_file and marker.problem is None:
                    self.silenced.setdefault((finding.file, marker.line), set()).add(finding.code)
            return True
        if whole_file_only:
            return False
        hit = False
        for marker in by_line.get(finding.line, ()):
            if marker.codes is None or finding.code in marker.codes or finding.rule in marker.codes:
                self.silenced.setdefault((finding.file, marker.line), set()).add(finding.code)
                hit = True
        return hit

    def uses(self, workspace: Workspace) -> tuple[MarkerUse, ...]:
        """Every suppression comment of the files read, with what it silenced."""
        result = []
        seen: set[str] = set()
        for project in workspace.projects:
            for file in project.reads or project.files:
                if file in seen:
                    continue
                seen.add(file)
                for marker in self.markers(file):
                    silenced = frozenset(self.silenced.get((file, marker.line), ()))
                    result.append(MarkerUse(file, marker, silenced, project))
        return tuple(result)
