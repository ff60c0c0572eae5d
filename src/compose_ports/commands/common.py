"""What every command shares: Compose's options, the run's workspace, and how text is printed.

Everything printed goes through `emit` (reports through lint's `write`, which calls it): a line
made here from input (a path, a service, a process name) has its control characters shown as
`\\x1b`, and no line may start with what a CI runner reads as a command (`::error`, `##[`);
reporters escape their own values for their format (see reporters/escape.py). Only the patch of
`fix --diff`, meant for `patch` and `git apply`, keeps its bytes (`emit_patch`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:  # imported where used: only fix and lint --fix need them
    from compose_ports.fix.pipeline import FixOutcome

EXIT_ERROR = 2

# What a piece of output is, for `emit`: who escaped the input it carries.
LINE = "line"  # made here from input: escaped whole (`escape.terminal`), one line
TEXT = "text"  # for people, its values escaped by a reporter (or none): no line starts a command
VERBATIM = "verbatim"  # JSON, SARIF, workflow commands: escaped as their format requires


def emit(text: str, *, err: bool = False, kind: str = LINE, nl: bool = True) -> None:
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
        raise cannot_write(exc, "stderr" if err else "stdout") from None


def emit_patch(text: str) -> None:
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
        raise cannot_write(exc, "stdout") from None


def cannot_write(exc: OSError, stream: str) -> Exception:
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


def read_workspace(
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
    options = load_options(files, env_files, project_directory, project_name, profiles)
    return load_workspace(paths, options, config_file, keep_text=keep_text)


def print_errors(workspace: Any, kinds: tuple[str, ...] = ("read", "port", "variable")) -> None:
    """The files a scan skipped, as notes (no exit code of their own), then every error of
    these kinds (exit code 2), one line each."""
    from compose_ports.compose.workspace import all_diagnostics
    from compose_ports.reporters.common import display_path, error_line

    for note in workspace.notes:
        emit(f"note: {display_path(note.file)}: {note.message}", err=True)
    lines = [error_line(d) for d in all_diagnostics(workspace) if d.kind in kinds]
    for line in dict.fromkeys(lines):
        emit(line, err=True)


def load_options(
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


def run_fix(kwargs: dict[str, Any], **fields: Any) -> FixOutcome:
    """`compose-ports fix` on what the command line names (`fields`: the rest of the
    FixRequest); its notes go to stderr, the outcome is the caller's to report."""
    from compose_ports.fix.pipeline import FixRequest, run
    from compose_ports.reporters.common import display_path, error_line

    request = FixRequest(
        paths=kwargs["paths"],
        options=load_options(**kwargs),
        config_file=kwargs["config_file"],
        **fields,
    )
    outcome = run(request, display_path, error_line)
    for note in outcome.notes:
        emit(relative_note(note), err=True)
    return outcome


def relative_note(note: str) -> str:
    from compose_ports.reporters.common import display_path

    path, sep, rest = note.partition(":")
    return display_path(path) + sep + rest if sep else note


def on_host(workspace: Any, host: str | None) -> list[Any]:
    if host is None:
        return list(workspace.projects)
    groups = [members for (_, name), members in workspace.hosts().items() if name == host]
    if not groups:
        no_host(workspace, host)
    return [p for members in groups for p in members]


def host_workspace(workspace: Any, host: str | None) -> Any:
    """The workspace as one machine sees it: the stacks of the `hosts:` group `host` alone, each
    config declaring that host only (`--host` of map and lint).

    Every rule and view that asks `workspace.hosts()` then speaks for that machine alone:
    CP101 compares its stacks and no other host's, and the registry (CP204), which speaks for
    its own hosts, says nothing on another one.
    """
    if host is None:
        return workspace
    from dataclasses import replace

    from compose_ports.compose.workspace import project_key

    members = on_host(workspace, host)
    chosen = {id(p) for p in members}
    seen: dict[int, Any] = {}  # each config once, so that its stacks keep sharing it

    def alone(config: Any) -> Any:
        if config is None:
            return None
        if id(config) not in seen:
            hosts = {host: config.hosts[host]} if host in config.hosts else {}
            seen[id(config)] = replace(config, hosts=hosts)
        return seen[id(config)]

    projects = tuple(p for p in workspace.projects if id(p) in chosen)
    configs = {project_key(p): alone(workspace.config_of(p)) for p in projects}
    return workspace._replace(projects=projects, configs=configs)


def no_host(workspace: Any, host: str) -> NoReturn:
    """A host no config declares: when a config could not be read, its error is the one that
    explains it (and the exit code is 2 either way)."""
    if workspace.has_errors:
        print_errors(workspace)
        sys.exit(EXIT_ERROR)
    raise click.UsageError(
        f"no hosts: group named {host!r} in the config{_host_hint(workspace, host)}"
    )


def _host_hint(workspace: Any, host: str) -> str:
    """The near miss of a host name; or, for a stack's name given as a host, that stack's hosts."""
    from compose_ports.didyoumean import near

    configs = {id(c): c for c in workspace.configs.values() if c is not None}.values()
    hosts = [h for c in configs for h in c.hosts]
    if not hosts:
        return " (the config declares no hosts: groups)"
    stacks = [s for c in configs for s in c.stacks]
    if host in stacks:
        on = sorted({h for c in configs for h in c.hosts_of(host)}, key=hosts.index)
        where = f"it runs on {', '.join(on)}" if on else "no hosts: group names it"
        return f" ({host!r} is a stack: {where})"
    hint = near(host, hosts)
    return hint or f" (known: {', '.join(dict.fromkeys(hosts))})"


def config_for(workspace: Any, host: str) -> Any:
    for config, name in workspace.hosts():
        if name == host:
            return config
    no_host(workspace, host)


def any_config(workspace: Any) -> Any:
    return next((c for c in workspace.configs.values() if c is not None), None)


def echo_text(text: str, nl: bool = True) -> None:
    """The tool's own text (a rule's documentation and examples): several lines, no input."""
    emit(text, kind=TEXT, nl=nl)


def write(parts: Iterable[str], output: str | None, kind: str) -> None:
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
            emit("".join(chunk), kind=kind, nl=False)
            chunk, size = [], 0
    if chunk:
        emit("".join(chunk), kind=kind, nl=False)
