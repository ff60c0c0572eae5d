"""`compose-ports init`: a starter `.compose-ports.yaml`, from what the repository runs today.

The first step of moving a team onto a port policy, "audit current usage": the stacks found
(each directory's main file with its override, each variant with the main file, and where there
is no main file, the override with each file it can go with), one `hosts:` group to edit, the
ranges of a template, and the registry of today's ports. `lint` then runs with it; the ports
outside their template range are its CP201 findings (the audit), and `init` counts them with
lint's own rule, so the two always agree.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import click

from compose_ports.commands.common import EXIT_ERROR, emit
from compose_ports.policy.templates import TEMPLATES

NO_RANGES = "none"
DEFAULT_HOST = "main"


class Stack(NamedTuple):
    """A stack the config will declare: its files in `-f` order."""

    name: str
    files: tuple[Path, ...]
    on_host: bool  # in the one `hosts:` group: a directory's main stack, and files read alone


@click.command("init")
@click.argument("path", default=".", type=click.Path())
@click.option(
    "--ranges",
    "template",
    type=click.Choice([*TEMPLATES, NO_RANGES]),
    default="standard",
    show_default=True,
    help="The ranges to start from (standard: 3000s frontends, 5000s databases, ...).",
)
@click.option(
    "--host",
    "host",
    default=DEFAULT_HOST,
    show_default=True,
    help="The name of the hosts: group the main stacks go in.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the config (default: PATH/.compose-ports.yaml); never over a file.",
)
def init_command(path: str, template: str, host: str, output: str | None) -> None:
    """Write a starter .compose-ports.yaml from the compose files under PATH.

    It declares every stack found, one hosts: group, the ranges of a template and the registry
    of today's ports, and prints how many of today's ports fall outside their range: what
    `compose-ports lint` then reports as CP201. An existing config is never overwritten.
    """
    from compose_ports.compose import discovery
    from compose_ports.errors import ComposePortsError
    from compose_ports.reporters.common import display_path

    root = Path(os.path.abspath(path))
    if not root.is_dir():
        _fail(f"{path}: not a directory")
    repository = discovery.repository_root(root) or root
    target = Path(os.path.abspath(output)) if output else root / ".compose-ports.yaml"
    shown = display_path(str(target))
    refusal = _place_problem(target, repository, default=output is None)
    if refusal is not None:
        _fail(f"{shown}: {refusal}: nothing written")

    errors: list[ComposePortsError] = []
    notes: list[ComposePortsError] = []
    files = discovery.scan(root, errors, notes)
    for note in notes:
        emit(f"note: {display_path(note.file)}: {note.message}", err=True)
    if errors:
        for error in errors:
            emit(f"{display_path(error.file)}: {error.message}", err=True)
        _fail(f"{shown}: the compose files above cannot be read: nothing written")
    if not files:
        _fail(f"{path}: no compose files found: nothing written")
    stacks = list(find_stacks(root, files))
    projects, cache = _load(stacks)
    _stop_on_read_errors(projects, shown)
    on_host = [s for s in stacks if s.on_host]
    registry, left_out = _registry(projects, {s.name for s in on_host})
    text = config_text(
        stacks,
        target.parent,
        host if on_host else None,
        [s.name for s in on_host],
        TEMPLATES.get(template, ()),
        template,
        registry,
    )
    data = text.encode("utf-8")
    config = _checked(data, target)
    outside = _outside_ranges(projects, config, cache)
    try:
        written = _create(target, data)
    except OSError as exc:
        _fail(f"{shown}: cannot write the config: {exc.strerror or exc}: nothing written")
    if not written:
        _fail(f"{shown}: already exists: init never overwrites a config: nothing written")
    _report(stacks, files, host, on_host, template, registry, left_out, outside, shown)


def _fail(line: str) -> NoReturn:
    emit(line, err=True)
    sys.exit(EXIT_ERROR)


# -- what is there ---------------------------------------------------------------------------


def _place_problem(target: Path, repository: Path, default: bool) -> str | None:
    """Why no config may be written at target, or None: it is never written over anything,
    nor outside the repository (symbolic links resolved)."""
    from compose_ports.policy.config import CONFIG_NAMES

    if os.path.lexists(target):
        return "already exists: init never overwrites a config"
    if default:
        # Another config in the same place would be the one the tools find, or clash with it.
        for name in CONFIG_NAMES:
            if os.path.lexists(target.parent / name):
                return f"{name} already exists: init never overwrites a config"
        if _pyproject_has_config(target.parent / "pyproject.toml"):
            return "pyproject.toml already has a [tool.compose-ports] config"
    directory = Path(os.path.realpath(target.parent))
    if not directory.is_dir():
        return "its directory does not exist"
    if not directory.is_relative_to(os.path.realpath(repository)):
        return f"outside the repository ({repository})"
    return None


def _pyproject_has_config(path: Path) -> bool:
    from compose_ports.errors import ComposePortsError
    from compose_ports.policy.config import _pyproject_table

    try:
        return path.is_file() and _pyproject_table(path) is not None
    except ComposePortsError:
        return False  # not a config lint could read either: this one takes its place


def find_stacks(root: Path, files: Iterable[Path]) -> Iterator[Stack]:
    """Every stack the compose files under root make, directory by directory.

    As Compose and `lint` read them: the main file with its override, and each variant with the
    main file (`docker compose -f compose.yaml -f compose.prod.yaml`); any other file alone. A
    directory without a main file has no base that Compose would pair its override with, so the
    override goes with each file it could extend, and each such pair is a stack of its own.
    """
    from compose_ports.compose import discovery

    by_directory: dict[Path, list[Path]] = {}
    for file in files:
        by_directory.setdefault(file.parent, []).append(file)
    taken: set[str] = set()

    def named(*parts: str) -> str:
        name = "-".join(p for p in parts if p) or "default"
        unique, number = name, 2
        while unique in taken:
            unique, number = f"{name}-{number}", number + 1
        taken.add(unique)
        return unique

    for directory in sorted(by_directory):
        members = sorted(by_directory[directory])
        names = {p.name: p for p in members}
        main = next((names[n] for n in discovery.MAIN_NAMES if n in names), None)
        override = next((names[n] for n in discovery.OVERRIDE_NAMES if n in names), None)
        variants = [p for p in members if p != main and discovery.variant_name(p)]
        alone = [p for p in members if p not in (main, override) and p not in variants]
        prefix = _prefix(root, directory)
        if main is not None:
            base = (main, override) if override else (main,)
            yield Stack(named(prefix or _project_name(directory)), base, True)
            for variant in variants:
                yield Stack(
                    named(prefix, discovery.variant_name(variant) or ""), (main, variant), False
                )
            for file in alone:
                yield Stack(named(prefix, _stem(file)), (file,), True)
            continue
        # No main file: the variants and the other files are bases; one variant stands for
        # the directory on the host (a production one when there is one).
        bases = [(discovery.variant_name(v) or "", v) for v in variants]
        bases += [(_stem(f), f) for f in alone]
        primary = next((v for n, v in bases if n in ("prod", "production")), None)
        primary = primary or (variants[0] if variants else None)
        for stem, file in bases:
            name = named(prefix, stem)
            yield Stack(name, (file,), file is primary or file in alone)
            if override is not None:
                yield Stack(named(name, "override"), (file, override), False)
        if override is not None and not bases:
            yield Stack(named(prefix, _stem(override)), (override,), False)


def _prefix(root: Path, directory: Path) -> str:
    relative = directory.relative_to(root).as_posix()
    return "" if relative == "." else relative.replace("/", "-")


def _project_name(directory: Path) -> str:
    from compose_ports.compose.loading import project_name_from

    return project_name_from(directory)


def _stem(file: Path) -> str:
    return re.sub(r"\.ya?ml$", "", file.name)


def _load(stacks: list[Stack]) -> tuple[list[Any], Any]:
    from compose_ports.compose.loading import FileCache, LoadOptions, load_project

    cache = FileCache(keep_text=False)
    projects = []
    for stack in stacks:
        options = LoadOptions(
            files=tuple(map(str, stack.files)), environ=dict(os.environ), cwd=os.getcwd()
        )
        projects.append(load_project(options, stack=stack.name, cache=cache))
    return projects, cache


def _stop_on_read_errors(projects: list[Any], shown: str) -> None:
    """A file lint could not read would make its exit code 2: nothing is written until it can."""
    from compose_ports.reporters.common import error_line

    lines = [error_line(d) for p in projects for d in p.diagnostics if d.kind == "read"]
    if lines:
        for line in dict.fromkeys(lines):
            emit(line, err=True)
        _fail(f"{shown}: the compose files above cannot be read: nothing written")


def _registry(projects: list[Any], on_host: set[str]) -> tuple[dict[str, int], list[str]]:
    """The port each service of the host's stacks publishes today (its first fixed host port),
    and why some are left out: a registry gives a port one service, and a service one port."""
    ports: dict[str, int] = {}
    owners: dict[int, str] = {}
    left_out: list[str] = []
    for project in projects:
        if project.stack not in on_host:
            continue
        for service in project.active_services:
            fixed = [b.host_range[0] for b in service.ports if b.host_range is not None]
            if not fixed:
                continue
            port = fixed[0]
            if ports.get(service.name, port) != port:
                left_out.append(
                    f"{service.name}: {port} in stack {project.stack}, but "
                    f"{ports[service.name]} where it was met first"
                )
            elif owners.get(port, service.name) != service.name:
                left_out.append(
                    f"{service.name}: {port} is {owners[port]}'s (stack {project.stack})"
                )
            else:
                ports[service.name] = port
                owners[port] = service.name
    return dict(sorted(ports.items(), key=lambda item: (item[1], item[0]))), left_out


# -- the config ------------------------------------------------------------------------------

HEADER = """\
# The port policy of this repository, started by `compose-ports init` from the compose files
# it found. Edit it: say which stacks run on which machine, move services into their
# categories, then run `compose-ports lint`. Every key is in the README of compose-ports
# (Configuration); editors can check the file against schemas/config.schema.json.
"""


def config_text(
    stacks: list[Stack],
    directory: Path,
    host: str | None,
    members: list[str],
    ranges: Iterable[Any],
    template: str,
    registry: dict[str, int],
) -> str:
    """The config, as text a person edits: commented, one idea per section."""
    lines = [HEADER]
    lines += [
        "# Which files Docker Compose is run with, like `docker compose -f A -f B`; paths are",
        "# relative to this file.",
        "stacks:",
    ]
    for stack in stacks:
        files = [os.path.relpath(f, directory) for f in stack.files]
        lines.append(f"  {_scalar(stack.name)}: {_flow(Path(f).as_posix() for f in files)}")
    if host is not None:
        lines += [
            "",
            "# Stacks that run on one machine at the same time: their host ports share one space.",
            "# One group to start with: rename it, add a group per machine, list what each runs.",
            "hosts:",
            f"  {_scalar(host)}: {_flow(members)}",
        ]
    ranges = list(ranges)
    if ranges:
        lines += [
            "",
            f"# The allocation policy (template: {template}): each category owns a host-port",
            "# range; services join it by service name (`services:`) or image (`images:`),",
            "# shell-style globs. Ports outside their range are reported as CP201.",
            "ranges:",
        ]
        for port_range in ranges:
            lines += [
                f"  # {port_range.purpose}",
                f"  {_scalar(port_range.name)}:",
                f"    ports: {port_range.start}-{port_range.end}",
            ]
            if port_range.images:
                lines.append("    images:")
                lines += [f"      - {_quoted(glob)}" for glob in port_range.images]
    if registry:
        lines += [
            "",
            "# The port registry: the host port each service publishes today, on the hosts named.",
            "# A port other than its registered one, or one registered to another service, is",
            "# reported as CP204.",
            "registry:",
        ]
        if host is not None:
            lines.append(f"  hosts: [{_scalar(host)}]")
        lines.append("  ports:")
        lines += [f"    {_scalar(name)}: {port}" for name, port in registry.items()]
    return "\n".join(lines) + "\n"


# Plain scalars that every YAML reader takes as the same string; anything else is quoted.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL:
        return text
    return _quoted(text)


def _quoted(text: str) -> str:
    """A double-quoted YAML scalar: what is not printable is escaped, as are YAML's own line
    breaks (U+0085, U+2028, U+2029), which a reader would take for the end of a line."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable() and char not in "\x85\u2028\u2029\ufeff":
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _flow(items: Iterable[str]) -> str:
    return "[" + ", ".join(_scalar(i) for i in items) + "]"


def _checked(data: bytes, target: Path) -> Any:
    """The config read back as every command will read it, through the config check: what
    does not pass is never written."""
    from compose_ports.errors import ComposePortsError
    from compose_ports.policy.config import Config, parse_config
    from compose_ports.yamlread import YMap, decode, read_documents

    try:
        documents = read_documents(decode(data, str(target)), str(target))
        raw = documents[0] if documents else YMap()
        config: Config = parse_config(raw, target, data)
    except ComposePortsError as exc:
        _fail(f"internal error: the config written would not pass its own check: {exc}")
    return config


def _outside_ranges(projects: list[Any], config: Any, cache: Any) -> list[Any]:
    """What lint will report as CP201 with this config: lint's own rule, suppressions and all."""
    from types import MappingProxyType

    from compose_ports.compose.workspace import Workspace, project_key
    from compose_ports.lint import chosen_rules, lint

    workspace = Workspace(
        tuple(projects), MappingProxyType({project_key(p): config for p in projects}), (), cache
    )
    return list(lint(workspace, chosen_rules(["CP201"])).findings)


# -- writing ---------------------------------------------------------------------------------

_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK)


def _create(target: Path, data: bytes) -> bool:
    """Create target holding data, whole or not at all; False when a file is already there,
    even one that someone else put there a moment ago."""
    directory = target.parent
    while True:
        temporary = directory / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            # 0o666 less the umask: the mode any other new file gets.
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            # A link, unlike a rename, never replaces what is there.
            os.link(temporary, target)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                return False
            if exc.errno not in _NO_HARD_LINKS:
                raise
            if os.path.lexists(target):
                return False
            os.replace(temporary, target)
        with contextlib.suppress(OSError):
            fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


# -- what is said ----------------------------------------------------------------------------


def _report(
    stacks: list[Stack],
    files: list[Path],
    host: str,
    on_host: list[Stack],
    template: str,
    registry: dict[str, int],
    left_out: list[str],
    outside: list[Any],
    shown: str,
) -> None:
    from compose_ports.reporters.common import display_path

    emit(f"{shown}: written")
    emit(f"found {len(files)} compose files, {len(stacks)} stacks:")
    width = max(len(s.name) for s in stacks)
    for stack in stacks:
        files_text = " + ".join(display_path(str(f)) for f in stack.files)
        emit(f"  {stack.name.ljust(width)}  {files_text}")
    if on_host:
        names = ", ".join(s.name for s in on_host)
        emit(f"hosts: {host}: {names} (edit: which stacks run on one machine at the same time)")
    ranges = TEMPLATES.get(template, ())
    if ranges:
        laid = ", ".join(f"{r.name} {r.start}-{r.end}" for r in ranges)
        emit(f"ranges ({template}): {laid}")
    if registry:
        emit(f"registry: {len(registry)} services with the port they publish today")
    for why in left_out:
        emit(f"note: left out of the registry: {why}")
    if ranges:
        count = len(outside)
        ports = "port is" if count == 1 else "ports are"
        emit(f"{count} of today's {ports} outside their range: lint reports them as CP201")
        for finding in outside:
            where = f"{display_path(finding.file)}:{finding.line}:{finding.column}"
            emit(f"  {where}: {finding.message}")
    emit("next: `compose-ports lint`")
