"""Starting points for a team's policy: named range templates, and the images everyone knows.

`compose-ports init --ranges standard` writes a template's ranges, with their image globs, into
a new config. The same globs give a service a category on display (the registry's category
column, the HTML bands) where the config says nothing of it: `policy.display_category`. No rule
reads this module: a team's findings come from its own config alone.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from compose_ports.policy.config import matches_any


class TemplateRange(NamedTuple):
    """A category of a template: its host-port range, what it is for, and its images."""

    name: str
    start: int
    end: int
    purpose: str  # the comment `init` writes above it
    images: tuple[str, ...] = ()  # shell-style globs on the image, as in a config's `images:`


# The layout most teams converge on: one thousand ports per kind of service, clear of the
# privileged ports below 1024 and of the kernel's ephemeral range from 32768.
STANDARD = (
    TemplateRange("frontend", 3000, 3999, "frontends and their development servers"),
    TemplateRange(
        "database",
        5000,
        5999,
        "databases",
        (
            "postgres*",
            "postgis/*",
            "timescale/timescaledb*",
            "bitnami/postgresql*",
            "mysql*",
            "bitnami/mysql*",
            "mariadb*",
            "bitnami/mariadb*",
            # Not `mongo*`: mongo-express is a web front end of it.
            "mongo",
            "mongo:*",
            "mongo@*",
            "bitnami/mongodb*",
        ),
    ),
    TemplateRange(
        "cache",
        6000,
        6999,
        "caches and queues",
        (
            "redis*",
            "bitnami/redis*",
            "valkey/*",
            "memcached*",
            "rabbitmq*",
            "bitnami/rabbitmq*",
            "nats*",
        ),
    ),
    TemplateRange(
        "api",
        8000,
        8999,
        "APIs and web services",
        ("nginx*", "httpd*", "caddy*", "traefik*", "haproxy*", "tomcat*"),
    ),
    TemplateRange(
        "monitoring",
        9000,
        9999,
        "monitoring: metrics, logs and traces",
        ("prom/*", "grafana/*", "fluent/*", "fluentd*", "jaegertracing/*", "otel/*"),
    ),
)

TEMPLATES: dict[str, tuple[TemplateRange, ...]] = {"standard": STANDARD}

# A registry host: a first path component with a dot or a port, or `localhost`
# (distribution/reference's rule for telling a host from a Docker Hub user).
_REGISTRY = re.compile(r"^(?:[^/]*[.:][^/]*|localhost)/")


def well_known(image: str) -> TemplateRange | None:
    """The standard category of a well-known image, by the image as written and as Docker Hub
    names it for short (`docker.io/library/postgres:16` is `postgres:16`)."""
    short = _REGISTRY.sub("", image, count=1)
    short = short.removeprefix("library/")
    for port_range in STANDARD:
        if matches_any(port_range.images, image) or matches_any(port_range.images, short):
            return port_range
    return None
