"""The Docker engine, now: its running containers and the host ports each one publishes.

Reached with the Docker SDK for Python the way the docker CLI finds it (`DOCKER_HOST`, else the
current docker context, else the default socket), and only by the commands that need it. The
SDK (and requests under it) is imported here, when asked, so that lint never pays for it.
Nothing is changed on the engine: one `/version` and one `/containers/json` request, the list
`docker ps` shows.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
# Long enough for a busy daemon to list its containers, short enough that a hung one does not
# hold `check` up for the SDK's default minute.
TIMEOUT = 5.0
UNSPECIFIED = ("0.0.0.0", "::")


@dataclass(frozen=True, slots=True)
class Published:
    """One host binding of a container, as `docker ps` shows it (`0.0.0.0:8080->80/tcp`)."""

    host_ip: str  # "0.0.0.0", "::", or the specific address, as the engine reports it
    host_port: int
    target: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Container:
    """A running container and the host ports it publishes."""

    id: str
    name: str
    project: str | None  # the `com.docker.compose.project` label: None when Compose did not
    service: str | None  # start it (`docker run`, another tool)
    ports: tuple[Published, ...] = ()

    def describe(self) -> str:
        """`container shop-web-1 (project shop, service web)`, or how it was started."""
        if self.project is None:
            return f"container {self.name} (started by hand: no compose project label)"
        return f"container {self.name} (project {self.project}, service {self.service or '?'})"

    def belongs_to(self, project: str, service: str) -> bool:
        """Compose knows its containers by these labels alone (docker/compose's
        `projectFilter` and `serviceFilter`): so does compose-ports."""
        return self.project == project and self.service == service


@dataclass(frozen=True, slots=True)
class Engine:
    """What the engine answered."""

    address: str  # DOCKER_HOST, the context's host, or the default socket
    version: str
    containers: tuple[Container, ...]

    @property
    def local(self) -> bool:
        return is_local(self.address)

    def describe(self) -> str:
        return f"dockerd {self.version} at {self.address}"

    def running(self, project: str, service: str) -> list[Container]:
        return [c for c in self.containers if c.belongs_to(project, service)]


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No engine answered: why, in one line."""

    address: str
    reason: str

    def describe(self) -> str:
        return f"no Docker engine answers at {self.address}: {self.reason}"


def connect(
    environ: Mapping[str, str] | None = None, timeout: float = TIMEOUT
) -> Engine | Unreachable:
    """The engine's running containers, or why there is no engine to ask."""
    environ = os.environ if environ is None else environ
    address = environ.get("DOCKER_HOST") or ""
    socket_path = _unix_path(address or DEFAULT_SOCKET)
    if not address and not _may_have_context(environ) and not os.path.exists(socket_path or ""):
        # The common machine without Docker: said without importing the SDK.
        return Unreachable(DEFAULT_SOCKET, f"{socket_path} does not exist")
    try:
        import docker  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return Unreachable(address or DEFAULT_SOCKET, "the Docker SDK for Python is not installed")
    if not address:
        address = _context_host(docker, environ) or DEFAULT_SOCKET
    try:
        client = docker.DockerClient.from_env(timeout=timeout, environment=dict(environ))
        try:
            version = str(client.api.version().get("Version", "?"))
            listed = client.api.containers()
        finally:
            client.close()
    except (docker.errors.DockerException, OSError, ValueError) as exc:
        return Unreachable(address, short_reason(exc))
    return Engine(address, version, tuple(parse_containers(listed)))


def parse_containers(listed: Iterable[Mapping[str, Any]]) -> list[Container]:
    """The containers of the engine's `/containers/json` answer (what `docker ps` prints)."""
    found = []
    for item in listed:
        labels = item.get("Labels") or {}
        names = item.get("Names") or []
        name = str(names[0]).lstrip("/") if names else str(item.get("Id", ""))[:12]
        ports = []
        for port in item.get("Ports") or []:
            public = port.get("PublicPort")
            if not public:
                continue  # exposed, not published
            ports.append(
                Published(
                    str(port.get("IP") or "0.0.0.0"),
                    int(public),
                    int(port.get("PrivatePort") or 0),
                    str(port.get("Type") or "tcp").lower(),
                )
            )
        found.append(
            Container(
                id=str(item.get("Id", "")),
                name=name,
                project=labels.get(PROJECT_LABEL),
                service=labels.get(SERVICE_LABEL),
                ports=tuple(ports),
            )
        )
    return found


def short_reason(exc: BaseException) -> str:
    """The system's own words out of the SDK's nested ones: `Connection refused`."""
    text = str(exc).removeprefix("Error while fetching server API version: ")
    for pattern in (r"\[Errno -?\d+\] ([^'\")\]]+)", r"Error\(-?\d+, '([^']+)'\)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()
    return " ".join(text.split()) or type(exc).__name__


def is_local(address: str) -> bool:
    """Whether the engine publishes its ports on this machine: a local socket or pipe, or TCP
    to a loopback address."""
    scheme, _, rest = address.partition("://")
    if scheme in ("unix", "npipe", "http+unix", "http+docker"):
        return True
    if scheme not in ("tcp", "http", "https"):
        return False  # ssh:// and the like: another machine's engine
    host = rest.split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _unix_path(address: str) -> str | None:
    return address.removeprefix("unix://") if address.startswith("unix://") else None


def _may_have_context(environ: Mapping[str, str]) -> bool:
    """Whether a docker context may name another engine than the default socket (rootless
    Docker and Docker Desktop set one up)."""
    if environ.get("DOCKER_CONTEXT"):
        return True
    directory = environ.get("DOCKER_CONFIG") or os.path.join(environ.get("HOME") or "~", ".docker")
    return os.path.exists(os.path.join(os.path.expanduser(directory), "config.json"))


def _context_host(docker: Any, environ: Mapping[str, str]) -> str | None:
    """The current docker context's engine, as the SDK will use it."""
    try:
        params = docker.context.ContextAPI.kwargs_from_context(environment=dict(environ))
    except Exception:  # a broken ~/.docker/config.json: the SDK will say what is wrong
        return None
    host = params.get("base_url") if isinstance(params, dict) else None
    return str(host) if host else None
