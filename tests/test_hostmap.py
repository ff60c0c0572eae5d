"""The host-port map against compose-facts.md §6.3 (moby v28.5.1's allocator, executed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compose_ports.hostmap import (
    Claim,
    Collision,
    Conflict,
    HostPortMap,
    claim_for,
    intervals,
    same_address_collides,
)
from compose_ports.model import PortBinding, PortSpec, Source


def claim(
    host_ip: str | None = None,
    start: int = 8000,
    end: int | None = None,
    protocol: str = "tcp",
    pool: bool = False,
    replicas: int = 1,
    key: object = None,
) -> Claim:
    return Claim(
        key=key,
        protocol=protocol,
        host_ip=host_ip,
        start=start,
        end=start if end is None else end,
        pool=pool,
        replicas=replicas,
    )


def binding(published: str | None, host_ip: str | None = None, protocol: str = "tcp"):
    spec = PortSpec(target=80, published=published, host_ip=host_ip, protocol=protocol)
    return PortBinding(service="web", spec=spec, source=Source("/p/compose.yaml", 3, 9), raw="x")


# --- §6.3's executed table ------------------------------------------------------------------

# (first host_ip, first protocol, second host_ip, second protocol, family of the conflict or None)
TABLE = [
    (None, "tcp", None, "tcp", "ipv4"),  # "Bind for 0.0.0.0:8000 failed"
    (None, "tcp", None, "udp", None),
    (None, "tcp", None, "sctp", None),
    ("0.0.0.0", "tcp", "127.0.0.1", "tcp", "ipv4"),
    (None, "tcp", "127.0.0.1", "tcp", "ipv4"),
    (None, "tcp", "::1", "tcp", "ipv6"),
    (None, "tcp", "::", "tcp", "ipv6"),
    ("127.0.0.1", "tcp", "127.0.0.2", "tcp", None),
    ("127.0.0.1", "tcp", "192.168.1.10", "tcp", None),
    ("127.0.0.1", "tcp", "127.0.0.1", "udp", None),
    ("0.0.0.0", "tcp", "::", "tcp", None),
    ("0.0.0.0", "tcp", "::1", "tcp", None),
    ("::", "tcp", "::1", "tcp", "ipv6"),  # "Bind for :::8000 failed"
    ("::1", "tcp", "127.0.0.1", "tcp", None),
    ("::ffff:127.0.0.1", "tcp", "127.0.0.1", "tcp", "ipv4"),  # unmapped to IPv4
]

# §6.4 as the allocator sees it, IPv4-mapped addresses, and spellings `ipaddress` normalizes.
EXTRA = [
    ("0.0.0.0", "udp", "127.0.0.1", "udp", "ipv4"),  # the kernel allows it, the allocator does not
    ("::ffff:0.0.0.0", "tcp", "127.0.0.1", "tcp", "ipv4"),
    ("::ffff:127.0.0.1", "tcp", "::", "tcp", None),
    ("::ffff:127.0.0.1", "tcp", "::1", "tcp", None),
    ("::ffff:127.0.0.1", "tcp", None, "tcp", "ipv4"),
    ("::ffff:127.0.0.1", "tcp", "::ffff:127.0.0.2", "tcp", None),
    ("::0", "tcp", "::1", "tcp", "ipv6"),
    ("0:0::1", "tcp", "::1", "tcp", "ipv6"),
    ("0000:0000:0000:0000:0000:0000:0000:0001", "tcp", "::1", "tcp", "ipv6"),
    ("[::1]", "tcp", "::1", "tcp", "ipv6"),
    ("", "tcp", "::1", "tcp", "ipv6"),  # empty is unset
    ("not-an-ip", "tcp", "127.0.0.1", "tcp", None),  # an invalid address binds nothing we place
    ("not-an-ip", "tcp", None, "tcp", None),
    (None, "TCP", None, "tcp", "ipv4"),  # the daemon lower-cases (libnetwork/types.ParseProtocol)
    (None, "SCTP", "::1", "sctp", "ipv6"),
    (None, "udp", "127.0.0.1", "UDP", "ipv4"),
]


def both_orders(rows):
    for first_ip, first_proto, second_ip, second_proto, family in rows:
        yield first_ip, first_proto, second_ip, second_proto, family
        if (first_ip, first_proto) != (second_ip, second_proto):
            yield second_ip, second_proto, first_ip, first_proto, family


@pytest.mark.parametrize(
    ("first_ip", "first_proto", "second_ip", "second_proto", "family"),
    [*both_orders(TABLE), *both_orders(EXTRA)],
)
def test_allocator_table(first_ip, first_proto, second_ip, second_proto, family):
    first = claim(first_ip, protocol=first_proto, key="first")
    second = claim(second_ip, protocol=second_proto, key="second")
    ports = HostPortMap([first, second])
    if family is None:
        assert ports.collisions() == []
        assert ports.overlapping(first) == []
        assert ports.overlapping(second) == []
    else:
        assert ports.collisions() == [Collision(first, second, (8000, 8000), family, True)]
        assert ports.overlapping(first) == [second]
        assert ports.overlapping(second) == [first]
    if first_proto.lower() == second_proto.lower():
        families = same_address_collides(first_ip, second_ip)
        assert (families[0] if families else None) == family


def test_unset_collides_with_unset_in_both_families_reported_once_as_ipv4():
    assert same_address_collides(None, None) == ["ipv4", "ipv6"]
    assert same_address_collides(None, "::") == ["ipv6"]
    assert same_address_collides("127.0.0.1", "bogus") == []
    assert len(HostPortMap([claim(), claim()]).collisions()) == 1


def test_port_taken_then_range_gets_a_free_port():
    taken = claim(None, 8000, key="taken")
    pool = claim(None, 8000, 8002, pool=True, key="pool")
    ports = HostPortMap([taken, pool])
    assert ports.collisions() == [Collision(taken, pool, (8000, 8000), "ipv4", False)]
    # The engine gives the range 8001 (§6.3): the lowest free port of it.
    assert HostPortMap([taken]).lowest_free(8000, 8002) == 8001
    # Once the pool is in the map its whole range counts as taken for choosing new ports.
    assert ports.lowest_free(8000, 8002) is None


@pytest.mark.parametrize("published", ["0", "", None, "abc", "9000-8000", "70000"])
def test_claim_for_ephemeral_or_invalid_is_none(published):
    assert claim_for(binding(published)) is None


def test_claim_for():
    single = binding("8000", host_ip="127.0.0.1", protocol="TCP")
    assert claim_for(single) == Claim(single, "TCP", "127.0.0.1", 8000, 8000, False)
    pool = binding("8000-8002")
    assert claim_for(pool, key=("stack", pool), replicas=3) == Claim(
        ("stack", pool), "tcp", None, 8000, 8002, True, 3
    )


# --- Ranges, pools, replicas ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ((8000, 8002), (8002, 8002), (8002, 8002)),
        ((8002, 8002), (8000, 8002), (8002, 8002)),
        ((8000, 8002), (8003, 8003), None),
        ((8003, 8005), (8000, 8002), None),
        ((8000, 8010), (8003, 8004), (8003, 8004)),
        ((8003, 8004), (8000, 8010), (8003, 8004)),
        ((1, 65535), (1, 65535), (1, 65535)),
        ((8000, 8005), (8004, 8009), (8004, 8005)),
    ],
)
def test_fixed_ranges(first, second, overlap):
    a = claim(None, *first, key="a")
    b = claim(None, *second, key="b")
    expected = [] if overlap is None else [Collision(a, b, overlap, "ipv4", True)]
    assert HostPortMap([a, b]).collisions() == expected


def test_pool_fully_covered_by_others_is_certain():
    pool = claim(None, 8000, 8002, pool=True, key="pool")
    low = claim("::", 8000, key="low")  # ipv6 only: still refuses 8000 to the pool
    high = claim("127.0.0.1", 8001, 8005, key="high")
    ports = HostPortMap([low, high, pool])
    assert ports.collisions() == [
        Collision(low, pool, (8000, 8000), "ipv6", True),
        Collision(high, pool, (8001, 8002), "ipv4", True),
    ]
    # Started first, it takes a port of its choice: the others may or may not find theirs.
    assert [c.certain for c in HostPortMap([pool, low, high]).collisions()] == [False, False]


def test_pool_partly_free_is_not_certain():
    pool = claim(None, 8000, 8002, pool=True, key="pool")
    low = claim(None, 8000, key="low")
    high = claim(None, 8002, key="high")
    other_ip = claim("127.0.0.1", 8001, key="elsewhere")
    ports = HostPortMap([low, high, other_ip, pool])
    # 127.0.0.1:8001 does refuse 8001 to an unset-IP pool: now nothing is left.
    assert [c.certain for c in ports.collisions()] == [True, True, True]
    ports = HostPortMap([low, high, claim("127.0.0.2", 8000, 8002, pool=True)])
    assert [c.certain for c in ports.collisions()] == [False, False]


def test_a_pool_with_no_choice_takes_the_port_a_later_claim_wants():
    first = claim("127.0.0.1", 24090, key="first")
    pool = claim("127.0.0.1", 24090, 24091, pool=True, key="pool")
    second = claim("127.0.0.1", 24091, key="second")
    # The engine starts the pool on 24091, the one port left, and refuses `second`.
    assert HostPortMap([first, pool, second]).collisions() == [
        Collision(first, pool, (24090, 24090), "ipv4", False),
        Collision(pool, second, (24091, 24091), "ipv4", True),
    ]


def test_pools_inside_a_pool_take_its_ports():
    a, b, c = (claim("127.0.0.1", 24090, 24091, pool=True, key=k) for k in "abc")
    found = HostPortMap([a, b, c]).collisions()
    # The third finds both ports taken: "all ports are allocated".
    assert [(x.first.key, x.second.key, x.certain) for x in found] == [
        ("a", "b", False),
        ("a", "c", True),
        ("b", "c", True),
    ]


def test_incompatible_address_does_not_cover_a_pool():
    pool = claim("127.0.0.1", 8000, 8001, pool=True, key="pool")
    aside = claim("127.0.0.2", 8000, 8001, key="aside")
    on = claim("127.0.0.1", 8000, key="on")
    ports = HostPortMap([pool, aside, on])
    assert ports.collisions() == [Collision(pool, on, (8000, 8000), "ipv4", False)]


def test_two_pools_overlapping_are_not_certain_unless_fixed_claims_cover_one():
    a = claim(None, 8000, 8001, pool=True, key="a")
    b = claim(None, 8001, 8002, pool=True, key="b")
    assert HostPortMap([a, b]).collisions() == [Collision(a, b, (8001, 8001), "ipv4", False)]
    fixed = claim(None, 8000, 8001, key="fixed")
    assert HostPortMap([fixed, a, b]).collisions() == [
        Collision(fixed, a, (8000, 8001), "ipv4", True),  # a has no port left
        Collision(fixed, b, (8001, 8001), "ipv4", False),  # b still has 8002
        Collision(a, b, (8001, 8001), "ipv4", False),  # a, refused, took nothing
    ]


def test_fixed_port_with_replicas_collides_with_itself():
    web = claim(None, 8000, replicas=2)
    assert HostPortMap([web]).collisions() == [Collision(web, web, (8000, 8000), "ipv4", True)]
    v6 = claim("::1", 8000, 8001, replicas=3)
    assert HostPortMap([v6]).collisions() == [Collision(v6, v6, (8000, 8001), "ipv6", True)]
    assert HostPortMap([claim("not-an-ip", replicas=2)]).collisions() == []


def test_pool_with_replicas():
    enough = claim(None, 8000, 8002, pool=True, replicas=3)
    assert HostPortMap([enough]).collisions() == []
    taken = claim(None, 8002)
    assert HostPortMap([enough, taken]).collisions() == [
        Collision(enough, taken, (8002, 8002), "ipv4", True)  # two ports left for three
    ]
    small = claim(None, 8000, 8001, pool=True, replicas=3)
    assert HostPortMap([small]).collisions() == [
        Collision(small, small, (8000, 8001), "ipv4", True)
    ]


def test_order_is_by_second_then_first():
    a = claim(None, 8000, 8010, key="a")
    b = claim("127.0.0.1", 8005, key="b")
    c = claim(None, 8001, replicas=2, key="c")
    d = claim("::1", 8000, 8005, key="d")
    order = [(x.first.key, x.second.key) for x in HostPortMap([a, b, c, d]).collisions()]
    assert order == [("a", "b"), ("a", "c"), ("c", "c"), ("a", "d"), ("c", "d")]


def test_overlapping_for_claims_inside_and_outside_the_map():
    a = claim(None, 8000, key="a")
    b = claim("127.0.0.1", 8000, 8001, key="b")
    c = claim("::1", 8001, key="c")
    ports = HostPortMap([a, b, c])
    assert ports.overlapping(a) == [b]
    assert ports.overlapping(b) == [a]
    assert ports.overlapping(c) == []
    outside = claim(None, 8001, key="outside")
    assert ports.overlapping(outside) == [b, c]
    assert ports.overlapping(claim(None, 8000, key="a")) == [b]  # equal to a: a itself
    assert ports.overlapping(claim(None, 8000, key="z")) == [a, b]
    ports.add(outside)
    assert ports.overlapping(c) == [outside]
    assert len(ports) == 4
    assert ports.claims == (a, b, c, outside)


def test_the_same_claim_added_twice_collides_with_itself_but_overlaps_nothing_else():
    a = claim(None, 8000, key="a")
    ports = HostPortMap([a, a])
    assert ports.collisions() == [Collision(a, a, (8000, 8000), "ipv4", True)]
    assert ports.overlapping(a) == []


def test_add_after_collisions_recomputes():
    ports = HostPortMap([claim(None, 8000, key="a")])
    assert ports.collisions() == []
    assert not ports.is_free(8000)
    ports.add(claim("127.0.0.1", 8001, key="b"))
    ports.add(claim(None, 8001, key="c"))
    assert [(x.first.key, x.second.key) for x in ports.collisions()] == [("b", "c")]
    assert not ports.is_free(8001)


# --- is_free and lowest_free ----------------------------------------------------------------


class CountingSet:
    """A set that counts membership tests: proves lowest_free does not walk port by port."""

    def __init__(self, members=()) -> None:
        self.members = set(members)
        self.calls = 0

    def __contains__(self, port: object) -> bool:
        self.calls += 1
        return port in self.members


def test_is_free():
    ports = HostPortMap(
        [
            claim("127.0.0.1", 8000),
            claim("::", 8001),
            claim(None, 8002, protocol="udp"),
            claim("10.0.0.1", 8003, 8005, pool=True),
        ]
    )
    assert not ports.is_free(8000)
    assert not ports.is_free(8000, host_ip="0.0.0.0")
    assert not ports.is_free(8000, host_ip="127.0.0.1")
    assert not ports.is_free(8000, host_ip="::ffff:127.0.0.1")
    assert ports.is_free(8000, host_ip="127.0.0.2")
    assert ports.is_free(8000, host_ip="::")
    assert ports.is_free(8000, protocol="udp")
    assert not ports.is_free(8001)
    assert not ports.is_free(8001, host_ip="::1")
    assert ports.is_free(8001, host_ip="0.0.0.0")
    assert not ports.is_free(8002, protocol="UDP", host_ip="127.0.0.1")
    assert ports.is_free(8002)
    assert not ports.is_free(8004, host_ip="10.0.0.1")  # a pool's whole range counts as taken
    assert ports.is_free(8004, host_ip="10.0.0.2")
    assert ports.is_free(8006)


def test_lowest_free_jumps_over_a_big_range():
    ports = HostPortMap([claim(None, 1, 65000), claim("127.0.0.1", 65001, 65010)])
    exclude = CountingSet()
    assert ports.lowest_free(1, 65535, exclude=exclude) == 65011
    assert exclude.calls == 1
    assert ports.lowest_free(1, 65535, host_ip="127.0.0.2") == 65001
    assert ports.lowest_free(1, 65535, host_ip="::1") == 65001
    assert ports.lowest_free(1, 65535, protocol="udp") == 1
    assert ports.lowest_free(100, 200) is None
    assert ports.lowest_free(1, 65535, exclude=range(65011, 65100)) == 65100
    assert ports.lowest_free(1, 65535, exclude={65011, 65012}) == 65013
    assert ports.lowest_free(65011, 65012, exclude={65011, 65012}) is None
    assert HostPortMap([claim(None, 1, 65535)]).lowest_free(1, 65535) is None
    assert HostPortMap().lowest_free(5, 9, exclude=CountingSet({5})) == 6


def test_lowest_free_across_touching_and_nested_ranges():
    ports = HostPortMap(
        [
            claim(None, 100, 199),
            claim("127.0.0.1", 200, 299),
            claim("::", 300, 399),
            claim(None, 150, 160),
            claim(None, 400, 400, pool=True),
        ]
    )
    assert ports.lowest_free(100, 1000) == 401
    assert ports.lowest_free(100, 1000, host_ip="127.0.0.1") == 300
    assert ports.lowest_free(100, 1000, host_ip="::1") == 200


# --- Scale: intervals, never ports ----------------------------------------------------------


def test_many_big_ranges_and_many_single_ports():
    ranges = [
        claim(f"10.1.0.{r + 1}", 20000, 39999, pool=r % 2 == 0, key=("range", r))
        for r in range(200)
    ]
    singles = [claim("127.0.0.1", 1000 + s, key=("single", s)) for s in range(10_000)]
    everywhere = claim(None, 20000, 39999, key="everywhere")
    on_fixed = [claim("10.1.0.2", 20000 + s, key=("on-fixed", s)) for s in range(50)]
    on_pool = [claim("10.1.0.1", 30000 + s, key=("on-pool", s)) for s in range(50)]
    ports = HostPortMap([everywhere, *ranges, *singles, *on_fixed, *on_pool])

    found = ports.collisions()
    assert len(found) == 200 + 2 * 50 + 2 * 50
    # `everywhere` started first takes every port of each pool, which the engine refuses: each
    # collision with it is certain, and a refused pool takes nothing from those after it.
    assert [c for c in found if not c.certain] == [
        Collision(ranges[0], p, (p.start, p.start), "ipv4", False) for p in on_pool
    ]
    assert all(c.family == "ipv4" for c in found)
    assert found[0] == Collision(everywhere, ranges[0], (20000, 39999), "ipv4", True)
    assert found[-1] == Collision(ranges[0], on_pool[-1], (30049, 30049), "ipv4", False)
    assert len(ports.overlapping(everywhere)) == 300
    assert ports.overlapping(ranges[1]) == [everywhere, *on_fixed]

    assert ports.lowest_free(1000, 65535, host_ip="127.0.0.1") == 11000
    assert ports.lowest_free(1000, 65535) == 11000
    assert ports.lowest_free(20000, 65535, host_ip="10.1.0.5") == 40000
    assert ports.lowest_free(20000, 65535, host_ip="::1") == 40000


# --- Against a brute-force reference that expands every port --------------------------------

# The (family, address) pairs each host IP binds, written out by hand; "*" is unspecified.
BOUND = {
    None: {("ipv4", "*"), ("ipv6", "*")},
    "0.0.0.0": {("ipv4", "*")},
    "::": {("ipv6", "*")},
    "::0": {("ipv6", "*")},
    "127.0.0.1": {("ipv4", "127.0.0.1")},
    "::ffff:127.0.0.1": {("ipv4", "127.0.0.1")},
    "127.0.0.2": {("ipv4", "127.0.0.2")},
    "::1": {("ipv6", "::1")},
    "0:0::1": {("ipv6", "::1")},
}


def sockets(c: Claim) -> set[tuple[str, str, str, int]]:
    return {
        (c.protocol.lower(), family, address, port)
        for family, address in BOUND[c.host_ip]
        for port in range(c.start, c.end + 1)
    }


def families_and_ports(a: Claim, b: Claim) -> tuple[set[str], set[int]]:
    families: set[str] = set()
    ports: set[int] = set()
    for proto, family, address, port in sockets(a):
        for proto_b, family_b, address_b, port_b in sockets(b):
            same = (proto, family, port) == (proto_b, family_b, port_b)
            if same and (address == address_b or "*" in (address, address_b)):
                families.add(family)
                ports.add(port)
    return families, ports


def reference_collisions(claims: list[Claim]) -> list[Collision]:
    n = len(claims)
    meet = {}
    for j in range(n):
        for i in range(j):
            families, ports = families_and_ports(claims[i], claims[j])
            if families:
                meet[i, j] = meet[j, i] = (families, ports)

    # The engine starts claims in order; a pool takes, at its start, free ports of its range:
    # what the fixed claims before it leave, less what earlier pools inside its range took.
    exhausted: dict[int, bool] = {}
    forced: dict[int, set[int]] = {}
    for p in range(n):
        pool = claims[p]
        if not pool.pool:
            continue
        ports = set(range(pool.start, pool.end + 1))
        free, drawn, unsure = set(ports), 0, False
        for q in range(p):
            if (p, q) not in meet:
                continue
            other = claims[q]
            if not other.pool:
                free -= set(range(other.start, other.end + 1))
            elif exhausted[q]:
                continue
            elif set(range(other.start, other.end + 1)) <= ports:
                drawn += other.replicas
            else:
                unsure = True
        exhausted[p] = len(free) - drawn < pool.replicas
        if not exhausted[p] and not drawn and not unsure and len(free) == pool.replicas:
            forced[p] = free

    def certain(i: int, j: int) -> bool:
        a, b = claims[i], claims[j]
        if a.pool and exhausted[i]:
            return False
        if b.pool:
            return exhausted[j]
        if not a.pool:
            return True
        return bool(forced.get(i, set()) & set(range(b.start, b.end + 1)))

    expected = []
    for j in range(n):
        for i in range(j):
            if (i, j) not in meet:
                continue
            families, ports = meet[i, j]
            a, b = claims[i], claims[j]
            family = "ipv4" if "ipv4" in families else "ipv6"
            expected.append(Collision(a, b, (min(ports), max(ports)), family, certain(i, j)))
        c = claims[j]
        if c.replicas > 1 and (not c.pool or c.end - c.start + 1 < c.replicas):
            family = "ipv4" if any(f == "ipv4" for f, _ in BOUND[c.host_ip]) else "ipv6"
            expected.append(Collision(c, c, (c.start, c.end), family, True))
    return expected


@st.composite
def claims_strategy(draw, index: int) -> Claim:
    start = draw(st.integers(1, 20))
    end = draw(st.integers(start, min(20, start + 5)))
    return Claim(
        key=index,
        protocol=draw(st.sampled_from(["tcp", "udp", "TCP"])),
        host_ip=draw(st.sampled_from(list(BOUND))),
        start=start,
        end=end,
        pool=start < end and draw(st.booleans()),
        replicas=draw(st.sampled_from([1, 1, 1, 2, 3])),
    )


claim_lists = st.integers(0, 9).flatmap(
    lambda n: st.tuples(*(claims_strategy(i) for i in range(n))).map(list)
)


@settings(max_examples=300, deadline=None)
@given(claim_lists)
def test_collisions_match_brute_force(claims):
    ports = HostPortMap(claims)
    assert ports.collisions() == reference_collisions(claims)
    for c in claims:
        expected = [o for o in claims if o is not c and families_and_ports(c, o)[0]]
        assert ports.overlapping(c) == expected


def reference_conflicts(claims: list[Claim], limit: int) -> list[Conflict]:
    """`conflicts` from the brute-force pairs: each claim's partners, first ones and cause."""
    pairs = reference_collisions(claims)
    index = {c.key: i for i, c in enumerate(claims)}
    expected = []
    for j, c in enumerate(claims):
        mine = [x for x in pairs if x.first is not x.second and c in (x.first, x.second)]
        other = {id(x): index[(x.second if x.first is c else x.first).key] for x in mine}
        mine.sort(key=lambda x: other[id(x)])
        earlier = [x for x in mine if other[id(x)] < j]
        cause = next((x for x in earlier if x.certain), earlier[0] if earlier else None)
        itself = next((x for x in pairs if x.first is c and x.second is c), None)
        if mine or itself:
            expected.append(Conflict(c, len(mine), tuple(mine[:limit]), cause, itself))
    return expected


@settings(max_examples=300, deadline=None)
@given(claim_lists, st.sampled_from([1, 2, 5]))
def test_conflicts_match_brute_force(claims, limit):
    assert HostPortMap(claims).conflicts(limit) == reference_conflicts(claims, limit)


def test_a_crowded_port_is_summed_up_not_enumerated(monkeypatch: pytest.MonkeyPatch):
    """20,000 claims on one port are 200 million pairs: `conflicts` must never list them."""

    def enumerate_partners(*args: object) -> list[int]:
        raise AssertionError("conflicts() enumerated every partner")

    monkeypatch.setattr(intervals.Overlaps, "every", enumerate_partners)
    crowd = [claim(None, 8080, key=i) for i in range(20_000)]
    elsewhere = [claim("127.0.0.2", 8080, key="lo2"), claim(None, 8080, protocol="udp", key="u")]
    conflicts = HostPortMap([*crowd, *elsewhere]).conflicts(3)
    # 127.0.0.2 meets every unset claim; the udp one meets none of them.
    assert len(conflicts) == 20_001
    first, second, last = conflicts[0], conflicts[1], conflicts[-1]
    assert (first.others, first.cause) == (20_000, None)
    assert [c.second.key for c in first.first] == [1, 2, 3]
    assert second.cause == Collision(crowd[0], crowd[1], (8080, 8080), "ipv4", True)
    assert [c.first.key for c in last.first] == [0, 1, 2]
    assert (last.claim.key, last.others, last.cause.first.key) == ("lo2", 20_000, 0)
    assert all(c.others == 20_000 and c.cause.first is crowd[0] for c in conflicts[1:])


def test_the_cause_is_the_first_certain_collision():
    pool = claim(None, 8000, 8005, pool=True, key="pool")  # keeps free ports: a warning only
    a = claim(None, 8000, key="a")
    b = claim(None, 8000, key="b")
    ports = HostPortMap([pool, a, b])
    by_key = {c.claim.key: c for c in ports.conflicts()}
    assert by_key["a"].cause == Collision(pool, a, (8000, 8000), "ipv4", False)
    # b overlaps the pool first, but collides for certain with a.
    assert by_key["b"].cause == Collision(a, b, (8000, 8000), "ipv4", True)
    assert [c.first.key for c in by_key["b"].first] == ["pool", "a"]
    assert by_key["pool"].cause is None and by_key["pool"].others == 2


def test_conflicts_of_replicas_alone():
    worker = claim(None, 9000, replicas=3, key="worker")
    [conflict] = HostPortMap([worker, claim(None, 9001, key="other")]).conflicts()
    assert conflict == Conflict(
        worker, 0, (), None, Collision(worker, worker, (9000, 9000), "ipv4", True)
    )


@settings(max_examples=300, deadline=None)
@given(
    claim_lists,
    st.sampled_from(["tcp", "udp"]),
    st.sampled_from(list(BOUND)),
    st.integers(1, 22),
    st.integers(0, 22),
    st.sets(st.integers(1, 22), max_size=5),
)
def test_lowest_free_matches_brute_force(claims, protocol, host_ip, start, length, exclude):
    ports = HostPortMap(claims)
    end = start + length
    query = {(protocol, family, address) for family, address in BOUND[host_ip]}

    def taken(port: int) -> bool:
        for c in claims:
            for proto, family, address, p in sockets(c):
                if p != port:
                    continue
                for q_proto, q_family, q_address in query:
                    if (proto, family) == (q_proto, q_family) and (
                        address == q_address or "*" in (address, q_address)
                    ):
                        return True
        return False

    free = [p for p in range(start, end + 1) if not taken(p)]
    assert [p for p in range(start, end + 1) if ports.is_free(p, protocol, host_ip)] == free
    expected = next((p for p in free if p not in exclude), None)
    assert ports.lowest_free(start, end, protocol, host_ip, exclude) == expected
