"""Our model as `docker compose config --format json` would print it, for the oracle tests."""

from __future__ import annotations

from typing import Any

from compose_ports.model import Project

BASIC = ("service", "host_ip", "published", "target", "protocol")


def ours(project: Project, fields: tuple[str, ...] = BASIC, empty: Any = "") -> list[dict]:
    """Every published-port entry, runs expanded, in Compose's order; unset fields as `empty`."""
    result = []
    for binding, spec in project.entries():
        values = {
            "service": binding.service,
            "host_ip": spec.host_ip,
            "published": spec.published,
            "target": spec.target,
            "protocol": spec.protocol,
            "mode": spec.mode,
            "name": spec.name,
            "app_protocol": spec.app_protocol,
        }
        result.append({f: (empty if values[f] is None else values[f]) for f in fields})
    return result
