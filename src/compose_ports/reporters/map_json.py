"""`map --format json`: the contract documented in schemas/map.schema.json.

The projects, each with its ports; then the machines (`hosts:` groups), each with its stacks and
the bindings in conflict there, as `registry_view` finds them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from compose_ports.model import PortBinding, PortSpec, Project
from compose_ports.reporters.common import Encoded, display_path, encode, json_parts, json_text
from compose_ports.reporters.registry_view import HostGroup, Peer, Row

VERSION = 1


def port_entry(binding: PortBinding, spec: PortSpec, cwd: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "service": binding.service,
        "host_ip": spec.host_ip,
        "published": spec.published,
        "target": spec.target,
        "protocol": spec.protocol,
        "mode": spec.mode,
        "file": display_path(binding.source.file, cwd),
        "line": binding.source.line,
        "column": binding.source.column,
        "variable": binding.variable,
        "origin": binding.origin.value,
    }
    if spec.name is not None:
        entry["name"] = spec.name
    if spec.app_protocol is not None:
        entry["app_protocol"] = spec.app_protocol
    return entry


def project_entry(project: Project, cwd: str | None = None) -> dict[str, Any]:
    return {
        "name": project.name,
        "directory": display_path(project.directory, cwd),
        "stack": project.stack,
        "files": [display_path(f, cwd) for f in project.files],
        "ports": Encoded(encode(port_entry(b, spec, cwd)) for b, spec in project.entries()),
        "inactive": [
            {"service": s.name, "profiles": list(s.profiles)}
            for s in project.services
            if not s.active
        ],
        "errors": [
            {
                "file": display_path(d.file, cwd) if d.file else None,
                "line": d.line,
                "column": d.column,
                "message": d.message,
            }
            for d in project.diagnostics
        ],
        "rejected": project.rejection,
        "warnings": list(project.warnings),
    }


def peer_entry(peer: Peer) -> dict[str, Any]:
    return {
        "service": peer.service,
        "stack": peer.stack,
        "ports": peer.ports,
        "protocol": peer.protocol,
        "certain": peer.certain,
        "itself": peer.itself,
    }


def conflict_entry(row: Row, cwd: str | None = None) -> dict[str, Any]:
    return {
        "service": row.service,
        "stack": row.stack,
        "project": row.project,
        "host_ip": row.host_ip,
        "published": row.published,
        "protocol": row.protocol,
        "file": display_path(row.file, cwd),
        "line": row.line,
        "column": row.column,
        "with": [peer_entry(p) for p in row.peers],
        "others": row.others,
    }


def host_entry(group: HostGroup, cwd: str | None = None) -> dict[str, Any]:
    return {
        "name": group.title,
        "config": display_path(group.config, cwd) if group.config else None,
        "stacks": [m.title for m in group.members],
        # One per line, as the ports: a crowded port is thousands of them.
        "conflicts": Encoded(encode(conflict_entry(r, cwd)) for r in group.rows if r.conflict),
    }


def _document(
    projects: list[Project], cwd: str | None, hosts: Sequence[HostGroup]
) -> dict[str, Any]:
    return {
        "version": VERSION,
        "projects": [project_entry(p, cwd) for p in projects],
        "hosts": [host_entry(g, cwd) for g in hosts if g.host is not None],
    }


def render(projects: list[Project], cwd: str | None = None, hosts: Sequence[HostGroup] = ()) -> str:
    # One port per line: readable, and encoded by the C encoder.
    return json_text(_document(projects, cwd, hosts), depth=4) + "\n"


def render_parts(
    projects: list[Project], cwd: str | None = None, hosts: Sequence[HostGroup] = ()
) -> Iterator[str]:
    yield from json_parts(_document(projects, cwd, hosts), depth=4)
    yield "\n"
