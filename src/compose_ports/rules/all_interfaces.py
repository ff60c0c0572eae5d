"""all-interfaces (CP401): a database, cache, queue or admin tool published on every interface.

What it reports
    A service whose image is a database, cache, queue or admin tool, published without a host IP
    (or on 0.0.0.0 / ::), which exposes it on every network the machine is on.

    The default images (by repository name, any registry or namespace): postgres, postgis,
    mysql, mariadb, mongo, redis, valkey, memcached, elasticsearch, opensearch, rabbitmq, kafka
    (bitnami/kafka, confluentinc/cp-kafka), zookeeper (and confluentinc/cp-zookeeper), cassandra,
    couchdb, influxdb, clickhouse (clickhouse-server), neo4j, etcd, weaviate, qdrant, pgadmin
    (pgadmin4), adminer, phpmyadmin, mongo-express, redis-commander.

Why
    Docker's published ports bypass the host firewall's INPUT rules (ufw, firewalld), so a
    database published on all interfaces is reachable from the network, often with default
    credentials.

Bad
    - "5432:5432"

Good
    - "127.0.0.1:5432:5432"

How to fix
    Bind it to 127.0.0.1 (or a private address), or do not publish it at all: containers of the
    same project reach it by its service name.

Options
    images: repository names or globs that count (default: the list above).
    allow-services: service-name globs that may listen everywhere (default: none).
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity
from compose_ports.policy.config import matches_any
from compose_ports.rules.base import (
    GLOBS,
    Example,
    LintContext,
    Option,
    Problem,
    describe,
)

CODE = "CP401"
NAME = "all-interfaces"
SEVERITY = Severity.WARNING
DEFAULT_IMAGES = (
    "postgres",
    "postgis",
    "mysql",
    "mariadb",
    "mongo",
    "redis",
    "valkey",
    "memcached",
    "elasticsearch",
    "opensearch",
    "rabbitmq",
    "kafka",
    "cp-kafka",
    "zookeeper",
    "cp-zookeeper",
    "cassandra",
    "couchdb",
    "influxdb",
    "clickhouse",
    "clickhouse-server",
    "neo4j",
    "etcd",
    "weaviate",
    "qdrant",
    "pgadmin",
    "pgadmin4",
    "adminer",
    "phpmyadmin",
    "mongo-express",
    "redis-commander",
)
OPTIONS = {
    "images": Option(GLOBS, list(DEFAULT_IMAGES), "image globs of what must not listen everywhere"),
    "allow-services": Option(GLOBS, [], "service-name globs allowed on every interface"),
}
SUMMARY = "A database, cache, queue or admin service published on every interface."
FIX = None
_EVERYWHERE = {None, "", "0.0.0.0", "::"}

EXAMPLES = (
    Example(
        "a database on every interface",
        {
            "compose.yaml": (
                "services:\n"
                "  db:\n"
                "    image: postgres:16\n"
                '    ports: ["5432:5432"]\n'
                "  cache:\n"
                "    image: docker.io/library/redis:7\n"
                '    ports: ["127.0.0.1:6379:6379"]\n'
            )
        },
        expect=(("compose.yaml", 4, 13),),
    ),
)


def repository(image: str) -> str:
    """`docker.io/bitnami/kafka:3.7@sha256:...` -> `kafka`: the name people know it by."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name.rsplit("/", 1)[-1].lower()


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        options = context.options(project)
        images = tuple(str(p) for p in options.get("images") or [])
        allowed = tuple(str(g) for g in options.get("allow-services") or [])
        for service in project.active_services:
            if not service.image or matches_any(allowed, service.name):
                continue
            name = repository(service.image)
            if not matches_any(images, name):
                continue
            for binding in service.ports:
                if binding.spec.host_ip in _EVERYWHERE and binding.spec.published:
                    yield Problem(
                        binding.source,
                        f"{service.name} ({name}) is published on every interface as "
                        f"{describe(binding)}; bind it to 127.0.0.1",
                        project,
                        service.name,
                    )
