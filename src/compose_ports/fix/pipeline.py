"""`compose-ports fix`, the whole pipeline: read, lint, plan, prove, write.

1. Read every input first: the projects, and each `--env-file` the new variables go to. A
   read error anywhere stops the run before anything is written (exit 2).
2. Lint with the fixable rules; the findings kept (suppressions and rules turned off honoured)
   are the only things fixed, each by its rule's `fix` (CP301 and CP302 for `fix`, CP103 and
   the override-file CP101 too for `fix --remap`).
3. Find every project that reads a file to edit, in the run or elsewhere in the repository.
4. Plan: names, ports, edits; what cannot be done safely is left out with a note.
5. Prove: every reader, loaded again from the new texts, publishes what it must (proof.py).
6. Write each file safely (write.py); then append the new variables to the env files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from compose_ports.compose.files import FileCache
from compose_ports.compose.loading import LoadOptions, absolute_path
from compose_ports.compose.workspace import (
    Workspace,
    all_diagnostics,
    load_workspace,
    trigger_files,
)
from compose_ports.errors import ComposePortsError
from compose_ports.fix import envfile, planning, proof, readers, remap, write
from compose_ports.fix.splice import encode_like
from compose_ports.lint import lint
from compose_ports.model import Diagnostic
from compose_ports.rules import RULES
from compose_ports.rules.actions import (
    Action,
    MoveHostPort,
    QuoteEntry,
    RenameHostPort,
    ReplaceEarlierPorts,
)
from compose_ports.rules.base import FIX_COMMAND, REMAP_COMMAND, Problem, Rule


class FixRequest(NamedTuple):
    paths: tuple[str, ...]  # PATH arguments: directories, or trigger files
    options: LoadOptions  # Compose's options; `env_files` as given (the targets too)
    config_file: str | None = None
    remap: bool = False
    host: str | None = None
    # `lint --fix --host`: only the findings of that host's stacks, which lint reports; `fix
    # --remap --host` keeps its meaning, the machine whose ports a remap must keep free.
    host_only: bool = False
    live: bool = False
    write: bool = True  # False for --check and --diff
    # `lint --fix`: only the findings of these rule codes (what --select/--ignore keep); None
    # fixes every rule the command fixes.
    rules: frozenset[str] | None = None


class FixOutcome(NamedTuple):
    errors: list[str]  # one line each: exit code 2
    notes: list[str]  # what was left alone, and why
    planned: dict[str, tuple[str, str]]  # file -> (original text, new text)
    written: list[str]
    env_added: list[tuple[str, list[str]]]  # env file -> the names appended to it
    unresolved: bool  # some finding could not be fixed


# A fix can make a new fixable finding: `!override` copies a base entry into the override, where
# a conflict it had becomes one an override file sets. As sqlfluff does, the fix runs again on
# its own result until nothing changes, each round proven on its own.
_ROUNDS = 3


def run(
    request: FixRequest,
    shown: Callable[[str], str] = str,
    error_line: Callable[[Diagnostic], str] = str,
) -> FixOutcome:
    """The whole fix. `shown` writes a path as the user sees it, `error_line` a read error."""
    return _Fix(request, shown, error_line).run()


class _Round(NamedTuple):
    plan: planning.FixPlan
    notes: list[str]
    refused: list[str]  # files a write would harm, left alone
    errors: list[str]  # what stops the run: nothing is written
    remapped: bool  # the round tagged or moved ports: its result may hold new findings


class _Fix:
    """One run of the pipeline, one method per step of the module docstring."""

    def __init__(
        self,
        request: FixRequest,
        shown: Callable[[str], str],
        error_line: Callable[[Diagnostic], str],
    ) -> None:
        self.request = request
        self.shown = shown
        self.error_line = error_line
        self.errors: list[str] = []
        self.notes: list[str] = []
        cwd = Path(request.options.cwd)
        self.targets = [absolute_path(cwd, e) for e in request.options.env_files]
        # A target that does not exist yet is created; Compose would refuse to read it.
        existing = tuple(str(t) for t in self.targets if t.exists())
        self.options = replace(request.options, env_files=existing)

    def run(self) -> FixOutcome:
        outcome = FixOutcome(self.errors, self.notes, {}, [], [], False)
        self.check_targets()
        if self.errors:
            return outcome
        workspace, root = self.read()
        if self.errors:
            return outcome  # all or nothing: no input may be unreadable
        rounds = self.rounds(workspace, root)
        if rounds is None:
            return outcome
        planned, variables, variable_files, unresolved = rounds
        if not self.request.write:
            return outcome._replace(planned=planned, unresolved=unresolved)
        original = workspace.cache
        assert original is not None
        written = self.write(planned, original, root)
        env_added = self.append_variables(variables, variable_files, set(written), root)
        return FixOutcome(self.errors, self.notes, planned, written, env_added, unresolved)

    def check_targets(self) -> None:
        """The env files the new variables go to are inputs too: checked before anything is
        read."""
        request = self.request
        start = readers.repository_start(request.paths, request.options.files, self.options.cwd)
        for target in self.targets:
            reason = envfile.check_env_target(target, readers.git_root(start))
            if reason is not None:
                self.errors.append(f"{self.shown(str(target))}: {reason}")

    def read(self) -> tuple[Workspace, Path]:
        request, options = self.request, self.options
        workspace = load_workspace(request.paths, options, request.config_file, keep_text=True)
        self.notes.extend(f"note: {self.shown(n.file or '')}: {n.message}" for n in workspace.notes)
        reads = [self.error_line(d) for d in all_diagnostics(workspace) if d.kind == "read"]
        self.errors.extend(dict.fromkeys(reads))
        hosts = [h for _, h in workspace.hosts()]
        # A config that does not read has no hosts: its own error already says why.
        if request.host is not None and request.host not in hosts and not reads:
            from compose_ports.didyoumean import near

            hint = near(request.host, hosts)
            self.errors.append(f"no hosts: group named {request.host!r} in the config{hint}")
        root = readers.repository(request.paths, options.files, workspace, options.cwd)
        return workspace, root

    def rounds(
        self, workspace: Workspace, root: Path
    ) -> tuple[dict[str, tuple[str, str]], dict[str, str], dict[str, set[str]], bool] | None:
        """Lint, plan and prove until nothing changes; None when a round stops the run."""
        original = workspace.cache
        assert original is not None
        texts: dict[str, str] = {}
        variables: dict[str, str] = {}
        variable_files: dict[str, set[str]] = {}
        unresolved = False
        refused: list[str] = []  # files left alone, one line each: exit 2, the others fixed
        for _ in range(_ROUNDS):
            result = _round(self.request, workspace, self.options, root, self.shown)
            self.notes.extend(n for n in result.notes if n not in self.notes)
            refused.extend(r for r in result.refused if r not in refused)
            if result.errors:
                self.errors.extend(refused + result.errors)
                return None
            unresolved = result.plan.unresolved
            if not result.plan.texts:
                break
            texts.update(result.plan.texts)
            variables.update(result.plan.variables)
            for name, files in result.plan.variable_files.items():
                variable_files.setdefault(name, set()).update(files)
            if not result.remapped:
                break  # names and quotes make no new finding: nothing more to do
            workspace = load_workspace(
                self.request.paths,
                self.options,
                self.request.config_file,
                cache=original.replaced(texts),
            )
        self.errors.extend(refused)
        planned = {f: (original.text(f), t) for f, t in sorted(texts.items())}
        return planned, variables, variable_files, unresolved

    def write(
        self, planned: dict[str, tuple[str, str]], original: FileCache, root: Path
    ) -> list[str]:
        written: list[str] = []
        for file, (_, new) in planned.items():
            data = original.read(file)
            try:
                write.write_atomic(Path(file), encode_like(new, data), data, root)
            except ComposePortsError as exc:
                self.errors.append(f"{self.shown(file)}: {exc.message}")
                continue
            written.append(file)
        return written

    def append_variables(
        self,
        variables: dict[str, str],
        variable_files: dict[str, set[str]],
        done: set[str],
        root: Path,
    ) -> list[tuple[str, list[str]]]:
        # Only the variables of files really rewritten go to the env files.
        chosen = {n: v for n, v in variables.items() if variable_files.get(n, set()) & done}
        env_added = []
        for target in self.targets:
            try:
                added = envfile.append_env(target, chosen, repository=root)
            except ComposePortsError as exc:
                self.errors.append(f"{self.shown(str(target))}: {exc.message}")
                continue
            if added:
                env_added.append((str(target), added))
        return env_added


def _round(
    request: FixRequest,
    workspace: Workspace,
    options: LoadOptions,
    root: Path,
    shown: Callable[[str], str],
) -> _Round:
    """One pass of lint, plan and proof over the texts as they are now."""
    cache = workspace.cache
    assert cache is not None
    # A trigger file limits the fixes to the findings that involve it, as lint reports them,
    # and plain fixes to the files given (pre-commit); `--remap` edits the override files its
    # findings need. An env file given stands for the compose files of the stacks that read
    # it: those are fixed, never the env file.
    given = trigger_files(workspace, request.paths, options.cwd)
    found = lint(workspace, _fixing_rules(request), triggers=given or None, fixes=True)
    actions = _actions(request, workspace, found.fixes)
    notes = _left_alone(found.unfixed)
    run_readers = readers.run_readers(workspace, options, request.paths)
    candidates = _candidate_files(actions)
    everyone = run_readers + readers.other_readers(
        candidates, run_readers, root, dict(options.environ), _config_path(request), cache
    )
    refused = {f: r for f in sorted(candidates) if (r := write.refusal(Path(f), root))}
    only = {str(g) for g in given} or None

    def editable(file: str) -> bool:
        return file not in refused and (only is None or file in only)

    def remap_editable(file: str) -> bool:
        return file not in refused

    remap_plan = _remap_plan(request, workspace, actions, everyone)
    if remap_plan is not None:
        notes.extend(remap_plan.unresolved)
    fix_plan = planning.plan(
        workspace,
        everyone,
        [a for a in actions if isinstance(a, RenameHostPort)],
        [a for a in actions if isinstance(a, QuoteEntry)],
        remap_plan,
        editable,
        remap_editable,
        cache,
    )
    notes.extend(fix_plan.notes)
    if remap_plan is not None and remap_plan.unresolved:
        fix_plan = fix_plan._replace(unresolved=True)
    errors = []
    if fix_plan.texts:
        disagreement = proof.prove(everyone, fix_plan.texts, cache, fix_plan.expected)
        if disagreement is not None:
            files = ", ".join(shown(f) for f in sorted(fix_plan.texts))
            errors.append(
                f"{files}: not fixed: the rewrite would change what Compose publishes: "
                f"{disagreement}"
            )
    remapped = bool(fix_plan.expected.dropped or fix_plan.expected.moved)
    refused_lines = [f"{shown(f)}: {reason}" for f, reason in refused.items()]
    return _Round(fix_plan, notes, refused_lines, errors, remapped)


def _fixing_rules(request: FixRequest) -> list[Rule]:
    commands = {FIX_COMMAND, REMAP_COMMAND} if request.remap else {FIX_COMMAND}
    return [
        r
        for r in RULES
        if r.FIX is not None
        and r.FIX.command in commands
        and (request.rules is None or r.CODE in request.rules)
    ]


def _actions(
    request: FixRequest, workspace: Workspace, fixes: Sequence[tuple[Rule, Problem]]
) -> list[Action]:
    """What the kept findings' rules ask; with `--host`, remaps only on that machine (and
    nothing elsewhere, for `lint --fix --host`)."""
    actions = [action for rule, problem in fixes for action in rule.fix(problem)]  # type: ignore[attr-defined]
    if request.host is None:
        return actions
    return [
        a
        for a in actions
        if (not request.host_only and not isinstance(a, (MoveHostPort, ReplaceEarlierPorts)))
        or _on_host(workspace, a.project, request.host)
    ]


def _left_alone(unfixed: Sequence[tuple[Rule, Problem]]) -> list[str]:
    notes = []
    for _, problem in unfixed:
        if problem.not_fixed is not None and problem.source is not None:
            src = problem.source
            notes.append(f"{src.file}:{src.line}:{src.column}: left as it is: {problem.not_fixed}")
    return notes


def _remap_plan(
    request: FixRequest,
    workspace: Workspace,
    actions: Sequence[Action],
    everyone: list[readers.Reader],
) -> remap.RemapPlan | None:
    if not request.remap:
        return None
    in_use: set[int] = set()
    if request.live:
        from compose_ports.live.sockets import ports_in_use

        in_use = ports_in_use()
    return remap.plan(
        workspace,
        [a for a in actions if isinstance(a, ReplaceEarlierPorts)],
        [a for a in actions if isinstance(a, MoveHostPort)],
        readers.by_file(everyone),
        in_use,
    )


def _candidate_files(actions: Sequence[Action]) -> set[str]:
    """The files a plan may edit: each action's scalar's, and its duplicates' (same service)."""
    files: set[str] = set()
    seen: set[int] = set()
    for action in actions:
        files.add(action.binding.source.file)
        project = action.project
        if id(project) not in seen:
            seen.add(id(project))
            for service in project.services:
                for duplicate in service.duplicates:
                    files.update((duplicate.source.file, duplicate.kept.file))
    return files


def _config_path(request: FixRequest) -> Path | None:
    if request.config_file is None:
        return None
    return absolute_path(Path(request.options.cwd), request.config_file)


def _on_host(workspace: Workspace, project: object, host: str | None) -> bool:
    """With `--host`, only the stacks of that machine are remapped."""
    if host is None:
        return True
    config = workspace.config_of(project)  # type: ignore[arg-type]
    stack = getattr(project, "stack", None)
    return config is not None and host in config.hosts_of(stack)
