"""`fix --remap` on a copy of the user story (shared/examples/orchestra)."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from click.testing import CliRunner
from oracle import compose_config, compose_ports

from compose_ports.commands import main

STACKS = {
    "production": ["docker-compose.production.yml"],
    "development": ["docker-compose.production.yml", "docker-compose.override.yml"],
    "mcp": ["mcp/docker-compose.yml"],
    "monitoring": ["monitoring/docker-compose.yml"],
}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def published(copy: Path, stack: str) -> dict[str, list[str]]:
    args = [a for f in STACKS[stack] for a in ("-f", f)]
    result = compose_config(copy, args)
    assert result.ok, result.error
    ports: dict[str, list[str]] = {}
    for port in compose_ports(result.config):
        ports.setdefault(port["service"], []).append(port.get("published", ""))
    return ports


def test_fix_then_remap_resolves_the_dev_laptop(orchestra: Path) -> None:
    before = {name: (orchestra / f).read_bytes() for f in STACKS["development"] for name in [f]}
    others = {f: (orchestra / f).read_bytes() for f in ("mcp/docker-compose.yml",)}
    assert run("fix").exit_code == 1
    production_after_fix = (orchestra / "docker-compose.production.yml").read_bytes()
    result = run("fix", "--remap", "--host", "dev-laptop")
    assert result.exit_code == 1, result.output
    assert result.output == "fixed docker-compose.override.yml\n"

    # Only the override changed in the remap, and in it only `ports:` lines and port scalars.
    assert (orchestra / "docker-compose.production.yml").read_bytes() == production_after_fix
    old = before["docker-compose.override.yml"].decode().splitlines()
    new = (orchestra / "docker-compose.override.yml").read_text().splitlines()
    changed = [
        line[1:]
        for line in difflib.unified_diff(old, new, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed
    assert all("ports:" in line or ":-" in line or '"' in line for line in changed), changed

    # Every stack still loads in the binary; the development stack publishes exactly these.
    development = published(orchestra, "development")
    assert development["postgres"] == ["5433"]
    assert development["redis"] == ["6380"]
    assert development["api"] == ["8004"]  # the lowest free port of the api range on dev-laptop
    for stack in ("production", "mcp", "monitoring"):
        published(orchestra, stack)
    assert published(orchestra, "production")["api"] == ["8000"]
    assert (orchestra / "mcp/docker-compose.yml").read_bytes() != others["mcp/docker-compose.yml"]

    # Lint is clean of conflicts on dev-laptop and of appended override ports.
    report = json.loads(run("lint", "--format", "json", "--select", "CP101,CP103").output)
    assert not [f for f in report["findings"] if f["code"] == "CP103"]
    assert not [f for f in report["findings"] if f.get("host") == "dev-laptop"]

    # And a second run changes nothing.
    snapshot = {p: p.read_bytes() for p in orchestra.rglob("*.yml")}
    assert run("fix", "--remap", "--host", "dev-laptop").exit_code == 0
    assert {p: p.read_bytes() for p in orchestra.rglob("*.yml")} == snapshot


def test_remap_copies_the_ports_the_override_does_not_replace(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n      - "8443:443"\n'
    )
    (tmp_path / "compose.override.yaml").write_text(
        'services:\n  web:\n    ports:\n      - "9080:80"   # dev port\n'
    )
    monkeypatch.chdir(tmp_path)
    result = run("fix", "--remap")
    assert result.exit_code == 1, result.output
    # The base's 443 stays published through the override's list, under the same variable that
    # this run gives it in the base file: a second fix has nothing left to do.
    assert (tmp_path / "compose.override.yaml").read_text() == (
        "services:\n  web:\n    ports: !override\n"
        f'      - "${{{tmp_path.name.upper()}_WEB_80_PORT:-9080}}:80"   # dev port\n'
        '      - "${WEB_443_PORT:-8443}:443"\n'
    )
    assert run("fix", "--remap").exit_code == 0
    theirs = compose_config(tmp_path, [])
    assert theirs.ok, theirs.error
    assert sorted((p["target"], p.get("published")) for p in compose_ports(theirs.config)) == [
        (80, "9080"),
        (443, "8443"),
    ]


def test_file_arguments_limit_the_edits_to_those_files(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".git").mkdir()
    base = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
    (tmp_path / "compose.yaml").write_text(base)
    (tmp_path / "compose.override.yaml").write_text('services:\n  web:\n    ports: ["9090:80"]\n')
    monkeypatch.chdir(tmp_path)
    result = run("fix", "compose.override.yaml")
    assert result.exit_code == 1
    assert result.output == "fixed compose.override.yaml\n"
    assert (tmp_path / "compose.yaml").read_text() == base
    assert "${" in (tmp_path / "compose.override.yaml").read_text()
    assert run("fix", "compose.override.yaml").exit_code == 0
