"""The host-port map: claims in start order, what collides, and which ports are free."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from typing import NamedTuple

from compose_ports.hostmap.addresses import Address, bound_addresses, claims_collide
from compose_ports.hostmap.analysis import Analysis, self_collision
from compose_ports.hostmap.claims import Claim, Collision, Conflict, claim_for
from compose_ports.hostmap.intervals import Merged
from compose_ports.model import PortBinding, Project, Service

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


class _FamilyIndex(NamedTuple):
    everything: Merged  # what a request on the unspecified address competes with
    unspecified: Merged  # what a request on any specific address competes with...
    by_address: dict[Address, Merged]  # ...besides that address's own


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
        self._analysis: Analysis | None = None
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
            itself = self_collision(claim)
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
            itself = self_collision(claim) if claim.replicas > 1 else None
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
        return [other for other in self._claims if other != claim and claims_collide(claim, other)]

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

    def _blocking(self, protocol: str, host_ip: str | None) -> list[Merged]:
        """The merged intervals a new binding on (protocol, host_ip) would compete with."""
        index = self._build_index()
        protocol = protocol.lower()
        blocking: list[Merged] = []
        for family, address in bound_addresses(host_ip):
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
        groups: dict[tuple[str, str], list[tuple[int, Address]]] = {}
        for position, claim in enumerate(claims):
            protocol = claim.protocol.lower()
            for family, address in bound_addresses(claim.host_ip):
                groups.setdefault((protocol, family), []).append((position, address))
        for group, entries in groups.items():
            unspecified: list[tuple[int, int]] = []
            specific: dict[Address, list[tuple[int, int]]] = {}
            for position, address in entries:
                interval = (claims[position].start, claims[position].end)
                if address is None:
                    unspecified.append(interval)
                else:
                    specific.setdefault(address, []).append(interval)
            everything = unspecified + [i for intervals in specific.values() for i in intervals]
            index[group] = _FamilyIndex(
                everything=Merged(everything),
                unspecified=Merged(unspecified),
                by_address={address: Merged(found) for address, found in specific.items()},
            )
        self._index = index
        return index

    def _analyse(self) -> Analysis:
        if self._analysis is None:
            self._analysis = Analysis(self._claims)
        return self._analysis
