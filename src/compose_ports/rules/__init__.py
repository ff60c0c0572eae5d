"""The rules, in one explicit table (as yamllint keeps them): code order is report order.

One module per rule holds its code, name, default severity, options, documentation (its
docstring), `EXAMPLES` (its tests) and its fix: `check(context)` yields problems, `fix(problem)`
the actions that resolve one (rules/actions.py, imported only when fixing). `base` is what they
share. Rules read the model, the host-port map and the policy; never files: the lint pipeline
gives them everything (lint.py).
"""

from __future__ import annotations

from typing import cast

from compose_ports.rules import (
    all_interfaces,
    duplicate_port_entry,
    ephemeral_host_port,
    hardcoded_host_port,
    host_port_conflict,
    invalid_port,
    malformed_suppression,
    override_appends_ports,
    port_outside_range,
    ports_ignored,
    privileged_host_port,
    registry_drift,
    undefined_port_variable,
    unquoted_port,
    unused_suppression,
)
from compose_ports.rules.base import Rule

# Modules satisfy the Rule protocol by their module-level names; the cast says so once.
RULES: tuple[Rule, ...] = cast(
    tuple[Rule, ...],
    (
        host_port_conflict,
        invalid_port,
        override_appends_ports,
        undefined_port_variable,
        port_outside_range,
        privileged_host_port,
        ephemeral_host_port,
        registry_drift,
        hardcoded_host_port,
        unquoted_port,
        duplicate_port_entry,
        all_interfaces,
        ports_ignored,
        malformed_suppression,
        unused_suppression,
    ),
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
