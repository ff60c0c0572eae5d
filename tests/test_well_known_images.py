"""Well-known images get a category on display without a config entry; the config comes first,
and rules keep to the config alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports import policy
from compose_ports.commands import main
from compose_ports.policy.config import Config, PortRange
from compose_ports.policy.templates import STANDARD, TEMPLATES


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("postgres:16.4", "database"),
        ("postgres", "database"),
        ("docker.io/library/postgres:16", "database"),
        ("mirror.example.com:5000/library/mysql:8", "database"),
        ("localhost/redis:7", "cache"),
        ("mongo:7", "database"),
        ("mongo@sha256:0123abcd", "database"),
        ("bitnami/postgresql:15", "database"),
        ("redis:7.4", "cache"),
        ("rabbitmq:3-management", "cache"),
        ("memcached", "cache"),
        ("nginx:1.27", "api"),
        ("traefik:v3", "api"),
        ("prom/prometheus:v2.54.1", "monitoring"),
        ("grafana/grafana:11.2.0", "monitoring"),
        ("grafana/loki:3.1.1", "monitoring"),
        ("fluent/fluentd:v1.17-1", "monitoring"),
        # Not well known, or only alike.
        ("mongo-express:1", None),
        ("orchestra/api:1.4.0", None),
        ("semitechnologies/weaviate:1.26.1", None),
        # A Docker Hub user's image is not the official one (no registry to strip).
        ("acme/postgres:16", None),
    ],
)
def test_well_known_without_a_config(image: str, expected: str | None) -> None:
    found = policy.display_category(None, "svc", image)
    assert (found.name if found else None) == expected
    if found is not None:
        template = {r.name: r for r in STANDARD}[found.name]
        assert (found.start, found.end) == (template.start, template.end)
    # Rules ask `category`: without a config, nothing.
    assert policy.category(None, "svc", image) is None


def _config(*ranges: PortRange) -> Config:
    return Config(path=Path("/x/.compose-ports.yaml"), ranges=ranges)


def test_the_config_comes_first() -> None:
    edge = PortRange("edge", 80, 443, images=("nginx*",))
    by_name = PortRange("proxy", 10000, 10999, services=("front",))
    config = _config(by_name, edge)
    assert policy.display_category(config, "web", "nginx:1.27") == edge
    # By service name before any image, the config's or a well-known one.
    assert policy.display_category(config, "front", "nginx:1.27") == by_name
    assert policy.display_category(config, "front", "postgres:16") == by_name


def test_a_well_known_image_joins_the_configs_range_of_that_name() -> None:
    # The team's `database` range has other ports and names no mysql image: mysql is shown in
    # it (and takes its band's colour), with the team's ports, not the template's.
    database = PortRange("database", 15000, 15999, images=("postgres*",))
    found = policy.display_category(_config(database), "db", "mysql:8")
    assert found == database
    # A category the config does not have: the template's range.
    found = policy.display_category(_config(database), "cache", "redis:7")
    assert found == PortRange("cache", 6000, 6999)


def test_rules_keep_to_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CP201 judges nginx on 80 by the config alone: it names no image, so no finding."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx:1.27\n    ports: ["80:80"]\n'
    )
    (tmp_path / ".compose-ports.yaml").write_text(
        'ranges:\n  api:\n    ports: 8000-8999\n    services: ["api"]\n'
    )
    monkeypatch.chdir(tmp_path)
    result = run("lint", "--format", "json", "--select", "CP201", "--exit-zero")
    assert json.loads(result.output)["findings"] == []
    # The registry shows it in the api category all the same.
    table = run("map", "--format", "markdown").output
    assert re.search(r"\| 80 \| tcp \| all \| web \|.*\| api \|", table), table


def test_the_registry_shows_nginx_and_fluentd(orchestra: Path) -> None:
    """They showed a blank category; nginx is a web service, fluentd ships logs."""
    table = run("map", "--format", "markdown").output
    rows = {
        (cells[0], cells[1], cells[3]): cells[7]
        for line in table.splitlines()
        if line.startswith("| ")
        and (cells := [c.strip() for c in line.strip("|").split("|")])
        and len(cells) > 7
    }
    assert rows["80", "tcp", "nginx"] == "api"
    assert rows["443", "tcp", "nginx"] == "api"
    assert rows["24224", "tcp", "fluentd"] == "monitoring"
    assert rows["24224", "udp", "fluentd"] == "monitoring"


def test_the_html_bands_colour_them(orchestra: Path) -> None:
    page = run("map", "--format", "html").output

    def chip(service: str) -> str:
        match = re.search(
            rf'<td class="service">{service}</td>.*?<td class="category"><span class="chip" '
            r'style="--c:(#[0-9a-f]{6})">([a-z]+)</span>',
            page,
        )
        assert match, service
        return f"{match.group(2)} {match.group(1)}"

    # fluentd takes the monitoring band's colour, as prometheus does; nginx the api band's.
    assert chip("fluentd") == chip("prometheus")
    assert chip("fluentd").startswith("monitoring ")
    assert chip("nginx") == chip("conductor")
    assert chip("nginx").startswith("api ")


def test_the_standard_template_is_the_widely_used_layout() -> None:
    assert TEMPLATES["standard"] is STANDARD
    assert [(r.name, r.start, r.end) for r in STANDARD] == [
        ("frontend", 3000, 3999),
        ("database", 5000, 5999),
        ("cache", 6000, 6999),
        ("api", 8000, 8999),
        ("monitoring", 9000, 9999),
    ]
