"""Conflicts judged by the engine: CP101 and CP102 against a real dockerd (tests/engine.py).

The differential test starts random projects on the engine one service at a time, in the order
CP101 reads them (the `hosts:` group's stacks, then each stack's file order), and checks that
CP101 predicts the services the engine refuses. The other tests pin, one minimal project each,
what the engine does where compose-ports disagrees with it or where dockerd 20.10 (Debian's)
differs from the current Docker that compose-ports follows (shared/docs/compose-facts.md).

The tests without the `engine` mark need no engine: each states what CP101 or CP102 says about
a project whose engine outcome a test beside it pins; each was a disagreement this file found,
fixed in the rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import engine
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

# Host ports the random projects share, so that they collide; nothing else on the machine may
# hold them (checked before the tests start).
WINDOW = range(24090, 24096)
# A port of its own for the IPv6 probe, and for the tests that pin dockerd 20.10's pools,
# whose choice of port depends on what the daemon allocated before (see `_pool_retry`).
PROBE_PORT = 24089
SPARE = range(24190, 24196)

# About 40 projects take CI about three minutes; more explore further (each count draws its own
# projects, the same ones on every run).
EXAMPLES = int(os.environ.get("COMPOSE_PORTS_ENGINE_EXAMPLES", "40"))

HOST_IPS = (None, "127.0.0.1", "127.0.0.2", "0.0.0.0", "::", "::1", "::ffff:127.0.0.1")
IPV4_HOST_IPS = tuple(ip for ip in HOST_IPS if ip is None or ":" not in ip or "ffff" in ip)
STACK_NAMES = ("one", "two", "three")


# ---------------------------------------------------------------------------------------------
# The engine, once per module


@dataclass(frozen=True)
class Engine:
    version: str
    ipv6: bool  # whether a binding without host IP is published on `::` too

    @property
    def is_20_10(self) -> bool:
        return self.version.startswith("20.10.")

    def __str__(self) -> str:
        return f"dockerd {self.version}, IPv6 publishing {'on' if self.ipv6 else 'off'}"


@pytest.fixture(scope="module")
def dockerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine.cleanup()
    engine.ensure_image()
    taken = engine.ports_free(range(PROBE_PORT, WINDOW.stop)) + engine.ports_free(SPARE)
    assert not taken, f"the test ports are held by something else on this machine: {taken}"
    ipv6 = engine.ipv6_published(PROBE_PORT, tmp_path_factory.mktemp("ipv6-probe"))
    yield Engine(engine.status().version, ipv6)
    engine.cleanup()


# ---------------------------------------------------------------------------------------------
# Projects: the model the generator draws, and its compose files


@dataclass(frozen=True)
class Port:
    kind: str  # "single"; "range" (as many host as container ports); "pool" (one container port)
    start: int
    size: int
    host_ip: str | None
    protocol: str
    long: bool  # long syntax (only for single ports and pools: it has no container range)

    @property
    def end(self) -> int:
        return self.start + self.size - 1

    def entry(self, target: int) -> str:
        published = str(self.start) if self.size == 1 else f"{self.start}-{self.end}"
        if self.long:
            item: dict[str, object] = {"target": target, "published": published}
            if self.host_ip is not None:
                item["host_ip"] = self.host_ip
            if self.protocol != "tcp":
                item["protocol"] = self.protocol
            return json.dumps(item)
        container = f"{target}-{target + self.size - 1}" if self.kind == "range" else str(target)
        return json.dumps(_short(self.host_ip, published, container, self.protocol))


def _short(host_ip: str | None, published: str, container: str, protocol: str) -> str:
    address = "" if host_ip is None else f"[{host_ip}]:" if ":" in host_ip else f"{host_ip}:"
    suffix = "" if protocol == "tcp" else f"/{protocol}"
    return f"{address}{published}:{container}{suffix}"


@dataclass(frozen=True)
class Service:
    name: str
    ports: tuple[Port, ...]
    replicas: int = 1
    replicas_key: str = "scale"  # or "deploy" (deploy.replicas)

    @property
    def has_pool(self) -> bool:
        return any(port.kind == "pool" for port in self.ports)


def target_of(index: int) -> int:
    # One container port per entry of a service, so that the engine's report of a container's
    # ports (keyed by container port) tells the entries apart.
    return 80 + 10 * index


@dataclass(frozen=True)
class Stack:
    name: str
    services: tuple[Service, ...]


Project = tuple[Stack, ...]


@dataclass(frozen=True)
class Line:
    """What one line of a written compose file holds: a port entry of a service."""

    service: str
    index: int  # the entry's place in the service's ports
    pool: bool
    pinned: bool  # a pool written as the port the engine gave it


@dataclass
class Block:
    """A service as written: its entries (text, line) and replicas."""

    name: str
    entries: list[tuple[str, Line]]
    replicas: int = 1
    replicas_key: str = "scale"


def declared(service: Service) -> Block:
    entries = [
        (port.entry(target_of(i)), Line(service.name, i, port.kind == "pool", False))
        for i, port in enumerate(service.ports)
    ]
    return Block(service.name, entries, service.replicas, service.replicas_key)


def write_stack(path: Path, blocks: list[Block]) -> dict[int, Line]:
    """Write one stack's compose file; return what each port line holds."""
    lines = ["services:" if blocks else "services: {}"]
    where: dict[int, Line] = {}
    for block in blocks:
        lines += [
            f"  {block.name}:",
            f"    image: {engine.IMAGE}",
            "    pull_policy: never",
            f"    command: {json.dumps(engine.COMMAND)}",
            f'    labels: {{{engine.LABEL}: "1"}}',
        ]
        if block.replicas != 1:
            if block.replicas_key == "deploy":
                lines.append(f"    deploy: {{replicas: {block.replicas}}}")
            else:
                lines.append(f"    scale: {block.replicas}")
        lines.append("    ports:")
        for text, line in block.entries:
            lines.append(f"      - {text}")
            where[len(lines)] = line
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return where


def write_project(root: Path, stacks: list[tuple[str, list[Block]]]) -> dict[tuple[str, int], Line]:
    """One compose file per stack; several stacks share one host through `hosts:`."""
    where: dict[tuple[str, int], Line] = {}
    for name, blocks in stacks:
        file = f"{name}/compose.yaml"
        for number, line in write_stack(root / file, blocks).items():
            where[(root.name + "/" + file, number)] = line
    if len(stacks) > 1:
        names = [name for name, _ in stacks]
        config = ["stacks:"] + [f"  {name}: [{name}/compose.yaml]" for name in names]
        config += ["hosts:", f"  box: [{', '.join(names)}]"]
        (root / ".compose-ports.yaml").write_text("\n".join(config) + "\n")
    return where


def describe_project(project: Project) -> str:
    lines = []
    for stack in project:
        lines.append(f"stack {stack.name}:")
        for service in stack.services:
            replicas = f" {service.replicas_key}={service.replicas}" if service.replicas > 1 else ""
            entries = ", ".join(p.entry(target_of(i)) for i, p in enumerate(service.ports))
            lines.append(f"  {service.name}{replicas}: {entries}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# compose-ports, as users run it


def lint(root: Path, select: str = "CP101") -> list[dict]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "GITHUB_ACTIONS" and not k.startswith("COMPOSE_")
    }
    command = [sys.executable, "-m", "compose_ports", "lint", "--format", "json"]
    command += ["--select", select, "--exit-zero", "."]
    result = subprocess.run(
        command, cwd=root, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, f"lint failed ({result.returncode}): {result.stderr}"
    report = json.loads(result.stdout)
    assert not report["errors"], f"lint could not read the project: {report['errors']}"
    return report["findings"]


def lint_files(tmp: Path, files: dict[str, str], select: str = "CP101") -> list[dict]:
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
    (tmp / ".git").mkdir(exist_ok=True)  # the repository root: no config above it applies
    return lint(tmp, select)


# ---------------------------------------------------------------------------------------------
# Running a project on the engine


@dataclass
class Outcome:
    """What the engine did with one service."""

    stack: str
    service: Service
    order: int  # its place in the start order
    verdict: engine.Up
    containers: dict[int, list[engine.Held]] = field(default_factory=dict)  # running ones

    @property
    def refused(self) -> bool:
        return not self.verdict.started

    @property
    def holds(self) -> bool:
        return bool(self.containers)


def start(root: Path, project: Project, tag: str) -> list[Outcome]:
    """Start every service of the project, one at a time in CP101's order; tear it all down."""
    outcomes: list[Outcome] = []
    names = {stack.name: f"{engine.PROJECT_PREFIX}{tag}-{stack.name}" for stack in project}
    try:
        for stack in project:
            for service in stack.services:
                verdict = engine.up(root / stack.name, names[stack.name], service.name)
                assert verdict.started or verdict.refusal is not None, (
                    f"{service.name} failed for a reason that is not a host port "
                    f"({engine.describe()}): {verdict.message}"
                )
                outcomes.append(Outcome(stack.name, service, len(outcomes), verdict))
            by_service = {o.service.name: o for o in outcomes if o.stack == stack.name}
            for held in engine.held(names[stack.name]):
                containers = by_service[held.service].containers
                containers.setdefault(held.number, []).append(held)
    finally:
        engine.down_all([(root / stack.name, names[stack.name]) for stack in project])
    return outcomes


def pinned(outcome: Outcome) -> list[Block]:
    """A started service as the engine runs it: each pool at the port the engine gave it.

    A pool takes whichever port is free when it starts (and, in dockerd 20.10, whichever its
    round-robin reaches next): what a later service meets is that port, not the range.
    """
    service = outcome.service
    if not service.has_pool:
        block = declared(service)
        block.replicas = len(outcome.containers)
        return [block]
    blocks = []
    for number, holding in sorted(outcome.containers.items()):
        entries = []
        for i, port in enumerate(service.ports):
            if port.kind != "pool":
                entries.append((port.entry(target_of(i)), Line(service.name, i, False, False)))
                continue
            got = {
                h.host_ip: h.host_port
                for h in holding
                if h.target == target_of(i) and h.protocol == port.protocol
            }
            assert got, f"{service.name} runs without its pool {port}: {holding}"
            if got.keys() == {"0.0.0.0", "::"} and len(set(got.values())) == 1:
                texts = [_short(None, str(got["::"]), str(target_of(i)), port.protocol)]
            else:
                texts = [
                    _short(ip, str(p), str(target_of(i)), port.protocol)
                    for ip, p in sorted(got.items())
                ]
            entries += [(json.dumps(t), Line(service.name, i, True, True)) for t in texts]
        name = service.name if number == min(outcome.containers) else f"{service.name}-r{number}"
        blocks.append(Block(name, entries))
    return blocks


# ---------------------------------------------------------------------------------------------
# Judging CP101 by the engine


@dataclass(frozen=True)
class Disagreement:
    check: str  # "at-start", "missed" or "claimed" (see `judge`)
    service: str
    what: str
    known: str | None = None  # a known class (KNOWN) when it is one


# Disagreements the tests below pin one by one. Remove a class once its cause is fixed.
KNOWN = {
    # dockerd 20.10 differs from current Docker: test_dockerd_20_10_*.
    "20.10-pool-no-retry": "dockerd 20.10 gives up on a pool's port that the kernel refuses",
    "20.10-pool-before-exact": "dockerd 20.10 may hand a container's pool its own fixed port",
    "20.10-pool-families": "dockerd 20.10 takes an unset pool's IPv4 and IPv6 ports apart",
}


def _families_apart(outcome: Outcome) -> bool:
    """A pool without host IP that got different IPv4 and IPv6 ports (dockerd 20.10)."""
    for i, port in enumerate(outcome.service.ports):
        if port.kind != "pool" or port.host_ip is not None:
            continue
        for holding in outcome.containers.values():
            got = {h.host_ip: h.host_port for h in holding if h.target == target_of(i)}
            if len(got) == 2 and len(set(got.values())) == 2:
                return True
    return False


def _refused_in_own_pool(outcome: Outcome) -> str | None:
    """The dockerd 20.10 class of a refusal on a port of the service's own pool, if it is one.

    `in-use`: its pool was handed a port that another host IP holds, and was not retried
    (test_dockerd_20_10_pool_gives_up_on_a_port_the_kernel_refuses). `allocated`: its pool
    was allocated before its own fixed port and took it
    (test_dockerd_20_10_may_give_a_pool_its_containers_fixed_port).
    """
    message = outcome.verdict.message
    if (found := engine.REFUSALS["in-use"].search(message)) is not None:
        protocols, port, known = {found.group(1)}, int(found.group(3)), "20.10-pool-no-retry"
    elif (found := engine.REFUSALS["allocated"].search(message)) is not None:
        # The allocator's message names no protocol.
        protocols, port, known = {"tcp", "udp"}, int(found.group(2)), "20.10-pool-before-exact"
    else:
        return None
    ports = outcome.service.ports
    if any(
        p.kind == "pool" and p.protocol in protocols and p.start <= port <= p.end for p in ports
    ):
        return known
    return None


def judge(
    root: Path,
    project: Project,
    outcomes: list[Outcome],
    dockerd: Engine,
    where: dict[tuple[str, int], Line],
) -> tuple[list[Disagreement], list[str]]:
    """Compare the engine's verdicts with CP101's.

    - at-start: CP101 on the project as it stands when a service starts (the services that
      started before it, pools at the ports they took, and the service itself) reports an
      error on the service exactly when the engine refuses it.
    - missed: on the whole files, CP101 reports every service the engine refused (an error,
      or a warning where a pool's choice of port decided).
    - claimed: on the whole files, an error that names a binding of a service that started
      before (or of the service itself) means the engine refused the service.
    """
    order = {o.service.name: o for o in outcomes}
    where = dict(where)  # the lines of the files the engine ran, under full/
    # One prefix directory per service: the project as the engine holds it when it starts.
    started_at: dict[str, str] = {}
    for outcome in outcomes:
        prefix = root / f"p{outcome.order:02d}"
        started_at[outcome.service.name] = prefix.name
        stacks = []
        for stack in project:
            blocks: list[Block] = []
            for service in stack.services:
                earlier = order[service.name]
                if earlier.order < outcome.order and earlier.holds:
                    blocks += pinned(earlier)
                elif earlier is outcome:
                    blocks.append(declared(service))
            stacks.append((stack.name, blocks))
        where.update(write_project(prefix, stacks))
    (root / ".git").mkdir()
    findings = lint(root)

    def on(directory: str, service: str) -> list[dict]:
        return [
            f
            for f in findings
            if f["file"].startswith(directory + "/")
            and (line := where.get((f["file"], f["line"]))) is not None
            and line.service == service
            and not line.pinned
        ]

    disagreements: list[Disagreement] = []
    notes: list[str] = []
    pools_before = False
    for outcome in outcomes:
        name = outcome.service.name
        verdict = "refused" if outcome.refused else "started"
        # at-start
        errors = [f for f in on(started_at[name], name) if f["severity"] == "error"]
        if bool(errors) != outcome.refused:
            known = None
            if dockerd.is_20_10 and outcome.refused:
                known = _refused_in_own_pool(outcome)
            elif dockerd.is_20_10 and not outcome.refused and _families_apart(outcome):
                known = "20.10-pool-families"
            said = "; ".join(f["message"] for f in errors) or "no error"
            disagreements.append(
                Disagreement(
                    "at-start",
                    name,
                    f"engine {verdict} it ({outcome.verdict.message or 'no error'}); "
                    f"CP101 at its start: {said}",
                    known,
                )
            )
        whole = on("full", name)
        # missed
        if outcome.refused:
            pool_decided = outcome.service.has_pool or pools_before
            if not whole or (not pool_decided and all(f["severity"] != "error" for f in whole)):
                said = "; ".join(f"{f['severity']}: {f['message']}" for f in whole) or "nothing"
                disagreements.append(
                    Disagreement(
                        "missed",
                        name,
                        f"engine refused it ({outcome.verdict.message}); CP101 said {said}",
                    )
                )
            elif all(f["severity"] != "error" for f in whole):
                notes.append(f"{name}: refused where a pool's port decided; CP101 warned")
        # claimed
        for finding in whole:
            if finding["severity"] != "error" or outcome.refused:
                continue
            partners = []
            for related in finding["related"]:
                line = where.get((related["file"], related["line"]))
                if line is None:
                    continue
                other = order[line.service]
                if other is outcome or (other.order < outcome.order and other.holds):
                    partners.append((other, line))
            if partners or "replicas: every replica" in finding["message"]:
                known = None
                if dockerd.is_20_10 and _families_apart(outcome):
                    known = "20.10-pool-families"
                disagreements.append(
                    Disagreement(
                        "claimed",
                        name,
                        f"CP101 error ({finding['message']}) naming "
                        f"{', '.join(o.service.name for o, _ in partners) or 'its replicas'}, "
                        "which started before it; the engine started it",
                        known,
                    )
                )
        pools_before = pools_before or (outcome.service.has_pool and outcome.holds)
    return disagreements, notes


def report(project: Project, outcomes: list[Outcome], dockerd: Engine) -> str:
    lines = [f"engine: {dockerd}", describe_project(project), "start order and verdicts:"]
    for outcome in outcomes:
        held = sorted(
            f"{h.host_ip}:{h.host_port}->{h.target}/{h.protocol}"
            for holding in outcome.containers.values()
            for h in holding
        )
        verdict = "started" if not outcome.refused else f"REFUSED: {outcome.verdict.message}"
        lines.append(f"  {outcome.stack}/{outcome.service.name}: {verdict} {held}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The differential test


def _fixed(name: str, port: int) -> Service:
    return Service(name, (Port("single", port, 1, None, "tcp", False),))


def _pool(name: str, start: int) -> Service:
    return Service(name, (Port("pool", start, 2, None, "tcp", True),))


def ports(host_ips: tuple[str | None, ...]) -> st.SearchStrategy[Port]:
    @st.composite
    def draw_port(draw: st.DrawFn) -> Port:
        kind = draw(st.sampled_from(("single", "single", "single", "range", "pool", "pool")))
        size = 1 if kind == "single" else draw(st.integers(2, 3 if kind == "pool" else 2))
        start = draw(st.integers(WINDOW.start, WINDOW.stop - size))
        host_ip = draw(st.sampled_from(host_ips))
        protocol = draw(st.sampled_from(("tcp", "tcp", "udp")))
        long = kind != "range" and draw(st.booleans())
        return Port(kind, start, size, host_ip, protocol, long)

    return draw_port()


def projects(host_ips: tuple[str | None, ...]) -> st.SearchStrategy[Project]:
    @st.composite
    def draw_project(draw: st.DrawFn) -> Project:
        count = draw(st.integers(2, 6))
        services = []
        for name in "abcdef"[:count]:
            entries = tuple(draw(st.lists(ports(host_ips), min_size=1, max_size=2)))
            replicas = draw(st.sampled_from((1, 1, 1, 1, 1, 2, 3)))
            key = draw(st.sampled_from(("scale", "deploy")))
            services.append(Service(name, entries, replicas, key))
        stacks = draw(st.integers(1, min(3, count)))
        cuts = sorted(
            draw(st.sets(st.integers(1, count - 1), min_size=stacks - 1, max_size=stacks - 1))
        )
        bounds = [0, *cuts, count]
        return tuple(
            Stack(STACK_NAMES[i], tuple(services[bounds[i] : bounds[i + 1]])) for i in range(stacks)
        )

    return draw_project()


@pytest.mark.engine
def test_cp101_predicts_the_services_the_engine_refuses(
    dockerd: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host_ips = HOST_IPS if dockerd.ipv6 else IPV4_HOST_IPS
    seen: Counter[str] = Counter()
    spent: Counter[str] = Counter()  # seconds, by phase
    unknown: list[str] = []
    began = time.monotonic()
    counter = iter(range(10_000))

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same 40 projects on every CI run
        database=None,
        deadline=None,
        # Every example costs seconds of engine time: no shrinking; a failure prints the
        # project, the start order and every verdict instead.
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
    )
    @given(projects(host_ips))
    # A pool that starts between a fixed port and the next one (test_cp101_pool_that_started_*),
    # then, on the same host, a pool of the same two ports: the generator rarely draws them.
    @example(
        (
            Stack("one", (_fixed("a", 24090), _pool("s", 24090), _fixed("c", 24091))),
            Stack("two", (_pool("e", 24090),)),
        )
    )
    def check(project: Project) -> None:
        number = next(counter)
        root = tmp_path / f"project-{number:02d}"
        full = root / "full"
        where = write_project(full, [(s.name, [declared(v) for v in s.services]) for s in project])
        clock = time.monotonic()
        outcomes = start(full, project, f"{number:02d}")
        spent["engine"] += time.monotonic() - clock
        clock = time.monotonic()
        disagreements, notes = judge(root, project, outcomes, dockerd, where)
        spent["lint"] += time.monotonic() - clock
        seen["projects"] += 1
        seen["services"] += len(outcomes)
        seen["refused"] += sum(o.refused for o in outcomes)
        for outcome in outcomes:
            if outcome.verdict.refusal:
                seen[f"refusal: {outcome.verdict.refusal}"] += 1
        seen["pool judged apart, CP101 warned"] += len(notes)
        new = [d for d in disagreements if d.known is None]
        for d in disagreements:
            if d.known:
                assert d.known in KNOWN, d.known
                seen[f"known: {d.known}"] += 1
        if new:
            text = "\n".join(f"  [{d.check}] {d.service}: {d.what}" for d in new)
            unknown.append(f"{report(project, outcomes, dockerd)}\ndisagreements:\n{text}")
            raise AssertionError(
                f"CP101 and the engine ({dockerd}) disagree:\n{unknown[-1]}\n(files under {root})"
            )

    try:
        check()
    finally:
        elapsed = time.monotonic() - began
        with capsys.disabled():
            print(f"\n[engine] {dockerd}; host IPs drawn: {', '.join(map(str, host_ips))}")
            phases = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in spent.items())
            print(f"[engine] {dict(seen)}; {elapsed:.0f} s ({phases})")
    # Hypothesis stops early when it runs out of distinct projects: that would be a broken
    # generator, not a pass.
    assert seen["projects"] >= EXAMPLES * 3 // 4, (
        f"only {seen['projects']} projects ran ({dockerd})"
    )
    assert seen["refused"], f"no project collided: the generator is off ({dockerd})"


# ---------------------------------------------------------------------------------------------
# Single projects: what the engine does, pinned


@dataclass
class Run:
    verdicts: dict[str, engine.Up]
    held: dict[str, list[engine.Held]]

    def ports(self, service: str) -> set[tuple[str, int]]:
        return {(h.host_ip, h.host_port) for h in self.held.get(service, [])}


def run_in_order(
    tmp: Path,
    services: dict[str, list[str | dict]],
    name: str,
    settings: dict[str, dict] | None = None,
    tail: str = "",
) -> Run:
    """Start the services one by one in file order; tear the project down."""
    (tmp / "compose.yaml").write_text(engine.compose_file(services, settings, tail))
    (tmp / ".git").mkdir(exist_ok=True)  # the repository root, for lint: no config above it
    project = f"{engine.PROJECT_PREFIX}{name}"
    try:
        verdicts = {service: engine.up(tmp, project, service) for service in services}
        held: dict[str, list[engine.Held]] = {}
        for h in engine.held(project):
            held.setdefault(h.service, []).append(h)
        return Run(verdicts, held)
    finally:
        engine.down(tmp, project)


def errors_on(findings: list[dict], service: str, code: str = "CP101") -> list[dict]:
    return [
        f
        for f in findings
        if f["service"] == service and f["code"] == code and f["severity"] == "error"
    ]


# A pool on one address (127.0.0.1: one key of the engine's allocator, no IPv6 half) and the
# fixed ports of that pool, started after it.
POOL_THEN_ITS_PORTS = {
    "pool": ["127.0.0.1:24090-24091:80"],
    "first": ["127.0.0.1:24090:80"],
    "second": ["127.0.0.1:24091:80"],
}
# A fixed port, a pool over it and the next port, then that next port.
PORT_POOL_PORT = {
    "first": ["127.0.0.1:24090:80"],
    "pool": ["127.0.0.1:24090-24091:80"],
    "second": ["127.0.0.1:24091:80"],
}
# Three pools of two ports.
THREE_POOLS_TWO_PORTS = {
    "a": ["127.0.0.1:24090-24091:80"],
    "b": ["127.0.0.1:24090-24091:80"],
    "c": ["127.0.0.1:24090-24091:80"],
}


@pytest.mark.engine
def test_engine_pool_that_starts_first_takes_one_of_the_later_fixed_ports(
    dockerd: Engine, tmp_path: Path
) -> None:
    run = run_in_order(tmp_path, POOL_THEN_ITS_PORTS, "pool-first")
    assert run.verdicts["pool"].started, f"{dockerd}: {run.verdicts['pool'].message}"
    refused = sorted(s for s in ("first", "second") if not run.verdicts[s].started)
    assert len(refused) == 1, (
        f"{dockerd}: the pool took {run.ports('pool')}; refused {refused}, expected exactly "
        "the one whose port the pool took"
    )
    assert run.verdicts[refused[0]].refusal == "allocated", run.verdicts[refused[0]].message


@pytest.mark.engine
def test_engine_pool_takes_the_port_left_free_at_its_start(dockerd: Engine, tmp_path: Path) -> None:
    run = run_in_order(tmp_path, PORT_POOL_PORT, "port-pool-port")
    assert run.verdicts["first"].started and run.verdicts["pool"].started, (
        f"{dockerd}: {run.verdicts['pool'].message}"
    )
    assert run.ports("pool") == {("127.0.0.1", 24091)}, f"{dockerd}: {run.held}"
    assert run.verdicts["second"].refusal == "allocated", (
        f"{dockerd}: {run.verdicts['second'].message}"
    )


@pytest.mark.engine
def test_engine_refuses_the_pool_that_finds_every_port_taken(
    dockerd: Engine, tmp_path: Path
) -> None:
    run = run_in_order(tmp_path, THREE_POOLS_TWO_PORTS, "three-pools")
    assert run.verdicts["a"].started and run.verdicts["b"].started, f"{dockerd}: {run.verdicts}"
    assert run.ports("a") != run.ports("b"), f"{dockerd}: {run.held}"
    assert run.verdicts["c"].refusal == "all-allocated", (
        f"{dockerd}: {run.verdicts['c'].message} (expected 'all ports are allocated')"
    )


def test_cp101_pool_that_started_first_is_not_exhausted_by_later_ports(tmp_path: Path) -> None:
    findings = lint_files(tmp_path, {"compose.yaml": engine.compose_file(PORT_POOL_PORT)})
    assert errors_on(findings, "second"), findings  # right today: the pool took 24091
    assert not errors_on(findings, "pool"), errors_on(findings, "pool")


def test_cp101_pool_that_started_first_leaves_one_of_its_ports(tmp_path: Path) -> None:
    findings = lint_files(tmp_path, {"compose.yaml": engine.compose_file(POOL_THEN_ITS_PORTS)})
    certain = [s for s in ("first", "second") if errors_on(findings, s)]
    assert len(certain) <= 1, [f["message"] for f in findings]


def test_cp101_pools_that_outnumber_their_ports(tmp_path: Path) -> None:
    findings = lint_files(tmp_path, {"compose.yaml": engine.compose_file(THREE_POOLS_TWO_PORTS)})
    assert errors_on(findings, "c"), [f"{f['severity']}: {f['message']}" for f in findings]


# ---------------------------------------------------------------------------------------------
# dockerd 20.10 against current Docker: pinned, named by version


def _pool_retry(tmp: Path) -> tuple[list[engine.Up], list[dict]]:
    """A pool on 0.0.0.0 whose first port 127.0.0.1 holds, started twice."""
    services = {"holder": ["127.0.0.1:24190:80"], "pool": ["0.0.0.0:24190-24191:80"]}
    (tmp / "compose.yaml").write_text(engine.compose_file(services))
    (tmp / ".git").mkdir(exist_ok=True)
    project = f"{engine.PROJECT_PREFIX}pool-retry"
    try:
        assert engine.up(tmp, project, "holder").started
        tries = [engine.up(tmp, project, "pool")]
        # Again from a clean slate: dockerd 20.10's allocator hands out a range's ports
        # round-robin, continuing where the last request stopped, so two tries in a row ask
        # for both ports, in some order.
        engine.compose(tmp, project, "rm", "-s", "-f", "pool")
        tries.append(engine.up(tmp, project, "pool"))
    finally:
        engine.down(tmp, project)
    return tries, lint(tmp)


@pytest.mark.engine
def test_dockerd_20_10_pool_gives_up_on_a_port_the_kernel_refuses(
    dockerd: Engine, tmp_path: Path
) -> None:
    """20.10's allocator keeps one port map per host IP, so a pool on 0.0.0.0 may be handed
    24190, which 127.0.0.1 holds; docker-proxy's bind() then fails and a port range is not
    retried (bridge driver, "no point in immediately retrying to map an explicitly chosen
    port"). Current Docker's allocator checks 0.0.0.0 against every address (compose-facts
    §6.3), so the pool takes 24191; CP101 follows it (a warning: the pool has a free port)."""
    tries, findings = _pool_retry(tmp_path)
    warnings = [f for f in findings if f["service"] == "pool" and f["code"] == "CP101"]
    assert [f["severity"] for f in warnings] == ["warning"], findings
    if not dockerd.is_20_10:
        pytest.skip(f"pinned for dockerd 20.10; this is {dockerd}: {tries}")
    refused = [t for t in tries if not t.started]
    assert len(refused) == 1, f"{dockerd}: {tries}"
    assert refused[0].refusal == "in-use" and ":24190:" in refused[0].message, refused[0]


@pytest.mark.engine
def test_dockerd_20_10_may_give_a_pool_its_containers_fixed_port(
    dockerd: Engine, tmp_path: Path
) -> None:
    """A container with a fixed port 24194 and a pool 24194-24195. Current Docker allocates a
    container's exact ports before its ranges ("in case exact ports fall within ranges",
    cmpPortBinding in libnetwork's bridge driver), so the pool takes 24195; CP101 follows it
    (a warning). 20.10 sorts the bindings with go-connections' nat.SortPortMap, whose order
    here depends on Go's map order: now and then the pool comes first, its round-robin hands
    it 24194, and the fixed port is refused. Started until that happens (about one try in two)."""
    services = {"own": ["24194:80", "0.0.0.0:24194-24195:90"]}
    findings = lint_files(tmp_path, {"compose.yaml": engine.compose_file(services)})
    assert [f["severity"] for f in findings] == ["warning"], findings
    if not dockerd.is_20_10:
        pytest.skip(f"pinned for dockerd 20.10; this is {dockerd}")
    project = f"{engine.PROJECT_PREFIX}pool-before-exact"
    tries: list[engine.Up] = []
    try:
        while len(tries) < 30 and all(t.started for t in tries):
            engine.compose(tmp_path, project, "rm", "-s", "-f", "own")
            tries.append(engine.up(tmp_path, project, "own"))
    finally:
        engine.down(tmp_path, project)
    refused = [t for t in tries if not t.started]
    assert refused, f"{dockerd} started it {len(tries)} times without refusing it once"
    assert refused[0].refusal == "allocated", f"{dockerd}: {refused[0].message}"
    assert "Bind for 0.0.0.0:24194 failed" in refused[0].message, refused[0].message


@pytest.mark.engine
def test_dockerd_20_10_unset_pool_takes_its_ipv4_and_ipv6_ports_apart(
    dockerd: Engine, tmp_path: Path
) -> None:
    """CP101 asks one port free in both families for a pool without host IP, as current
    Docker's allocator does (compose_ports.hostmap); 20.10 allocates the IPv4 and the IPv6
    binding one after the other, each from its own map, so the pool starts on two different
    ports."""
    if not dockerd.ipv6:
        pytest.skip(f"{dockerd}: no IPv6 publishing")
    services = {"v4": ["0.0.0.0:24192:80"], "v6": ["[::]:24193:80"], "pool": ["24192-24193:80"]}
    findings = lint_files(tmp_path, {"compose.yaml": engine.compose_file(services)})
    assert errors_on(findings, "pool"), findings  # compose-ports: no port free in both
    if not dockerd.is_20_10:
        pytest.skip(f"pinned for dockerd 20.10; this is {dockerd}")
    run = run_in_order(tmp_path, services, "pool-families")
    assert run.verdicts["pool"].started, f"{dockerd}: {run.verdicts['pool'].message}"
    assert run.ports("pool") == {("0.0.0.0", 24193), ("::", 24192)}, f"{dockerd}: {run.held}"


# ---------------------------------------------------------------------------------------------
# CP102: what the engine refuses when it creates the container


def _one_entry(entry: dict) -> dict[str, list[str | dict]]:
    return {"web": [entry]}


# Long-syntax values `docker compose config` accepts and the engine refuses, with its message.
REFUSED_AT_CREATION = {
    "published-word": ({"target": 80, "published": "abc"}, 'invalid port specification: "abc"'),
    "published-70000": ({"target": 80, "published": 70000}, 'invalid port specification: "70000"'),
    "published-65536": (
        {"target": 80, "published": "65536"},
        'invalid port specification: "65536"',
    ),
    "published-negative": ({"target": 80, "published": "-1"}, 'invalid port specification: "-1"'),
    "published-reversed": (
        {"target": 80, "published": "24095-24094"},
        'invalid port specification: "24095-24094"',
    ),
    "published-open-range": (
        {"target": 80, "published": "24094-"},
        'invalid port specification: "24094-"',
    ),
    "published-space": (
        {"target": 80, "published": " 24094"},
        'invalid port specification: " 24094"',
    ),
    "published-plus": (
        {"target": 80, "published": "+24094"},
        'invalid port specification: "+24094"',
    ),
    "published-hex": (
        {"target": 80, "published": "0x5DDE"},
        'invalid port specification: "0x5DDE"',
    ),
    "target-70000": (
        {"target": 70000, "published": "24094"},
        'invalid port specification: "70000"',
    ),
}


@pytest.mark.engine
@pytest.mark.parametrize("case", sorted(REFUSED_AT_CREATION))
def test_cp102_says_what_the_engine_refuses(case: str, dockerd: Engine, tmp_path: Path) -> None:
    entry, message = REFUSED_AT_CREATION[case]
    run = run_in_order(tmp_path, _one_entry(entry), f"cp102-{case}")
    verdict = run.verdicts["web"]
    assert not verdict.started, f"{dockerd} started {entry}: {run.held}"
    assert verdict.message.endswith(message), f"{dockerd}: {verdict.message}"
    findings = lint(tmp_path, "CP102")
    assert [f["message"] for f in findings] == [message], f"{dockerd}: {findings}"


@pytest.mark.engine
def test_cp102_accepts_what_the_engine_starts(dockerd: Engine, tmp_path: Path) -> None:
    services = {
        "edge": [{"target": 80, "published": "24094"}],
        "upper": [{"target": 80, "published": "24095", "protocol": "UDP"}],
        "zero": [{"target": 80, "published": "024093"}],  # a string: decimal to the engine
    }
    run = run_in_order(tmp_path, services, "cp102-starts")
    assert all(v.started for v in run.verdicts.values()), f"{dockerd}: {run.verdicts}"
    assert {h.protocol for h in run.held["upper"]} == {"udp"}, f"{dockerd}: {run.held}"
    assert {h.host_port for h in run.held["zero"]} == {24093}, f"{dockerd}: {run.held}"
    assert lint(tmp_path, "CP102") == [], dockerd


@pytest.mark.engine
def test_dockerd_20_10_starts_a_container_with_target_0(dockerd: Engine, tmp_path: Path) -> None:
    """compose-ports keeps CP102 on current Docker, which refuses `target: 0`; dockerd 20.10
    creates the container and holds the host port (`24094->0/tcp`), so there a later service
    on that port is refused, and CP101, which leaves the entry out of the map, does not say so.
    """
    services = {"zero": [{"target": 0, "published": "24094"}], "later": ["24094:80"]}
    findings = lint_files(tmp_path, {"compose.yaml": engine.compose_file(services)}, "CP101,CP102")
    assert [(f["code"], f["service"]) for f in findings] == [("CP102", "zero")], findings
    if not dockerd.is_20_10:
        pytest.skip(f"pinned for dockerd 20.10; this is {dockerd}: {findings}")
    run = run_in_order(tmp_path, services, "target-zero")
    assert run.verdicts["zero"].started, f"{dockerd}: {run.verdicts['zero'].message}"
    assert {(h.target, h.host_port) for h in run.held["zero"]} == {(0, 24094)}, run.held
    assert run.verdicts["later"].refusal == "allocated", f"{dockerd}: {run.verdicts['later']}"


UNKNOWN_PROTOCOL = {"web": [{"target": 80, "published": "24094", "protocol": "foo"}]}
THREE_PART_RANGE = {
    "range": [{"target": 80, "published": "24090-24091-24092"}],
    "later": ["24090:80"],
}


@pytest.mark.engine
def test_engine_refuses_a_long_syntax_unknown_protocol(dockerd: Engine, tmp_path: Path) -> None:
    run = run_in_order(tmp_path, UNKNOWN_PROTOCOL, "protocol-foo")
    verdict = run.verdicts["web"]
    assert not verdict.started, f"{dockerd} started it: {run.held}"
    assert "invalid transport protocol" in verdict.message, f"{dockerd}: {verdict.message}"


def test_cp102_reports_a_long_syntax_unknown_protocol(tmp_path: Path) -> None:
    findings = lint_files(
        tmp_path, {"compose.yaml": engine.compose_file(UNKNOWN_PROTOCOL)}, "CP102"
    )
    assert findings, "CP102 says nothing"


@pytest.mark.engine
def test_dockerd_20_10_reads_two_parts_of_a_three_part_range(
    dockerd: Engine, tmp_path: Path
) -> None:
    """`published: "24090-24091-24092"` passes `config`; 20.10's nat.ParsePortRange reads the
    first two parts (a pool of 24090-24091) and ignores the rest. Newer go-connections
    (`strings.Cut`) refuses it: the end `24091-24092` is no number."""
    if not dockerd.is_20_10:
        pytest.skip(f"pinned for dockerd 20.10; this is {dockerd}")
    run = run_in_order(tmp_path, THREE_PART_RANGE, "three-part")
    assert run.verdicts["range"].started, f"{dockerd}: {run.verdicts['range'].message}"
    # Its IPv4 and IPv6 halves may take different ports (see the test above).
    taken = {h.host_port for h in run.held["range"]}
    assert taken and taken <= {24090, 24091}, f"{dockerd}: {run.held}"
    later = run.verdicts["later"]
    assert later.started == (24090 not in taken), f"{dockerd}: took {taken}; later: {later}"


def test_cp101_sees_the_pool_of_a_three_part_range(tmp_path: Path) -> None:
    """The engine reads the first two parts (moby's nat.ParsePortRange, and dockerd 20.10 as
    run above): a pool of 24090-24091, which `later` may or may not find taken."""
    findings = lint_files(tmp_path, {"compose.yaml": engine.compose_file(THREE_PART_RANGE)}, "CP1")
    assert not [f for f in findings if f["code"] == "CP102"], findings
    on_later = [f for f in findings if f["service"] == "later" and f["code"] == "CP101"]
    assert [f["severity"] for f in on_later] == ["warning"], findings


# ---------------------------------------------------------------------------------------------
# Ports that the engine does not publish, and CP101 counts all the same


@dataclass(frozen=True)
class Unpublished:
    why: str  # what the engine does, and where it is said
    settings: dict[str, dict]
    tail: str = ""
    holds: frozenset[tuple[str, int]] = frozenset()  # what `a` holds after all
    refused: bool = False  # `a` is refused (and so holds nothing)


# Service `a` publishes 24090 in a way the engine drops (or narrows); `b` (and `c`) then
# publish it plainly, and the engine starts them. `x` (no ports) is there for `service:x`.
UNPUBLISHED = {
    "network-mode-host": Unpublished(
        "the engine discards the ports of a host-network container (compose-facts §1.5; "
        "CP402 says so)",
        {"a": {"network_mode": "host"}},
    ),
    "network-mode-none": Unpublished(
        "a container without a network publishes nothing (and CP402 says nothing)",
        {"a": {"network_mode": "none"}},
    ),
    "internal-network": Unpublished(
        "the engine maps no ports for a container whose only network is `internal: true`",
        {"a": {"networks": ["inner"]}},
        "networks:\n  inner: {internal: true}\n",
    ),
    "network-mode-service": Unpublished(
        "the engine refuses a container that publishes ports and shares another's network "
        "(`conflicting options: port publishing and the container type network mode`, "
        "compose-facts §1.5; CP402 says so), so its ports stay free",
        {"a": {"network_mode": "service:x"}},
        refused=True,
    ),
    "scale-0": Unpublished("`scale: 0` starts no container", {"a": {"scale": 0}}),
    "replicas-0": Unpublished(
        "`deploy.replicas: 0` starts no container", {"a": {"deploy": {"replicas": 0}}}
    ),
    "host-binding-ipv4": Unpublished(
        "on a network with `com.docker.network.bridge.host_binding_ipv4: 127.0.0.1` a port "
        "without host IP binds 127.0.0.1 only, and not `::` (compose-facts §6.2, exceptions)",
        {"a": {"networks": ["local"]}},
        "networks:\n  local:\n    driver_opts:\n"
        '      com.docker.network.bridge.host_binding_ipv4: "127.0.0.1"\n',
        frozenset({("127.0.0.1", 24090)}),
    ),
}


def _unpublished_services(case: Unpublished) -> dict[str, list[str | dict]]:
    services: dict[str, list[str | dict]] = {"x": [], "a": ["24090:80"]}
    if case.holds:
        # What the narrowed binding leaves free: another address, and the other family.
        services |= {"b": ["127.0.0.2:24090:80"], "c": ["[::]:24090:80"]}
    else:
        services["b"] = ["24090:80"]
    return services


@pytest.mark.engine
@pytest.mark.parametrize("case", sorted(UNPUBLISHED))
def test_engine_does_not_publish(case: str, dockerd: Engine, tmp_path: Path) -> None:
    found = UNPUBLISHED[case]
    services = _unpublished_services(found)
    if found.holds and not dockerd.ipv6:
        pytest.skip(f"{dockerd}: no IPv6 publishing")
    run = run_in_order(tmp_path, services, f"unpublished-{case}", found.settings, found.tail)
    refused = {name for name, verdict in run.verdicts.items() if not verdict.started}
    assert refused == ({"a"} if found.refused else set()), f"{dockerd}: {run.verdicts}"
    assert run.ports("a") == set(found.holds), f"{dockerd}: {found.why}; {run.held}"


@pytest.mark.parametrize("case", sorted(UNPUBLISHED))
def test_cp101_leaves_out_what_the_engine_does_not_publish(case: str, tmp_path: Path) -> None:
    found = UNPUBLISHED[case]
    text = engine.compose_file(_unpublished_services(found), found.settings, found.tail)
    findings = lint_files(tmp_path, {"compose.yaml": text})
    assert not [f for f in findings if f["severity"] == "error"], [f["message"] for f in findings]
