"""Which host addresses compete: the allocator's address rule (compose-facts.md §6.3)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from compose_ports.hostmap.claims import Claim

IPV4 = "ipv4"
IPV6 = "ipv6"
FAMILIES = (IPV4, IPV6)

# A specific address within a family; None stands for that family's unspecified address.
Address = ipaddress.IPv4Address | ipaddress.IPv6Address | None


@lru_cache(maxsize=4096)
def bound_addresses(host_ip: str | None) -> tuple[tuple[str, Address], ...]:
    """The (family, address) pairs a host IP binds, ipv4 first; the address None is unspecified."""
    # An empty host IP is what the engine gets for an unset one: Compose omits the field.
    if host_ip is None or not host_ip.strip():
        return ((IPV4, None), (IPV6, None))
    text = host_ip.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # portallocator.go unmaps before choosing the family's map, so ::ffff:127.0.0.1
        # competes with 127.0.0.1 and with 0.0.0.0, not with ::.
        address = address.ipv4_mapped
    family = IPV4 if address.version == 4 else IPV6
    return ((family, None if address.is_unspecified else address),)


def same_address_collides(ip_a: str | None, ip_b: str | None) -> list[str]:
    """The families ("ipv4", "ipv6") in which bindings on these two host IPs compete (§6.3)."""
    families: list[str] = []
    for family_a, address_a in bound_addresses(ip_a):
        for family_b, address_b in bound_addresses(ip_b):
            if family_a != family_b:
                continue
            # The allocator checks a specific address against itself and the unspecified one,
            # and the unspecified one against every address of the family.
            if address_a is None or address_b is None or address_a == address_b:
                families.append(family_a)
    return families


def claims_collide(a: Claim, b: Claim) -> bool:
    return (
        a.protocol.lower() == b.protocol.lower()
        and a.start <= b.end
        and b.start <= a.end
        and bool(same_address_collides(a.host_ip, b.host_ip))
    )


# What a claim belongs to and what it is compared with, by the addresses it binds (`classes`):
# every claim of a protocol, those of one family, those on a family's unspecified address, and
# those on one specific address.
Class = tuple[str, ...] | tuple[str, str, str, Address]


@lru_cache(maxsize=4096)
def classes(protocol: str, host_ip: str | None) -> tuple[tuple[Class, ...], tuple[Class, ...]]:
    """(the classes a claim is in, the disjoint classes that hold every claim it collides with).

    Unset binds both unspecified addresses, so it meets every claim of its protocol; an
    unspecified address meets its whole family; a specific one meets its family's unspecified
    address and itself (§6.3). The classes queried are disjoint, so counts add up.
    """
    bound = bound_addresses(host_ip)
    if not bound:
        return (), ()
    protocol = protocol.lower()
    everything: Class = ("all", protocol)
    if len(bound) == 2:
        members = [everything]
        for family in FAMILIES:
            members += [("family", protocol, family), ("unspecified", protocol, family)]
        return tuple(members), (everything,)
    ((family, address),) = bound
    whole: Class = ("family", protocol, family)
    if address is None:
        return (everything, whole, ("unspecified", protocol, family)), (whole,)
    own: Class = ("address", protocol, family, address)
    return (everything, whole, own), (("unspecified", protocol, family), own)
