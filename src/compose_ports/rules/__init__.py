"""The rules, in one explicit table (as yamllint keeps them): code order is report order."""

from __future__ import annotations

from compose_ports.rules import (
    all_interfaces,
    duplicate_port_entry,
    ephemeral_host_port,
    hardcoded_host_port,
    host_port_conflict,
    invalid_port,
    override_appends_ports,
    port_outside_range,
    ports_ignored,
    privileged_host_port,
    registry_drift,
    undefined_port_variable,
    unquoted_port,
)
from compose_ports.rules.base import Rule

RULES: tuple[Rule, ...] = (
    host_port_conflict,  # type: ignore[assignment]
    invalid_port,  # type: ignore[assignment]
    override_appends_ports,  # type: ignore[assignment]
    undefined_port_variable,  # type: ignore[assignment]
    port_outside_range,  # type: ignore[assignment]
    privileged_host_port,  # type: ignore[assignment]
    ephemeral_host_port,  # type: ignore[assignment]
    registry_drift,  # type: ignore[assignment]
    hardcoded_host_port,  # type: ignore[assignment]
    unquoted_port,  # type: ignore[assignment]
    duplicate_port_entry,  # type: ignore[assignment]
    all_interfaces,  # type: ignore[assignment]
    ports_ignored,  # type: ignore[assignment]
)

BY_KEY: dict[str, Rule] = {r.CODE: r for r in RULES} | {r.NAME: r for r in RULES}


def select(selectors: list[str]) -> set[str]:
    """Codes named by codes, code prefixes (`CP1`) or names; unknown selectors raise KeyError."""
    chosen: set[str] = set()
    for selector in selectors:
        key = selector.strip()
        if not key:
            continue
        if key in BY_KEY:
            chosen.add(BY_KEY[key].CODE)
            continue
        matches = {r.CODE for r in RULES if r.CODE.startswith(key.upper())}
        if not matches or key.upper() == "":
            raise KeyError(selector)
        chosen |= matches
    return chosen
