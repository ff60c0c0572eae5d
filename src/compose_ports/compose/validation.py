"""Why Docker Compose would refuse a project for reasons outside its ports.

These never stop compose-ports from mapping and linting the ports; each becomes one line
(`Project.rejection`) so that users learn that `docker compose up` would fail anyway. Messages are
Compose v2.40.3's own, down to its quirks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from compose_ports.yamlread import source_of


def rejection(
    model: Mapping[str, Any],
    file: str,
    active: set[str],
    directory: str | None = None,
    files: Sequence[str] = (),
) -> str | None:
    """The first reason Compose would refuse the merged model, or None.

    Only active services count: Compose drops the others (profiles) before it validates.
    `directory` is the project directory (by default the first file's) and `files` the
    project's own compose files: a relative `env_file` they set is found from the project
    directory, one that include or extends brought from another file from that file's.
    The reasons come in the order Compose v2.40.3 checks them: of two, it reports the first.
    """
    base = directory if directory is not None else os.path.dirname(file)
    for reason in _reasons(model, file, active, base, set(files) or {file}):
        return reason
    return None


def _reasons(
    model: Mapping[str, Any], file: str, active: set[str], directory: str, own: set[str]
) -> Iterator[str]:
    every = model.get("services")
    if not isinstance(every, Mapping):
        return
    services = {k: v for k, v in every.items() if isinstance(v, Mapping) and k in active}
    for name, service in services.items():
        if "environment" in service and service["environment"] is None:
            # compose-spec schema: list_or_dict, and null is neither.
            yield f"validating {file}: services.{name}.environment must be a mapping"
    yield from _configs_without_source(model.get("configs"))
    yield from _undefined_dependencies(services, every)
    yield from _undefined_references(model, services)
    cycle = _dependency_cycle(services)
    if cycle:
        yield "dependency cycle detected: " + " -> ".join(cycle)
    for service in services.values():
        yield from _missing_env_files(service.get("env_file"), directory, own)
    yield from _shared_container_names(services)


def _configs_without_source(configs: Any) -> Iterator[str]:
    for name, spec in (configs if isinstance(configs, Mapping) else {}).items():
        sources = ("file", "environment", "content")
        if (
            isinstance(spec, Mapping)
            and not spec.get("external")
            and not any(f in spec for f in sources)
        ):
            yield f"configs.{name}: one of file|environment|content must be set"


def _undefined_references(
    model: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]]
) -> Iterator[str]:
    """A service's secret or config that the project does not declare."""
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


def _shared_container_names(services: Mapping[str, Mapping[str, Any]]) -> Iterator[str]:
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


def _undefined_dependencies(
    services: Mapping[str, Mapping[str, Any]], every: Mapping[str, Any]
) -> Iterator[str]:
    """A dependency on a service the project does not define, or that a profile switches off.

    compose-go's consistency check, after the inactive services are dropped
    (types/project.go `WithServicesDisabled`): only a `depends_on` map entry with
    `required: false` on a service that is defined but inactive is dropped with it.
    """
    for name, service in services.items():
        optional = _optional_dependencies(service.get("depends_on"))
        for dependency in _dependencies(service):
            if dependency in services:
                continue
            if dependency in every and dependency in optional:
                continue
            yield f'service "{name}" depends on undefined service "{dependency}": ' + (
                "invalid compose project"
            )


def _optional_dependencies(depends: Any) -> set[str]:
    if not isinstance(depends, Mapping):
        return set()
    return {
        str(name)
        for name, spec in depends.items()
        if isinstance(spec, Mapping) and _go_bool(spec.get("required", True)) is False
    }


def _missing_env_files(env_file: Any, directory: str, own: set[str]) -> Iterator[str]:
    """compose-go reads every `env_file` of an active service when it loads the project (and
    `required: false` lets one be missing): `env file PATH not found: stat PATH: ...`."""
    entries = env_file if isinstance(env_file, list) else [env_file]
    for entry in entries:
        if isinstance(entry, Mapping):
            path, required = entry.get("path"), _go_bool(entry.get("required", True))
        else:
            path, required = entry, True
        if not isinstance(path, str) or not path or required is False:
            continue
        src = source_of(path)
        # The project's own files name paths from the project directory; a file that include
        # or extends reached, from its own directory.
        base = directory if src is None or src.file in own else os.path.dirname(src.file)
        full = os.path.normpath(os.path.join(base, os.path.expanduser(path)))
        if not os.path.exists(full):
            yield f"env file {full} not found: stat {full}: no such file or directory"


def _go_bool(value: Any) -> bool | None:
    """A value as Go's strconv.ParseBool reads it (compose-go casts a string `required`)."""
    if isinstance(value, bool):
        return value
    text = str(value)
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


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
