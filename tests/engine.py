"""A real Docker engine for the tests marked `engine` (shared/docs/engine.md).

What the tests need from it: whether an engine answers (and which version), the test image,
`docker-compose up` of one service at a time with the engine's verdict, the host ports each
running container holds, and the removal of everything a test run created.

Everything a test creates is a compose project named `cpt-...` whose services carry the label
`compose-ports-test=1`, or a container started by hand (`run_by_hand`) named `cpt-...` with the
same label, so that `cleanup()` can find what an interrupted run left behind.

Also a command for `.ci/run` (through .ci/engine.sh): `python tests/engine.py prepare` removes
leftovers, builds the image when missing, and prints the engine's version and IPv6 state.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

IMAGE = "compose-ports-test:1"
LABEL = "compose-ports-test"
PROJECT_PREFIX = "cpt-"
# The static busybox of Debian's busybox-static package: no registry can be reached, so the
# test image is this one binary (shared/docs/engine.md, "An image without a registry").
BUSYBOX = Path("/bin/busybox")
APPLETS = ("sh", "sleep", "nc", "httpd")
# A container that holds its ports and does nothing else; `down -t 0` kills it at once.
COMMAND = ["/bin/sleep", "600"]

# The three ways the engine refuses a host port (dockerd 20.10, userland proxy on): its
# allocator for a fixed port, its allocator for a range with no free port, and the kernel's
# bind() in docker-proxy when another host IP already holds the port (shared/docs/engine.md).
REFUSALS = {
    "allocated": re.compile(r"Bind for (\S+):(\d+) failed: port is already allocated"),
    "all-allocated": re.compile(r"all ports are allocated"),
    "in-use": re.compile(
        r"Error starting userland proxy: listen (tcp|udp)[46]? (\S+):(\d+): bind: "
        r"address already in use"
    ),
}


def in_ci() -> bool:
    """CI must run the engine tests, and fail them when the engine cannot be reached."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _docker_env() -> dict[str, str]:
    # Only what reaches the engine: a stray COMPOSE_FILE or COMPOSE_PROJECT_NAME in the
    # developer's shell must not change what the binary starts.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    for name in ("DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run(
    command: list[str], cwd: Path | str | None = None, timeout: float = 120, stdin: bytes = b""
) -> subprocess.CompletedProcess[str]:
    """Run a docker or compose command; SIGKILL to its process group on timeout (the compose
    binary ignores SIGTERM, tests/oracle.py)."""
    proc = subprocess.Popen(
        command,
        cwd=None if cwd is None else str(cwd),
        env=_docker_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(
        command, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
    )


def docker(*args: str, timeout: float = 60, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    client = shutil.which("docker")
    if client is None:
        raise RuntimeError("no `docker` client on PATH (Debian's docker.io package brings one)")
    return run([client, *args], timeout=timeout, stdin=stdin)


@dataclass(frozen=True)
class Status:
    up: bool
    version: str  # the daemon's version when up
    reason: str  # why not, when not up


@lru_cache(maxsize=1)
def status() -> Status:
    """Whether an engine answers here, asked once per test run."""
    if shutil.which("docker") is None:
        return Status(False, "", "no `docker` client on PATH (see README: the engine tests)")
    try:
        found = docker("version", "--format", "{{.Server.Version}}", timeout=20)
    except subprocess.TimeoutExpired:
        return Status(False, "", "`docker version` did not answer within 20 s")
    if found.returncode != 0 or not found.stdout.strip():
        last = (found.stderr.strip().splitlines() or ["no answer"])[-1]
        return Status(False, "", f"no Docker engine answers: {last}")
    return Status(True, found.stdout.strip(), "")


def describe() -> str:
    """One line for reports and assertion messages: which engine judged."""
    engine = status()
    return f"dockerd {engine.version}" if engine.up else f"no engine ({engine.reason})"


def compose_binary() -> Path:
    import oracle  # tests/ is on sys.path (conftest.py), or this file's directory is

    return oracle.binary()


def _is_static(path: Path) -> bool:
    """An ELF file without a PT_INTERP program header needs no dynamic loader in the image."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit only: the machines are x86_64
        return False
    order = "<" if data[5] == 1 else ">"
    (phoff,) = struct.unpack_from(order + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
    for index in range(phnum):
        (kind,) = struct.unpack_from(order + "I", data, phoff + index * phentsize)
        if kind == 3:  # PT_INTERP
            return False
    return True


def image_tar() -> bytes:
    """An empty root with the static busybox and links for the applets the tests use."""
    if not BUSYBOX.is_file() or not _is_static(BUSYBOX):
        raise RuntimeError(
            f"{BUSYBOX} is missing or not statically linked: apt-get install busybox-static"
        )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo("bin")
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755
        tar.addfile(folder)
        body = BUSYBOX.read_bytes()
        binary = tarfile.TarInfo("bin/busybox")
        binary.size = len(body)
        binary.mode = 0o755
        tar.addfile(binary, io.BytesIO(body))
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
    return buffer.getvalue()


def ensure_image() -> None:
    """Build the test image unless the engine has it (one image, reused by every test)."""
    if docker("image", "inspect", IMAGE).returncode == 0:
        return
    built = docker("import", "-", IMAGE, stdin=image_tar(), timeout=120)
    if built.returncode != 0:
        raise RuntimeError(f"docker import of {IMAGE} failed: {built.stderr.strip()}")


def _ids(*args: str) -> list[str]:
    found = docker(*args)
    return found.stdout.split() if found.returncode == 0 else []


def cleanup(project: str | None = None) -> None:
    """Remove the test containers and networks: one project's, or every `cpt-` project's."""
    if project is not None:
        containers = _ids("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}")
        networks = _ids("network", "ls", "-q", "--filter", f"name={project}_")
    else:
        containers = _ids("ps", "-aq", "--filter", f"label={LABEL}")
        listing = docker("ps", "-a", "--format", '{{.ID}} {{.Label "com.docker.compose.project"}}')
        for line in listing.stdout.splitlines():
            cid, _, name = line.partition(" ")
            if name.startswith(PROJECT_PREFIX):
                containers.append(cid)
        networks = []
        names = docker("network", "ls", "--format", "{{.ID}} {{.Name}}")
        for line in names.stdout.splitlines():
            nid, _, name = line.partition(" ")
            if name.startswith(PROJECT_PREFIX):
                networks.append(nid)
    if containers:
        docker("rm", "-f", "-v", *sorted(set(containers)))
    if networks:
        docker("network", "rm", *networks)


@dataclass(frozen=True)
class Held:
    """One host port a running container holds, as the engine reports it."""

    service: str
    number: int  # the replica (com.docker.compose.container-number)
    target: int
    protocol: str
    host_ip: str
    host_port: int


def held(project: str) -> list[Held]:
    """The host ports of the running containers of a project."""
    ids = _ids("ps", "-q", "--filter", f"label=com.docker.compose.project={project}")
    if not ids:
        return []
    found = docker("inspect", *ids)
    if found.returncode != 0:
        raise RuntimeError(f"docker inspect failed: {found.stderr.strip()}")
    result = []
    for container in json.loads(found.stdout):
        if not container["State"]["Running"]:
            continue
        labels = container["Config"]["Labels"]
        service = labels["com.docker.compose.service"]
        number = int(labels.get("com.docker.compose.container-number", "1"))
        for key, bindings in (container["NetworkSettings"]["Ports"] or {}).items():
            port, _, protocol = key.partition("/")
            for binding in bindings or ():
                result.append(
                    Held(
                        service,
                        number,
                        int(port),
                        protocol,
                        binding["HostIp"],
                        int(binding["HostPort"]),
                    )
                )
    return sorted(result, key=lambda h: (h.service, h.number, h.target, h.host_ip))


@dataclass(frozen=True)
class Up:
    """The engine's verdict on `up` of one service."""

    service: str
    started: bool
    refusal: str | None  # a key of REFUSALS when refused for a host port
    message: str  # the engine's error line when refused


def engine_error(stderr: str) -> str:
    """The engine's own message out of the compose binary's stderr."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error response from daemon" in line or "rror" in line:
            return line
    return lines[-1] if lines else ""


def compose(
    project_dir: Path, project: str, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    assert project.startswith(PROJECT_PREFIX), f"test projects are named {PROJECT_PREFIX}..."
    return run([str(compose_binary()), "-p", project, *args], cwd=project_dir, timeout=timeout)


def up(project_dir: Path, project: str, service: str) -> Up:
    """`up -d --no-deps SERVICE`: one service, so that the engine's verdict is its own."""
    result = compose(project_dir, project, "up", "-d", "--no-deps", service)
    if result.returncode == 0:
        return Up(service, True, None, "")
    message = engine_error(result.stderr)
    refusal = next((name for name, text in REFUSALS.items() if text.search(message)), None)
    return Up(service, False, refusal, message)


def up_all(project_dir: Path, project: str) -> None:
    """`up -d` of every service; a service the engine refuses fails the test's set-up."""
    result = compose(project_dir, project, "up", "-d")
    if result.returncode != 0:
        raise RuntimeError(f"`up` of {project} failed: {engine_error(result.stderr)}")


def run_by_hand(
    name: str,
    publish: list[str],
    command: list[str] | None = None,
    labels: dict[str, str] | None = None,
) -> str:
    """A container started with `docker run`, not by Compose (unless `labels` says otherwise),
    with the test label so that `cleanup()` finds it. Its id."""
    assert name.startswith(PROJECT_PREFIX), f"test containers are named {PROJECT_PREFIX}..."
    args = ["run", "-d", "--name", name, "--label", f"{LABEL}=1"]
    for key, value in (labels or {}).items():
        args += ["--label", f"{key}={value}"]
    for port in publish:
        args += ["-p", port]
    started = docker(*args, IMAGE, *(command or COMMAND))
    if started.returncode != 0:
        raise RuntimeError(f"docker run {name} failed: {started.stderr.strip()}")
    return started.stdout.strip()


def remove(name: str) -> None:
    docker("rm", "-f", "-v", name)


def down(project_dir: Path, project: str) -> None:
    compose(project_dir, project, "down", "-t", "0", "--remove-orphans")
    cleanup(project)  # whatever `down` left (a container it no longer knew about)


def down_all(projects: list[tuple[Path, str]]) -> None:
    """`down` several projects at once: each one waits on the engine, not on the CPU."""
    with ThreadPoolExecutor(max_workers=max(len(projects), 1)) as pool:
        for done in [pool.submit(down, path, name) for path, name in projects]:
            done.result()


def ports_free(ports: range, host: tuple[str, ...] = ("0.0.0.0", "::")) -> list[str]:
    """Which of these host ports something on this machine already holds (tcp and udp)."""
    taken = []
    for port in ports:
        for address in host:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            for kind, name in ((socket.SOCK_STREAM, "tcp"), (socket.SOCK_DGRAM, "udp")):
                try:
                    sock = socket.socket(family, kind)
                except OSError:
                    continue  # no IPv6 on this host: nothing can hold it there either
                with sock:
                    if family == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    try:
                        sock.bind((address, port))
                    except OSError:
                        taken.append(f"{address}:{port}/{name}")
    return taken


def ipv6_published(probe_port: int, workdir: Path) -> bool:
    """Whether the engine publishes a binding without host IP on `::` as well (compose-facts
    §6.2: only when the host has IPv6). Probed with one container of its own."""
    project = f"{PROJECT_PREFIX}ipv6-probe"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "compose.yaml").write_text(
        "services:\n"
        "  probe:\n"
        f"    image: {IMAGE}\n"
        "    pull_policy: never\n"
        f"    command: {json.dumps(COMMAND)}\n"
        f'    labels: {{{LABEL}: "1"}}\n'
        f'    ports: ["{probe_port}:80"]\n'
    )
    try:
        verdict = up(workdir, project, "probe")
        if not verdict.started:
            raise RuntimeError(f"the IPv6 probe container did not start: {verdict.message}")
        return any(h.host_ip == "::" for h in held(project))
    finally:
        down(workdir, project)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    engine = status()
    if not engine.up:
        print(f"engine: {engine.reason}", file=sys.stderr)
        return 1
    if command == "cleanup":
        cleanup()
    elif command == "prepare":
        cleanup()
        ensure_image()
        import tempfile

        with tempfile.TemporaryDirectory(prefix="cpt-probe-") as tmp:
            ipv6 = ipv6_published(24089, Path(tmp))
        print(f"engine: dockerd {engine.version}, image {IMAGE}, IPv6 publishing: {ipv6}")
    elif command == "status":
        print(f"engine: dockerd {engine.version}")
    else:
        print(f"usage: {argv[0]} [status|prepare|cleanup]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main(sys.argv))


def session(ports: range) -> Iterator[str]:
    """A test's engine, clean before and after, with its host ports free: what it says it is.
    The body of the tests' `dockerd` fixtures (`yield from engine.session(PORTS)`)."""
    cleanup()
    ensure_image()
    held = ports_free(ports)
    assert not held, f"the test ports are held by something else on this machine: {held}"
    yield describe()
    cleanup()


def compose_file(
    services: dict[str, list[str | dict]],
    settings: dict[str, dict] | None = None,
    tail: str = "",
    *,
    flow: bool = False,
) -> str:
    """A compose file of services that hold these ports, in this order; `settings` adds keys
    to services, `tail` top-level sections. `flow`: each `ports` on one line (`[...]`), where
    a test names the lines its findings are on."""
    lines = ["services:"]
    for name, entries in services.items():
        lines += [
            f"  {name}:",
            f"    image: {IMAGE}",
            "    pull_policy: never",
            f"    command: {json.dumps(COMMAND)}",
            f'    labels: {{{LABEL}: "1"}}',
        ]
        lines += [f"    {k}: {json.dumps(v)}" for k, v in (settings or {}).get(name, {}).items()]
        if flow:
            lines.append(f"    ports: {json.dumps(entries)}")
        elif entries:
            lines.append("    ports:")
            lines += [f"      - {json.dumps(entry)}" for entry in entries]
    return "\n".join(lines) + "\n" + tail
