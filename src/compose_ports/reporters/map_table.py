"""`map --format table`: for people, aligned, grouped by project, sorted by host port.

A binding in conflict says with what in a last column, CONFLICT (only in the tables that have
one): `personas (mcp) on prod-server`, the machine named where a `hosts:` group is the reason.

Every value from a file or a path is shown with its control characters escaped (`escape.visible`).
"""

from __future__ import annotations

from collections.abc import Iterable

from compose_ports.model import PortBinding, Project
from compose_ports.reporters.common import (
    container_port,
    display_path,
    host_address,
    port_sort_key,
)
from compose_ports.reporters.escape import visible
from compose_ports.reporters.map_markdown import peer_name
from compose_ports.reporters.registry_view import HostGroup

HEADER = ("HOST PORT", "SERVICE", "TARGET", "SOURCE", "VARIABLE")
CONFLICT = "CONFLICT"

# A binding as both the model and the registry's rows know it.
_Key = tuple[str, str | None, str, int, int, int, str]


def conflicts(groups: Iterable[HostGroup]) -> dict[_Key, str]:
    """What each binding in conflict collides with, on every machine where it does."""
    found: dict[_Key, dict[str, list[str]]] = {}
    for group in groups:
        for row in group.rows:
            if not row.conflict:
                continue
            key = (
                row.project,
                row.stack,
                row.file,
                row.line,
                row.column,
                row.container_port,
                row.protocol,
            )
            peers = [peer_name(p) + ("" if p.certain else " (pool overlap)") for p in row.peers]
            if row.others:
                peers.append(f"{row.others:,} other binding{'' if row.others == 1 else 's'}")
            where = found.setdefault(key, {})
            for peer in peers:
                where.setdefault(peer, [])
                if group.host is not None:
                    where[peer].append(group.host)
    return {
        key: "; ".join(
            f"{peer} on {', '.join(hosts)}" if hosts else peer for peer, hosts in where.items()
        )
        for key, where in found.items()
    }


def _key(project: Project, binding: PortBinding) -> _Key:
    src = binding.source
    spec = binding.spec
    return (project.name, project.stack, src.file, src.line, src.column, spec.target, spec.protocol)


def _title(project: Project, cwd: str | None) -> str:
    stack = f" (stack {project.stack})" if project.stack else ""
    files = ", ".join(display_path(f, cwd) for f in project.files)
    return visible(f"{project.name}{stack}: {files}")


def render(
    projects: list[Project], cwd: str | None = None, groups: Iterable[HostGroup] = ()
) -> str:
    """The tables; `groups` (registry_view's machines) say which bindings are in conflict."""
    clashes = conflicts(groups)
    blocks = []
    for project in projects:
        bindings = sorted(project.bindings, key=port_sort_key)
        marks = [clashes.get(_key(project, b), "") for b in bindings]
        header = (*HEADER, CONFLICT) if any(marks) else HEADER
        rows = [
            (
                visible(host_address(b)),
                visible(b.service),
                container_port(b),
                visible(f"{display_path(b.source.file, cwd)}:{b.source.line}"),
                visible(b.variable or ""),
                *((visible(mark),) if len(header) > len(HEADER) else ()),
            )
            for b, mark in zip(bindings, marks, strict=True)
        ]
        lines = [_title(project, cwd)]
        if rows:
            widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
            for row in (header, *rows):
                lines.append(
                    "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                )
        else:
            lines.append("  (no published ports)")
        inactive = [s for s in project.services if not s.active and s.ports]
        for service in inactive:
            profiles = ", ".join(service.profiles)
            lines.append(visible(f"  inactive: {service.name} (profiles: {profiles})"))
        for warning in project.warnings:
            lines.append(visible(f"  note: {warning}"))
        if project.rejection:
            rejection = project.rejection
            lines.append(visible(f"  note: Docker Compose would reject this project: {rejection}"))
        for diagnostic in project.diagnostics:
            where = display_path(diagnostic.file, cwd)
            lines.append(
                visible(
                    f"  error: {where}:{diagnostic.line}:{diagnostic.column}: {diagnostic.message}"
                )
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else "no compose projects found\n"
