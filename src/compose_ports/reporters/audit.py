"""`audit --format text|json|markdown`: declared bindings against the engine's, three ways.

The comparison is made in `live.audit`; reporters never import the stages that compute, so
what a report reads of it is spelled out here as protocols. The JSON document is the contract
documented in schemas/audit.schema.json; text and Markdown say the same, for people.
Bindings are written as `docker ps` writes them: `127.0.0.1:8080->80/tcp`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from compose_ports.model import PortBinding, PortSpec, Project
from compose_ports.reporters.common import Encoded, display_path, encode, json_text
from compose_ports.reporters.escape import markdown, markdown_code, visible

VERSION = 1

# The order a report lists the kinds in, and how it names each.
KINDS = {
    "not-running": "not running",
    "not-published": "not published",
    "moved": "moved",
    "other-ip": "on another host IP",
    "undeclared": "undeclared",
    "agree": "agree",
}


class ContainerView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def project(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    def describe(self) -> str: ...


class BindingView(Protocol):
    @property
    def container(self) -> ContainerView: ...
    @property
    def host_ips(self) -> tuple[str, ...]: ...
    @property
    def host_port(self) -> int: ...
    @property
    def target(self) -> int: ...
    @property
    def protocol(self) -> str: ...


class DeclaredView(Protocol):
    @property
    def project(self) -> Project: ...
    @property
    def service(self) -> str: ...
    @property
    def binding(self) -> PortBinding: ...
    @property
    def spec(self) -> PortSpec: ...


class EntryView(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def declared(self) -> DeclaredView | None: ...
    @property
    def published(self) -> BindingView | None: ...
    @property
    def reason(self) -> str: ...


class AuditView(Protocol):
    @property
    def entries(self) -> Sequence[EntryView]: ...
    @property
    def notes(self) -> Sequence[str]: ...


class EngineView(Protocol):
    @property
    def address(self) -> str: ...
    @property
    def version(self) -> str: ...
    def describe(self) -> str: ...


# -- what every format says ---------------------------------------------------------------------


def _ip(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def declared_text(spec: PortSpec) -> str:
    """`127.0.0.1:8080->80/tcp`, `8080->80/tcp`, `*->80/tcp` (an ephemeral port)."""
    published = spec.published or "*"
    address = f"{_ip(spec.host_ip)}:{published}" if spec.host_ip else published
    return f"{address}->{spec.target}/{spec.protocol}"


def published_text(binding: BindingView) -> str:
    """As `docker ps` prints one binding: `0.0.0.0:8080->80/tcp, [::]:8080->80/tcp`."""
    return ", ".join(
        f"{_ip(ip)}:{binding.host_port}->{binding.target}/{binding.protocol}"
        for ip in binding.host_ips
    )


def stack_of(project: Project) -> str:
    return f"stack {project.stack}" if project.stack else f"project {project.name}"


def message(entry: EntryView) -> str:
    """What an entry means, in one sentence."""
    found = entry.published
    name = f"container {found.container.name}" if found else ""
    if entry.kind == "not-running":
        return "declared, not published: the service is not running"
    if entry.kind == "not-published" or found is None:
        return "declared, not published: its running container publishes nothing for it"
    if entry.kind == "moved":
        return f"moved: {name} publishes {published_text(found)} instead"
    if entry.kind == "other-ip":
        return f"published on another host IP: {name} publishes {published_text(found)}"
    if entry.kind == "undeclared":
        return f"published by {name}, declared by no stack read: {entry.reason}"
    return f"published as declared by {name}"


def _where(declared: DeclaredView, cwd: str | None) -> str:
    src = declared.binding.source
    return f"{display_path(src.file, cwd)}:{src.line}:{src.column}"


def _counts(audit: AuditView) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for entry in audit.entries:
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
    return counts


def summary(audit: AuditView, engine: EngineView) -> str:
    counts = _counts(audit)
    declared = sum(1 for e in audit.entries if e.declared is not None)
    differ = declared - counts["agree"]
    extra = counts["undeclared"]
    bindings = "declared binding" if declared == 1 else "declared bindings"
    if not differ and not extra:
        said = f"Agree: {declared} {bindings} published as declared, and nothing else published"
    else:
        kinds = ", ".join(
            f"{counts[k]} {KINDS[k]}"
            for k in KINDS
            if k not in ("agree", "undeclared") and counts[k]
        )
        said = f"Drift: {differ} of {declared} {bindings} differ" + (f" ({kinds})" if kinds else "")
        if extra:
            what = "binding" if extra == 1 else "bindings"
            said += f"; {extra} published {what} declared by no stack read"
    return f"{said}. Engine: {engine.describe()}."


# -- text ---------------------------------------------------------------------------------------


def render_text(audit: AuditView, engine: EngineView, cwd: str | None = None) -> str:
    """The drift, one line each (agreeing bindings are only counted), then the summary."""
    lines = [f"note: {note}" for note in audit.notes]
    for entry in audit.entries:
        if entry.kind == "agree":
            continue
        declared = entry.declared
        if declared is not None:
            head = (
                f"{_where(declared, cwd)}: {declared_text(declared.spec)} of "
                f"{declared.service} ({stack_of(declared.project)})"
            )
        else:
            assert entry.published is not None
            head = published_text(entry.published)
        lines.append(f"{head}: {message(entry)}")
    lines.append(summary(audit, engine))
    return "".join(visible(line) + "\n" for line in lines)


# -- json ---------------------------------------------------------------------------------------


def document(
    audit: AuditView, engine: EngineView, projects: Sequence[Project], cwd: str | None = None
) -> dict[str, Any]:
    counts = _counts(audit)
    return {
        "version": VERSION,
        "engine": {"address": engine.address, "version": engine.version},
        "stacks": [
            {
                "name": p.name,
                "stack": p.stack,
                "directory": display_path(p.directory, cwd),
                "files": [display_path(f, cwd) for f in p.files],
            }
            for p in projects
        ],
        "bindings": [_entry(e, cwd) for e in audit.entries],
        "summary": {
            "declared": sum(1 for e in audit.entries if e.declared is not None),
            **{kind.replace("-", "_"): counts[kind] for kind in KINDS},
        },
        "notes": list(audit.notes),
    }


def _entry(entry: EntryView, cwd: str | None) -> dict[str, Any]:
    declared = entry.declared
    found = entry.published
    return {
        "status": entry.kind,
        "project": declared.project.name
        if declared
        else found.container.project
        if found
        else None,
        "stack": declared.project.stack if declared else None,
        "service": declared.service if declared else found.container.service if found else None,
        "declared": _declared(declared, cwd) if declared else None,
        "published": _published(found) if found else None,
        "message": message(entry),
    }


def _declared(declared: DeclaredView, cwd: str | None) -> dict[str, Any]:
    spec = declared.spec
    src = declared.binding.source
    return {
        "host_ip": spec.host_ip,
        "published": spec.published,
        "target": spec.target,
        "protocol": spec.protocol,
        "file": display_path(src.file, cwd),
        "line": src.line,
        "column": src.column,
    }


def _published(binding: BindingView) -> dict[str, Any]:
    container = binding.container
    return {
        "container": container.name,
        "id": container.id,
        "project": container.project,
        "service": container.service,
        "host_ips": list(binding.host_ips),
        "host_port": binding.host_port,
        "target": binding.target,
        "protocol": binding.protocol,
    }


def render_json(
    audit: AuditView, engine: EngineView, projects: Sequence[Project], cwd: str | None = None
) -> str:
    doc = document(audit, engine, projects, cwd)
    doc["bindings"] = Encoded(encode(b) for b in doc["bindings"])
    # One binding per line: readable, and encoded by the C encoder.
    return json_text(doc, depth=2) + "\n"


# -- markdown -----------------------------------------------------------------------------------

HEADER = ("Status", "Service", "Stack", "Declared", "Published", "Source", "Detail")


def render_markdown(audit: AuditView, engine: EngineView, cwd: str | None = None) -> str:
    """Every binding, drift first, for a pull request or a wiki page."""
    lines = ["# Port audit", "", markdown(summary(audit, engine)), ""]
    lines += [f"- note: {markdown(note)}" for note in audit.notes]
    if audit.notes:
        lines.append("")
    order = list(KINDS)
    entries = sorted(audit.entries, key=lambda e: order.index(e.kind) if e.kind in order else 99)
    if not entries:
        lines.append("Nothing declared, nothing published.")
        return "\n".join(lines) + "\n"
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "---|" * len(HEADER))
    for entry in entries:
        declared, found = entry.declared, entry.published
        if declared is not None:
            service, stack = declared.service, stack_of(declared.project)
        else:
            assert found is not None
            service = found.container.service or ""
            stack = f"project {found.container.project}" if found.container.project else ""
        cells = (
            markdown(KINDS.get(entry.kind, entry.kind)),
            markdown(service),
            markdown(stack),
            markdown_code(declared_text(declared.spec)) if declared else "",
            markdown_code(published_text(found)) if found else "",
            markdown_code(_where(declared, cwd)) if declared else "",
            markdown(_detail(entry)),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _detail(entry: EntryView) -> str:
    found = entry.published
    if entry.kind == "undeclared" and found is not None:
        return f"container {found.container.name}: {entry.reason}"
    if entry.kind == "not-running":
        return "the service is not running"
    if entry.kind == "not-published":
        return "its running container publishes nothing for it"
    return f"container {found.container.name}" if found else ""
