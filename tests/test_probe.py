"""`check --probe`: whether something answers behind each declared TCP binding.

Without an engine: the classification against servers on loopback made here, one per way a
peer can behave (answer HTTP, hold the connection, speak first, close at once, reset, refuse);
where a binding is probed (`probe_address`, `plan`); and the command line. With the engine
(marked `engine`): busybox `httpd` answers, a `sleep` container behind a published port
does not (Docker's proxy accepts and closes at once), a stopped service does not count.
Every probe goes to 127.0.0.1 or ::1.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import engine
import pytest
from click.testing import CliRunner, Result

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions, load_project
from compose_ports.live import engine as live_engine
from compose_ports.live import sockets
from compose_ports.live.engine import Container, Engine, Published, Unreachable
from compose_ports.live.probe import (
    ANSWERING,
    CLOSED,
    REFUSED,
    TIMED_OUT,
    Target,
    plan,
    probe,
    probe_address,
    probe_all,
)

PORTS = range(24310, 24320)

# -- servers on loopback, one per way a peer behaves ---------------------------------------------


@contextmanager
def server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that hands each connection to `handle`; its port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            if stop.is_set():
                connection.close()
                return
            held.append(connection)
            handle(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        yield port
    finally:
        stop.set()
        # close() does not wake a thread blocked in accept(): a last connection does.
        with socket.create_connection(("127.0.0.1", port)):
            thread.join()
        listener.close()
        for connection in held:
            connection.close()


def close_at_once(connection: socket.socket) -> None:
    connection.close()


def reset_at_once(connection: socket.socket) -> None:
    # SO_LINGER 0: close() sends RST instead of FIN.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    connection.close()


def hold(connection: socket.socket) -> None:
    """Accept, and wait for the client to speak (a server that reads a request first)."""


def banner(connection: socket.socket) -> None:
    connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")


def not_http(connection: socket.socket) -> None:
    connection.recv(1024)
    connection.sendall(b"+PONG\r\n")


class _Handler(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(418)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # no access log in the test output


@contextmanager
def http_server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def unused_port() -> tuple[socket.socket, int]:
    """A port bound and not listening: nobody can take it, and a connect is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


# -- the classification --------------------------------------------------------------------------


def test_a_peer_that_closes_at_once_is_closed_not_answering() -> None:
    # What Docker's proxy does on a published port when nothing listens in the container.
    with server(close_at_once) as port:
        outcome = probe(Target("127.0.0.1", port))
    assert outcome.state == CLOSED
    assert not outcome.answers


def test_a_peer_that_resets_at_once_is_closed() -> None:
    with server(reset_at_once) as port:
        assert probe(Target("127.0.0.1", port)).state == CLOSED
        assert probe(Target("127.0.0.1", port, "http")).state == CLOSED


def test_a_reset_that_comes_before_connect_returns_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a loaded machine does at times: the peer's reset is in before connect() returns.
    def connect(self: socket.socket, address: object) -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(socket.socket, "connect", connect)
    outcome = probe(Target("127.0.0.1", 9))
    assert (outcome.state, outcome.answers) == (CLOSED, False)


def test_a_peer_that_holds_the_connection_answers() -> None:
    with server(hold) as port:
        outcome = probe(Target("127.0.0.1", port))
    assert (outcome.state, outcome.detail) == (ANSWERING, "accepted, waiting for a request")


def test_a_peer_that_speaks_first_answers() -> None:
    with server(banner) as port:
        assert probe(Target("127.0.0.1", port)).describe() == "answering (spoke first)"


def test_http_answers_on_any_status() -> None:
    with http_server() as port:
        outcome = probe(Target("127.0.0.1", port, "http"))
    assert outcome.describe() == "answering (HTTP 418)"


def test_http_to_a_peer_that_closes_at_once_is_closed() -> None:
    with server(close_at_once) as port:
        assert probe(Target("127.0.0.1", port, "http")).state == CLOSED


def test_http_to_a_peer_that_never_replies_times_out() -> None:
    with server(hold) as port:
        outcome = probe(Target("127.0.0.1", port, "http"), timeout=0.3)
    assert (outcome.state, outcome.detail) == (TIMED_OUT, "no HTTP reply within 0.3 s")


def test_a_reply_that_is_not_http_still_answers() -> None:
    with server(not_http) as port:
        outcome = probe(Target("127.0.0.1", port, "http"))
    assert outcome.describe() == "answering (replied, not with HTTP)"


def test_https_to_a_plain_http_server_answers_without_tls() -> None:
    with http_server() as port:
        outcome = probe(Target("127.0.0.1", port, "https"))
    assert outcome.state == ANSWERING
    assert outcome.detail.startswith("TLS handshake failed")


def test_https_to_a_peer_that_closes_at_once_is_closed() -> None:
    with server(close_at_once) as port:
        assert probe(Target("127.0.0.1", port, "https")).state == CLOSED


def test_nothing_listening_is_refused() -> None:
    sock, port = unused_port()
    with sock:
        assert probe(Target("127.0.0.1", port)).state == REFUSED


def test_probes_run_together_each_target_once() -> None:
    sock, refused = unused_port()
    with sock, server(close_at_once) as closing, http_server() as web:
        targets = [
            Target("127.0.0.1", web, "http"),
            Target("127.0.0.1", closing),
            Target("127.0.0.1", refused),
            Target("127.0.0.1", web, "http"),
        ]
        outcomes = probe_all(targets, workers=2)
    assert len(outcomes) == 3
    assert [outcomes[t].state for t in targets] == [ANSWERING, CLOSED, REFUSED, ANSWERING]


# -- where a binding is probed -------------------------------------------------------------------


def here() -> frozenset[str]:
    return frozenset({"192.0.2.7", "2001:db8::7"})


@pytest.mark.parametrize(
    ("host_ip", "address"),
    [
        (None, "127.0.0.1"),
        ("", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("::", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.2", "127.0.0.2"),
        ("::1", "::1"),
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("192.0.2.7", "192.0.2.7"),  # an address of this machine
        ("2001:db8::7", "2001:db8::7"),
        ("192.0.2.8", None),  # another machine's: never probed
        ("2001:db8::8", None),
        ("not-an-ip", None),
    ],
)
def test_only_this_machines_addresses_are_probed(host_ip: str | None, address: str | None) -> None:
    assert probe_address(host_ip, here) == address


def load(directory: Path, text: str) -> object:
    (directory / "compose.yaml").write_text(text)
    return load_project(LoadOptions(files=("compose.yaml",), environ={}, cwd=str(directory)))


PLANNED = """\
name: shop
services:
  web:
    image: busybox
    ports:
      - "8080:80"
      - "53:53/udp"
      - "8000-8010:81"
      - "82"
      - "192.0.2.8:8443:443"
      - {target: 83, published: "8083", app_protocol: http}
      - {target: 84, published: "8084", app_protocol: https}
      - "9000-9001:90-91"
  idle:
    image: busybox
    ports: ["7000:80"]
"""


def test_what_is_probed_and_why_not(tmp_path: Path) -> None:
    project = load(tmp_path, PLANNED)
    pool = (Published("0.0.0.0", 8004, 81, "tcp"), Published("::", 8004, 81, "tcp"))
    found = Engine("unix:///x", "20.10", (Container("id", "shop-web-1", "shop", "web", pool),))
    planned = plan([project], found, local=here)
    shown = [
        (
            p.binding.service,
            p.spec.target,
            [(t.address, t.port, t.kind) for t in p.targets],
            p.skipped,
            p.counts,
        )
        for p in planned
    ]
    engine_picks = "the engine picks its host port, and no running container of it publishes one"
    assert shown == [
        ("idle", 80, [("127.0.0.1", 7000, "tcp")], "", False),  # not running: does not count
        ("web", 80, [("127.0.0.1", 8080, "tcp")], "", True),
        ("web", 53, [], "udp: only TCP is probed", True),
        ("web", 81, [("127.0.0.1", 8004, "tcp")], "", True),  # the pool's port, by the engine
        ("web", 82, [], engine_picks, True),
        ("web", 443, [], "192.0.2.8 is not an address of this machine", True),
        ("web", 83, [("127.0.0.1", 8083, "http")], "", True),
        ("web", 84, [("127.0.0.1", 8084, "https")], "", True),
        ("web", 90, [("127.0.0.1", 9000, "tcp")], "", True),
        ("web", 91, [("127.0.0.1", 9001, "tcp")], "", True),
    ]
    # --http: every TCP binding speaks HTTP; https stays https. Without an engine all count.
    kinds = {p.spec.target: [t.kind for t in p.targets] for p in plan([project], None, True, here)}
    assert kinds[80] == ["http"] and kinds[84] == ["https"] and kinds[81] == []
    assert all(p.counts for p in plan([project], None, local=here))


# -- the command line ----------------------------------------------------------------------------


def invoke(directory: Path, *args: str) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        return CliRunner().invoke(main, ["check", "-f", "compose.yaml", "--probe", *args])


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """No engine, and a socket table without the test's own servers (which would block)."""
    gone = Unreachable("unix:///var/run/docker.sock", "Connection refused")
    monkeypatch.setattr(live_engine, "connect", lambda: gone)
    monkeypatch.setattr(sockets, "listeners", lambda: [])


def test_without_an_engine_every_binding_that_does_not_answer_fails(
    tmp_path: Path, no_engine: None
) -> None:
    with server(close_at_once) as closing, http_server() as web:
        load(
            tmp_path,
            "services:\n  web:\n    image: busybox\n"
            f'    ports: ["127.0.0.1:{web}:80", "127.0.0.1:{closing}:81", "5353:53/udp"]\n',
        )
        result = invoke(tmp_path, "--http")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert f"compose.yaml:4:13: 127.0.0.1:{web}/tcp answering (HTTP 418): web" in lines[1]
    assert lines[1].endswith("[ok]")
    assert f"127.0.0.1:{closing}/tcp closed" in lines[2] and lines[2].endswith("[error]")
    assert "5353/udp not probed: udp: only TCP is probed" in lines[3]
    assert lines[-1] == (
        "Not answering: 2 probed: 1 answering, 1 not answering; 1 not probed "
        "(no engine: every declared binding counts)."
    )


def test_every_binding_answering_exits_0(tmp_path: Path, no_engine: None) -> None:
    with server(hold) as port:
        load(
            tmp_path, f'services:\n  web:\n    image: busybox\n    ports: ["127.0.0.1:{port}:80"]\n'
        )
        result = invoke(tmp_path)
    assert result.exit_code == 0, result.output
    assert "answering (accepted, waiting for a request)" in result.stdout


@pytest.mark.parametrize("timeout", ["0", "-1", "soon"])
def test_a_bad_timeout_is_a_usage_error(tmp_path: Path, timeout: str, no_engine: None) -> None:
    load(tmp_path, 'services:\n  web:\n    image: busybox\n    ports: ["8080:80"]\n')
    result = invoke(tmp_path, "--timeout", timeout)
    assert result.exit_code == 2
    assert "--timeout" in result.output


# -- on the engine -------------------------------------------------------------------------------


@pytest.fixture
def dockerd() -> Iterator[str]:
    yield from engine.session(PORTS)


HTTPD = ["/bin/httpd", "-f", "-p", "80", "-h", "/"]


def service(name: str, command: list[str], ports: list[object]) -> str:
    return (
        f"  {name}:\n"
        f"    image: {engine.IMAGE}\n"
        "    pull_policy: never\n"
        f"    command: {json.dumps(command)}\n"
        f'    labels: {{{engine.LABEL}: "1"}}\n'
        f"    ports: {json.dumps(ports)}\n"
    )


@pytest.mark.engine
def test_probes_on_the_engine(tmp_path: Path, dockerd: str) -> None:
    (tmp_path / ".git").mkdir()
    api = {"target": 80, "published": "24312", "host_ip": "127.0.0.1", "app_protocol": "http"}
    running = (
        "name: cpt-probe\nservices:\n"
        + service("web", HTTPD, ["24310:80"])
        + service("idle", engine.COMMAND, ["24311:80"])
        + service("api", HTTPD, [api])
    )
    (tmp_path / "compose.yaml").write_text(running)
    try:
        engine.up_all(tmp_path, "cpt-probe")
        # Declared, never started: its refusal does not count.
        (tmp_path / "compose.yaml").write_text(running + service("off", HTTPD, ["24313:80"]))
        result = invoke(tmp_path)
        with_http = invoke(tmp_path, "--http")
        (tmp_path / "compose.yaml").write_text(
            "name: cpt-probe\nservices:\n"
            + service("web", HTTPD, ["24310:80"])
            + service("api", HTTPD, [api])
        )
        answering = invoke(tmp_path)
    finally:
        engine.down(tmp_path, "cpt-probe")
    assert result.exit_code == 1, (dockerd, result.output)
    said = {line.split(": ")[1].split(" ")[0]: line for line in result.stdout.splitlines()[1:-1]}
    assert said["127.0.0.1:24310/tcp"].endswith(
        "answering (accepted, waiting for a request): web (project cpt-probe) [ok]"
    ), said
    # Docker's proxy accepts the connection and closes it: nothing listens in the container.
    assert " closed (" in said["127.0.0.1:24311/tcp"], said
    assert said["127.0.0.1:24311/tcp"].endswith("idle (project cpt-probe) [error]")
    assert " answering (HTTP " in said["127.0.0.1:24312/tcp"], said
    assert said["127.0.0.1:24313/tcp"].endswith(
        "refused: off (project cpt-probe) [note (the service is not running)]"
    ), said
    assert result.stdout.splitlines()[-1] == (
        "Not answering: 4 probed: 2 answering, 1 not answering, 1 of services that are not running."
    )
    assert with_http.exit_code == 1
    assert "127.0.0.1:24310/tcp answering (HTTP " in with_http.stdout
    assert "127.0.0.1:24311/tcp closed (" in with_http.stdout
    assert answering.exit_code == 0, (dockerd, answering.output)
    assert answering.stdout.splitlines()[-1] == "Answering: 2 probed: 2 answering, 0 not answering."


@pytest.mark.parametrize(
    ("answering", "failed", "silent", "headline"),
    [
        (2, 0, 0, "Answering"),
        (1, 1, 0, "Not answering"),
        (1, 0, 1, "Answering where running"),
        (0, 0, 17, "Not running"),  # nothing runs: nothing answered, nothing failed
        (0, 0, 0, "Nothing probed"),
    ],
)
def test_the_summary_says_what_holds_of_every_port_probed(
    answering: int, failed: int, silent: int, headline: str
) -> None:
    from compose_ports.live.probe import Verdicts

    assert Verdicts((), answering, failed, silent, 0).headline == headline
