"""privileged-host-port (CP202): a host port below 1024.

What it reports
    A host port below 1024, unless the config allows the service (`allow-services`, globs on the
    service name) or its image (`allow-images`).

Why
    Binding ports below 1024 needs root: it fails under rootless Docker and rootless Podman, and a
    service that does not need a well-known port should not take one.

Bad
    - "80:8080"

Good
    - "8080:8080"

How to fix
    Publish a port of 1024 or above, or allow the service in the config when it is the front door
    (a reverse proxy on 80 and 443):

        rules:
          privileged-host-port:
            allow-services: [nginx]

Options
    allow-services: service-name globs that may publish privileged ports (default: none).
    allow-images: image globs that may (default: none).
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_ports.findings import Severity, set_here
from compose_ports.policy.config import matches_any
from compose_ports.rules.base import (
    GLOBS,
    Example,
    LintContext,
    Option,
    Problem,
    describe,
)

CODE = "CP202"
NAME = "privileged-host-port"
SEVERITY = Severity.WARNING
OPTIONS = {
    "allow-services": Option(GLOBS, [], "service-name globs allowed below 1024"),
    "allow-images": Option(GLOBS, [], "image globs allowed below 1024"),
}
SUMMARY = "A host port below 1024 (needs root, fails under rootless Docker)."
FIX = None

EXAMPLES = (
    Example(
        "an app on port 80",
        {"compose.yaml": 'services:\n  app:\n    image: shop\n    ports: ["80:8080"]\n'},
        expect=(("compose.yaml", 4, 13),),
    ),
    Example(
        "the proxy is allowed",
        {"compose.yaml": 'services:\n  proxy:\n    image: nginx\n    ports: ["80:80"]\n'},
        config="rules:\n  privileged-host-port:\n    allow-services: [proxy]\n",
    ),
)


def check(context: LintContext) -> Iterator[Problem]:
    for project in context.projects:
        options = context.options(project)
        allowed_services = tuple(str(g) for g in options.get("allow-services") or [])
        allowed_images = tuple(str(g) for g in options.get("allow-images") or [])
        for service in project.active_services:
            if matches_any(allowed_services, service.name):
                continue
            if service.image and matches_any(allowed_images, service.image):
                continue
            for binding in service.ports:
                rng = binding.host_range
                if rng is not None and rng[0] < 1024:
                    yield Problem(
                        binding.source,
                        f"{describe(binding)} of {service.name} needs root on the host "
                        "(below 1024): it fails under rootless Docker",
                        project,
                        service.name,
                        related=set_here(binding.setting),
                    )
