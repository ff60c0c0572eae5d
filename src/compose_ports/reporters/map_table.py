"""`map --format table`: for people, aligned, grouped by project, sorted by host port.

Every value from a file or a path is shown with its control characters escaped (`escape.visible`).
"""

from __future__ import annotations

from compose_ports.model import Project
from compose_ports.reporters.common import (
    container_port,
    display_path,
    host_address,
    port_sort_key,
)
from compose_ports.reporters.escape import visible

HEADER = ("HOST PORT", "SERVICE", "TARGET", "SOURCE", "VARIABLE")


def _title(project: Project, cwd: str | None) -> str:
    stack = f" (stack {project.stack})" if project.stack else ""
    files = ", ".join(display_path(f, cwd) for f in project.files)
    return visible(f"{project.name}{stack}: {files}")


def render(projects: list[Project], cwd: str | None = None) -> str:
    blocks = []
    for project in projects:
        rows = [
            (
                visible(host_address(b)),
                visible(b.service),
                container_port(b),
                visible(f"{display_path(b.source.file, cwd)}:{b.source.line}"),
                visible(b.variable or ""),
            )
            for b in sorted(project.bindings, key=port_sort_key)
        ]
        lines = [_title(project, cwd)]
        if rows:
            widths = [max(len(r[i]) for r in (HEADER, *rows)) for i in range(len(HEADER))]
            for row in (HEADER, *rows):
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
