"""Which claims of a map collide, and how surely: worked out once, then as far as asked."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from compose_ports.hostmap.addresses import Class, bound_addresses, classes, same_address_collides
from compose_ports.hostmap.claims import Claim, Collision
from compose_ports.hostmap.intervals import Merged, Overlaps, covered, gaps


def overlapping_any(claims: list[Claim]) -> list[int]:
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


# Which claims a claim's "first certain collision" is looked for among (see Analysis.cause).
ANY, MAKERS = "any", "fixed or forced"


class Analysis:
    """The map's collisions, worked out once per map and then only as far as they are asked.

    Nothing here visits colliding pairs one by one: N claims on one port are N * (N - 1) / 2
    pairs, and the reports need per claim only a count, the first few, and one to name.
    """

    def __init__(self, claims: list[Claim]) -> None:
        self.claims = claims
        self.count = [0] * len(claims)
        self.exhausted = [False] * len(claims)
        self.queries: list[tuple[Class, ...]] = [()] * len(claims)
        self.members: dict[Class, list[int]] = {}
        self._trees: dict[tuple[Class, str], Overlaps] = {}
        candidates = overlapping_any(claims)
        if not candidates:
            return  # most maps: no two claims of a protocol even share a port
        wanted: set[Class] = set()
        memberships = []
        for position in candidates:
            claim = claims[position]
            member, query = classes(claim.protocol, claim.host_ip)
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
        self.forced: dict[int, Merged] = {}  # pool -> the ports it certainly takes
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
        taken = covered([Merged(fixed)], claim.start, claim.end)
        free = claim.size - taken - drawn
        self.exhausted[position] = free < claim.replicas
        if not self.exhausted[position] and not drawn and not unsure and free == claim.replicas:
            # No choice: the free ports are the ones it takes.
            self.forced[position] = Merged(gaps(Merged(fixed), claim.start, claim.end))

    def _tree(self, cls: Class, kind: str, limit: int) -> Overlaps:
        tree = self._trees.get((cls, kind))
        if tree is None or tree.limit < limit:
            claims, count = self.claims, self.count
            tree = Overlaps(
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
        return forced is not None and covered([forced], second.start, second.end) > 0

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
        candidates = self.first(position, CAUSES, kind)
        if len(candidates) == CAUSES:
            candidates = [c for c in self.partners(position) if c < position]
        for other in candidates:
            if other < position and self.certain(other, position):
                return other
        return first[0]


# How many earlier fixed claims and forced pools `cause` looks at for a certain one.
CAUSES = 8


def self_collision(claim: Claim) -> Collision | None:
    """The collision of a claim's replicas with each other, if they are sure to collide."""
    families = bound_addresses(claim.host_ip)
    if claim.replicas <= 1 or not families:
        return None
    # Every replica asks for the same fixed port, and the second one is refused. Replicas of a
    # pool each take a port of it, so only a pool smaller than its replicas is sure to fail.
    if claim.pool and claim.size >= claim.replicas:
        return None
    return Collision(claim, claim, (claim.start, claim.end), families[0][0], True)
