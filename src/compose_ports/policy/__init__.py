"""The team's port policy as every command asks it: one place, so no command re-derives it.

The category of a service (its range), the ephemeral range, and the registry's lookups live
here; rules, `fix --remap`, `env`, `suggest` and the registry views all call them. The views
show well-known images in their category even where the config says nothing of them
(`display_category`, from the templates `init` writes). The package
also reads and checks the policy file itself (config, against the JSON schema: schema),
names the variables of host ports (naming, from `env.variable`), and starts a team's policy:
what `init` proposes from the stacks it is given, loaded (starter), and where and how the new
file is written (writing).

It may import the model, findings, errors and the YAML reader: it comes before everything that
reads Compose (the import contracts in pyproject.toml say so).
"""

from __future__ import annotations

from collections.abc import Mapping

from compose_ports.policy.config import Config, PortRange, matches_any, parse_port_range

# The Linux kernel's default `net.ipv4.ip_local_port_range`.
DEFAULT_EPHEMERAL = (32768, 60999)
EPHEMERAL_RULE = ("ephemeral-host-port", "CP203")


def category(config: Config | None, service: str, image: str | None = None) -> PortRange | None:
    """The range a service belongs to: by its name first, then by its image."""
    if config is None:
        return None
    for port_range in config.ranges:
        if matches_any(port_range.services, service):
            return port_range
    if image:
        for port_range in config.ranges:
            if matches_any(port_range.images, image):
                return port_range
    return None


def display_category(
    config: Config | None, service: str, image: str | None = None
) -> PortRange | None:
    """The category a service is shown in: the config's, else its well-known image's.

    For display only (the registry's category column, the HTML bands): nginx shows as a web
    service without a config entry. Rules ask `category`, so that what a team is told to fix
    comes from its config alone.
    """
    found = category(config, service, image)
    if found is not None or not image:
        return found
    # Imported here: the image table is needed only by the registry views, never by lint.
    from compose_ports.policy.templates import well_known

    known = well_known(image)
    if known is None:
        return None
    # The config's own range of that name, when it has one: the row takes that band's colour.
    return range_named(config, known.name) or PortRange(known.name, known.start, known.end)


def range_named(config: Config | None, name: str) -> PortRange | None:
    if config is None:
        return None
    return next((r for r in config.ranges if r.name == name), None)


def ephemeral_range(config: Config | None) -> tuple[int, int]:
    """The kernel's ephemeral range on the team's hosts: `rules.ephemeral-host-port.range`.

    Configured once, for the rule; every command that picks a port avoids it, even when the
    rule itself is turned off.
    """
    if config is None:
        return DEFAULT_EPHEMERAL
    for key in EPHEMERAL_RULE:
        setting = config.rules.get(key)
        if isinstance(setting, Mapping) and "range" in setting:
            return parse_port_range(setting["range"]) or DEFAULT_EPHEMERAL
    return DEFAULT_EPHEMERAL


def registered(config: Config | None, service: str) -> int | None:
    """The port the registry gives the service, if any."""
    return config.registry_ports.get(service) if config is not None else None


def registered_to_others(config: Config | None, service: str) -> set[int]:
    """The ports the registry gives other services: not free for this one."""
    if config is None:
        return set()
    return {port for name, port in config.registry_ports.items() if name != service}


def registry_owners(config: Config | None) -> dict[int, str]:
    """Registered port -> the service it belongs to."""
    if config is None:
        return {}
    return {port: name for name, port in config.registry_ports.items()}


def offset(config: Config | None, environment: str | None) -> int:
    """The environment's offset (`env.environments.NAME.offset`); 0 when it has none."""
    if config is None or environment is None:
        return 0
    spec = config.environments.get(environment)
    return spec.offset if spec is not None else 0
