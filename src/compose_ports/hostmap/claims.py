"""What the map holds: one claim per binding, and the collisions it reports."""

from __future__ import annotations

from typing import NamedTuple

from compose_ports.model import PortBinding


class Claim(NamedTuple):
    """One binding's claim on host ports."""

    key: object  # opaque: what the caller uses to find its binding again
    protocol: str  # as written; compared lower-cased (see the module docstring)
    host_ip: str | None  # None: unset, which binds both 0.0.0.0 and :: (§6.2)
    start: int
    end: int  # inclusive
    pool: bool  # a host range mapped to one container port: the engine takes one free port of it
    replicas: int = 1  # a fixed host port with replicas > 1 collides with itself

    @property
    def size(self) -> int:
        return self.end - self.start + 1


class Collision(NamedTuple):
    first: Claim  # earlier in insertion order (the same claim for a self-collision)
    second: Claim
    ports: tuple[int, int]  # the overlapping host-port interval, inclusive
    family: str  # "ipv4" or "ipv6"; ipv4 when the pair collides in both
    certain: bool  # True: the engine fails. False: a pool overlaps others but keeps free ports


class Conflict(NamedTuple):
    """One claim's collisions summed up, for reports that tell a crowded port once.

    N claims on one port make N * (N - 1) / 2 colliding pairs; a report about one claim needs
    only how many others it meets, the first few of them, and which one to name.
    """

    claim: Claim
    others: int  # the other claims it collides with (its own replicas are not among them)
    first: tuple[Collision, ...]  # with the first of those (at most `limit`), in insertion order
    # With the earlier claim a report names: the first that collides with it for certain, else
    # the first that collides at all (a pool overlap); None when no earlier claim collides.
    cause: Collision | None
    itself: Collision | None  # its replicas on one fixed host port (`self_collision`)


def claim_for(binding: PortBinding, key: object | None = None, replicas: int = 1) -> Claim | None:
    """The claim of a binding, or None when it has no fixed host port (ephemeral or invalid)."""
    spec = binding.spec
    host_range = spec.host_range()
    if host_range is None:
        return None
    start, end = host_range
    pool = spec.count == 1 and start != end  # PortSpec.is_pool, without parsing again
    key = binding if key is None else key
    return Claim(key, spec.protocol, spec.host_ip, start, end, pool, replicas)
