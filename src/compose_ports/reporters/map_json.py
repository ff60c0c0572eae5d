"""`map --format json`: the contract documented in schemas/map.schema.json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compose_ports.model import PortBinding, PortSpec, Project
from compose_ports.reporters.common import Encoded, display_path, encode, json_parts, json_text

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


def render(projects: list[Project], cwd: str | None = None) -> str:
    document = {"version": VERSION, "projects": [project_entry(p, cwd) for p in projects]}
    # One port per line: readable, and encoded by the C encoder.
    return json_text(document, depth=4) + "\n"


def render_parts(projects: list[Project], cwd: str | None = None) -> Iterator[str]:
    document = {"version": VERSION, "projects": [project_entry(p, cwd) for p in projects]}
    yield from json_parts(document, depth=4)
    yield "\n"
