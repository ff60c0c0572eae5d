"""The project model, from the merged model of a project's files (model.py says what it holds)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compose_ports.compose import validation
from compose_ports.compose.canonical import Entry, Failed, index_of, item_source
from compose_ports.compose.ports import split_host_part
from compose_ports.compose.problems import Problems
from compose_ports.compose.variables import Environment
from compose_ports.model import (
    EnvSetting,
    Network,
    Origin,
    PortBinding,
    PortSpec,
    Project,
    Service,
    Source,
)
from compose_ports.yamlread import raw_text, source_of


def project(
    profiles: tuple[str, ...],
    stack: str | None,
    directory: Path,
    files: tuple[str, ...],
    model: Mapping[str, Any],
    problems: Problems,
    env: Environment,
    name: str,
) -> Project:
    """The project of a merged model: its services, each with its ports, and what went wrong."""
    active_profiles = set(profiles)
    if not active_profiles and env.get("COMPOSE_PROFILES"):
        active_profiles = {p for p in str(env.get("COMPOSE_PROFILES")).split(",") if p}
    services: list[Service] = []
    found = model.get("services") if isinstance(model, Mapping) else None
    raw_services: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    for service_name in sorted(raw_services):
        raw = raw_services[service_name]
        if not isinstance(raw, dict):
            continue
        services.append(_service(service_name, raw, active_profiles, env, problems))
    services = _mark_shared(services)
    if not problems.rejections and files and isinstance(model, Mapping):
        active = {s.name for s in services if s.active}
        reason = validation.rejection(model, files[0], active, str(directory), files)
        if reason:
            problems.reject(reason)
    return Project(
        name=name,
        directory=str(directory),
        files=files,
        stack=stack,
        services=tuple(services),
        diagnostics=tuple(problems.diagnostics),
        rejection=problems.rejections[0] if problems.rejections else None,
        warnings=tuple(problems.warnings),
        defined=frozenset(env.values).union(problems.defined),
        env_files=env.files,
        reads=tuple(problems.files),
        networks=_networks(model.get("networks") if isinstance(model, Mapping) else None),
    )


def _networks(raw: Any) -> dict[str, Network]:
    """The project's networks, for what decides where ports go (model.Project.publishing)."""
    if not isinstance(raw, Mapping):
        return {}
    networks = {}
    for name, spec in raw.items():
        if not isinstance(spec, Mapping):
            networks[str(name)] = Network()
            continue
        options = spec.get("driver_opts")
        binding = options.get(_HOST_BINDING) if isinstance(options, Mapping) else None
        networks[str(name)] = Network(
            internal=spec.get("internal") is True,
            host_binding_ipv4=str(binding) if isinstance(binding, str) and binding else None,
        )
    return networks


_HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"


def _service(
    name: str,
    raw: Mapping[str, Any],
    active_profiles: set[str],
    env: Environment,
    problems: Problems,
) -> Service:
    profiles = tuple(str(p) for p in raw.get("profiles") or [] if isinstance(p, str))
    active = not profiles or "*" in active_profiles or bool(active_profiles & set(profiles))
    # Inactive services stay known with their ports; Compose checked them all the same.
    bindings = _bindings(name, raw.get("ports"), env, problems)
    replicas = _replicas(raw)
    image = raw.get("image")
    network_mode = raw.get("network_mode")
    joined = raw.get("networks")
    if isinstance(joined, dict):
        networks = tuple(str(n) for n in joined)
    elif isinstance(joined, list):
        networks = tuple(str(n) for n in joined if isinstance(n, str))
    else:
        # Compose puts a service that names no network (and no network_mode) on `default`.
        networks = () if isinstance(network_mode, str) else ("default",)
    src = getattr(raw, "src", None)
    return Service(
        name=name,
        image=str(image) if isinstance(image, str) else None,
        profiles=profiles,
        active=active,
        network_mode=str(network_mode) if isinstance(network_mode, str) else None,
        replicas=replicas,
        networks=networks,
        ports=tuple(bindings),
        source=src,
        duplicates=tuple(problems.duplicates.get(name, ())) if active else (),
    )


def _replicas(raw: Mapping[str, Any]) -> int | None:
    deploy = raw.get("deploy")
    for value in (raw.get("scale"), deploy.get("replicas") if isinstance(deploy, dict) else None):
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
    return None


def _bindings(name: str, ports: Any, env: Environment, problems: Problems) -> list[PortBinding]:
    if not isinstance(ports, list):
        return []
    for entry in ports:
        if isinstance(entry, Failed) and not entry.reported:
            problems.add(entry.diagnostic(name, index_of(entry, list(ports))))
    return [
        _binding(name, entry.spec, entry.item, ports, 0, env)
        for entry in ports
        if isinstance(entry, Entry)
    ]


def _binding(
    service: str, spec: PortSpec, item: Any, ports: Any, index: int, env: Environment
) -> PortBinding:
    if isinstance(item, dict):
        published = item.get("published")
        holder = published if published is not None else item
        src = source_of(holder) or item_source(item, ports, index)
        text = raw_text(published) if published is not None else ""
        quoted = bool(getattr(published, "quoted", False))
        long_syntax = True
    else:
        src = item_source(item, ports, index)
        holder = item
        text = raw_text(item)
        quoted = bool(getattr(item, "quoted", False))
        long_syntax = False
    record = getattr(holder, "interpolated", None)
    variable = None
    origin = Origin.LITERAL
    unset: tuple[str, ...] = ()
    setting = None
    if record is not None:
        unset = tuple(record.warnings)
        host_text = text if long_syntax else _host_part(text)
        names = _VARIABLE.findall(host_text)
        variable = next((n[0] or n[1] for n in names), None)
        if variable is not None:
            value = env.get(variable)
            origin = Origin.ENVIRONMENT if value else Origin.DEFAULT
            place = env.source(variable) if value else None
            if value and place is not None and place.line:
                setting = EnvSetting(variable, value, place.file, place.line, place.column)
    if spec.published is None:
        origin = Origin.NONE
        setting = None
    return PortBinding(
        service=service,
        spec=spec,
        source=src,
        raw=text,
        long_syntax=long_syntax,
        variable=variable,
        origin=origin,
        unset_variables=unset,
        quoted=quoted,
        setting=setting,
    )


_VARIABLE = re.compile(r"\$(?:\{([_A-Za-z][_A-Za-z0-9]*)|([_A-Za-z][_A-Za-z0-9]*))")


def _host_part(text: str) -> str:
    """The host-port part of a short-syntax entry, `${...}` left whole: `IP:HOST:CONTAINER`."""
    _, host, after = split_host_part(text)
    if not after:
        # The whole mapping may come from one variable (`${SPEC:-127.0.0.1:8080:80}`).
        return host if host.startswith("${") and host.endswith("}") else ""
    return host


def _mark_shared(services: list[Service]) -> list[Service]:
    """Flag bindings whose scalar serves several services (YAML aliases, `extends`)."""
    from dataclasses import replace

    # A range entry expands to several bindings of one service: that is not sharing.
    seen: dict[Source, set[str]] = {}
    for service in services:
        for binding in service.ports:
            seen.setdefault(binding.source, set()).add(service.name)
    if all(len(names) == 1 for names in seen.values()):
        return services
    return [
        replace(
            s,
            ports=tuple(replace(b, shared=len(seen[b.source]) > 1) for b in s.ports),
        )
        for s in services
    ]
