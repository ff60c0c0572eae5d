"""`check`, `env` and `suggest`: the registry commands, on real sockets and the user story."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from click.testing import CliRunner

from compose_ports.commands import main


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
    # The development offset (1000) would take the api's 8000 out of the api range 8000-8999:
    # the lowest port of the range above it that the registry gives nobody else (8001-8003 are
    # registered) and nothing else on the host takes.
    assert values["API_PORT"] == "8004"
    assert "API_PORT=8004: moved, the offset takes it out of the api range 8000-8999" in (
        result.output
    )
    # Where the offset keeps the policy, the value is the port plus the offset.
    assert values["NGINX_80_PORT"] == "1080"
    assert values["FLUENTD_PORT"] == "25224"
    # No value leaves its service's range, nor takes a port the registry gives another service.
    ranges = {"API": (8000, 8999), "POSTGRES": (5000, 5999), "REDIS": (6000, 6999)}
    for name, value in values.items():
        for prefix, (low, high) in ranges.items():
            if name.startswith((prefix, f"DEVELOPMENT_{prefix}")):
                assert low <= int(value) <= high, (name, value)
    assert values["PERSONAS_PORT"] not in {"8000", "8001", "8002", "8003", "8006", "8080"}
    assert len(set(values.values()) - {"25224"}) == len(values) - 2  # tcp and udp may share
    # A second run adds nothing and changes nothing.
    before = (orchestra / ".env.development").read_bytes()
    again = run("env", "--host", "dev-laptop", "--environment", "development")
    assert "0 added" in again.output
    assert (orchestra / ".env.development").read_bytes() == before


def test_env_values_add_no_range_or_conflict_finding(orchestra: Path) -> None:
    assert run("fix").exit_code == 1
    assert run("env", "--host", "dev-laptop", "--environment", "development").exit_code == 0

    def findings(*args: str) -> list[tuple[str, str | None]]:
        output = run("lint", "--format", "json", "--select", "CP101,CP201", *args).output
        report = json.loads(output)
        return sorted(
            (f["code"], f["service"])
            for f in report["findings"]
            if f["code"] == "CP201" or f["host"] == "dev-laptop"
        )

    without = findings()
    with_env = findings("--env-file", ".env.development")
    assert set(with_env) <= set(without), set(with_env) - set(without)


def test_env_names_the_known_environments_of_an_unknown_one(orchestra: Path) -> None:
    result = run("env", "--host", "dev-laptop", "--environment", "develop")
    assert result.exit_code == 2
    assert "no environment named 'develop'" in result.output
    assert "(known: development)" in result.output
    assert not (orchestra / ".env.develop").exists()


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
