"""The host-port map: which bindings collide at run time (compose-facts.md §6.3).

Everything works on intervals of host ports per (protocol, address family), never on expanded
ports, because one `1-65535` range must cost what one port costs.

The rule, from moby@v28.5.1:libnetwork/portallocator/portallocator.go `RequestPortsInRange`: two
claims collide iff their protocols are equal, their host port sets intersect, they share an
address family, and in that family their host IPs are equal or either one is the unspecified
address. An unset host IP binds both `0.0.0.0` and `::` (port_mapping_linux.go, "Implicit binding
to "::""), and an IPv4-mapped IPv6 address is unmapped to IPv4 first.

Decisions the rule leaves open:

- Protocols are compared lower-cased. Compose passes long syntax's `protocol: TCP` through as
  written, but the daemon turns the port's protocol into a `types.Protocol` with
  libnetwork/types.ParseProtocol, which switches on `strings.ToLower(s)`, before the allocator
  sees it (daemon/container_operations.go, `types.ParseProtocol(port.Proto())`).
- A host IP that does not parse as an address binds nothing we can place: its claim collides
  with nothing, here. Reporting the bad address is the reader's job, not the map's.
- A pool (a host range for one container port) asks for one free port per replica. Only the
  fixed (non-pool) claims that collide with it are counted as taking its ports: other pools take
  one port each, but which one depends on creation order, so two pools overlapping each other are
  never certain on their own account. A pool is *exhausted* when fewer free ports are left than
  its replicas; every collision involving an exhausted pool is certain.
- `is_free` and `lowest_free` treat a pool's whole range as taken: a port chosen there could be
  the one the engine hands the pool, and would at least be reported as an uncertain collision.
"""

from __future__ import annotations

import heapq
import ipaddress
from bisect import bisect_right
from collections.abc import Container, Iterable
from functools import lru_cache
from typing import NamedTuple

from compose_ports.model import PortBinding

IPV4 = "ipv4"
IPV6 = "ipv6"
FAMILIES = (IPV4, IPV6)

# A specific address within a family; None stands for that family's unspecified address.
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address | None


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


def claim_for(binding: PortBinding, key: object | None = None, replicas: int = 1) -> Claim | None:
    """The claim of a binding, or None when it has no fixed host port (ephemeral or invalid)."""
    host_range = binding.host_range
    if host_range is None:
        return None
    start, end = host_range
    return Claim(
        key=binding if key is None else key,
        protocol=binding.protocol,
        host_ip=binding.host_ip,
        start=start,
        end=end,
        pool=binding.is_pool,
        replicas=replicas,
    )


@lru_cache(maxsize=4096)
def _bound_addresses(host_ip: str | None) -> tuple[tuple[str, _Address], ...]:
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
    for family_a, address_a in _bound_addresses(ip_a):
        for family_b, address_b in _bound_addresses(ip_b):
            if family_a != family_b:
                continue
            # The allocator checks a specific address against itself and the unspecified one,
            # and the unspecified one against every address of the family.
            if address_a is None or address_b is None or address_a == address_b:
                families.append(family_a)
    return families


def _claims_collide(a: Claim, b: Claim) -> bool:
    return (
        a.protocol.lower() == b.protocol.lower()
        and a.start <= b.end
        and b.start <= a.end
        and bool(same_address_collides(a.host_ip, b.host_ip))
    )


class _Merged:
    """Sorted disjoint intervals (touching ones joined), for point look-ups by bisection."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(intervals):
            if self.ends and start <= self.ends[-1] + 1:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def end_covering(self, port: int) -> int | None:
        """The end of the interval holding port, or None when port is outside all of them."""
        i = bisect_right(self.starts, port) - 1
        if i >= 0 and self.ends[i] >= port:
            return self.ends[i]
        return None

    def length(self) -> int:
        return sum(end - start + 1 for start, end in zip(self.starts, self.ends, strict=True))


class _FamilyIndex(NamedTuple):
    everything: _Merged  # what a request on the unspecified address competes with
    unspecified: _Merged  # what a request on any specific address competes with...
    by_address: dict[_Address, _Merged]  # ...besides that address's own


class _Analysis(NamedTuple):
    collisions: list[Collision]
    adjacency: list[list[int]]  # claim index -> the indices of the claims it collides with


def _sweep(claims: list[Claim], entries: list[tuple[int, _Address]]) -> list[tuple[int, int]]:
    """Every pair of colliding entries of one (protocol, family), as (earlier, later) in the sweep.

    Entries are visited by start; the active ones (end >= current start) are kept by address so
    that a new entry only ever visits active entries it does collide with: O(n log n + k).
    """
    pairs: list[tuple[int, int]] = []
    ending: list[tuple[int, int]] = []  # heap of (end, claim index) of the active entries
    unspecified: dict[int, None] = {}  # ordered sets of active claim indices
    specific: dict[_Address, dict[int, None]] = {}
    address_of: dict[int, _Address] = {}
    for index, address in sorted(entries, key=lambda entry: claims[entry[0]].start):
        start = claims[index].start
        while ending and ending[0][0] < start:
            _, old = heapq.heappop(ending)
            old_address = address_of.pop(old)
            if old_address is None:
                del unspecified[old]
            else:
                bucket = specific[old_address]
                del bucket[old]
                if not bucket:
                    # Empty buckets go, so that visiting every bucket costs only what it finds.
                    del specific[old_address]
        pairs.extend((other, index) for other in unspecified)
        if address is None:
            for bucket in specific.values():
                pairs.extend((other, index) for other in bucket)
        else:
            pairs.extend((other, index) for other in specific.get(address, ()))
        heapq.heappush(ending, (claims[index].end, index))
        address_of[index] = address
        if address is None:
            unspecified[index] = None
        else:
            specific.setdefault(address, {})[index] = None
    return pairs


def _self_collision(claim: Claim) -> Collision | None:
    """The collision of a claim's replicas with each other, if they are sure to collide."""
    families = _bound_addresses(claim.host_ip)
    if claim.replicas <= 1 or not families:
        return None
    # Every replica asks for the same fixed port, and the second one is refused. Replicas of a
    # pool each take a port of it, so only a pool smaller than its replicas is sure to fail.
    if claim.pool and claim.size >= claim.replicas:
        return None
    return Collision(claim, claim, (claim.start, claim.end), families[0][0], True)


def _skip_excluded(port: int, exclude: Container[int]) -> int:
    """The first port from port on that exclude does not hold (jumping over a range at once)."""
    if isinstance(exclude, range) and exclude.step == 1 and port in exclude:
        return exclude.stop
    while port in exclude:
        port += 1
    return port


class HostPortMap:
    """The host ports a set of claims takes, and which of them collide."""

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self._claims: list[Claim] = []
        self._positions: dict[int, int] = {}  # id(claim) -> its first insertion index
        self._groups: dict[tuple[str, str], list[tuple[int, _Address]]] = {}
        self._analysis: _Analysis | None = None
        self._index: dict[tuple[str, str], _FamilyIndex] | None = None
        for claim in claims:
            self.add(claim)

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(self._claims)

    def __len__(self) -> int:
        return len(self._claims)

    def add(self, claim: Claim) -> None:
        index = len(self._claims)
        self._claims.append(claim)
        self._positions.setdefault(id(claim), index)
        protocol = claim.protocol.lower()
        for family, address in _bound_addresses(claim.host_ip):
            self._groups.setdefault((protocol, family), []).append((index, address))
        self._analysis = None
        self._index = None

    def collisions(self) -> list[Collision]:
        """Every colliding pair, ordered by (second's insertion index, first's insertion index)."""
        return list(self._analyse().collisions)

    def overlapping(self, claim: Claim) -> list[Claim]:
        """The other claims of the map that collide with claim, in insertion order.

        "Other" leaves out claim and any claim equal to it: a caller may well rebuild the claim
        of a binding with `claim_for` rather than keep the object it added.
        """
        position = self._positions.get(id(claim))
        if position is not None and self._claims[position] is claim:
            # A claim of the map: its collisions are already known, no need to scan them all.
            partners = (self._claims[other] for other in self._analyse().adjacency[position])
            return [other for other in partners if other != claim]
        return [other for other in self._claims if other != claim and _claims_collide(claim, other)]

    def is_free(self, port: int, protocol: str = "tcp", host_ip: str | None = None) -> bool:
        """Whether a new fixed binding of port would collide with nothing in the map."""
        return all(
            merged.end_covering(port) is None for merged in self._blocking(protocol, host_ip)
        )

    def lowest_free(
        self,
        start: int,
        end: int,
        protocol: str = "tcp",
        host_ip: str | None = None,
        exclude: Container[int] = (),
    ) -> int | None:
        """The lowest port of [start, end] that is free and not in exclude, or None."""
        blocking = self._blocking(protocol, host_ip)
        port = start
        while port <= end:
            moved = False
            for merged in blocking:
                covering_end = merged.end_covering(port)
                if covering_end is not None:
                    port = covering_end + 1
                    moved = True
            if moved:
                continue
            skipped = _skip_excluded(port, exclude)
            if skipped == port:
                return port
            port = skipped
        return None

    def _blocking(self, protocol: str, host_ip: str | None) -> list[_Merged]:
        """The merged intervals a new binding on (protocol, host_ip) would compete with."""
        index = self._build_index()
        protocol = protocol.lower()
        blocking: list[_Merged] = []
        for family, address in _bound_addresses(host_ip):
            family_index = index.get((protocol, family))
            if family_index is None:
                continue
            if address is None:
                blocking.append(family_index.everything)
                continue
            blocking.append(family_index.unspecified)
            merged = family_index.by_address.get(address)
            if merged is not None:
                blocking.append(merged)
        return blocking

    def _build_index(self) -> dict[tuple[str, str], _FamilyIndex]:
        if self._index is not None:
            return self._index
        claims = self._claims
        index: dict[tuple[str, str], _FamilyIndex] = {}
        for group, entries in self._groups.items():
            unspecified: list[tuple[int, int]] = []
            specific: dict[_Address, list[tuple[int, int]]] = {}
            for position, address in entries:
                interval = (claims[position].start, claims[position].end)
                if address is None:
                    unspecified.append(interval)
                else:
                    specific.setdefault(address, []).append(interval)
            everything = unspecified + [i for intervals in specific.values() for i in intervals]
            index[group] = _FamilyIndex(
                everything=_Merged(everything),
                unspecified=_Merged(unspecified),
                by_address={address: _Merged(found) for address, found in specific.items()},
            )
        self._index = index
        return index

    def _analyse(self) -> _Analysis:
        if self._analysis is not None:
            return self._analysis
        claims = self._claims
        pair_family: dict[tuple[int, int], str] = {}
        # ipv4 groups first, so that a pair colliding in both families is reported as ipv4.
        groups = sorted(self._groups.items(), key=lambda item: FAMILIES.index(item[0][1]))
        for (_, family), entries in groups:
            for a, b in _sweep(claims, entries):
                pair_family.setdefault((a, b) if a < b else (b, a), family)

        adjacency: list[list[int]] = [[] for _ in claims]
        for a, b in pair_family:
            adjacency[a].append(b)
            adjacency[b].append(a)
        for partners in adjacency:
            partners.sort()

        exhausted = [
            claim.pool and self._free_in_pool(position, adjacency[position]) < claim.replicas
            for position, claim in enumerate(claims)
        ]

        # Walking each claim's sorted partners yields the (second, first) order directly.
        collisions: list[Collision] = []
        for b, second in enumerate(claims):
            for a in adjacency[b]:
                if a >= b:
                    break
                first = claims[a]
                # Two fixed claims on one port: the later request gets "port is already
                # allocated". A pool only fails once it has no free port left.
                certain = (not first.pool and not second.pool) or exhausted[a] or exhausted[b]
                ports = (max(first.start, second.start), min(first.end, second.end))
                collisions.append(Collision(first, second, ports, pair_family[a, b], certain))
            collision = _self_collision(second)
            if collision is not None:
                collisions.append(collision)

        self._analysis = _Analysis(collisions, adjacency)
        return self._analysis

    def _free_in_pool(self, position: int, partners: list[int]) -> int:
        """How many ports of a pool no colliding fixed claim takes.

        A port is refused to a pool request if it is allocated in any of the address maps the
        request needs (portallocator.go: "search for a port that's available in all ranges"), so
        fixed claims colliding in either family count.
        """
        pool = self._claims[position]
        taken = _Merged(
            (max(other.start, pool.start), min(other.end, pool.end))
            for other in (self._claims[partner] for partner in partners)
            if not other.pool
        )
        return pool.size - taken.length()
