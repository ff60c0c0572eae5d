"""`compose-ports lint`: the findings of the rules, in six formats; with `--fix`, fix first."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from compose_ports.commands.common import (
    EXIT_ERROR,
    TEXT,
    VERBATIM,
    compose_options,
    emit,
    host_workspace,
    read_workspace,
    relative_note,
    run_fix,
    write,
)

if TYPE_CHECKING:  # imported where used, so that `--help` and other commands stay fast
    from compose_ports.lint import LintResult
    from compose_ports.reporters.context import ReportContext, RuleInfo
    from compose_ports.rules.base import Rule

FORMATS = ("auto", "text", "concise", "json", "sarif", "github")


def rule_list(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.command("lint")
@compose_options
@click.option("--select", "selected", multiple=True, help="Rules to run: codes, prefixes, names.")
@click.option("--ignore", "ignored", multiple=True, help="Rules to skip: codes, prefixes, names.")
@click.option("--host", "host", help="Report only what concerns the stacks of this hosts: group.")
@click.option(
    "--fix",
    "apply_fix",
    is_flag=True,
    help="Run `fix` on the findings --select/--ignore keep, then report what is left.",
)
@click.option("--remap", is_flag=True, help="With --fix: `fix --remap` (override files) too.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="auto: github inside GitHub Actions, text elsewhere; concise: one line per finding.",
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="warning",
    show_default=True,
    help="The lowest severity that makes the exit code 1.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
def lint_command(
    selected: tuple[str, ...],
    ignored: tuple[str, ...],
    host: str | None,
    apply_fix: bool,
    remap: bool,
    output_format: str,
    output: str | None,
    fail_on: str,
    exit_zero: bool,
    **kwargs: Any,
) -> None:
    """Report conflicts, invalid ports, policy and security issues. Writes only with --fix."""
    from pathlib import Path

    from compose_ports.findings import Severity
    from compose_ports.lint import chosen_rules, lint, named_exactly

    try:
        rules = chosen_rules(rule_list(selected), rule_list(ignored))
    except KeyError as exc:
        raise click.UsageError(unknown_rule(str(exc.args[0]))) from None
    if remap and not apply_fix:
        raise click.UsageError("--remap goes with --fix")
    workspace = read_workspace(**kwargs)
    fix_failed = False
    if apply_fix:
        host_workspace(workspace, host)  # an unknown host stops the run before anything is written
        fix_failed = _fix(rules, remap, host, kwargs)
        workspace = read_workspace(**kwargs)  # what is left, as the files are now
    workspace = host_workspace(workspace, host)
    cwd = os.getcwd()
    triggers = [Path(os.path.normpath(Path(cwd) / p)) for p in kwargs["paths"] if Path(p).is_file()]
    result = lint(
        workspace, rules, triggers=triggers or None, enabled=named_exactly(rule_list(selected))
    )
    _report(rules, result, workspace, output_format, output, cwd)
    if result.errors or fix_failed:
        sys.exit(EXIT_ERROR)
    threshold = Severity(fail_on).rank
    if not exit_zero and any(f.severity.rank >= threshold for f in result.findings):
        sys.exit(1)


def _report(
    rules: Sequence[Rule],
    result: LintResult,
    workspace: Any,
    output_format: str,
    output: str | None,
    cwd: str,
) -> None:
    """The report in its format, to stdout or --output; the loader's notes to stderr."""
    from compose_ports.reporters.common import display_path

    if output_format == "auto":
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    concise = output_format == "concise"
    reporter = _lint_reporter("text" if concise else output_format)
    context = _report_context(rules, result, cwd, output is None, concise)
    if hasattr(reporter, "render_parts"):
        parts = reporter.render_parts(result.findings, context)
    else:
        parts = [reporter.render(result.findings, context)]
    for skipped in workspace.notes:
        emit(f"note: {display_path(skipped.file)}: {skipped.message}", err=True)
    for note in dict.fromkeys(w for p in workspace.projects for w in p.warnings):
        emit(f"note: {relative_note(note)}", err=True)
    write(parts, output, TEXT if output_format in ("text", "concise") else VERBATIM)


def unknown_rule(selector: str) -> str:
    from compose_ports.didyoumean import near
    from compose_ports.rules import RULES

    known = [name for r in RULES for name in (r.CODE, r.NAME)]
    return f"unknown rule {selector!r}{near(selector, known)}"


def _fix(rules: Sequence[Rule], remap: bool, host: str | None, kwargs: dict[str, Any]) -> bool:
    """`compose-ports fix` (and `--remap`) on the findings of the chosen rules, as ruff's
    `check --fix` does. Its lines go to stderr: stdout is the report, in its format. True when
    fix could not do its job (exit code 2, the report of what is left still printed)."""
    from compose_ports.reporters.common import display_path

    outcome = run_fix(
        kwargs,
        remap=remap,
        # Only what the report covers: the host's stacks (and, with --remap, the machine
        # whose ports must stay free, as `fix --remap --host`).
        host=host,
        host_only=True,
        rules=frozenset(r.CODE for r in rules),
    )
    for file in outcome.written:
        emit(f"fixed {display_path(file)}", err=True)
    for target, added in outcome.env_added:
        emit(f"added {', '.join(added)} to {display_path(target)}", err=True)
    for error in outcome.errors:
        emit(error, err=True)
    return bool(outcome.errors)


def _lint_reporter(name: str) -> Any:
    import importlib

    return importlib.import_module(f"compose_ports.reporters.lint_{name}")


def _report_context(
    rules: Sequence[Rule], result: LintResult, cwd: str, tty: bool, concise: bool = False
) -> ReportContext:
    from pathlib import Path

    from compose_ports.compose.discovery import repository_root
    from compose_ports.reporters.context import ReportContext

    terminal = tty and sys.stdout.isatty()
    color = terminal and not os.environ.get("NO_COLOR")
    root = repository_root(Path(cwd))
    return ReportContext(
        cwd=cwd,
        rules=[rule_info(r) for r in rules],
        files_read=result.files_read,
        files_unreadable=result.files_unreadable,
        errors=result.errors,
        color=bool(color),
        repository_root=str(root) if root else None,
        width=terminal_width() if terminal else None,
        concise=concise,
    )


def terminal_width() -> int:
    """The terminal's columns (`COLUMNS` first, as `shutil` reads it); never so few that a
    location could not start a line."""
    import shutil

    return max(shutil.get_terminal_size().columns, 40)


def rule_info(rule: Rule) -> RuleInfo:
    from compose_ports.reporters.context import RuleInfo

    return RuleInfo(
        code=rule.CODE,
        name=rule.NAME,
        severity=rule.SEVERITY,
        summary=rule.SUMMARY,
        help_text=(rule.__doc__ or "").strip(),
    )
