"""`map --format markdown`: a port registry a team can commit."""

from __future__ import annotations

from compose_ports.model import Project
from compose_ports.reporters.common import display_path, port_sort_key


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(projects: list[Project], cwd: str | None = None) -> str:
    out = ["# Host ports", ""]
    for project in projects:
        stack = f" (stack `{project.stack}`)" if project.stack else ""
        out.append(f"## {project.name}{stack}")
        out.append("")
        out.append("Files: " + ", ".join(f"`{display_path(f, cwd)}`" for f in project.files))
        out.append("")
        bindings = sorted(project.bindings, key=port_sort_key)
        if not bindings:
            out += ["No published ports.", ""]
            continue
        out.append(
            "| Host port | Protocol | Host IP | Service | Container port | Variable | Source |"
        )
        out.append("|---|---|---|---|---|---|---|")
        for b in bindings:
            source = f"{display_path(b.source.file, cwd)}:{b.source.line}"
            out.append(
                "| "
                + " | ".join(
                    _cell(c)
                    for c in (
                        b.spec.published or "(ephemeral)",
                        b.spec.protocol,
                        b.spec.host_ip or "all",
                        b.service,
                        str(b.spec.target),
                        f"`{b.variable}`" if b.variable else "",
                        f"`{source}`",
                    )
                )
                + " |"
            )
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
