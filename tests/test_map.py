"""`compose-ports map` on the user story (shared/examples/orchestra), pinned and checked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import ORCHESTRA, SHARED, TESTS
from oracle import compose_config, compose_ports

from compose_ports.commands import main

SCHEMA = json.loads((TESTS.parent / "schemas" / "map.schema.json").read_text())
STACKS = {
    "production": ["docker-compose.production.yml"],
    "development": ["docker-compose.production.yml", "docker-compose.override.yml"],
    "mcp": ["mcp/docker-compose.yml"],
    "monitoring": ["monitoring/docker-compose.yml"],
}


def run(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_orchestra_map_snapshot(fmt: str, snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot.snapshot_dir = TESTS / "snapshots" / "map"
    code, output = run(["map", "examples/orchestra", "--format", fmt], SHARED, monkeypatch)
    assert code == 0
    snapshot.assert_match(output, f"orchestra.{ {'markdown': 'md'}.get(fmt, fmt) }")


def test_orchestra_json_follows_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    _, output = run(["map", "examples/orchestra", "--format", "json"], SHARED, monkeypatch)
    document = json.loads(output)
    jsonschema.validate(document, SCHEMA)
    development = next(p for p in document["projects"] if p["stack"] == "development")
    assert development["directory"] == "examples/orchestra"
    assert development["files"] == [f"examples/orchestra/{f}" for f in STACKS["development"]]
    postgres = [p for p in development["ports"] if p["service"] == "postgres"]
    assert [(p["published"], p["file"], p["line"], p["column"]) for p in postgres] == [
        ("5432", "examples/orchestra/docker-compose.production.yml", 16, 9),
        ("5433", "examples/orchestra/docker-compose.override.yml", 5, 9),
    ]


def test_orchestra_json_lists_each_host_with_its_stacks_and_conflicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, output = run(["map", "--format", "json"], ORCHESTRA, monkeypatch)
    hosts = json.loads(output)["hosts"]
    assert [(h["name"], h["stacks"], h["config"]) for h in hosts] == [
        ("prod-server", ["production", "mcp", "monitoring"], ".compose-ports.yaml"),
        ("dev-laptop", ["development", "mcp", "monitoring"], ".compose-ports.yaml"),
    ]
    conflicts = {
        h["name"]: {
            (c["service"], c["published"], tuple(w["service"] for w in c["with"]))
            for c in h["conflicts"]
        }
        for h in hosts
    }
    assert conflicts == {
        "prod-server": {("api", "8000", ("personas",)), ("personas", "8000", ("api",))},
        "dev-laptop": {
            ("api", "8000", ("personas",)),
            ("personas", "8000", ("api",)),
            ("api", "8010", ("docker-api",)),
            ("docker-api", "8010", ("api",)),
        },
    }
    docker_api = next(c for c in hosts[1]["conflicts"] if c["service"] == "docker-api")
    assert (docker_api["file"], docker_api["line"], docker_api["column"]) == (
        "mcp/docker-compose.yml",
        26,
        9,
    )
    assert docker_api["with"] == [
        {
            "service": "api",
            "stack": "development",
            "ports": "8010",
            "protocol": "tcp",
            "certain": True,
            "itself": False,
        }
    ]


def test_json_hosts_is_empty_without_a_hosts_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(
        'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n'
        '  b:\n    image: x\n    ports: ["8080:81"]\n'
    )
    code, output = run(["map", "--format", "json"], tmp_path, monkeypatch)
    document = json.loads(output)
    jsonschema.validate(document, SCHEMA)
    assert document["hosts"] == []
    # The table still marks a lone project's own conflict, without a machine's name.
    code, table = run(["map"], tmp_path, monkeypatch)
    assert code == 0
    lines = table.splitlines()
    assert lines[1].split() == [
        "HOST",
        "PORT",
        "SERVICE",
        "TARGET",
        "SOURCE",
        "VARIABLE",
        "CONFLICT",
    ]
    assert lines[2].split()[-2:] == ["b", f"({tmp_path.name.lower()})"]
    assert lines[3].split()[-2:] == ["a", f"({tmp_path.name.lower()})"]


def test_table_marks_conflicts_with_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    _, table = run(["map"], ORCHESTRA, monkeypatch)
    rows = {
        line.split()[0] + " " + line.split()[1]: line
        for line in table.splitlines()
        if "/tcp" in line
    }
    assert rows["8000/tcp personas"].endswith(
        "api (production) on prod-server; api (development) on dev-laptop"
    )
    assert rows["8010/tcp docker-api"].endswith("api (development) on dev-laptop")
    # A project with no conflict keeps the plain table.
    monitoring = table.split("\n\n")[-1].splitlines()
    assert monitoring[1].split() == ["HOST", "PORT", "SERVICE", "TARGET", "SOURCE", "VARIABLE"]


def test_orchestra_stacks_are_the_declared_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    _, output = run(["map", "--format", "json"], ORCHESTRA, monkeypatch)
    projects = json.loads(output)["projects"]
    assert sorted(p["stack"] for p in projects) == sorted(STACKS)
    for project in projects:
        assert project["files"] == STACKS[project["stack"]]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_orchestra_agrees_with_compose(stack: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = [a for f in STACKS[stack] for a in ("-f", f)]
    theirs = compose_config(ORCHESTRA, args)
    assert theirs.ok, theirs.error
    code, output = run(["map", "--format", "json", *args], ORCHESTRA, monkeypatch)
    assert code == 0
    (project,) = json.loads(output)["projects"]
    assert project["stack"] == stack
    expected = [
        (p["service"], p.get("host_ip"), p.get("published"), p["target"], p["protocol"])
        for p in compose_ports(theirs.config)
    ]
    got = [
        (p["service"], p["host_ip"], p["published"], p["target"], p["protocol"])
        for p in project["ports"]
    ]
    assert got == expected
    assert project["name"] == theirs.config["name"]


def test_map_exits_2_and_still_prints_when_a_project_has_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "compose.yaml").write_text('services:\n  web:\n    ports: ["8080:80"]\n')
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "compose.yaml").write_text('services:\n  web:\n    ports: ["70000:80"]\n')
    code, output = run(["map", "--format", "json"], tmp_path, monkeypatch)
    assert code == 2
    document = json.loads(output)
    jsonschema.validate(document, SCHEMA)
    by_dir = {p["directory"]: p for p in document["projects"]}
    assert [p["published"] for p in by_dir["good"]["ports"]] == ["8080"]
    assert by_dir["bad"]["ports"] == []
    assert by_dir["bad"]["errors"] == [
        {"file": "bad/compose.yaml", "line": 3, "column": 13, "message": "invalid hostPort: 70000"}
    ]


def test_compose_file_in_dot_env_is_the_stack_of_a_run_without_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "base.yml").write_text(
        'services:\n  a:\n    image: x\n    ports: ["1111:80"]\n'
    )
    (tmp_path / "stack" / "extra.yml").write_text('services:\n  a:\n    ports: ["2222:80"]\n')
    (tmp_path / "compose.yaml").write_text(
        'services:\n  b:\n    image: y\n    ports: ["3333:80"]\n'
    )
    (tmp_path / ".env").write_text("COMPOSE_FILE=stack/base.yml:stack/extra.yml\n")
    theirs = compose_config(tmp_path, [])
    assert theirs.ok, theirs.error
    code, output = run(["map", "--format", "json"], tmp_path, monkeypatch)
    assert code == 0
    (project,) = json.loads(output)["projects"]
    assert [(p["service"], p["published"]) for p in project["ports"]] == [
        (p["service"], p.get("published")) for p in compose_ports(theirs.config)
    ]
    assert project["files"] == ["stack/base.yml", "stack/extra.yml"]
