"""Synthetic Docker Compose monorepos for the benchmark.

`generate(root, stacks)` writes a deterministic repository of `stacks` compose stacks under
`root/services/<team>/<stack>/`, shaped like a real platform monorepo, so that the bytes per port
are realistic: 400 stacks make 534 compose files, about 3.7 MB and about 12,000 port mappings.

- Every stack has a `compose.yaml` of 10 to 16 services (image, environment, volumes,
  healthchecks, labels, logging anchors, networks, comments); one stack in four has a development
  `compose.override.yaml` (debug ports, appended and `!override` ports, dev-only services), one in
  twelve a `compose.prod.yaml` variant (loopback binds, `!reset`, replicas).
- Ports come in every short and long form: `"H:C"`, `'H:C'`, unquoted, `IP:H:C`, `/udp`,
  `${VAR:-H}:C`, container-only, port ranges, and long syntax with `published`/`host_ip`/`mode`.
- Some conflicts: a duplicated host port in one stack in twenty, and a shared admin port in the
  stacks that the config puts on one machine.
- A `.compose-ports.yaml` at the root declares one stack in fifty, groups them three by three into
  `hosts:`, and sets `ranges:`, a `registry:` and `rules:`; a `.git` directory makes the root a
  repository root.
- `range_stack=True` adds one stack of 200 services, each publishing a `range_width`-port range
  (20,000 by default) on its own loopback address; `range_width=1` gives the same stack with single
  ports, the baseline of the benchmark's range row.

Stack `i` depends only on `seed` and `i`, so a 10x monorepo contains the 1x one's stacks.

Other shapes: `generate_flat` (400 stacks of 10 alike services, no config), `generate_one_port`
(5,000 services on one host port) and `generate_many_ports` (40,000 one-port services in one
file).

    python bench/generate.py DIR --stacks 400 [--seed 0] [--range-stack]
    python bench/generate.py DIR --shape flat|one-port|many-ports [--stacks 400]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

TEAMS = (
    "payments",
    "catalog",
    "identity",
    "search",
    "logistics",
    "growth",
    "platform",
    "data",
    "support",
    "mobile",
    "risk",
    "media",
)
PRODUCTS = (
    "billing",
    "checkout",
    "ledger",
    "invoices",
    "catalog",
    "pricing",
    "inventory",
    "auth",
    "profile",
    "search",
    "recommend",
    "shipping",
    "tracking",
    "notify",
    "reports",
    "crm",
    "tickets",
    "media",
    "uploads",
    "fraud",
)

# Host-port ranges of the policy, by category (also written into the config's `ranges:`).
RANGES = {
    "web": (3000, 3999),
    "data": (5000, 6999),
    "apps": (8000, 8999),
    "metrics": (9000, 9999),
    "misc": (10000, 19999),
}


@dataclass(frozen=True)
class Kind:
    """A kind of service: its name, image, policy category and container ports."""

    name: str
    image: str
    category: str
    targets: tuple[str, ...]  # "8080", "53/udp", "21000-21010" (a range), "9229!" (no host port)
    health: str
    canonical: tuple[int, ...] = ()  # the host ports people usually publish it on


KINDS = (
    Kind("proxy", "caddy:2.8", "web", ("80", "443", "443/udp", "2019"), "caddy version", (80, 443)),
    Kind("web", "nginx:1.27-alpine", "web", ("80", "443"), "wget -qO- http://localhost/ || exit 1"),
    Kind(
        "frontend",
        "ghcr.io/acme/{stack}-frontend:{version}",
        "web",
        ("3000", "24678"),
        "wget -qO- http://localhost:3000/ || exit 1",
        (3000,),
    ),
    Kind(
        "api",
        "ghcr.io/acme/{stack}-api:{version}",
        "apps",
        ("8080", "8081", "9464", "9229!"),
        "wget -qO- http://localhost:8080/healthz || exit 1",
        (8080,),
    ),
    Kind(
        "gateway",
        "ghcr.io/acme/{stack}-gateway:{version}",
        "apps",
        ("8000", "8443", "9901"),
        "wget -qO- http://localhost:8000/ready || exit 1",
    ),
    Kind(
        "grpc",
        "ghcr.io/acme/{stack}-grpc:{version}",
        "apps",
        ("50051", "8080"),
        "grpc_health_probe -addr=:50051",
    ),
    Kind(
        "admin",
        "ghcr.io/acme/{stack}-admin:{version}",
        "apps",
        ("8081", "8082"),
        "wget -qO- http://localhost:8081/ || exit 1",
    ),
    Kind("worker", "ghcr.io/acme/{stack}-worker:{version}", "apps", ("9464",), "pgrep -f worker"),
    Kind("scheduler", "ghcr.io/acme/{stack}-cron:{version}", "apps", (), "pgrep -f cron"),
    Kind(
        "postgres",
        "postgres:16",
        "data",
        ("5432", "9187"),
        "pg_isready -U $$POSTGRES_USER",
        (5432,),
    ),
    Kind("redis", "redis:7-alpine", "data", ("6379", "9121"), "redis-cli ping", (6379,)),
    Kind(
        "mysql",
        "mysql:8.4",
        "data",
        ("3306", "33060"),
        "mysqladmin ping -h localhost -u root -p$$MYSQL_ROOT_PASSWORD",
    ),
    Kind(
        "mongo", "mongo:7", "data", ("27017", "9216"), "mongosh --quiet --eval 'db.adminCommand(1)'"
    ),
    Kind(
        "rabbitmq",
        "rabbitmq:3.13-management",
        "data",
        ("5672", "15672", "15692"),
        "rabbitmq-diagnostics -q ping",
    ),
    Kind(
        "prometheus",
        "prom/prometheus:v2.53.0",
        "metrics",
        ("9090", "9091"),
        "wget -qO- http://localhost:9090/-/ready || exit 1",
        (9090,),
    ),
    Kind(
        "grafana",
        "grafana/grafana:11.1.0",
        "web",
        ("3000", "3001"),
        "wget -qO- http://localhost:3000/api/health || exit 1",
    ),
    Kind(
        "node-exporter",
        "prom/node-exporter:v1.8.1",
        "metrics",
        ("9100",),
        "wget -qO- http://localhost:9100/metrics || exit 1",
    ),
    Kind(
        "minio",
        "minio/minio:RELEASE.2024-06-13T22-53-53Z",
        "misc",
        ("9000", "9001"),
        "mc ready local",
    ),
    Kind(
        "jaeger",
        "jaegertracing/all-in-one:1.58",
        "misc",
        ("16686", "4317", "4318", "6831/udp", "14268"),
        "wget -qO- http://localhost:14269/ || exit 1",
    ),
    Kind(
        "coredns",
        "coredns/coredns:1.11.1",
        "misc",
        ("53/udp", "53", "9153"),
        "dig @127.0.0.1 health",
    ),
    Kind(
        "ftp",
        "delfer/alpine-ftp-server:latest",
        "misc",
        ("21", "21000-21010"),
        "nc -z localhost 21",
    ),
    Kind(
        "keycloak",
        "quay.io/keycloak/keycloak:25.0",
        "apps",
        ("8080", "8443", "9000"),
        "exec 3<>/dev/tcp/localhost/8080",
    ),
    Kind("mailhog", "mailhog/mailhog:v1.0.1", "misc", ("1025", "8025"), "nc -z localhost 1025"),
    Kind(
        "otel-collector",
        "otel/opentelemetry-collector:0.104.0",
        "metrics",
        ("4317", "4318", "8888", "13133"),
        "wget -qO- http://localhost:13133/ || exit 1",
    ),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}
DATA_KINDS = {"postgres", "redis", "mysql", "mongo", "rabbitmq"}
SHARED_ADMIN_PORT = 8089  # every declared stack publishes it: conflicts on shared hosts
RANGE_STACK_SERVICES = 200


@dataclass
class Stats:
    """What was written: the compose files, their size and their port mappings."""

    files: list[Path] = field(default_factory=list)  # compose files only
    bytes: int = 0  # of the compose files
    ports: int = 0  # entries of `ports:` lists (a range entry counts once)
    stacks: int = 0
    services: int = 0

    def add(self, path: Path, text: str, ports: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.files.append(path)
        self.bytes += len(data)
        self.ports += ports

    def summary(self) -> str:
        return (
            f"{self.stacks} stacks, {len(self.files)} compose files, "
            f"{self.bytes / 1e6:.2f} MB, {self.ports:,} port mappings, {self.services:,} services"
        )


class _Stack:
    """One stack being written: its random source, host ports in use and text."""

    def __init__(self, index: int, seed: int) -> None:
        self.index = index
        self.rng = random.Random(f"compose-ports-bench:{seed}:{index}")
        self.product = PRODUCTS[index % len(PRODUCTS)]
        self.team = TEAMS[(index // len(PRODUCTS)) % len(TEAMS)]
        self.name = f"{self.product}-{index:04d}"
        self.used: set[int] = set()
        self.cursor = {category: 0 for category in RANGES}

    def version(self) -> str:
        rng = self.rng
        return f"{rng.randint(1, 4)}.{rng.randint(0, 40)}.{rng.randint(0, 12)}"

    def host_port(self, category: str, canonical: int | None = None, width: int = 1) -> int:
        """A host port of the category's range not used yet in this stack (or the usual one)."""
        if (
            canonical is not None
            and width == 1
            and canonical not in self.used
            and self.rng.random() < 0.3
        ):
            self.used.add(canonical)
            return canonical
        start, end = RANGES[category]
        size = end - start + 1
        while True:
            offset = (self.index * 37 + self.cursor[category] * 7) % (size - width)
            self.cursor[category] += 1
            port = start + offset
            block = set(range(port, port + width))
            if not block & self.used:
                self.used |= block
                return port


def _variable(service: str, target: str) -> str:
    clean = "".join(c if c.isalnum() else "_" for c in service.upper())
    return f"{clean}_{target.split('/')[0].split('-')[0]}_PORT"


def _port_entry(stack: _Stack, service: str, kind: Kind, target: str, host: int) -> list[str]:
    """The YAML lines (list items under `ports:`) publishing `target` on `host`."""
    rng = stack.rng
    protocol = ""
    if "/" in target:
        target, protocol = target.split("/")
    suffix = f"/{protocol}" if protocol else ""
    if "-" in target:  # a range: same width on both sides
        first, last = (int(p) for p in target.split("-"))
        host_spec = f"{host}-{host + last - first}"
        return [f'      - "{host_spec}:{target}{suffix}"   # passive data ports']
    roll = rng.random()
    if roll < 0.38:
        comment = rng.choice(("", "", "", f"   # {service} {target}", "  # published for the LB"))
        return [f'      - "{host}:{target}{suffix}"{comment}']
    if roll < 0.48:
        return [f'      - "127.0.0.1:{host}:{target}{suffix}"   # loopback only']
    if roll < 0.63:
        return [f'      - "${{{_variable(service, target)}:-{host}}}:{target}{suffix}"']
    if roll < 0.68 and int(target) >= 60:
        return [f"      - {host}:{target}{suffix}"]
    if roll < 0.73:
        return [f"      - '{host}:{target}{suffix}'"]
    lines = [f"      - target: {target}", f'        published: "{host}"']
    if protocol:
        lines.append(f"        protocol: {protocol}")
    elif rng.random() < 0.5:
        lines.append("        protocol: tcp")
    if rng.random() < 0.3:
        lines.append("        host_ip: 127.0.0.1")
    if rng.random() < 0.3:
        lines.append("        mode: host")
    if rng.random() < 0.3:
        lines.append(f"        name: {service}-{target}")
    return lines


def _service(stack: _Stack, name: str, kind: Kind, peers: list[str]) -> tuple[list[str], int]:
    """The lines of one service of a main file, and its number of port mappings."""
    rng = stack.rng
    image = kind.image.format(stack=stack.product, version=stack.version())
    lines = [f"  {name}:"]
    if kind.name not in DATA_KINDS and rng.random() < 0.6:
        lines.append("    <<: *defaults")
    else:
        lines += ["    restart: unless-stopped", "    logging: *logging"]
    lines.append(f"    image: {image}")
    if kind.name in ("api", "worker", "scheduler", "gateway", "grpc", "admin"):
        lines.append(f'    command: ["{kind.name}", "--config", "/etc/{stack.product}/app.yaml"]')
    dependencies = [p for p in peers if p in DATA_KINDS][: rng.randint(0, 1)]
    if dependencies and kind.name not in DATA_KINDS:
        lines.append("    depends_on:")
        for dependency in dependencies:
            lines += [f"      {dependency}:", "        condition: service_healthy"]
    lines.append("    environment:")
    env = [
        ("APP_ENV", "${APP_ENV:-production}"),
        ("LOG_LEVEL", "${LOG_LEVEL:-info}"),
        ("SERVICE_NAME", f"{stack.name}-{name}"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector:4317"),
    ]
    if kind.name == "postgres":
        env += [
            ("POSTGRES_USER", stack.product),
            ("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:-change-me}"),
            ("POSTGRES_DB", stack.product),
        ]
    elif kind.name not in DATA_KINDS:
        env += [
            (
                "DATABASE_URL",
                f"postgres://{stack.product}:${{POSTGRES_PASSWORD:-change-me}}"
                f"@postgres:5432/{stack.product}",
            ),
            ("REDIS_URL", "redis://redis:6379/0"),
            ("FEATURE_FLAGS", '"' + ",".join(rng.sample(PRODUCTS, 3)) + '"'),
        ]
    for key, value in env[: rng.randint(2, 5)]:
        lines.append(f"      {key}: {value}")
    lines.append("    volumes:")
    lines.append(f"      - {name}-data:/var/lib/{kind.name}")
    if rng.random() < 0.3:
        lines.append(f"      - ./config/{name}.yaml:/etc/{stack.product}/{name}.yaml:ro")
    ports = 0
    published = [t for t in kind.targets]
    if published:
        lines.append("    ports:")
        canonical = list(kind.canonical)
        for target in published:
            if target.endswith("!"):  # container port only: the engine picks the host port
                lines.append(f'      - "{target[:-1]}"   # debugger, random host port')
                ports += 1
                continue
            width = 1
            if "-" in target:
                first, last = (int(p) for p in target.split("-"))
                width = last - first + 1
            host = stack.host_port(kind.category, canonical.pop(0) if canonical else None, width)
            lines += _port_entry(stack, name, kind, target, host)
            ports += 1
        if stack.index % 20 == 7 and name == "api" and stack.used:
            # A copy-paste mistake: a second binding of a port another service has.
            lines.append(f'      - "{min(stack.used)}:8081"   # TODO: remove, clashes')
            ports += 1
    lines += [
        "    healthcheck:",
        f'      test: ["CMD-SHELL", "{kind.health}"]',
        f"      interval: {rng.choice((10, 15, 30))}s",
        f"      retries: {rng.randint(3, 6)}",
        "    labels:",
        f"      com.acme.team: {stack.team}",
    ]
    if kind.category in ("web", "apps") and kind.targets:
        router = f"{stack.name}-{name}"
        lines += [
            '      traefik.enable: "true"',
            f"      traefik.http.routers.{router}.rule: "
            f"Host(`{name}.{stack.product}.acme.internal`)",
            f"      traefik.http.services.{router}.loadbalancer.server.port: "
            f'"{kind.targets[0].split("/")[0]}"',
        ]
    lines += ["    networks:", "      - backend"]
    if kind.category == "web":
        lines.append("      - frontend")
    return lines, ports


def _main_file(stack: _Stack, declared: bool) -> tuple[str, list[str], int]:
    rng = stack.rng
    count = rng.randint(9, 14)
    names = [k.name for k in rng.sample(KINDS, count)]
    lines = [
        f"# {stack.name}: owned by the {stack.team} team.",
        "# Deployed by the platform pipeline; see docs/runbooks/"
        f"{stack.product}.md before changing ports.",
    ]
    if rng.random() < 0.5:
        lines.append(f"name: {stack.name}")
    lines += [
        "",
        "x-logging: &logging",
        "  driver: json-file",
        "  options:",
        '    max-size: "10m"',
        '    max-file: "3"',
        "",
        "x-defaults: &defaults",
        "  restart: unless-stopped",
        "  logging: *logging",
        "  stop_grace_period: 30s",
        "",
        "services:",
    ]
    total = 0
    services: list[str] = []
    if declared:
        stack.used.add(SHARED_ADMIN_PORT)
        lines += [
            "  adminer:",
            "    image: adminer:4.8.1",
            "    restart: unless-stopped",
            "    ports:",
            f'      - "{SHARED_ADMIN_PORT}:8080"   # the shared admin UI port',
            "",
        ]
        services.append("adminer")
        total += 1
    for name in names:
        block, ports = _service(stack, name, KIND_BY_NAME[name], names)
        lines += [*block, ""]
        services.append(name)
        total += ports
    lines += ["networks:", "  backend: {}", "  frontend: {}", "", "volumes:"]
    lines += [f"  {name}-data: {{}}" for name in names]
    return "\n".join(lines) + "\n", services, total


def _override_file(stack: _Stack, services: list[str]) -> tuple[str, int]:
    """A development override: debug ports, appended and replaced ports, dev-only services."""
    rng = stack.rng
    lines = [
        "# Local development: live reload, debug ports and a mail catcher.",
        "# Compose appends these ports to the base file's (use !override to replace).",
        "services:",
    ]
    total = 0
    with_ports = [s for s in services if KIND_BY_NAME.get(s) and KIND_BY_NAME[s].targets]
    for name in rng.sample(with_ports, min(len(with_ports), rng.randint(2, 4))):
        kind = KIND_BY_NAME[name]
        target = kind.targets[0].rstrip("!")
        if "-" in target:
            continue
        lines += [
            f"  {name}:",
            "    environment:",
            "      LOG_LEVEL: debug",
            '      RELOAD: "true"',
            "    volumes:",
            f"      - ./{name}/src:/app/src:cached",
        ]
        mode = rng.random()
        host = stack.host_port(kind.category)
        if mode < 0.4:  # appended: Compose publishes both (CP103)
            lines += ["    ports:", f'      - "{host}:{target}"   # dev port']
            total += 1
        elif mode < 0.8:
            lines += [
                "    ports: !override",
                f'      - "127.0.0.1:{host}:{target}"',
                f'      - "${{{_variable(name, "debug")}:-{stack.host_port("misc")}}}:9229"',
            ]
            total += 2
        else:
            lines += [
                "    ports:",
                "      - target: 9229",
                f'        published: "{stack.host_port("misc")}"',
                "        host_ip: 127.0.0.1",
            ]
            total += 1
        lines.append("")
    for name in ("mailhog", "adminer-dev"):
        if name in services:
            continue
        if name == "mailhog":
            smtp, web = stack.host_port("misc"), stack.host_port("misc")
            lines += [
                "  mailhog:",
                "    image: mailhog/mailhog:v1.0.1",
                "    ports:",
                f'      - "{smtp}:1025"   # SMTP',
                f'      - "{web}:8025"   # web UI',
                "",
            ]
            total += 2
        else:
            lines += [
                "  adminer-dev:",
                "    image: adminer:4.8.1",
                "    ports:",
                f'      - "${{ADMINER_PORT:-{stack.host_port("apps")}}}:8080"',
                "",
            ]
            total += 1
    return "\n".join(lines) + "\n", total


def _variant_file(stack: _Stack, services: list[str]) -> tuple[str, int]:
    """A production variant: loopback binds behind the load balancer, replicas, no debug ports."""
    rng = stack.rng
    lines = [
        "# Production: everything binds to loopback behind the load balancer.",
        "services:",
    ]
    total = 0
    for name in services:
        kind = KIND_BY_NAME.get(name)
        if kind is None or not kind.targets:
            continue
        lines += [f"  {name}:", "    restart: always"]
        if name in ("api", "gateway") and rng.random() < 0.5:
            lines += ["    ports: !reset []", "    deploy:", "      replicas: 3", ""]
            continue
        lines.append("    ports: !override")
        for target in kind.targets:
            target = target.rstrip("!")
            if "-" in target or "/" in target:
                continue
            host = stack.host_port(kind.category)
            lines.append(f'      - "127.0.0.1:{host}:{target}"')
            total += 1
        lines.append("")
    return "\n".join(lines) + "\n", total


def _range_stack(width: int, services: int) -> tuple[str, int]:
    """`services` services, each publishing a `width`-port range on its own loopback address."""
    lines = [
        "# Media relays: every relay owns a block of ports on its own address.",
        "services:",
    ]
    last = 10000 + width - 1
    spec = "10000" if width == 1 else f"10000-{last}"
    for i in range(services):
        lines += [
            f"  relay-{i:03d}:",
            "    image: coturn/coturn:4.6",
            "    restart: unless-stopped",
            "    ports:",
            f'      - "127.0.{i // 250}.{i % 250 + 1}:{spec}:{spec}/udp"',
            "",
        ]
    return "\n".join(lines) + "\n", services


def _config(declared: list[_Stack], root: Path) -> str:
    lines = ["# The platform team's port policy for the monorepo."]
    groups = [declared[i : i + 3] for i in range(0, len(declared), 3)]
    if declared:
        lines.append("stacks:")
        for stack in declared:
            path = _stack_dir(root, stack).relative_to(root) / "compose.yaml"
            lines.append(f"  {stack.name}: [{path.as_posix()}]")
        lines.append("hosts:  # stacks that share a machine")
        for number, group in enumerate(groups, 1):
            lines.append(f"  edge-{number:02d}: [{', '.join(s.name for s in group)}]")
    lines += [
        "ranges:",
        "  web:",
        f"    ports: {RANGES['web'][0]}-{RANGES['web'][1]}",
        '    images: ["nginx*", "caddy*", "grafana/*"]',
        "    services: [frontend, web]",
        "  data:",
        f"    ports: {RANGES['data'][0]}-{RANGES['data'][1]}",
        '    images: ["postgres*", "redis*", "mysql*", "mongo*", "rabbitmq*"]',
        "  apps:",
        f"    ports: {RANGES['apps'][0]}-{RANGES['apps'][1]}",
        '    services: ["api*", gateway, grpc, admin, keycloak]',
        "  metrics:",
        f"    ports: {RANGES['metrics'][0]}-{RANGES['metrics'][1]}",
        '    images: ["prom/*", "otel/*"]',
    ]
    if groups:
        lines += [
            "registry:",
            "  hosts: [edge-01]",
            "  ports: {postgres: 5432, redis: 6379, api: 8080, prometheus: 9090}",
        ]
    lines += [
        "env:",
        '  variable: "{SERVICE}_PORT"',
        "rules:",
        "  privileged-host-port: {allow-services: [proxy, coredns, ftp]}",
        "  CP203: warning",
    ]
    return "\n".join(lines) + "\n"


def _stack_dir(root: Path, stack: _Stack) -> Path:
    return root / "services" / stack.team / stack.name


def _mark_repository(root: Path) -> None:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")


def generate(
    root: Path,
    stacks: int,
    seed: int = 0,
    range_stack: bool = False,
    range_width: int = 20_000,
    range_services: int = RANGE_STACK_SERVICES,
    config: bool = True,
) -> Stats:
    """Write a monorepo of `stacks` stacks (plus the range stack) under `root`; see the module."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _mark_repository(root)
    stats = Stats()
    declared: list[_Stack] = []
    for index in range(stacks):
        stack = _Stack(index, seed)
        directory = _stack_dir(root, stack)
        is_declared = config and index % 50 == 0
        text, services, ports = _main_file(stack, is_declared)
        stats.add(directory / "compose.yaml", text, ports)
        stats.services += len(services)
        stats.stacks += 1
        if is_declared:
            declared.append(stack)
        if index % 4 == 1:
            text, ports = _override_file(stack, services)
            stats.add(directory / "compose.override.yaml", text, ports)
        if index % 12 == 3:
            text, ports = _variant_file(stack, services)
            stats.add(directory / "compose.prod.yaml", text, ports)
        if index % 10 == 5:
            (directory / ".env").write_text(
                f"# Local values.\nCOMPOSE_PROJECT_NAME={stack.name}\nLOG_LEVEL=warning\n",
                encoding="utf-8",
            )
    if range_stack:
        text, ports = _range_stack(range_width, range_services)
        stats.add(root / "relays" / "compose.yaml", text, ports)
        stats.services += range_services
        stats.stacks += 1
    if config and stacks:
        (root / ".compose-ports.yaml").write_text(_config(declared, root), encoding="utf-8")
    return stats


def generate_single(directory: Path, config: bool, seed: int = 0) -> Path:
    """A one-file project (the pre-commit case): a repository with one `compose.yaml`.

    With `config`, a `.compose-ports.yaml` beside it sets ranges and rules. Returns the file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _mark_repository(directory)
    stack = _Stack(1, seed)
    text, _, _ = _main_file(stack, declared=False)
    path = directory / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    if config:
        policy = _config([], directory)
        (directory / ".compose-ports.yaml").write_text(policy, encoding="utf-8")
    return path


FLAT_SERVICES = 10  # per stack of the flat monorepo
ONE_PORT_SERVICES = 5_000  # services that all publish 8080: one crowded port
MANY_PORTS_SERVICES = 40_000  # one-port services of the one big file


def _flat_port(stack: int, service: int, number: int) -> str:
    """One of the four forms the flat monorepo mixes, in turn: short with a comment,
    env-variable, IP-bound udp, long syntax."""
    host = 8700 + service * 5 + number
    form = (service * 3 + number) % 4
    if form == 0:
        return f'      - "{host}:{8000 + number}"  # port {number}'
    if form == 1:
        return f'      - "${{SVC{service}_{number}_PORT:-{host}}}:{8000 + number}"'
    if form == 2:
        return f'      - "127.0.0.1:{host}:{9000 + number}/udp"'
    return (
        f"      - target: {8000 + number}\n"
        f'        published: "{host}"\n'
        "        protocol: tcp\n"
        "        mode: host"
    )


def _flat_main(index: int) -> str:
    lines = [
        f"# stack-{index:03d}: ten services of the same shape, ports in every form.",
        "services:",
    ]
    for service in range(FLAT_SERVICES):
        name = f"svc{service}"
        lines += [
            f"  {name}:",
            f"    # {name} of stack-{index:03d}: owned by team {TEAMS[index % len(TEAMS)]}; "
            "paged through the on-call rota; dashboards, alerts and the runbook live in the wiki "
            "under services/"
            f"stack-{index:03d}/{name}.",
            f"    image: registry.example.com/platform/stack-{index:03d}/{name}:"
            f"{1 + index % 4}.{service}.{index % 13}",
            "    restart: unless-stopped",
            "    environment:",
            f"      - DATABASE_URL=postgres://{name}:change-me@db-{index % 7}.internal.example.com"
            f":5432/stack_{index:03d}_{name}?sslmode=require&application_name=stack-{index:03d}-"
            f"{name}&connect_timeout=10&target_session_attrs=read-write&keepalives_idle=30",
            "      - JAVA_TOOL_OPTIONS=-XX:+UseContainerSupport -XX:MaxRAMPercentage=75.0 "
            "-XX:+ExitOnOutOfMemoryError -Dfile.encoding=UTF-8 -Duser.timezone=UTC "
            f"-Dservice.name=stack-{index:03d}-{name} -Dotel.exporter.otlp.endpoint="
            "http://otel-collector.internal.example.com:4317 -Dotel.metrics.exporter=otlp",
            "    ports:",
            *(_flat_port(index, service, number) for number in range(3)),
            "",
        ]
    return "\n".join(lines) + "\n"


def generate_flat(root: Path, stacks: int = 400) -> Stats:
    """The monorepo in another shape: `stacks` stacks of one `compose.yaml` of 10 services
    (image, a two-entry environment list, a comment, a restart policy, 3 ports mixing short,
    env-variable, IP-bound udp and long syntax), every third stack with a one-port override.
    400 stacks: 534 files, about 12,000 ports and 3.7 MB. No config."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _mark_repository(root)
    stats = Stats()
    for index in range(stacks):
        directory = root / "stacks" / f"stack-{index:03d}"
        stats.add(directory / "compose.yaml", _flat_main(index), FLAT_SERVICES * 3)
        stats.services += FLAT_SERVICES
        stats.stacks += 1
        if index % 3 == 0:
            text = f'services:\n  svc0:\n    ports:\n      - "{18700 + index}:8000"\n'
            stats.add(directory / "compose.override.yaml", text, 1)
    return stats


def generate_one_port(directory: Path, services: int = ONE_PORT_SERVICES) -> Stats:
    """One `compose.yaml` whose `services` services all publish `"8080:80"`: one host port taken
    `services` times, N - 1 conflicts."""
    lines = ["services:"]
    for index in range(services):
        lines += [f"  web-{index:04d}:", "    image: nginx:1.27-alpine", '    ports: ["8080:80"]']
    return _one_file(directory, "\n".join(lines) + "\n", services)


def generate_many_ports(directory: Path, services: int = MANY_PORTS_SERVICES) -> Stats:
    """One `compose.yaml` of `services` services, each publishing its own literal host port
    (`"N:80"`, N from 10000 up): nothing collides, and `fix` rewrites every one."""
    lines = ["services:"]
    for index in range(services):
        lines += [f"  app-{index:05d}:", "    image: nginx:1.27-alpine"]
        lines.append(f'    ports: ["{10000 + index}:80"]')
    return _one_file(directory, "\n".join(lines) + "\n", services)


def _one_file(directory: Path, text: str, services: int) -> Stats:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _mark_repository(directory)
    stats = Stats(stacks=1, services=services)
    stats.add(directory / "compose.yaml", text, services)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--stacks", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--range-stack", action="store_true", help="add the stack of 200 x 20,000-port ranges"
    )
    parser.add_argument(
        "--shape",
        choices=["monorepo", "flat", "one-port", "many-ports"],
        default="monorepo",
        help="another shape instead of the monorepo (see the module)",
    )
    args = parser.parse_args(argv)
    if args.shape == "flat":
        stats = generate_flat(args.directory, args.stacks)
    elif args.shape == "one-port":
        stats = generate_one_port(args.directory)
    elif args.shape == "many-ports":
        stats = generate_many_ports(args.directory)
    else:
        stats = generate(args.directory, args.stacks, args.seed, args.range_stack)
    print(f"{args.directory}: {stats.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
