"""`map --format prometheus`: each host's bindings as Prometheus `file_sd` targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from compose_ports.commands import main

CONFIG = """\
stacks:
  shop: [shop/compose.yaml]
  metrics: [metrics/compose.yaml]
  tools: [tools/compose.yaml]
hosts:
  staging: [shop, metrics]
  laptop: [metrics]
"""

SHOP = """\
services:
  web:
    image: nginx
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443"
      - "[::1]:8444:443"
      - "0.0.0.0:8081:81"
      - "[::]:8082:82"
      - "[::ffff:127.0.0.1]:8083:83"
      - "9000-9002:9000-9002"
      - "7000-7010:70"
      - "5353:53/udp"
      - "90"
  db:
    image: postgres
    ports: ["5432:5432", "5432:5432"]
  hidden:
    image: busybox
    ports: ["6000:6000"]
    network_mode: host
  later:
    image: busybox
    profiles: [later]
    ports: ["6001:6001"]
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".compose-ports.yaml").write_text(CONFIG)
    for name, text in {
        "shop": SHOP,
        "metrics": "services:\n  prometheus:\n    image: prom/prometheus\n"
        '    ports: ["9090:9090"]\n',
        "tools": 'services:\n  adminer:\n    image: adminer\n    ports: ["8888:8080"]\n',
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["map", "--format", "prometheus", *args])


def targets(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, list)
    return document


def labelled(document: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[str]]:
    found = {}
    for entry in document:
        assert set(entry) == {"targets", "labels"}
        assert set(entry["labels"]) == {"service", "stack", "host"}
        labels = entry["labels"]
        found[(labels["host"], labels["stack"], labels["service"])] = entry["targets"]
    return found


def test_each_hosts_bindings_as_file_sd_targets(repo: Path) -> None:
    found = labelled(targets(run()))
    assert found == {
        ("staging", "shop", "db"): ["localhost:5432"],
        (
            "staging",
            "shop",
            "web",
        ): [
            "localhost:8080",
            "127.0.0.1:8443",
            "[::1]:8444",
            "localhost:8081",
            "localhost:8082",
            "127.0.0.1:8083",
            "localhost:9000",
            "localhost:9001",
            "localhost:9002",
        ],
        ("staging", "metrics", "prometheus"): ["localhost:9090"],
        ("laptop", "metrics", "prometheus"): ["localhost:9090"],
        ("", "tools", "adminer"): ["localhost:8888"],
    }


def test_address_is_used_for_bindings_on_every_interface(repo: Path) -> None:
    found = labelled(targets(run("--address", "staging.example")))
    web = found[("staging", "shop", "web")]
    assert "staging.example:8080" in web and "127.0.0.1:8443" in web and "[::1]:8444" in web
    assert found[("", "tools", "adminer")] == ["staging.example:8888"]
    ipv6 = labelled(targets(run("--address", "2001:db8::1")))
    assert ipv6[("", "tools", "adminer")] == ["[2001:db8::1]:8888"]


def test_the_output_is_deterministic(repo: Path) -> None:
    assert run().stdout == run().stdout


def test_a_bad_address_is_one_line_and_exit_2(repo: Path) -> None:
    # The console script, which turns the error into its line and exit code.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "compose_ports",
            "map",
            "--format",
            "prometheus",
            "--address",
            "a b",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "--address 'a b': not a host name or address\n"


def test_a_stack_on_no_host_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n'
    )
    monkeypatch.chdir(tmp_path)
    assert targets(run()) == [
        {
            "targets": ["localhost:80"],
            "labels": {"service": "web", "stack": tmp_path.name.lower(), "host": ""},
        }
    ]


def test_nothing_published_is_an_empty_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    monkeypatch.chdir(tmp_path)
    assert run().stdout == "[]\n"
