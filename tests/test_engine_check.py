"""`check` knows the engine: a held port is named by container, compose project and service.

Without an engine: what `check` makes of the engine's answer made up here (live/availability.py):
a container's port that no socket shows (userland-proxy off, rootless Docker) still blocks, the
`docker-proxy` behind a container is not named twice, and the service's own running container
is not in its way. With the engine (marked `engine`): the own project running exits 0; another
project's container, and a container started by hand, block and are named.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import engine
import pytest
from click.testing import CliRunner, Result

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions, load_project
from compose_ports.live import engine as live_engine
from compose_ports.live import sockets
from compose_ports.live.availability import taken
from compose_ports.live.engine import Container, Engine, Published, Unreachable
from compose_ports.live.sockets import Listener
from compose_ports.model import Project

PORTS = range(24300, 24310)


def shop(directory: Path, ports: dict[str, list[str]]) -> Project:
    lines = ["name: shop", "services:"]
    for service, published in ports.items():
        lines += [f"  {service}:", "    image: busybox", f"    ports: {json.dumps(published)}"]
    (directory / "compose.yaml").write_text("\n".join(lines) + "\n")
    return load_project(LoadOptions(files=("compose.yaml",), environ={}, cwd=str(directory)))


def running(name: str, project: str | None, service: str | None, port: int) -> Container:
    ports = (Published("0.0.0.0", port, 80, "tcp"), Published("::", port, 80, "tcp"))
    return Container(f"id-{name}", name, project, service, ports)


def test_a_port_only_the_engine_knows_still_blocks(tmp_path: Path) -> None:
    # userland-proxy: false, or rootless Docker: no socket of this machine shows the port.
    project = shop(tmp_path, {"web": ["8080:80"]})
    other = running("other-web-1", "other", "web", 8080)
    [item] = taken([project], [], [other])
    assert item.blocked and not item.running
    assert (
        item.describe() == "8080/tcp in use by container other-web-1 (project other, service web)"
    )


def test_the_docker_proxy_of_a_container_is_the_container(tmp_path: Path) -> None:
    project = shop(tmp_path, {"web": ["8080:80"]})
    proxies = [
        Listener(8080, "tcp", "0.0.0.0", 4242, "docker-proxy"),
        Listener(8080, "tcp", "::", 4243, "docker-proxy"),
    ]
    hand = running("by-hand", None, None, 8080)
    [item] = taken([project], proxies, [hand])
    # One holder, by the engine's name for it: not "docker-proxy (pid 4242) and 2 more".
    assert item.describe() == (
        "8080/tcp in use by container by-hand (started by hand: no compose project label)"
    )
    # Without the engine, the proxy is all there is to name.
    [alone] = taken([project], proxies)
    assert alone.describe() == "8080/tcp in use by docker-proxy (pid 4242) and 1 more"


def test_the_services_own_container_is_running_not_in_the_way(tmp_path: Path) -> None:
    project = shop(tmp_path, {"web": ["8080:80"], "api": ["9000:80"]})
    own = running("shop-web-1", "shop", "web", 8080)
    # The same project's other service on api's port is a conflict all the same.
    sibling = running("shop-db-1", "shop", "db", 9000)
    items = {t.binding.service: t for t in taken([project], [], [own, sibling])}
    assert items["web"].running and not items["web"].blocked
    assert items["web"].describe() == ("8080/tcp published by its own running container shop-web-1")
    assert items["api"].blocked
    # A process beside the own container is still in the way.
    squatter = Listener(8080, "tcp", "127.0.0.1", 99, "python3")
    [web] = [t for t in taken([project], [squatter], [own]) if t.binding.service == "web"]
    assert web.blocked and web.describe() == "8080/tcp in use by python3 (pid 99)"


def invoke(directory: Path, *args: str) -> Result:
    """`check -f compose.yaml` in the project's directory, so that paths print short."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        return CliRunner().invoke(main, ["check", "-f", "compose.yaml", *args])


def test_without_an_engine_check_works_from_the_socket_table_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop(tmp_path, {"web": ["8080:80"]})
    gone = Unreachable("unix:///var/run/docker.sock", "/var/run/docker.sock does not exist")
    monkeypatch.setattr(live_engine, "connect", lambda: gone)
    monkeypatch.setattr(sockets, "listeners", lambda: [Listener(8080, "tcp", "0.0.0.0", 7, "x")])
    result = invoke(tmp_path)
    assert result.exit_code == 1
    assert "compose.yaml:5:13: 8080/tcp in use by x (pid 7): needed by web (project shop)" in (
        result.stdout
    )
    assert result.stdout.endswith("Blocked: 1 host port checked on this machine: 1 blocked.\n")
    assert result.stderr.startswith(
        "note: no Docker engine answers at unix:///var/run/docker.sock: "
        "/var/run/docker.sock does not exist: "
    )


def test_the_summary_counts_blocked_and_running_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop(tmp_path, {"web": ["8080:80"], "api": ["9000:80"], "db": ["5432:5432"]})
    found = Engine(
        "unix:///var/run/docker.sock",
        "20.10.24",
        (running("shop-web-1", "shop", "web", 8080), running("other-1", "other", "x", 9000)),
    )
    monkeypatch.setattr(live_engine, "connect", lambda: found)
    monkeypatch.setattr(sockets, "listeners", lambda: [])
    result = invoke(tmp_path)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == (
        "Blocked: 3 host ports checked on this machine: 1 blocked, "
        "1 published by their own running service."
    )


# -- on the engine -------------------------------------------------------------------------------


@pytest.fixture
def dockerd() -> Iterator[str]:
    yield from engine.session(PORTS)


def stack(directory: Path, name: str, services: dict[str, list[str]]) -> Path:
    """A project directory whose compose file names the project, as `docker compose` reads it."""
    directory.mkdir(parents=True)
    (directory / ".git").mkdir()
    (directory / "compose.yaml").write_text(
        f"name: {name}\n" + engine.compose_file(services, flow=True)
    )
    return directory


@pytest.mark.engine
def test_the_own_project_running_is_not_blocked(tmp_path: Path, dockerd: str) -> None:
    own = stack(
        tmp_path / "shop", "cpt-check-own", {"web": ["24300:80"], "db": ["127.0.0.1:24301:80"]}
    )
    try:
        engine.up_all(own, "cpt-check-own")
        result = invoke(own)
    finally:
        engine.down(own, "cpt-check-own")
    assert result.exit_code == 0, (dockerd, result.output)
    lines = result.stdout.splitlines()
    assert (
        "compose.yaml:14:13: 24301/tcp published by its own running container "
        "cpt-check-own-db-1: db (project cpt-check-own) [running]"
    ) in lines
    assert (
        "compose.yaml:8:13: 24300/tcp published by its own running container "
        "cpt-check-own-web-1: web (project cpt-check-own) [running]"
    ) in lines
    assert lines[-1] == (
        "Free: 2 host ports checked on this machine: 0 blocked, "
        "2 published by their own running service."
    )
    assert "docker-proxy" not in result.output


@pytest.mark.engine
def test_another_projects_container_blocks_and_is_named(tmp_path: Path, dockerd: str) -> None:
    mine = stack(tmp_path / "shop", "cpt-check-mine", {"web": ["24302:80"]})
    theirs = stack(tmp_path / "other", "cpt-check-theirs", {"api": ["24302:80"]})
    try:
        engine.up_all(theirs, "cpt-check-theirs")
        result = invoke(mine)
    finally:
        engine.down(theirs, "cpt-check-theirs")
    assert result.exit_code == 1, (dockerd, result.output)
    assert (
        "compose.yaml:8:13: 24302/tcp in use by container cpt-check-theirs-api-1 "
        "(project cpt-check-theirs, service api): needed by web (project cpt-check-mine) [error]"
    ) in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == (
        "Blocked: 1 host port checked on this machine: 1 blocked."
    )


@pytest.mark.engine
def test_a_container_started_by_hand_blocks_and_is_named(tmp_path: Path, dockerd: str) -> None:
    mine = stack(tmp_path / "shop", "cpt-check-hand", {"web": ["24303:80"], "db": ["24304:80"]})
    try:
        engine.run_by_hand("cpt-check-plain", ["127.0.0.1:24303:80"])
        # Started by hand with Compose's labels, as some scripts do: named by them.
        labels = {
            "com.docker.compose.project": "cpt-check-elsewhere",
            "com.docker.compose.service": "db",
        }
        engine.run_by_hand("cpt-check-labelled", ["24304:80"], labels=labels)
        result = invoke(mine)
    finally:
        engine.remove("cpt-check-plain")
        engine.remove("cpt-check-labelled")
    assert result.exit_code == 1, (dockerd, result.output)
    lines = result.stdout.splitlines()
    assert (
        "compose.yaml:8:13: 24303/tcp in use by container cpt-check-plain "
        "(started by hand: no compose project label): needed by web (project cpt-check-hand) "
        "[error]"
    ) in lines
    assert (
        "compose.yaml:14:13: 24304/tcp in use by container cpt-check-labelled "
        "(project cpt-check-elsewhere, service db): needed by db (project cpt-check-hand) [error]"
    ) in lines
    assert lines[-1] == "Blocked: 2 host ports checked on this machine: 2 blocked."
