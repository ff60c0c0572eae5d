"""Why Docker Compose would refuse a project for reasons outside its ports.

These never stop compose-ports from mapping and linting the ports; each becomes one line
(`Project.rejection`) so that users learn that `docker compose up` would fail anyway. Messages are
Compose v2.40.3's own, down to its quirks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def rejection(model: Mapping[str, Any], file: str, active: set[str]) -> str | None:
    """The first reason Compose would refuse the merged model, or None.

    Only active services count: Compose drops the others (profiles) before it validates.
    """
    for reason in _reasons(model, file, active):
        return reason
    return None


def _reasons(model: Mapping[str, Any], file: str, active: set[str]) -> Iterator[str]:
    services = model.get("services")
    if not isinstance(services, Mapping):
        return
    services = {k: v for k, v in services.items() if isinstance(v, Mapping) and k in active}
    for name, service in services.items():
        if "environment" in service and service["environment"] is None:
            # compose-spec schema: list_or_dict, and null is neither.
            yield f"validating {file}: services.{name}.environment must be a mapping"
    configs = model.get("configs")
    for name, spec in (configs if isinstance(configs, Mapping) else {}).items():
        sources = ("file", "environment", "content")
        if (
            isinstance(spec, Mapping)
            and not spec.get("external")
            and not any(f in spec for f in sources)
        ):
            yield f"configs.{name}: one of file|environment|content must be set"
    for kind, singular in (("secrets", "secret"), ("configs", "config")):
        declared = model.get(kind)
        defined: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        for name, service in services.items():
            for ref in service.get(kind) or []:
                source = ref.get("source") if isinstance(ref, Mapping) else ref
                if isinstance(source, str) and source not in defined:
                    yield (
                        f'service "{name}" refers to undefined {singular} {source}: '
                        "invalid compose project"
                    )
    owners: dict[str, str] = {}
    for name, service in services.items():
        container = service.get("container_name")
        if isinstance(container, str):
            if container in owners:
                # Compose v2.40.3 prints a struct instead of the other service's name.
                yield (
                    f'services.{name}: container name "{container}" '
                    'is already in use by service {}"'
                )
            owners.setdefault(container, name)
    cycle = _dependency_cycle(services)
    if cycle:
        yield "dependency cycle detected: " + " -> ".join(cycle)


def _dependencies(service: Mapping[str, Any]) -> list[str]:
    """What Compose orders a service after: depends_on, links, volumes_from, network_mode."""
    result: list[str] = []
    depends = service.get("depends_on")
    if isinstance(depends, Mapping):
        result += [str(k) for k in depends]
    elif isinstance(depends, list):
        result += [str(d) for d in depends]
    for link in service.get("links") or []:
        if isinstance(link, str):
            result.append(link.split(":", 1)[0])
    for volume in service.get("volumes_from") or []:
        if isinstance(volume, str) and not volume.startswith("container:"):
            result.append(volume.split(":", 1)[0])
    mode = service.get("network_mode")
    if isinstance(mode, str) and mode.startswith("service:"):
        result.append(mode[len("service:") :])
    return result


def _dependency_cycle(services: Mapping[str, Mapping[str, Any]]) -> list[str] | None:
    graph = {name: [d for d in _dependencies(s) if d in services] for name, s in services.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in graph[node]:
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for name in graph:
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None
