"""The starter policy: what `init` proposes from a repository's stacks.

The stacks the compose files make (`find_stacks`), one `hosts:` group, the ranges of a template
and the registry of today's ports (`registry`), as a config a person edits (`config_text`) and
as the config every command will read from it (`propose`), and what `init` says of it
(`summary`).

The policy comes before reading Compose, so what Compose makes of a file's name is given to
`find_stacks` (`ComposeNames`, from compose.discovery and compose.loading) and the projects
come loaded: the command does the reading, and the counting with lint's own rule.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from compose_ports.errors import ComposePortsError
from compose_ports.findings import Finding
from compose_ports.model import Project
from compose_ports.policy.config import Config, parse_config
from compose_ports.policy.templates import TEMPLATES, TemplateRange
from compose_ports.yamlread import YMap, decode, read_documents


class Stack(NamedTuple):
    """A stack the config will declare: its files in `-f` order."""

    name: str
    files: tuple[Path, ...]
    on_host: bool  # in the one `hosts:` group: a directory's main stack, and files read alone


class ComposeNames(NamedTuple):
    """What Compose makes of a compose file's name and of a directory."""

    main: tuple[str, ...]  # the main files, the first one present wins
    override: tuple[str, ...]  # the override files, likewise
    variant: Callable[[Path], str | None]  # `prod` for `docker-compose.prod.yml`
    project: Callable[[Path], str]  # a directory's default project name


class Registry(NamedTuple):
    """The port each service publishes today, and why some are left out."""

    ports: Mapping[str, int]
    left_out: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    """The starter config: as text to write, and as every command will read it."""

    stacks: tuple[Stack, ...]
    host: str  # the name of the one `hosts:` group
    template: str
    ranges: tuple[TemplateRange, ...]
    registry: Registry
    text: str
    config: Config

    @property
    def on_host(self) -> tuple[Stack, ...]:
        return tuple(s for s in self.stacks if s.on_host)

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


def propose(
    stacks: Sequence[Stack], projects: Iterable[Project], target: Path, host: str, template: str
) -> Proposal:
    """The config init writes at target, from the stacks and their loaded projects.

    Read back as every command will read it, through the config check: a config that does not
    pass raises ComposePortsError (an internal error: nothing is to be written).
    """
    on_host = [s.name for s in stacks if s.on_host]
    found = registry(projects, set(on_host))
    ranges = TEMPLATES.get(template, ())
    text = config_text(
        stacks, target.parent, host if on_host else None, on_host, ranges, template, found.ports
    )
    return Proposal(
        tuple(stacks), host, template, ranges, found, text, _read_back(text.encode("utf-8"), target)
    )


# -- the stacks ------------------------------------------------------------------------------


class _Directory(NamedTuple):
    """A directory's compose files, as Compose's names sort them."""

    main: Path | None
    override: Path | None
    variants: tuple[tuple[str, Path], ...]  # each with its variant name
    alone: tuple[Path, ...]  # the other files

    @classmethod
    def of(cls, files: list[Path], names: ComposeNames) -> _Directory:
        by_name = {p.name: p for p in files}
        main = _first(by_name, names.main)
        override = _first(by_name, names.override)
        variants = tuple((v, p) for p in files if p != main and (v := names.variant(p)))
        paired = {main, override, *(p for _, p in variants)}
        return cls(main, override, variants, tuple(p for p in files if p not in paired))


def _first(by_name: Mapping[str, Path], names: Iterable[str]) -> Path | None:
    return next((by_name[n] for n in names if n in by_name), None)


class _Names:
    """Stack names, each given once: a second `api` is `api-2`."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, *parts: str) -> str:
        name = "-".join(p for p in parts if p) or "default"
        unique, number = name, 2
        while unique in self.taken:
            unique, number = f"{name}-{number}", number + 1
        self.taken.add(unique)
        return unique


def find_stacks(root: Path, files: Iterable[Path], names: ComposeNames) -> Iterator[Stack]:
    """Every stack the compose files under root make, directory by directory.

    As Compose and `lint` read them: the main file with its override, and each variant with the
    main file (`docker compose -f compose.yaml -f compose.prod.yaml`); any other file alone. A
    directory without a main file has no base that Compose would pair its override with, so the
    override goes with each file it could extend, and each such pair is a stack of its own.
    """
    by_directory: dict[Path, list[Path]] = {}
    for file in files:
        by_directory.setdefault(file.parent, []).append(file)
    named = _Names()
    for directory in sorted(by_directory):
        found = _Directory.of(sorted(by_directory[directory]), names)
        relative = directory.relative_to(root).as_posix()
        prefix = "" if relative == "." else relative.replace("/", "-")
        if found.main is not None:
            main_name = named(prefix or names.project(directory))
            yield from _with_main(found, found.main, main_name, prefix, named)
        else:
            yield from _without_main(found, prefix, named)


def _with_main(
    found: _Directory, main: Path, main_name: str, prefix: str, named: _Names
) -> Iterator[Stack]:
    yield Stack(main_name, (main, found.override) if found.override else (main,), True)
    for variant, file in found.variants:
        yield Stack(named(prefix, variant), (main, file), False)
    for file in found.alone:
        yield Stack(named(prefix, _stem(file)), (file,), True)


def _without_main(found: _Directory, prefix: str, named: _Names) -> Iterator[Stack]:
    # The variants and the other files are bases; one variant stands for the directory on the
    # host (a production one when there is one).
    bases = [*found.variants, *((_stem(f), f) for f in found.alone)]
    primary = next((f for n, f in bases if n in ("prod", "production")), None)
    if primary is None and found.variants:
        primary = found.variants[0][1]
    for stem, file in bases:
        name = named(prefix, stem)
        yield Stack(name, (file,), file is primary or file in found.alone)
        if found.override is not None:
            yield Stack(named(name, "override"), (file, found.override), False)
    if found.override is not None and not bases:
        yield Stack(named(prefix, _stem(found.override)), (found.override,), False)


def _stem(file: Path) -> str:
    return re.sub(r"\.ya?ml$", "", file.name)


# -- the registry ----------------------------------------------------------------------------


def registry(projects: Iterable[Project], on_host: Collection[str]) -> Registry:
    """The port each service of the host's stacks publishes today (its first fixed host port),
    and why some are left out: a registry gives a port one service, and a service one port."""
    ports: dict[str, int] = {}
    owners: dict[int, tuple[str, str | None]] = {}  # port -> (service, its stack)
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
            elif owners.get(port, (service.name,))[0] != service.name:
                owner, stack = owners[port]
                left_out.append(
                    f"{service.name} (stack {project.stack}): {port} is {owner}'s (stack {stack})"
                )
            else:
                ports[service.name] = port
                owners[port] = (service.name, project.stack)
    return Registry(
        dict(sorted(ports.items(), key=lambda item: (item[1], item[0]))), tuple(left_out)
    )


# -- the config ------------------------------------------------------------------------------

HEADER = """\
# The port policy of this repository, started by `compose-ports init` from the compose files
# it found. Edit it: say which stacks run on which machine, move services into their
# categories, then run `compose-ports lint`. Every key is in the README of compose-ports
# (Configuration); editors can check the file against schemas/config.schema.json.
"""


def config_text(
    stacks: Iterable[Stack],
    directory: Path,
    host: str | None,
    members: Sequence[str],
    ranges: Iterable[TemplateRange],
    template: str,
    registry: Mapping[str, int],
) -> str:
    """The config, as text a person edits: commented, one idea per section."""
    lines = [HEADER, *_stacks_section(stacks, directory)]
    if host is not None:
        lines += [
            "",
            "# Stacks that run on one machine at the same time: their host ports share one space.",
            "# One group to start with: rename it, add a group per machine, list what each runs.",
            "hosts:",
            f"  {_scalar(host)}: {_flow(members)}",
        ]
    lines += _ranges_section(list(ranges), template)
    lines += _registry_section(registry, host)
    return "\n".join(lines) + "\n"


def _stacks_section(stacks: Iterable[Stack], directory: Path) -> list[str]:
    lines = [
        "# Which files Docker Compose is run with, like `docker compose -f A -f B`; paths are",
        "# relative to this file.",
        "stacks:",
    ]
    for stack in stacks:
        files = (Path(os.path.relpath(f, directory)).as_posix() for f in stack.files)
        lines.append(f"  {_scalar(stack.name)}: {_flow(files)}")
    return lines


def _ranges_section(ranges: Sequence[TemplateRange], template: str) -> list[str]:
    if not ranges:
        return []
    lines = [
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
    return lines


def _registry_section(registry: Mapping[str, int], host: str | None) -> list[str]:
    if not registry:
        return []
    lines = [
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
    return lines


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


def _read_back(data: bytes, target: Path) -> Config:
    try:
        documents = read_documents(decode(data, str(target)), str(target))
        return parse_config(documents[0] if documents else YMap(), target, data)
    except ComposePortsError as exc:
        raise ComposePortsError(
            f"internal error: the config written would not pass its own check: {exc}"
        ) from exc


# -- what is said ----------------------------------------------------------------------------


def summary(
    proposal: Proposal,
    files: int,
    outside: Sequence[Finding],
    shown: str,
    display: Callable[[str | None], str],
) -> Iterator[str]:
    """What init says once the config is written at `shown`, one line each: what it holds, and
    the ports `outside` their range (lint's CP201 findings with it). `display` shows a path."""
    yield f"{shown}: written"
    yield f"found {files} compose files, {len(proposal.stacks)} stacks:"
    width = max(len(s.name) for s in proposal.stacks)
    for stack in proposal.stacks:
        files_text = " + ".join(display(str(f)) for f in stack.files)
        yield f"  {stack.name.ljust(width)}  {files_text}"
    if proposal.on_host:
        names = ", ".join(s.name for s in proposal.on_host)
        yield (
            f"hosts: {proposal.host}: {names} "
            "(edit: which stacks run on one machine at the same time)"
        )
    if proposal.ranges:
        laid = ", ".join(f"{r.name} {r.start}-{r.end}" for r in proposal.ranges)
        yield f"ranges ({proposal.template}): {laid}"
    if proposal.registry.ports:
        yield f"registry: {len(proposal.registry.ports)} services with the port they publish today"
    for why in proposal.registry.left_out:
        yield f"note: left out of the registry: {why}"
    if proposal.ranges:
        yield from _outside_lines(outside, display)
    yield "next: `compose-ports lint`"


def _outside_lines(
    outside: Sequence[Finding], display: Callable[[str | None], str]
) -> Iterator[str]:
    count = len(outside)
    ports = "port is" if count == 1 else "ports are"
    yield f"{count} of today's {ports} outside their range: lint reports them as CP201"
    for finding in outside:
        yield f"  {display(finding.file)}:{finding.line}:{finding.column}: {finding.message}"
