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

from compose_ports.errors import ComposePortsError
from compose_ports.fix import envfile, planning, proof, readers, remap, write
from compose_ports.fix.splice import encode_like
from compose_ports.lint import lint
from compose_ports.loading import LoadOptions, absolute_path
from compose_ports.rules import RULES
from compose_ports.rules.base import (
    FIX_COMMAND,
    REMAP_COMMAND,
    Action,
    MoveHostPort,
    QuoteEntry,
    RenameHostPort,
    ReplaceEarlierPorts,
)
from compose_ports.workspace import Workspace, all_diagnostics, load_workspace


class FixRequest(NamedTuple):
    paths: tuple[str, ...]  # PATH arguments: directories, or trigger files
    options: LoadOptions  # Compose's options; `env_files` as given (the targets too)
    config_file: str | None = None
    remap: bool = False
    host: str | None = None
    live: bool = False
    write: bool = True  # False for --check and --diff


class FixOutcome(NamedTuple):
    errors: list[str]  # one line each: exit code 2
    notes: list[str]  # what was left alone, and why
    planned: dict[str, tuple[str, str]]  # file -> (original text, new text)
    written: list[str]
    env_added: list[tuple[str, list[str]]]  # env file -> the names appended to it
    unresolved: bool  # some finding could not be fixed


def run(request: FixRequest, shown: Callable[[str], str] = str) -> FixOutcome:
    errors: list[str] = []
    notes: list[str] = []
    outcome = FixOutcome(errors, notes, {}, [], [], False)
    options = request.options
    cwd = Path(options.cwd)
    targets = [absolute_path(cwd, e) for e in options.env_files]
    # A target that does not exist yet is created; Compose would refuse to read it.
    existing = tuple(str(t) for t in targets if t.exists())
    # The env files the new variables go to are inputs too: checked before anything is read.
    start = readers.repository_start(request.paths, options.files, options.cwd)
    for target in targets:
        reason = envfile.check_env_target(target, readers.git_root(start))
        if reason is not None:
            errors.append(f"{shown(str(target))}: {reason}")
    if errors:
        return outcome
    options = replace(options, env_files=existing)
    workspace = load_workspace(request.paths, options, request.config_file, keep_text=True)
    notes.extend(f"note: {shown(n.file)}: {n.message}" for n in workspace.notes)
    errors.extend(_read_errors(workspace))
    if request.host is not None and not any(h == request.host for _, h in workspace.hosts()):
        errors.append(f"no hosts: group named {request.host!r} in the config")
    root = readers.repository(request.paths, options.files, workspace, options.cwd)
    if errors:
        return outcome  # all or nothing: no input may be unreadable
    assert workspace.cache is not None

    commands = {FIX_COMMAND, REMAP_COMMAND} if request.remap else {FIX_COMMAND}
    rules = [r for r in RULES if r.FIX is not None and r.FIX.command in commands]
    found = lint(workspace, rules, fixes=True)
    actions = [
        action
        for rule, problem in found.fixes
        for action in rule.fix(problem)  # type: ignore[attr-defined]
    ]
    for _, problem in found.unfixed:
        if problem.not_fixed is not None and problem.source is not None:
            src = problem.source
            notes.append(f"{src.file}:{src.line}:{src.column}: left as it is: {problem.not_fixed}")
    run_readers = readers.run_readers(workspace, options, request.paths)
    candidates = _candidate_files(actions)
    config = _config_path(request)
    everyone = run_readers + readers.other_readers(
        candidates, run_readers, root, dict(options.environ), config, workspace.cache
    )
    index = readers.by_file(everyone)

    refused: set[str] = set()
    for file in sorted(candidates):
        reason = write.refusal(Path(file), root)
        if reason is not None:
            refused.add(file)
            errors.append(f"{shown(file)}: {reason}")
    # A trigger file limits the edits to the files given (pre-commit); `--remap` edits the
    # override files wherever they are.
    given = {str(absolute_path(cwd, p)) for p in request.paths if Path(p).is_file()}
    only = given if given and not request.remap else None

    def editable(file: str) -> bool:
        return file not in refused and (only is None or file in only)

    remap_plan = None
    if request.remap:
        in_use: set[int] = set()
        if request.live:
            from compose_ports.live import ports_in_use

            in_use = ports_in_use()
        in_scope = [a for a in actions if _on_host(workspace, a.project, request.host)]
        remap_plan = remap.plan(
            workspace,
            [a for a in in_scope if isinstance(a, ReplaceEarlierPorts)],
            [a for a in in_scope if isinstance(a, MoveHostPort)],
            index,
            in_use,
        )
        notes.extend(remap_plan.unresolved)
    fix_plan = planning.plan(
        workspace,
        everyone,
        [a for a in actions if isinstance(a, RenameHostPort)],
        [a for a in actions if isinstance(a, QuoteEntry)],
        remap_plan,
        editable,
        workspace.cache,
    )
    notes.extend(fix_plan.notes)
    unresolved = bool(remap_plan and remap_plan.unresolved)
    if fix_plan.texts:
        problem = proof.prove(everyone, fix_plan.texts, workspace.cache, fix_plan.expected)
        if problem is not None:
            files = ", ".join(shown(f) for f in sorted(fix_plan.texts))
            errors.append(
                f"{files}: not fixed: the rewrite would change what Compose publishes: {problem}"
            )
            return outcome._replace(unresolved=unresolved)
    planned = {f: (workspace.cache.text(f), t) for f, t in sorted(fix_plan.texts.items())}
    if not request.write:
        return outcome._replace(planned=planned, unresolved=unresolved)

    written: list[str] = []
    for file, (_, new) in planned.items():
        original = workspace.cache.read(file)
        try:
            write.write_atomic(Path(file), encode_like(new, original), original, root)
        except ComposePortsError as exc:
            errors.append(f"{shown(file)}: {exc.message}")
            continue
        written.append(file)
    done = set(written)
    # Only the variables of files really rewritten go to the env files.
    variables = {
        name: value
        for name, value in fix_plan.variables.items()
        if fix_plan.variable_files.get(name, set()) & done
    }
    env_added = []
    for target in targets:
        try:
            added = envfile.append_env(target, variables, repository=root)
        except ComposePortsError as exc:
            errors.append(f"{shown(str(target))}: {exc.message}")
            continue
        if added:
            env_added.append((str(target), added))
    return FixOutcome(errors, notes, planned, written, env_added, unresolved)


def _read_errors(workspace: Workspace) -> list[str]:
    from compose_ports.reporters.common import error_line

    lines = [error_line(d) for d in all_diagnostics(workspace) if d.kind == "read"]
    return list(dict.fromkeys(lines))


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
