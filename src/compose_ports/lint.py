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
from compose_ports.model import Diagnostic
from compose_ports.policy.config import Config
from compose_ports.rules import RULES, select
from compose_ports.rules.base import LintContext, MarkerUse, Problem, Rule, rule_setting
from compose_ports.yamlread import decode


class LintResult(NamedTuple):
    findings: tuple[Finding, ...]
    # Bad input (exit code 2), as the loader found it: each format writes it its own way.
    errors: tuple[Diagnostic, ...]
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
    *,
    triggers: Sequence[Path] | None = None,
    fixes: bool = False,
    enabled: Collection[str] = (),
) -> LintResult:
    """Every finding of the chosen rules, suppressed, de-duplicated and sorted.

    A rule off by default (unused-suppression) reports only where `enabled` names it or the
    project's config sets it.
    """
    run = _Run(workspace, enabled, fixes)
    run.check_all(list(rules))
    if triggers is not None:
        run.keep_only(_involving(triggers, workspace))
    return run.result()


def _after_suppressions(rule: Rule) -> bool:
    return bool(getattr(rule, "AFTER_SUPPRESSIONS", False))


class _Run:
    """One lint run: each rule's problems made findings, suppressed, then kept once each."""

    def __init__(self, workspace: Workspace, enabled: Collection[str], fixes: bool) -> None:
        self.workspace = workspace
        self.enabled = enabled
        self.fixes = fixes
        self.context = LintContext(workspace)
        self.comments = _Comments(workspace.cache)
        self.findings: list[Finding] = []
        self.fixable: list[tuple[Finding, Rule, Problem]] = []
        self.unfixed: list[tuple[Finding, Rule, Problem]] = []
        self.seen: set[tuple[object, ...]] = set()

    def check_all(self, rules: Sequence[Rule]) -> None:
        first = [r for r in rules if not _after_suppressions(r)]
        last = [r for r in rules if _after_suppressions(r)]
        for rule in first:
            self.check(rule, whole_file_only=False)
        if last:
            # The rules about suppression comments judge what each comment silenced, which is
            # known only once every other rule has run.
            self.context.markers = self.comments.uses(self.workspace)
            self.context.ran = frozenset(r.CODE for r in first)
        for rule in last:
            # What they say sits on the comment's own line, which that comment would
            # silence: only an `ignore-file` comment may.
            self.check(rule, whole_file_only=True)

    def check(self, rule: Rule, whole_file_only: bool) -> None:
        self.context.rule = rule
        for problem in rule.check(self.context):
            finding = _finding(rule, problem, self.context, self.enabled)
            if finding is None or self.comments.suppressed(finding, whole_file_only):
                continue
            self.keep(finding, rule, problem)

    def keep(self, finding: Finding, rule: Rule, problem: Problem) -> None:
        if self.fixes and rule.FIX is not None:
            # Every stack's own problem, even where the finding is shown once: a fix must be
            # right for each stack that reads the file.
            found = self.fixable if finding.fix is not None else self.unfixed
            found.append((finding, rule, problem))
        key = _identity(finding)
        if key in self.seen:
            # A file shared by several stacks shows its problems once.
            return
        self.seen.add(key)
        self.findings.append(finding)

    def keep_only(self, wanted: Callable[[Finding], bool]) -> None:
        # fix works from the same findings as lint, so both are narrowed alike.
        self.findings = [f for f in self.findings if wanted(f)]
        self.fixable = [f for f in self.fixable if wanted(f[0])]
        self.unfixed = [f for f in self.unfixed if wanted(f[0])]

    def result(self) -> LintResult:
        errors = tuple(d for d in all_diagnostics(self.workspace) if d.kind == "read")
        files = {f for p in self.workspace.projects for f in p.files}
        unreadable = {d.file for d in errors if d.file in files}
        return LintResult(
            tuple(sorted(self.findings, key=Finding.sort_key)),
            errors,
            len(files),
            len(unreadable),
            tuple((r, p) for _, r, p in self.fixable),
            tuple((r, p) for _, r, p in self.unfixed),
        )


def _identity(finding: Finding) -> tuple[object, ...]:
    """What makes two findings one: the same problem, seen through two stacks."""
    return (
        finding.code,
        finding.file,
        finding.line,
        finding.column,
        finding.service,
        finding.host,
        finding.related,
        # Two problems of one rule at one place (registry-drift: not its registered port, and
        # another service's) are two findings.
        finding.message,
    )


def _severity(
    rule: Rule, problem: Problem, config: Config | None, enabled: Collection[str]
) -> Severity | None:
    """The severity the project's config gives the rule, else the problem's or the rule's own;
    None when the rule is off."""
    setting = rule_setting(config, rule) if config is not None else None
    if setting is None and not getattr(rule, "ENABLED", True) and rule.CODE not in enabled:
        return None  # off by default, and nobody turned it on
    if isinstance(setting, dict):
        setting = setting.get("severity")
    if setting == "off":
        return None
    if isinstance(setting, str):
        return Severity(setting)
    return problem.severity or rule.SEVERITY


def _finding(
    rule: Rule, problem: Problem, context: LintContext, enabled: Collection[str]
) -> Finding | None:
    severity = _severity(rule, problem, context.config(problem.project), enabled)
    if severity is None:
        return None
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


def _involving(triggers: Sequence[Path], workspace: Workspace) -> Callable[[Finding], bool]:
    """pre-commit: whether a finding involves a changed file; every finding does when a config
    changed, since a config bears on every file."""
    changed = {str(t) for t in triggers}
    configs: set[Config] = {c for c in workspace.configs.values() if c is not None}
    if any(str(c.path) in changed for c in configs):
        return lambda finding: True
    return lambda finding: bool(finding.files & changed)


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
