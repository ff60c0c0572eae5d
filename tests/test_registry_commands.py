"""`check`, `env` and `suggest`: the registry commands, on real sockets and the user story."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from click.testing import CliRunner

from compose_ports.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_check_names_the_process_holding_a_port(tmp_path: Path, monkeypatch) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        (tmp_path / ".git").mkdir()
        (tmp_path / "compose.yaml").write_text(
            f'services:\n  web:\n    image: nginx\n    ports: ["{port}:80"]\n'
            f'  other:\n    image: nginx\n    ports: ["127.0.0.2:{port}:80", "{port}:53/udp"]\n'
        )
        monkeypatch.chdir(tmp_path)
        result = run("check")
        assert result.exit_code == 1, result.output
        line = f"compose.yaml:4:13: {port}/tcp in use by "
        assert line in result.output
        assert f"(pid {os.getpid()})" in result.output
        # 127.0.0.2 is another address, and udp another protocol: both free.
        assert result.output.count("in use by") == 1
    finally:
        listener.close()
    assert run("check").exit_code == 0


def test_check_on_a_host(orchestra: Path) -> None:
    result = run("check", "--host", "dev-laptop")
    assert result.exit_code in (0, 1)
    assert "host ports checked on this machine" in result.output
    assert run("check", "--host", "nowhere").exit_code == 2


def test_env_writes_the_environment_file(orchestra: Path) -> None:
    result = run("env", "--host", "dev-laptop", "--environment", "development")
    assert result.exit_code == 0, result.output
    values = dict(
        line.split("=", 1) for line in (orchestra / ".env.development").read_text().splitlines()
    )
    # Each port plus the development offset (1000) ...
    assert values["POSTGRES_PORT"] == "6432"
    assert values["DEVELOPMENT_POSTGRES_PORT"] == "6433"
    assert values["API_PORT"] == "9000"
    assert values["DEVELOPMENT_API_PORT"] == "9010"
    # ... unless that collides on the host: then the next free one, and said.
    assert values["PERSONAS_PORT"] == "9001"
    assert values["DOCKER_API_PORT"] == "9011"
    assert "PERSONAS_PORT=9001 moved" in result.output
    assert len(set(values.values()) - {"25224"}) == len(values) - 2  # tcp and udp may share
    # A second run adds nothing and changes nothing.
    before = (orchestra / ".env.development").read_bytes()
    again = run("env", "--host", "dev-laptop", "--environment", "development")
    assert "0 added" in again.output
    assert (orchestra / ".env.development").read_bytes() == before


def test_env_keeps_existing_lines(orchestra: Path) -> None:
    (orchestra / ".env.development").write_text("# mine\nPOSTGRES_PORT=7777\n")
    run("env", "--host", "dev-laptop", "--environment", "development")
    text = (orchestra / ".env.development").read_text()
    assert text.startswith("# mine\nPOSTGRES_PORT=7777\n")
    assert text.count("POSTGRES_PORT=") == 2  # and DEVELOPMENT_POSTGRES_PORT, appended


def test_suggest_takes_the_lowest_free_port_of_the_range(orchestra: Path) -> None:
    result = run("suggest", "newapi", "--category", "api", "--host", "dev-laptop")
    assert result.exit_code == 0
    assert result.stdout.strip() == "8004"
    # On prod-server, 8000-8003 and 8006 are taken and 8004 is free as well.
    assert (
        run("suggest", "x", "--category", "api", "--host", "prod-server").stdout.strip() == "8004"
    )
    # The registry keeps its ports for their owners.
    assert run("suggest", "grafana", "--host", "prod-server").stdout.strip() != "3001"
    assert run("suggest", "x", "--category", "nope").exit_code == 2
