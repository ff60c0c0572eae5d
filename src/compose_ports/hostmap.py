"""The host-port map: which bindings collide at run time (compose-facts.md §6.3).

Everything works on intervals of host ports per (protocol, address family), never on expanded
ports, because one `1-65535` range must cost what one port costs. Nor does anything but
`collisions` visit colliding pairs one by one: N bindings of one port are N * (N - 1) / 2 pairs,
and a report needs per binding only how many others it meets, the first few, and the one to name
(`conflicts`).

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
- Claims are made in insertion order: the order the engine starts them in (a `hosts:` group's
  stacks in turn, a stack's files, their lines). A pool (a host range for one container port)
  takes, at its start, one free port per replica, whichever the allocator hands out. So what a
  pool takes depends on what started before it, never after: it is *exhausted* (the engine
  refuses it, "all ports are allocated") when the fixed claims before it, and the pools before
  it that lie wholly inside its range (each took ports of it), leave fewer free ports than its
  replicas. A later fixed claim on a pool's range is refused for certain only when the pool had
  no choice (exactly as many free ports as replicas, no earlier pool in the way); otherwise it
  depends on the port the pool drew, and the collision is uncertain. An exhausted pool takes
  nothing, so it collides for certain only with what started before it.
- `is_free` and `lowest_free` treat a pool's whole range as taken: a port chosen there could be
  the one the engine hands the pool, and would at least be reported as an uncertain collision.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Container, Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from compose_ports.model import PortBinding, Project, Service

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
    itself: Collision | None  # its replicas on one fixed host port (`_self_collision`)


Keyed = Callable[[Project, Service, PortBinding], object]


def build(
    projects: Sequence[Project],
    key: Keyed | None = None,
    skip: Callable[[PortBinding], bool] | None = None,
) -> HostPortMap:
    """The map of projects that run on one machine, started in this order: every command
    builds its map here. The engine starts each project in turn, its files' entries in file
    order, then line order (what a pool finds taken depends on it), and publishes what
    Project.publishing says, each service's replicas included. `key` makes each claim's key
    (default: the binding); `skip` leaves bindings out."""
    entries = []
    for index, project in enumerate(projects):
        files = {f: i for i, f in enumerate(project.files)}
        for service, binding in project.publishing():
            if skip is not None and skip(binding):
                continue
            src = binding.source
            order = (index, files.get(src.file, len(files)), src.line, src.column)
            entries.append((order, project, service, binding))
    entries.sort(key=lambda entry: entry[0])
    host_map = HostPortMap()
    for _, project, service, binding in entries:
        made = key(project, service, binding) if key is not None else binding
        claim = claim_for(binding, made, replicas=service.replicas or 1)
        if claim is not None:
            host_map.add(claim)
    return host_map


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


# What a claim belongs to and what it is compared with, by the addresses it binds (`_classes`):
# every claim of a protocol, those of one family, those on a family's unspecified address, and
# those on one specific address.
_Class = tuple[str, ...] | tuple[str, str, str, _Address]


@lru_cache(maxsize=4096)
def _classes(protocol: str, host_ip: str | None) -> tuple[tuple[_Class, ...], tuple[_Class, ...]]:
    """(the classes a claim is in, the disjoint classes that hold every claim it collides with).

    Unset binds both unspecified addresses, so it meets every claim of its protocol; an
    unspecified address meets its whole family; a specific one meets its family's unspecified
    address and itself (§6.3). The classes queried are disjoint, so counts add up.
    """
    bound = _bound_addresses(host_ip)
    if not bound:
        return (), ()
    protocol = protocol.lower()
    everything: _Class = ("all", protocol)
    if len(bound) == 2:
        members = [everything]
        for family in FAMILIES:
            members += [("family", protocol, family), ("unspecified", protocol, family)]
        return tuple(members), (everything,)
    ((family, address),) = bound
    whole: _Class = ("family", protocol, family)
    if address is None:
        return (everything, whole, ("unspecified", protocol, family)), (whole,)
    own: _Class = ("address", protocol, family, address)
    return (everything, whole, own), (("unspecified", protocol, family), own)


class _Overlaps:
    """Intervals with their claims' positions, for "which of them overlap [start, end]?".

    A segment tree over the pieces between the intervals' bounds: each interval is held by the
    O(log n) nodes that tile it, and each node also keeps the `limit` lowest positions held
    anywhere below it. A query meets O(log n) nodes, so "the first k that overlap" reads a few
    short lists, and "every one that overlaps" costs what it finds, however many intervals
    pile up on one port.
    """

    __slots__ = ("bounds", "held", "limit", "lowest", "size")

    def __init__(self, intervals: list[tuple[int, int, int]], limit: int) -> None:
        # intervals: (start, end, position), by position, so that every list below is sorted.
        self.limit = limit
        self.bounds = sorted({s for s, _, _ in intervals} | {e + 1 for _, e, _ in intervals})
        leaf = {bound: index for index, bound in enumerate(self.bounds)}
        self.size = 1
        while self.size < len(self.bounds) - 1:
            self.size *= 2
        self.held: dict[int, list[int]] = {}
        for start, end, position in intervals:
            for node in self._tiles(leaf[start], leaf[end + 1]):
                self.held.setdefault(node, []).append(position)
        nodes: set[int] = set()
        for node in self.held:
            while node and node not in nodes:
                nodes.add(node)
                node >>= 1
        self.lowest: dict[int, list[int]] = {}
        for node in sorted(nodes, reverse=True):  # children before their parent
            found = self.held.get(node, [])[:limit]
            found += self.lowest.get(2 * node, []) + self.lowest.get(2 * node + 1, [])
            self.lowest[node] = sorted(set(found))[:limit]

    def _tiles(self, low: int, high: int) -> list[int]:
        """The nodes that tile the leaves [low, high)."""
        tiles = []
        low += self.size
        high += self.size
        while low < high:
            if low & 1:
                tiles.append(low)
                low += 1
            if high & 1:
                high -= 1
                tiles.append(high)
            low >>= 1
            high >>= 1
        return tiles

    def _query(self, start: int, end: int) -> tuple[list[int], set[int]]:
        """(the nodes tiling [start, end], their ancestors): whatever they hold overlaps it."""
        leaves = len(self.bounds) - 1
        low = max(bisect_right(self.bounds, start) - 1, 0)
        high = min(bisect_right(self.bounds, end), leaves)
        if low >= high:
            return [], set()
        tiles = self._tiles(low, high)
        above: set[int] = set()
        for node in tiles:
            node >>= 1
            while node and node not in above:
                above.add(node)
                node >>= 1
        return tiles, above

    def smallest(self, start: int, end: int, count: int) -> list[int]:
        """The `count` (at most `limit`) lowest positions of the intervals overlapping it."""
        tiles, above = self._query(start, end)
        found = [p for node in tiles for p in self.lowest.get(node, ())]
        found += [p for node in above for p in self.held.get(node, ())[:count]]
        return sorted(set(found))[:count]

    def every(self, start: int, end: int) -> list[int]:
        """The positions of all the intervals overlapping it, sorted."""
        tiles, above = self._query(start, end)
        found: set[int] = set()
        for node in above:
            found.update(self.held.get(node, ()))
        while tiles:
            node = tiles.pop()
            if node not in self.lowest:
                continue  # nothing held below it
            found.update(self.held.get(node, ()))
            if node < self.size:
                tiles += (2 * node, 2 * node + 1)
        return sorted(found)


def _covered(merged: Iterable[_Merged], start: int, end: int) -> int:
    """How many ports of [start, end] the union of these merged intervals covers."""
    pieces = []
    for intervals in merged:
        i = max(bisect_right(intervals.starts, start) - 1, 0)
        while i < len(intervals.starts) and intervals.starts[i] <= end:
            low, high = max(intervals.starts[i], start), min(intervals.ends[i], end)
            if low <= high:
                pieces.append((low, high))
            i += 1
    return _Merged(pieces).length()


def _overlapping_any(claims: list[Claim]) -> list[int]:
    """The positions of the claims whose ports overlap another claim's of the same protocol,
    whatever their addresses: the only ones that can collide."""
    order = sorted(
        range(len(claims)),
        key=lambda p: (claims[p].protocol.lower(), claims[p].start, claims[p].end),
    )
    found: list[int] = []
    reach = -1  # the highest end so far within the protocol
    protocol = None
    for n, position in enumerate(order):
        claim = claims[position]
        name = claim.protocol.lower()
        if name != protocol:
            protocol, reach = name, -1
        # Sorted by start: an earlier one reaching this start, or the next one starting
        # within this one, overlaps it.
        after = claims[order[n + 1]] if n + 1 < len(order) else None
        if claim.start <= reach or (
            after is not None and after.protocol.lower() == name and after.start <= claim.end
        ):
            found.append(position)
        reach = max(reach, claim.end)
    found.sort()
    return found


# Which claims a claim's "first certain collision" is looked for among (see _Analysis.cause).
ANY, MAKERS = "any", "fixed or forced"


class _Analysis:
    """The map's collisions, worked out once per map and then only as far as they are asked.

    Nothing here visits colliding pairs one by one: N claims on one port are N * (N - 1) / 2
    pairs, and the reports need per claim only a count, the first few, and one to name.
    """

    def __init__(self, claims: list[Claim]) -> None:
        self.claims = claims
        self.count = [0] * len(claims)
        self.exhausted = [False] * len(claims)
        self.queries: list[tuple[_Class, ...]] = [()] * len(claims)
        self.members: dict[_Class, list[int]] = {}
        self._trees: dict[tuple[_Class, str], _Overlaps] = {}
        candidates = _overlapping_any(claims)
        if not candidates:
            return  # most maps: no two claims of a protocol even share a port
        wanted: set[_Class] = set()
        memberships = []
        for position in candidates:
            claim = claims[position]
            member, query = _classes(claim.protocol, claim.host_ip)
            memberships.append((position, member))
            self.queries[position] = query
            wanted.update(query)
        self.members = {c: [] for c in wanted}
        for position, member in memberships:
            for cls in member:
                if cls in wanted:
                    self.members[cls].append(position)
        # Counting is bisection on sorted bounds: an interval overlaps [s, e] unless it ends
        # before s or starts after e, and one that ends before s also starts before e.
        sorted_bounds = {
            cls: (sorted(claims[p].start for p in found), sorted(claims[p].end for p in found))
            for cls, found in self.members.items()
        }
        for position in candidates:
            claim = claims[position]
            total = 0
            for cls in self.queries[position]:
                starts, ends = sorted_bounds[cls]
                total += bisect_right(starts, claim.end) - bisect_left(ends, claim.start)
            # A claim is in exactly one of the classes it queries, and overlaps itself.
            self.count[position] = max(total - 1, 0)
        # What each pool takes at its start: pools in order, each after those before it.
        self.forced: dict[int, _Merged] = {}  # pool -> the ports it certainly takes
        for position in candidates:
            claim = claims[position]
            if claim.pool and self.count[position]:
                self._judge_pool(position)

    def _earlier(self, position: int) -> list[int]:
        """The claims before position that collide with it, in insertion order."""
        claim = self.claims[position]
        found: set[int] = set()
        for cls in self.queries[position]:
            for other in self.members[cls]:
                if other >= position:
                    break  # members are in insertion order
                o = self.claims[other]
                if o.start <= claim.end and claim.start <= o.end:
                    found.add(other)
        return sorted(found)

    def _judge_pool(self, position: int) -> None:
        claim = self.claims[position]
        fixed = []
        drawn = 0  # ports earlier pools inside this range took, whichever they were
        unsure = False  # an earlier pool may have taken some of its ports, or not
        for other in self._earlier(position):
            o = self.claims[other]
            if not o.pool:
                fixed.append((o.start, o.end))
            elif self.exhausted[other]:
                continue  # refused: it took nothing
            elif claim.start <= o.start and o.end <= claim.end:
                drawn += o.replicas
            else:
                unsure = True
        taken = _covered([_Merged(fixed)], claim.start, claim.end)
        free = claim.size - taken - drawn
        self.exhausted[position] = free < claim.replicas
        if not self.exhausted[position] and not drawn and not unsure and free == claim.replicas:
            # No choice: the free ports are the ones it takes.
            self.forced[position] = _Merged(_gaps(_Merged(fixed), claim.start, claim.end))

    def _tree(self, cls: _Class, kind: str, limit: int) -> _Overlaps:
        tree = self._trees.get((cls, kind))
        if tree is None or tree.limit < limit:
            claims, count = self.claims, self.count
            tree = _Overlaps(
                [
                    (claims[p].start, claims[p].end, p)
                    for p in self.members[cls]
                    # A claim that collides with nothing is nobody's partner.
                    if count[p] and (kind == ANY or not claims[p].pool or p in self.forced)
                ],
                limit,
            )
            self._trees[cls, kind] = tree
        return tree

    def first(self, position: int, limit: int, kind: str = ANY) -> list[int]:
        """The positions of the first `limit` other claims (of `kind`) colliding with it."""
        if not self.count[position]:
            return []
        claim = self.claims[position]
        found: set[int] = set()
        for cls in self.queries[position]:
            # One more than asked: the claim itself may be among them.
            tree = self._tree(cls, kind, limit + 1)
            found.update(tree.smallest(claim.start, claim.end, limit + 1))
        found.discard(position)
        return sorted(found)[:limit]

    def partners(self, position: int) -> list[int]:
        """The positions of every other claim colliding with it, in insertion order."""
        if not self.count[position]:
            return []
        claim = self.claims[position]
        found: set[int] = set()
        for cls in self.queries[position]:
            found.update(self._tree(cls, ANY, 1).every(claim.start, claim.end))
        found.discard(position)
        return sorted(found)

    def certain(self, a: int, b: int) -> bool:
        """Whether the later of two colliding claims is refused for certain because of the
        earlier: two fixed ports, a pool that finds no free port left, or a fixed port a pool
        before it had no choice but to take."""
        if b < a:
            a, b = b, a
        first, second = self.claims[a], self.claims[b]
        if first.pool and self.exhausted[a]:
            return False  # refused itself: it took nothing
        if second.pool:
            return self.exhausted[b]
        if not first.pool:
            return True
        forced = self.forced.get(a)
        return forced is not None and _covered([forced], second.start, second.end) > 0

    def collision(self, a: int, b: int) -> Collision:
        if b < a:
            a, b = b, a
        first, second = self.claims[a], self.claims[b]
        # ipv4 when the pair collides in both families.
        family = same_address_collides(first.host_ip, second.host_ip)[0]
        ports = (max(first.start, second.start), min(first.end, second.end))
        return Collision(first, second, ports, family, self.certain(a, b))

    def cause(self, position: int, first: list[int]) -> int | None:
        """The earlier claim a report names: the first that collides with it for certain, else
        the first that collides at all; None when no earlier claim does. `first` is `first()`."""
        if not first or first[0] > position:
            return None
        if self.certain(first[0], position):
            return first[0]
        # Certain partners of a fixed claim are fixed claims and pools that had no choice; of a
        # pool, whatever took its ports and was not refused itself.
        kind = ANY if self.claims[position].pool else MAKERS
        candidates = self.first(position, _CAUSES, kind)
        if len(candidates) == _CAUSES:
            candidates = [c for c in self.partners(position) if c < position]
        for other in candidates:
            if other < position and self.certain(other, position):
                return other
        return first[0]


# How many earlier fixed claims and forced pools `cause` looks at for a certain one.
_CAUSES = 8


def _gaps(merged: _Merged, start: int, end: int) -> list[tuple[int, int]]:
    """The ports of [start, end] that merged does not cover, as intervals."""
    gaps = []
    port = start
    for low, high in zip(merged.starts, merged.ends, strict=True):
        if high < port:
            continue
        if low > end:
            break
        if low > port:
            gaps.append((port, min(low - 1, end)))
        port = max(port, high + 1)
    if port <= end:
        gaps.append((port, end))
    return gaps


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
        self._positions: dict[int, int] | None = None  # id(claim) -> its first insertion index
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
        # Everything else is worked out when first asked: a lint builds hundreds of maps and
        # asks most of them one question.
        if self._positions is not None:
            self._positions.setdefault(id(claim), len(self._claims))
        self._claims.append(claim)
        self._analysis = None
        self._index = None

    def collisions(self) -> list[Collision]:
        """Every colliding pair, ordered by (second's insertion index, first's insertion index).

        N claims on one port are N * (N - 1) / 2 pairs: reports use `conflicts` instead.
        """
        analysis = self._analyse()
        collisions: list[Collision] = []
        for position, claim in enumerate(self._claims):
            for other in analysis.partners(position):
                if other >= position:
                    break
                collisions.append(analysis.collision(other, position))
            itself = _self_collision(claim)
            if itself is not None:
                collisions.append(itself)
        return collisions

    def conflicts(self, limit: int = 5) -> list[Conflict]:
        """Each claim that collides with another or with itself, in insertion order, summed up.

        The cost grows with the claims and `limit`, not with the colliding pairs.
        """
        analysis = self._analyse()
        conflicts: list[Conflict] = []
        for position, claim in enumerate(self._claims):
            count = analysis.count[position]
            itself = _self_collision(claim) if claim.replicas > 1 else None
            if not count and itself is None:
                continue
            first = analysis.first(position, limit)
            cause = analysis.cause(position, first)
            conflicts.append(
                Conflict(
                    claim,
                    count,
                    tuple(analysis.collision(other, position) for other in first),
                    None if cause is None else analysis.collision(cause, position),
                    itself,
                )
            )
        return conflicts

    def overlapping(self, claim: Claim) -> list[Claim]:
        """The other claims of the map that collide with claim, in insertion order.

        "Other" leaves out claim and any claim equal to it: a caller may well rebuild the claim
        of a binding with `claim_for` rather than keep the object it added.
        """
        if self._positions is None:
            self._positions = {}
            for index, known in enumerate(self._claims):
                self._positions.setdefault(id(known), index)
        position = self._positions.get(id(claim))
        if position is not None and self._claims[position] is claim:
            # A claim of the map: the analysis finds its partners without scanning them all.
            partners = (self._claims[other] for other in self._analyse().partners(position))
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
        groups: dict[tuple[str, str], list[tuple[int, _Address]]] = {}
        for position, claim in enumerate(claims):
            protocol = claim.protocol.lower()
            for family, address in _bound_addresses(claim.host_ip):
                groups.setdefault((protocol, family), []).append((position, address))
        for group, entries in groups.items():
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
        if self._analysis is None:
            self._analysis = _Analysis(self._claims)
        return self._analysis
