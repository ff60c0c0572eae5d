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

Its public face is this module: `build` makes every command's map from projects, `HostPortMap`
answers what collides and what is free. Inside, `claims` holds the records, `addresses` the
address rule, `intervals` the interval structures, `analysis` the collision analysis and `map`
the map itself. It imports the model and nothing else of compose-ports.
"""

from compose_ports.hostmap.addresses import (
    FAMILIES,
    IPV4,
    IPV6,
    bound_addresses,
    same_address_collides,
)
from compose_ports.hostmap.claims import Claim, Collision, Conflict, claim_for
from compose_ports.hostmap.map import HostPortMap, Keyed, build

__all__ = [
    "FAMILIES",
    "IPV4",
    "IPV6",
    "Claim",
    "Collision",
    "Conflict",
    "HostPortMap",
    "Keyed",
    "bound_addresses",
    "build",
    "claim_for",
    "same_address_collides",
]
