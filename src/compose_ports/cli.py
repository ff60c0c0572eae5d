"""The command line: `compose-ports map|lint|fix ...` with Compose's own options.

Exit codes follow ruff: 0 clean, 1 findings (or files changed by fix), 2 usage, config, read and
internal errors.

Everything printed goes through `_emit` (reports through `_write`, which calls it): a line made
here from input (a path, a service, a process name) has its control characters shown as `\\x1b`,
and no line may start with what a CI runner reads as a command (`::error`, `##[`); reporters
escape their own values for their format (see reporters/escape.py). Only the patch of
`fix --diff`, meant for `patch` and `git apply`, keeps its bytes (`_emit_patch`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

import click

from compose_ports import __version__

EXIT_ERROR = 2

# What a piece of output is, for `_emit`: who escaped the input it carries.
LINE = "line"  # made here from input: escaped whole (`escape.terminal`), one line
TEXT = "text"  # for people, its values escaped by a reporter (or none): no line starts a command
VERBATIM = "verbatim"  # JSON, SARIF, workflow commands: escaped as their format requires


def _emit(text: str, *, err: bool = False, kind: str = LINE, nl: bool = True) -> None:
    """The one way text leaves the tool (the patch of `fix --diff` excepted)."""
    from compose_ports.reporters.escape import line_safe, terminal

    if kind == LINE:
        text = terminal(text)
    elif kind == TEXT:
        text = line_safe(text)
    try:
        click.echo(text, err=err, nl=nl)
    except BrokenPipeError:
        raise
    except OSError as exc:  # a full disk behind a redirection: one sentence, not a traceback
        raise _cannot_write(exc, "stderr" if err else "stdout") from None


def _emit_patch(text: str) -> None:
    """A patch, byte for byte: a path's bytes that are not UTF-8 stay themselves, as `patch` and
    `git apply` need them."""
    stdout = sys.stdout
    try:
        stdout.flush()
        binary = getattr(stdout, "buffer", None)
        if binary is None:  # a text-only stream put in place of stdout: it takes text or nothing
            stdout.write(text)
            return
        binary.write(text.encode("utf-8", "surrogateescape"))
        binary.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _cannot_write(exc, "stdout") from None


def _cannot_write(exc: OSError, stream: str) -> Exception:
    from compose_ports.errors import ComposePortsError

    return ComposePortsError(f"cannot write to {stream}: {exc.strerror or exc}")


def compose_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Docker Compose's own options, with Compose's meaning (README: "What is read")."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option(
            "-f",
            "--file",
            "files",
            multiple=True,
            help="Compose file, as in `docker compose -f` (repeatable; exactly that stack).",
        ),
        click.option("--env-file", "env_files", multiple=True, help="Env file (repeatable)."),
        click.option("--project-directory", help="Compose's --project-directory."),
        click.option("-p", "--project-name", help="Compose's project name."),
        click.option("--profile", "profiles", multiple=True, help="Activate a profile."),
        click.option(
            "--config",
            "config_file",
            type=click.Path(),
            help="Policy file to use instead of the nearest .compose-ports.yaml.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _workspace(
    paths: tuple[str, ...],
    files: tuple[str, ...],
    env_files: tuple[str, ...],
    project_directory: str | None,
    project_name: str | None,
    profiles: tuple[str, ...],
    config_file: str | None,
    keep_text: bool = False,
) -> Any:
    from compose_ports.compose.workspace import load_workspace

    if files and paths:
        raise click.UsageError("give either PATH arguments or -f files, not both")
    options = _load_options(files, env_files, project_directory, project_name, profiles)
    return load_workspace(paths, options, config_file, keep_text=keep_text)


def _print_errors(workspace: Any, kinds: tuple[str, ...] = ("read", "port", "variable")) -> None:
    """The files a scan skipped, as notes (no exit code of their own), then every error of
    these kinds (exit code 2), one line each."""
    from compose_ports.compose.workspace import all_diagnostics
    from compose_ports.reporters.common import display_path, error_line

    for note in workspace.notes:
        _emit(f"note: {display_path(note.file)}: {note.message}", err=True)
    lines = [error_line(d) for d in all_diagnostics(workspace) if d.kind in kinds]
    for line in dict.fromkeys(lines):
        _emit(line, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compose-ports")
def main() -> None:
    """Lint, map and rewrite the host ports of Docker Compose projects."""


@main.command("map")
@compose_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "markdown", "html"]),
    default="table",
    show_default=True,
)
def map_command(output_format: str, **kwargs: Any) -> None:
    """Print the host-port map: every host port each project publishes, and where it is set."""
    workspace = _workspace(**kwargs)
    if output_format in ("markdown", "html"):
        # The registry formats group the stacks by machine (`hosts:`): they need the workspace.
        from compose_ports.reporters import map_html, map_markdown, registry_view

        registry = map_html if output_format == "html" else map_markdown
        _emit(registry.render(registry_view.build(workspace)), kind=TEXT, nl=False)
    else:
        projects = list(workspace.projects)
        if output_format == "json":
            from compose_ports.reporters import map_json as reporter
        else:
            from compose_ports.reporters import map_table as reporter  # type: ignore[no-redef]
        kind = VERBATIM if output_format == "json" else TEXT
        if hasattr(reporter, "render_parts"):
            _write(reporter.render_parts(projects), None, kind)
        else:
            _emit(reporter.render(projects), kind=kind, nl=False)
    # The map shows each project's own errors; what it cannot show goes to stderr.
    _print_errors(workspace, kinds=("read",))
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)


FORMATS = ("auto", "text", "json", "sarif", "github")


def _rule_list(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@main.command("lint")
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
        rules = chosen_rules(_rule_list(selected), _rule_list(ignored))
    except KeyError as exc:
        raise click.UsageError(f"unknown rule {exc.args[0]!r}") from None
    workspace = _workspace(**kwargs)
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
        _emit(f"note: {display_path(skipped.file)}: {skipped.message}", err=True)
    for note in dict.fromkeys(w for p in workspace.projects for w in p.warnings):
        _emit(f"note: {_relative_note(note)}", err=True)
    _write(parts, output, TEXT if output_format == "text" else VERBATIM)
    if errors:
        sys.exit(EXIT_ERROR)
    threshold = Severity(fail_on).rank
    if not exit_zero and any(f.severity.rank >= threshold for f in result.findings):
        sys.exit(1)


def _write(parts: Iterable[str], output: str | None, kind: str) -> None:
    """A report written piece by piece: a monorepo's is tens of megabytes.

    Each part ends at the end of a line, so that `kind`'s check of line starts sees whole lines.
    """
    if output:
        from compose_ports.errors import ComposePortsError
        from compose_ports.reporters.escape import line_safe

        try:
            with open(output, "w", encoding="utf-8") as handle:
                for part in parts:
                    handle.write(line_safe(part) if kind == TEXT else part)
        except OSError as exc:
            # A missing directory, a full disk (/dev/full fails at the last flush), no permission.
            reason = exc.strerror or str(exc)
            raise ComposePortsError(f"{output}: cannot write the report: {reason}") from None
        return
    # In chunks: one echo per finding is a tenth of a monorepo's lint.
    chunk: list[str] = []
    size = 0
    for part in parts:
        chunk.append(part)
        size += len(part)
        if size >= 1 << 16:
            _emit("".join(chunk), kind=kind, nl=False)
            chunk, size = [], 0
    if chunk:
        _emit("".join(chunk), kind=kind, nl=False)


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


@main.command("rules")
def rules_command() -> None:
    """List the rules: code, name, default severity and what each reports."""
    from compose_ports.rules import RULES

    width = max(len(r.NAME) for r in RULES)
    for rule in RULES:
        fix = f" [{rule.FIX.command.removeprefix('compose-ports ')}]" if rule.FIX else ""
        _emit(
            f"{rule.CODE}  {rule.NAME.ljust(width)}  {rule.SEVERITY.value:<7}  {rule.SUMMARY}{fix}"
        )


@main.command("explain")
@click.argument("rule")
def explain_command(rule: str) -> None:
    """Print a rule's documentation, with its examples."""
    from compose_ports.rules import BY_KEY

    found = BY_KEY.get(rule) or BY_KEY.get(rule.upper())
    if found is None:
        raise click.UsageError(f"unknown rule {rule!r}; `compose-ports rules` lists them")
    _echo_text(f"{found.CODE} {found.NAME} (default severity: {found.SEVERITY.value})\n")
    if found.FIX is not None:
        _echo_text(f"Fix: `{found.FIX.command}` {found.FIX.does}.\n")
    _echo_text((found.__doc__ or "").strip().split("\n", 1)[-1].strip())
    for example in found.EXAMPLES:
        verdict = "reported" if example.expect else "not reported"
        _echo_text(f"\nExample: {example.name} ({verdict})")
        if example.config:
            _echo_text("  # .compose-ports.yaml")
            _echo_text("".join(f"  {line}\n" for line in example.config.splitlines()), nl=False)
        for name, text in example.files.items():
            _echo_text(f"  # {name}")
            _echo_text("".join(f"  {line}\n" for line in text.splitlines()), nl=False)
        for file, line, column in example.expect:
            _echo_text(f"  -> {file}:{line}:{column}")
        if example.fixed is not None and found.FIX is not None:
            _echo_text(f"  After `{found.FIX.command}`:")
            for name, text in example.fixed.items():
                if text != example.files.get(name):
                    _echo_text(f"  # {name}")
                    _echo_text("".join(f"  {line}\n" for line in text.splitlines()), nl=False)


def _echo_text(text: str, nl: bool = True) -> None:
    """The tool's own text (a rule's documentation and examples): several lines, no input."""
    _emit(text, kind=TEXT, nl=nl)


@main.command("fix")
@compose_options
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if anything would change.")
@click.option("--remap", is_flag=True, help="Also resolve conflicts rooted in override files.")
@click.option("--host", "host", help="With --remap: the hosts: group whose ports must be free.")
@click.option("--live", is_flag=True, help="With --remap: avoid ports in use on this machine.")
def fix_command(
    show_diff: bool, check: bool, remap: bool, host: str | None, live: bool, **kwargs: Any
) -> None:
    """Rewrite literal host ports to env-variable form, byte for byte otherwise.

    `--env-file FILE` is read as Compose reads it, and the new variables are appended to it with
    their current values (a missing FILE is created; existing lines are never changed).
    """
    from compose_ports.fix import unified_diff
    from compose_ports.fix.pipeline import FixRequest, run
    from compose_ports.reporters.common import display_path

    if (host or live) and not remap:
        raise click.UsageError("--host and --live go with --remap")
    if kwargs["files"] and kwargs["paths"]:
        raise click.UsageError("give either PATH arguments or -f files, not both")
    request = FixRequest(
        paths=kwargs["paths"],
        options=_load_options(**kwargs),
        config_file=kwargs["config_file"],
        remap=remap,
        host=host,
        live=live,
        write=not (show_diff or check),
    )
    outcome = run(request, display_path)
    for note in outcome.notes:
        _emit(_relative_note(note), err=True)
    for file, (original, new) in outcome.planned.items():
        if show_diff:
            _emit_patch(unified_diff(original, new, display_path(file)))
        elif check:
            _emit(f"would fix {display_path(file)}")
    for file in outcome.written:
        _emit(f"fixed {display_path(file)}")
    for target, added in outcome.env_added:
        _emit(f"added {', '.join(added)} to {display_path(target)}")
    for error in outcome.errors:
        _emit(error, err=True)
    if outcome.errors:
        sys.exit(EXIT_ERROR)
    changed = outcome.written if request.write else outcome.planned
    sys.exit(1 if changed or outcome.unresolved else 0)


def _load_options(
    files: tuple[str, ...],
    env_files: tuple[str, ...],
    project_directory: str | None,
    project_name: str | None,
    profiles: tuple[str, ...],
    **_: Any,
) -> Any:
    from compose_ports.compose.loading import LoadOptions

    return LoadOptions(
        files=files,
        env_files=env_files,
        project_directory=project_directory,
        project_name=project_name,
        profiles=profiles,
        environ=dict(os.environ),
        cwd=os.getcwd(),
    )


def _relative_note(note: str) -> str:
    from compose_ports.reporters.common import display_path

    path, sep, rest = note.partition(":")
    return display_path(path) + sep + rest if sep else note


@main.command("check")
@compose_options
@click.option("--host", "host", help="Check only the stacks of this hosts: group.")
def check_command(host: str | None, **kwargs: Any) -> None:
    """Whether something on this machine holds a host port the stacks need, right now.

    `compose-ports check && docker compose up` fails early with the process to blame instead of
    "port is already allocated". Only this machine's own socket table is read.
    """
    from compose_ports.live.availability import taken
    from compose_ports.live.sockets import listeners
    from compose_ports.reporters.common import display_path

    workspace = _workspace(**kwargs)
    projects = _on_host(workspace, host)
    blocked = False
    for item in taken(projects, listeners()):
        src = item.binding.source
        where = f"{display_path(src.file)}:{src.line}:{src.column}"
        severity = "error" if item.blocked else "note (the pool still has free ports)"
        # The process name comes from the system: a listener may rename itself to anything.
        _emit(
            f"{where}: {item.describe()}: needed by {item.binding.service} "
            f"({_stack_name(item.project)}) [{severity}]"
        )
        blocked = blocked or item.blocked
    count = sum(1 for p in projects for b in p.bindings if b.host_range)
    _emit(f"{'Blocked' if blocked else 'Free'}: {count} host ports checked on this machine.")
    _print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(1 if blocked else 0)


def _stack_name(project: Any) -> str:
    return f"stack {project.stack}" if project.stack else f"project {project.name}"


def _on_host(workspace: Any, host: str | None) -> list[Any]:
    if host is None:
        return list(workspace.projects)
    groups = [members for (_, name), members in workspace.hosts().items() if name == host]
    if not groups:
        _no_host(workspace, host)
    return [p for members in groups for p in members]


def _no_host(workspace: Any, host: str) -> NoReturn:
    """A host no config declares: when a config could not be read, its error is the one that
    explains it (and the exit code is 2 either way)."""
    if workspace.has_errors:
        _print_errors(workspace)
        sys.exit(EXIT_ERROR)
    raise click.UsageError(f"no hosts: group named {host!r} in the config")


def _config_for(workspace: Any, host: str) -> Any:
    for config, name in workspace.hosts():
        if name == host:
            return config
    _no_host(workspace, host)


@main.command("env")
@compose_options
@click.option("--host", "host", required=True, help="The hosts: group the file is for.")
@click.option("--environment", required=True, help="The environment (config env.environments).")
def env_command(host: str, environment: str, **kwargs: Any) -> None:
    """Write the env file of an environment: a variable per port, offset and collision-free.

    The file is the environment's `file` in the config (default `.env.<environment>`, beside the
    config). Existing keys, lines and comments are never changed; missing keys are appended.
    """
    from pathlib import Path

    from compose_ports.errors import ComposePortsError
    from compose_ports.fix import envfile, readers
    from compose_ports.policy import environments as envfiles
    from compose_ports.reporters.common import display_path

    workspace = _workspace(**kwargs)
    _print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    config = _config_for(workspace, host)
    if environment not in config.environments:
        known = ", ".join(sorted(config.environments)) or "none"
        _emit(
            f"{display_path(str(config.path))}: no environment named {environment!r} in "
            f"env.environments (known: {known})",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    env_plan = envfiles.plan(workspace, config, host, environment)
    root = readers.repository(kwargs["paths"], kwargs["files"], workspace, os.getcwd())
    shown = display_path(str(env_plan.path))
    reason = envfile.check_env_target(Path(env_plan.path), root)
    if reason is not None:
        _emit(f"{shown}: {reason}", err=True)
        sys.exit(EXIT_ERROR)
    try:
        added = envfile.append_env(env_plan.path, env_plan.values, ordered=True, repository=root)
    except ComposePortsError as exc:
        _emit(f"{shown}: {exc.message}", err=True)
        sys.exit(EXIT_ERROR)
    for name, why in env_plan.moved.items():
        _emit(f"note: {name}={env_plan.values[name]}: moved, {why}")
    _emit(f"{shown}: {len(added)} added, {len(env_plan.values) - len(added)} already there")


@main.command("suggest")
@click.argument("service")
@click.option("--category", help="The policy range (config ranges) to take the port from.")
@click.option("--host", "host", help="The hosts: group whose ports must stay free.")
@click.option("--protocol", default="tcp", show_default=True)
@click.option("--config", "config_file", type=click.Path(), help="Policy file to use.")
@click.argument("paths", nargs=-1, type=click.Path())
def suggest_command(
    service: str,
    category: str | None,
    host: str | None,
    protocol: str,
    config_file: str | None,
    paths: tuple[str, ...],
) -> None:
    """The lowest free host port for a new SERVICE in its category's range on a host."""
    from compose_ports.policy.suggest import suggest

    workspace = _workspace(paths, (), (), None, None, (), config_file)
    _print_errors(workspace)
    if workspace.has_errors:
        sys.exit(EXIT_ERROR)
    projects = _on_host(workspace, host)
    config = _config_for(workspace, host) if host else _any_config(workspace)
    if category and (config is None or not any(r.name == category for r in config.ranges)):
        raise click.UsageError(f"no range named {category!r} in the config")
    port, port_range = suggest(projects, config, service, category, protocol)
    if port is None:
        _emit(f"no free port for {service}", err=True)
        sys.exit(1)
    where = f" ({port_range.name} {port_range.start}-{port_range.end})" if port_range else ""
    on = f" on {host}" if host else ""
    _emit(f"{port}")
    _emit(f"{service}: {port}/{protocol} is free{on}{where}", err=True)


def _any_config(workspace: Any) -> Any:
    return next((c for c in workspace.configs.values() if c is not None), None)


def entry() -> None:
    """The console script: exit codes 0/1/2, one line per problem, never a traceback."""
    import gc

    from compose_ports.errors import ComposePortsError

    # A run builds one large graph of objects that hold no reference cycles and live until
    # the process ends: the cyclic collector would walk it over and over and free nothing
    # (a quarter of a monorepo's lint time, measured with bench/run.py).
    gc.disable()
    try:
        main.main(standalone_mode=False)
    except click.exceptions.Abort:
        _emit("interrupted: every file is either as it was or fully rewritten", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        _show(exc)
        sys.exit(EXIT_ERROR if isinstance(exc, click.UsageError) else exc.exit_code)
    except ComposePortsError as exc:
        _last_words(str(exc))
        sys.exit(EXIT_ERROR)
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("COMPOSE_PORTS_DEBUG"):
            raise
        _last_words(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in compose-ports; COMPOSE_PORTS_DEBUG=1 shows the traceback)"
        )
        sys.exit(EXIT_ERROR)
    sys.exit(0)


def _show(exc: click.ClickException) -> None:
    """Click's usage error, whose message may quote an argument: each of its lines escaped."""
    import io

    buffer = io.StringIO()
    exc.show(file=buffer)
    for line in buffer.getvalue().removesuffix("\n").split("\n"):
        _last_words(line)


def _last_words(line: str) -> None:
    """The error a run ends with, on stderr; when stderr cannot take it either, the exit code
    is all that is left to say it."""
    import contextlib

    from compose_ports.errors import ComposePortsError

    with contextlib.suppress(OSError, ComposePortsError):
        _emit(line, err=True)


if __name__ == "__main__":  # pragma: no cover
    entry()
