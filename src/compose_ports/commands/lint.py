"""`compose-ports lint`: the findings of the rules, in five formats."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from compose_ports.commands.common import (
    EXIT_ERROR,
    TEXT,
    VERBATIM,
    compose_options,
    emit,
    read_workspace,
    relative_note,
    write,
)

FORMATS = ("auto", "text", "json", "sarif", "github")


def rule_list(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.command("lint")
@compose_options
@click.option("--select", "selected", multiple=True, help="Rules to run: codes, prefixes, names.")
@click.option("--ignore", "ignored", multiple=True, help="Rules to skip: codes, prefixes, names.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="auto: github inside GitHub Actions, text elsewhere.",
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
    output_format: str,
    output: str | None,
    fail_on: str,
    exit_zero: bool,
    **kwargs: Any,
) -> None:
    """Report conflicts, invalid ports, policy and security issues. Never writes a compose file."""
    from pathlib import Path

    from compose_ports.findings import Severity
    from compose_ports.lint import chosen_rules, lint
    from compose_ports.reporters.common import display_path

    try:
        rules = chosen_rules(rule_list(selected), rule_list(ignored))
    except KeyError as exc:
        raise click.UsageError(f"unknown rule {exc.args[0]!r}") from None
    workspace = read_workspace(**kwargs)
    cwd = os.getcwd()
    triggers = [Path(os.path.normpath(Path(cwd) / p)) for p in kwargs["paths"] if Path(p).is_file()]
    result = lint(
        workspace,
        rules,
        triggers=triggers or None,
        display=lambda path: display_path(path, cwd),
    )
    errors = list(result.errors)
    if output_format == "auto":
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    reporter = _lint_reporter(output_format)
    context = _report_context(rules, result, errors, cwd, output is None)
    if hasattr(reporter, "render_parts"):
        parts = reporter.render_parts(result.findings, context)
    else:
        parts = [reporter.render(result.findings, context)]
    for skipped in workspace.notes:
        emit(f"note: {display_path(skipped.file)}: {skipped.message}", err=True)
    for note in dict.fromkeys(w for p in workspace.projects for w in p.warnings):
        emit(f"note: {relative_note(note)}", err=True)
    write(parts, output, TEXT if output_format == "text" else VERBATIM)
    if errors:
        sys.exit(EXIT_ERROR)
    threshold = Severity(fail_on).rank
    if not exit_zero and any(f.severity.rank >= threshold for f in result.findings):
        sys.exit(1)


def _lint_reporter(name: str) -> Any:
    import importlib

    return importlib.import_module(f"compose_ports.reporters.lint_{name}")


def _report_context(rules: Any, result: Any, errors: list[str], cwd: str, tty: bool) -> Any:
    from pathlib import Path

    from compose_ports.compose.discovery import repository_root
    from compose_ports.reporters.context import ReportContext

    color = tty and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    root = repository_root(Path(cwd))
    return ReportContext(
        cwd=cwd,
        rules=[rule_info(r) for r in rules],
        files_read=result.files_read,
        files_unreadable=result.files_unreadable,
        errors=errors,
        color=bool(color),
        repository_root=str(root) if root else None,
    )


def rule_info(rule: Any) -> Any:
    from compose_ports.reporters.context import RuleInfo

    return RuleInfo(
        code=rule.CODE,
        name=rule.NAME,
        severity=rule.SEVERITY,
        summary=rule.SUMMARY,
        help_text=(rule.__doc__ or "").strip(),
    )
