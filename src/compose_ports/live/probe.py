"""`check --probe`: whether something answers behind each declared TCP binding.

A bare connect proves nothing on a published port: Docker's userland proxy accepts every
connection and closes it at once when nothing listens in the container. So a connection that
the peer closes without a byte within a short grace period is `closed`, not answering; and
one that stays open, or sends something first (an SSH or SMTP banner), is answering. A
binding that speaks HTTP (`app_protocol: http|https`, or `--http`) gets `HEAD /` and answers
on any HTTP status.

Probes go only to addresses of this machine: loopback for a binding on every interface, and
a specific host IP only when it is loopback or an address of one of this machine's interfaces.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from compose_ports.hostmap import IPV6, bound_addresses
from compose_ports.live.engine import Engine
from compose_ports.model import PortBinding, PortSpec, Project

ANSWERING = "answering"
REFUSED = "refused"
CLOSED = "closed"
TIMED_OUT = "timed out"
NOT_PROBED = "not probed"

TIMEOUT = 1.0
# How long a connection must stay open without a byte before it counts as answering: the
# proxy's own connect to a container that has nothing listening fails in well under this.
GRACE = 0.25
WORKERS = 16
# Enough of a reply to read an HTTP status line.
REPLY_BYTES = 256


@dataclass(frozen=True, slots=True)
class Target:
    address: str  # an address of this machine, without brackets
    port: int
    kind: str = "tcp"  # "tcp", "http" or "https"

    def show(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # ANSWERING, REFUSED, CLOSED, TIMED_OUT
    detail: str = ""

    @property
    def answers(self) -> bool:
        return self.state == ANSWERING

    def describe(self) -> str:
        return f"{self.state} ({self.detail})" if self.detail else self.state


def probe_all(
    targets: Sequence[Target], timeout: float = TIMEOUT, workers: int = WORKERS
) -> dict[Target, Outcome]:
    """Each distinct target probed once, at most `workers` at a time."""
    unique = list(dict.fromkeys(targets))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique)))) as pool:
        outcomes = list(pool.map(lambda t: probe(t, timeout), unique))
    return dict(zip(unique, outcomes, strict=True))


def probe(target: Target, timeout: float = TIMEOUT) -> Outcome:
    family = socket.AF_INET6 if ":" in target.address else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        return Outcome(REFUSED, _reason(exc))
    with sock:
        sock.settimeout(timeout)
        try:
            sock.connect((target.address, target.port))
        except ConnectionRefusedError:
            return Outcome(REFUSED)
        except ConnectionResetError:
            # Accepted, then reset before connect() returned: under load the reset can be
            # there first. The peer was listening: closed, as when recv() meets the reset.
            return Outcome(CLOSED, "reset at once")
        except TimeoutError:
            return Outcome(TIMED_OUT, f"no connection within {_seconds(timeout)}")
        except OSError as exc:  # no route, no such address here
            return Outcome(REFUSED, _reason(exc))
        if target.kind == "tcp":
            return _first_words(sock, min(GRACE, timeout))
        return _http(sock, target, timeout)


def _first_words(sock: socket.socket, grace: float) -> Outcome:
    sock.settimeout(grace)
    try:
        data = sock.recv(1)
    except TimeoutError:
        return Outcome(ANSWERING, "accepted, waiting for a request")
    except OSError:  # reset: the proxy, or a server that refuses after accepting
        return Outcome(CLOSED, "reset at once")
    if data:
        return Outcome(ANSWERING, "spoke first")
    return Outcome(CLOSED, f"closed without a byte within {_seconds(grace)}")


def _http(sock: socket.socket, target: Target, timeout: float) -> Outcome:
    stream: socket.socket = sock
    if target.kind == "https":
        # Whether it answers, not whom it claims to be: no certificate check.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            stream = context.wrap_socket(sock, server_hostname=None)
        except (ssl.SSLEOFError, ConnectionError):
            return Outcome(CLOSED, "closed during the TLS handshake")
        except TimeoutError:
            return Outcome(TIMED_OUT, f"no TLS handshake within {_seconds(timeout)}")
        except (ssl.SSLError, OSError) as exc:
            return Outcome(ANSWERING, f"TLS handshake failed: {_reason(exc)}")
    request = f"HEAD / HTTP/1.0\r\nHost: {target.show()}\r\nUser-Agent: compose-ports\r\n\r\n"
    try:
        stream.sendall(request.encode("ascii"))
        reply = _read_line(stream)
    except TimeoutError:
        return Outcome(TIMED_OUT, f"no HTTP reply within {_seconds(timeout)}")
    except OSError:
        return Outcome(CLOSED, "reset before an HTTP reply")
    if not reply:
        return Outcome(CLOSED, "closed without an HTTP reply")
    parts = reply.split(maxsplit=2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return Outcome(ANSWERING, f"HTTP {parts[1].decode()}")
    return Outcome(ANSWERING, "replied, not with HTTP")


def _read_line(stream: socket.socket) -> bytes:
    reply = b""
    while b"\n" not in reply and len(reply) < REPLY_BYTES:
        chunk = stream.recv(REPLY_BYTES - len(reply))
        if not chunk:
            break
        reply += chunk
    return reply.split(b"\n", 1)[0]


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _seconds(value: float) -> str:
    return f"{value:g} s"


def probe_address(host_ip: str | None, local: Callable[[], frozenset[str]]) -> str | None:
    """Where to probe a binding on `host_ip` from this machine, or None when it is not here.

    Every interface (no host IP, `0.0.0.0`, `::`) is probed on loopback, IPv6 for `::`; an
    IPv4-mapped address as the IPv4 address the engine binds (hostmap.bound_addresses).
    """
    bound = bound_addresses(host_ip)
    if not bound:
        return None  # no address at all
    family, address = bound[0]
    if address is None:
        return "::1" if (family, len(bound)) == (IPV6, 1) else "127.0.0.1"
    if address.is_loopback or str(address) in local():
        return str(address)
    return None


def local_addresses() -> frozenset[str]:
    """The addresses of this machine's interfaces."""
    import psutil

    found = set()
    for addresses in psutil.net_if_addrs().values():
        for item in addresses:
            if item.family in (socket.AF_INET, socket.AF_INET6):
                text = item.address.split("%", 1)[0]  # fe80::1%eth0: the zone is not the address
                try:
                    found.add(str(ipaddress.ip_address(text)))
                except ValueError:
                    continue
    return frozenset(found)


@dataclass(frozen=True)
class Planned:
    """One declared port entry and what `check --probe` does with it."""

    project: Project
    binding: PortBinding
    spec: PortSpec  # one entry: runs are probed port by port
    targets: tuple[Target, ...]  # empty when not probed
    skipped: str  # why not probed, when not
    counts: bool  # a failure here fails the check: the service runs (or no engine can say)


def plan(
    projects: Iterable[Project],
    engine: Engine | None,
    http: bool = False,
    local: Callable[[], frozenset[str]] = local_addresses,
) -> list[Planned]:
    """What to probe for every binding the stacks publish (`Project.publishing`).

    A pool or an ephemeral port is probed where the engine says the service's containers
    published it; without a running container nobody knows which port that is.
    """
    addresses = _once(local)
    result = []
    for project in projects:
        for service, binding in project.publishing():
            counts = engine is None or bool(engine.running(project.name, service.name))
            for spec in binding.spec.expand():
                result.append(_planned(project, binding, spec, engine, http, addresses, counts))
    return result


def _planned(
    project: Project,
    binding: PortBinding,
    spec: PortSpec,
    engine: Engine | None,
    http: bool,
    local: Callable[[], frozenset[str]],
    counts: bool,
) -> Planned:
    protocol = spec.protocol.lower()
    if protocol != "tcp":
        return Planned(project, binding, spec, (), f"{protocol}: only TCP is probed", counts)
    kind = _kind(spec.app_protocol, http)
    rng = spec.host_range()
    if rng is not None and rng[0] == rng[1]:
        address = probe_address(spec.host_ip, local)
        if address is None:
            why = f"{spec.host_ip} is not an address of this machine"
            return Planned(project, binding, spec, (), why, counts)
        return Planned(project, binding, spec, (Target(address, rng[0], kind),), "", counts)
    # A pool or an ephemeral port: the engine chose it when the container started.
    found = []
    for container in engine.running(project.name, binding.service) if engine else ():
        for published in container.ports:
            if published.target != spec.target or published.protocol != protocol:
                continue
            if rng is not None and not rng[0] <= published.host_port <= rng[1]:
                continue
            address = probe_address(published.host_ip, local)
            if address is not None:
                found.append(Target(address, published.host_port, kind))
    if not found:
        why = "the engine picks its host port, and no running container of it publishes one"
        return Planned(project, binding, spec, (), why, counts)
    # The engine's 0.0.0.0 and :: of one binding both lead to loopback: one probe per port.
    unique = {t.port: t for t in reversed(found)}
    return Planned(project, binding, spec, tuple(unique[p] for p in sorted(unique)), "", counts)


def _kind(app_protocol: str | None, http: bool) -> str:
    app = (app_protocol or "").lower()
    if app == "https":
        return "https"
    return "http" if http or app == "http" else "tcp"


def _once(local: Callable[[], frozenset[str]]) -> Callable[[], frozenset[str]]:
    """The interfaces are read when a specific host IP first needs them, and once."""
    found: list[frozenset[str]] = []

    def addresses() -> frozenset[str]:
        if not found:
            found.append(local())
        return found[0]

    return addresses


@dataclass(frozen=True)
class Judged:
    """One probed target (or one binding not probed), and what it means for the check."""

    planned: Planned
    target: Target | None  # None: not probed (`planned.skipped` says why)
    outcome: Outcome | None
    verdict: str  # "ok", "error", "silent" (its service is not running), or "skipped"


@dataclass(frozen=True)
class Verdicts:
    judged: tuple[Judged, ...]
    answering: int
    failed: int  # did not answer, and its service runs (or no engine can say)
    silent: int  # did not answer, and its service is not running: not a failure
    skipped: int

    @property
    def headline(self) -> str:
        # What holds of every port probed: "Answering" only when they all answered.
        if self.failed:
            return "Not answering"
        if self.silent:
            return "Answering where running" if self.answering else "Not running"
        return "Answering" if self.answering else "Nothing probed"


def judge(planned: Sequence[Planned], outcomes: dict[Target, Outcome]) -> Verdicts:
    """Each target's outcome as the check counts it: a failure only where the service runs."""
    judged: list[Judged] = []
    for item in planned:
        if not item.targets:
            judged.append(Judged(item, None, None, "skipped"))
        for target in item.targets:
            outcome = outcomes[target]
            # Not answering fails the check only where the service runs (or no engine can say).
            verdict = "ok" if outcome.answers else "error" if item.counts else "silent"
            judged.append(Judged(item, target, outcome, verdict))

    def count(verdict: str) -> int:
        return sum(1 for j in judged if j.verdict == verdict)

    return Verdicts(tuple(judged), count("ok"), count("error"), count("silent"), count("skipped"))
