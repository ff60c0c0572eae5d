"""`compose-ports init`: a starter config from the repository, as a new user meets it."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports.commands import main
from compose_ports.commands.init import find_stacks
from compose_ports.compose import discovery
from compose_ports.policy.config import load_config
from compose_ports.policy.writing import create as _create

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def new_user(orchestra: Path) -> Path:
    """The user story before its team wrote a config."""
    (orchestra / ".compose-ports.yaml").unlink()
    return orchestra


def cp201(output: str) -> list[tuple[str, int]]:
    findings = json.loads(output)["findings"]
    return sorted((f["file"], f["line"]) for f in findings if f["code"] == "CP201")


def test_orchestra_as_a_new_user(new_user: Path) -> None:
    result = run("init")
    assert result.exit_code == 0, result.output
    config = load_config(new_user / ".compose-ports.yaml")  # the config check, schema and all
    assert {
        name: [p.relative_to(new_user).as_posix() for p in files]
        for name, files in config.stacks.items()
    } == {
        "production": ["docker-compose.production.yml"],
        "production-override": ["docker-compose.production.yml", "docker-compose.override.yml"],
        "mcp": ["mcp/docker-compose.yml"],
        "monitoring": ["monitoring/docker-compose.yml"],
    }
    assert config.hosts == {"main": ("production", "mcp", "monitoring")}
    assert [(r.name, r.start, r.end) for r in config.ranges] == [
        ("frontend", 3000, 3999),
        ("database", 5000, 5999),
        ("cache", 6000, 6999),
        ("api", 8000, 8999),
        ("monitoring", 9000, 9999),
    ]
    # Today's ports on the host: api was met first on 8000, so personas is left out.
    assert config.registry_hosts == ("main",)
    assert config.registry_ports["postgres"] == 5432
    assert config.registry_ports["api"] == 8000
    assert config.registry_ports["nginx"] == 80
    assert config.registry_ports["grafana"] == 3001
    assert "personas" not in config.registry_ports
    assert "left out of the registry: personas (stack mcp): 8000 is api's (stack production)" in (
        result.output
    )

    # lint then runs with it: findings (exit 1), never an error.
    lint = run("lint", "--format", "json")
    assert lint.exit_code == 1, lint.output
    outside = cp201(lint.output)
    # The audit: loki on 3100 and grafana on 3001 are not in the monitoring range 9000-9999.
    assert ("monitoring/docker-compose.yml", 10) in outside
    assert ("monitoring/docker-compose.yml", 18) in outside
    # init said how many, and which, with lint's own rule.
    count = int(re.search(r"^(\d+) of today's ports are outside", result.output, re.M)[1])
    assert count == len(outside)
    listed = re.findall(r"^  ([^ :]+):(\d+):\d+: .* is outside the ", result.output, re.M)
    assert sorted((f, int(n)) for f, n in listed) == outside
    assert "loki is outside the monitoring range 9000-9999" in result.output


def test_what_init_prints(new_user: Path) -> None:
    out = run("init").output
    assert ".compose-ports.yaml: written" in out
    assert "found 4 compose files, 4 stacks:" in out
    assert re.search(
        r"^  production-override +docker-compose.production.yml \+ docker-compose.override.yml$",
        out,
        re.M,
    )
    assert "hosts: main: production, mcp, monitoring" in out
    assert "ranges (standard): frontend 3000-3999, database 5000-5999" in out
    assert out.rstrip().endswith("next: `compose-ports lint`")


def test_the_config_is_valid_for_editors_too(new_user: Path) -> None:
    """Checked with the schema editors use, independently of the loader."""
    import jsonschema
    import yaml

    assert run("init").exit_code == 0
    schema = json.loads((ROOT / "schemas" / "config.schema.json").read_text())
    document = yaml.safe_load((new_user / ".compose-ports.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)


def test_never_overwrites(new_user: Path) -> None:
    config = new_user / ".compose-ports.yaml"
    config.write_text("# ours\n")
    result = run("init")
    assert result.exit_code == 2
    assert result.output.strip() == (
        ".compose-ports.yaml: already exists: init never overwrites a config: nothing written"
    )
    assert config.read_text() == "# ours\n"
    config.unlink()
    (new_user / ".compose-ports.yml").write_text("# ours\n")
    assert run("init").exit_code == 2
    (new_user / ".compose-ports.yml").unlink()
    (new_user / "pyproject.toml").write_text(
        '[tool.compose-ports]\nenv = {variable = "{SERVICE}"}\n'
    )
    result = run("init")
    assert result.exit_code == 2 and "[tool.compose-ports]" in result.output
    (new_user / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no config in it
    assert run("init").exit_code == 0


def test_a_link_in_its_place_is_not_followed(new_user: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    (new_user / ".compose-ports.yaml").symlink_to(elsewhere)  # dangling
    assert run("init").exit_code == 2
    assert not elsewhere.exists()


def test_refuses_to_write_outside_the_repository(new_user: Path, tmp_path: Path) -> None:
    result = run("init", "--output", "../policy.yaml")
    assert result.exit_code == 2
    assert "outside the repository" in result.output
    assert not (new_user.parent / "policy.yaml").exists()
    (tmp_path / "out").mkdir()
    (new_user / "out").symlink_to(tmp_path / "out")
    assert run("init", "--output", "out/policy.yaml").exit_code == 2
    assert list((tmp_path / "out").iterdir()) == []
    result = run("init", "--output", "missing/policy.yaml")
    assert result.exit_code == 2 and "its directory does not exist" in result.output


def test_written_whole_with_the_usual_mode(new_user: Path) -> None:
    before = set(os.listdir(new_user))
    assert run("init").exit_code == 0
    assert set(os.listdir(new_user)) - before == {".compose-ports.yaml"}  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE((new_user / ".compose-ports.yaml").stat().st_mode)
    assert mode == 0o666 & ~umask


def test_a_file_that_appears_meanwhile_is_kept(tmp_path: Path) -> None:
    """Between the look and the write, someone else creates the file: theirs stays."""
    target = tmp_path / ".compose-ports.yaml"
    target.write_text("theirs\n")
    assert _create(target, b"ours\n") is False
    assert target.read_text() == "theirs\n"
    assert os.listdir(tmp_path) == [".compose-ports.yaml"]
    other = tmp_path / "new.yaml"
    assert _create(other, b"ours\n") is True
    assert other.read_bytes() == b"ours\n"


def test_nothing_written_when_lint_could_not_read(new_user: Path) -> None:
    (new_user / "mcp" / "docker-compose.yml").write_text("services: [\n")
    result = run("init")
    assert result.exit_code == 2
    assert "mcp/docker-compose.yml:" in result.output
    assert "nothing written" in result.output
    assert not (new_user / ".compose-ports.yaml").exists()


def test_no_compose_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run("init")
    assert result.exit_code == 2
    assert result.output.strip() == ".: no compose files found: nothing written"
    assert run("init", "missing").exit_code == 2


def test_without_ranges(new_user: Path) -> None:
    result = run("init", "--ranges", "none", "--host", "prod-server")
    assert result.exit_code == 0, result.output
    config = load_config(new_user / ".compose-ports.yaml")
    assert config.ranges == ()
    assert config.hosts == {"prod-server": ("production", "mcp", "monitoring")}
    assert "outside" not in result.output
    assert cp201(run("lint", "--format", "json").output) == []


def test_stacks_of_every_kind(tmp_path: Path) -> None:
    """Main file with its override and variants; a directory with an override but no main file
    (the override goes with each file it can extend); another file read alone."""
    names = [
        "compose.yaml",
        "compose.override.yaml",
        "compose.prod.yaml",
        "compose.staging.yaml",
        "docker-compose-tools.yml",
        "svc/docker-compose.staging.yml",
        "svc/docker-compose.production.yml",
        "svc/docker-compose.override.yml",
        "svc/deep/compose.yml",
    ]
    files = []
    for name in names:
        path = tmp_path / "shop" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("services: {}\n")
        files.append(path)
    root = tmp_path / "shop"
    found = {
        s.name: ([f.relative_to(root).as_posix() for f in s.files], s.on_host)
        for s in find_stacks(root, discovery.scan(root))
    }
    assert found == {
        "shop": (["compose.yaml", "compose.override.yaml"], True),
        "prod": (["compose.yaml", "compose.prod.yaml"], False),
        "staging": (["compose.yaml", "compose.staging.yaml"], False),
        "docker-compose-tools": (["docker-compose-tools.yml"], True),
        "svc-production": (["svc/docker-compose.production.yml"], True),
        "svc-production-override": (
            ["svc/docker-compose.production.yml", "svc/docker-compose.override.yml"],
            False,
        ),
        "svc-staging": (["svc/docker-compose.staging.yml"], False),
        "svc-staging-override": (
            ["svc/docker-compose.staging.yml", "svc/docker-compose.override.yml"],
            False,
        ),
        "svc-deep": (["svc/deep/compose.yml"], True),
    }


def test_names_yaml_would_misread_are_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "my app").mkdir()
    (repo / "my app" / "compose.yaml").write_text(
        "services:\n"
        '  "on":\n    image: postgres:16\n    ports: ["5432:5432"]\n'
        '  "1":\n    image: x\n    ports: ["7000:7000"]\n'
        '  "null":\n    image: x\n    ports: ["7001:7000"]\n'
    )
    monkeypatch.chdir(repo)
    result = run("init")
    assert result.exit_code == 0, result.output
    config = load_config(repo / ".compose-ports.yaml")
    assert config.stacks == {"my app": (repo / "my app" / "compose.yaml",)}
    assert config.registry_ports == {"on": 5432, "1": 7000, "null": 7001}
    assert run("lint").exit_code in (0, 1)


def test_the_starter_policy_needs_only_the_loaded_stacks(new_user: Path) -> None:
    """What init writes is the starter policy's proposal, made from the loaded projects alone."""
    from compose_ports.compose.loading import LoadOptions, load_project
    from compose_ports.policy import starter

    stacks = find_stacks(new_user, discovery.scan(new_user))
    projects = [
        load_project(LoadOptions(files=tuple(map(str, s.files))), stack=s.name) for s in stacks
    ]
    target = new_user / ".compose-ports.yaml"
    proposal = starter.propose(stacks, projects, target, "main", "standard")
    assert proposal.registry.left_out == ("personas (stack mcp): 8000 is api's (stack production)",)
    assert [s.name for s in proposal.on_host] == ["production", "mcp", "monitoring"]
    assert not target.exists()  # proposing writes nothing
    assert run("init").exit_code == 0
    assert target.read_text() == proposal.text
    assert load_config(target).registry_ports == proposal.config.registry_ports
