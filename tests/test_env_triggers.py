"""An env file given as a trigger (pre-commit passes a changed `.env`) stands for the stacks that
interpolate from it: a project's own `.env`, an `--env-file`/COMPOSE_ENV_FILES, an included
project's `.env` or `env_file` list; never a service's `env_file:`. `fix` fixes those stacks'
compose files as if they had been given, and never edits the env file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.workspace import Workspace, load_workspace, trigger_files
from compose_ports.lint import lint


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    for name in ("COMPOSE_ENV_FILES", "COMPOSE_FILE", "COMPOSE_DISABLE_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


WEB_AND_API = (
    "services:\n"
    "  web:\n"
    "    image: nginx\n"
    '    ports: ["${WEB_PORT:-8080}:80"]\n'
    "  api:\n"
    "    image: api\n"
    '    ports: ["8081:8000"]\n'
)


def workspace(*paths: str, env: dict[str, str] | None = None, **options: object) -> Workspace:
    environ = {**os.environ, **(env or {})}
    return load_workspace(paths, LoadOptions(environ=environ, cwd=os.getcwd(), **options))  # type: ignore[arg-type]


def stacks(ws: Workspace, root: Path) -> set[tuple[str, ...]]:
    return {tuple(Path(f).relative_to(root).as_posix() for f in p.files) for p in ws.projects}


def triggered(ws: Workspace, given: str, root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in trigger_files(ws, [given], os.getcwd())]


def test_a_projects_own_env_selects_its_stack(repo: Path) -> None:
    write(repo / "compose.yaml", WEB_AND_API)
    write(repo / ".env", "WEB_PORT=8081\n")
    write(
        repo / "other" / "compose.yaml", 'services:\n  x:\n    image: x\n    ports: ["9000:9000"]\n'
    )
    ws = workspace(".env")
    assert stacks(ws, repo) == {("compose.yaml",)}
    assert triggered(ws, ".env", repo) == ["compose.yaml"]
    codes = [f.code for f in lint(ws, triggers=trigger_files(ws, [".env"], str(repo))).findings]
    assert "CP101" in codes


def test_lint_catches_the_conflict_an_env_change_makes(repo: Path) -> None:
    write(repo / "compose.yaml", WEB_AND_API)
    write(repo / ".env", "WEB_PORT=8081\n")
    result = run("lint", ".env", "--format", "json")
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["findings"]
    assert [f["code"] for f in findings if f["code"] == "CP101"] == ["CP101"]
    write(repo / ".env", "WEB_PORT=8082\n")
    assert run("lint", ".env", "--select", "CP101").exit_code == 0


def test_fix_fixes_the_stacks_files_and_never_the_env_file(repo: Path) -> None:
    write(repo / "compose.yaml", WEB_AND_API)
    env = write(repo / ".env", "WEB_PORT=8080 # the web front\n")
    before = env.read_bytes()
    check = run("fix", "--check", ".env")
    assert check.exit_code == 1
    assert "would fix compose.yaml" in check.output
    result = run("fix", ".env")
    assert result.exit_code == 1, result.output
    assert "fixed compose.yaml" in result.output
    assert '"${API_PORT:-8081}:8000"' in (repo / "compose.yaml").read_text()
    assert env.read_bytes() == before
    assert run("fix", ".env").exit_code == 0  # nothing left to do


def test_an_env_file_no_stack_reads_selects_nothing(repo: Path) -> None:
    write(repo / "compose.yaml", WEB_AND_API.replace("8081:8000", "8082:8000"))
    write(repo / "web" / ".env", "WEB_PORT=8082\n")  # a front end's, beside the stacks
    ws = workspace("web/.env")
    assert ws.projects == () and not ws.has_errors
    assert triggered(ws, "web/.env", repo) == []
    for command in (("lint",), ("fix",)):
        result = run(*command, "web/.env")
        assert result.exit_code == 0, result.output
    assert "8082:8000" in (repo / "compose.yaml").read_text()


def test_a_services_env_file_is_not_interpolated_from(repo: Path) -> None:
    write(
        repo / "compose.yaml",
        'services:\n  web:\n    image: nginx\n    env_file: [web.env]\n    ports: ["8080:80"]\n',
    )
    write(repo / "web.env", "WEB_PORT=8081\n")
    assert workspace("web.env").projects == ()


def test_compose_disable_env_file(repo: Path) -> None:
    write(repo / "compose.yaml", WEB_AND_API)
    write(repo / ".env", "WEB_PORT=8081\n")
    assert workspace(".env", env={"COMPOSE_DISABLE_ENV_FILE": "1"}).projects == ()


def test_an_included_projects_env(repo: Path) -> None:
    """`include` reads the included project's `.env` (or its `env_file` list): the including
    stack reads the env file, and the included compose file is where its ports are."""
    write(
        repo / "shared" / "compose.yaml",
        'services:\n  cache:\n    image: redis\n    ports: ["${CACHE_PORT:-6379}:6379"]\n',
    )
    write(repo / "shared" / ".env", "CACHE_PORT=6380\n")
    write(
        repo / "app" / "compose.yaml",
        "include:\n  - ../shared/compose.yaml\n"
        'services:\n  app:\n    image: app\n    ports: ["6380:80"]\n',
    )
    write(
        repo / "tools" / "compose.yaml",
        "include:\n  - path: ../lib/compose.yaml\n    env_file: ../lib/ports.env\n"
        'services:\n  tool:\n    image: tool\n    ports: ["7000:70"]\n',
    )
    write(
        repo / "lib" / "compose.yaml",
        'services:\n  lib:\n    image: lib\n    ports: ["${LIB_PORT:-7001}:70"]\n',
    )
    write(repo / "lib" / "ports.env", "LIB_PORT=7000\n")

    ws = workspace("shared/.env")
    assert stacks(ws, repo) == {("shared/compose.yaml",), ("app/compose.yaml",)}
    assert set(triggered(ws, "shared/.env", repo)) == {"shared/compose.yaml", "app/compose.yaml"}
    conflicts = [
        f
        for f in lint(ws, triggers=trigger_files(ws, ["shared/.env"], str(repo))).findings
        if f.code == "CP101"
    ]
    assert conflicts and {f.stack or f.project for f in conflicts} == {"app"}

    ws = workspace("lib/ports.env")
    # lib's own stack does not read ports.env (not a `.env`): only the stack including it.
    assert stacks(ws, repo) == {("tools/compose.yaml",)}
    assert set(triggered(ws, "lib/ports.env", repo)) == {"tools/compose.yaml", "lib/compose.yaml"}


def test_an_env_file_the_run_names_is_every_stacks(repo: Path) -> None:
    write(repo / "a" / "compose.yaml", WEB_AND_API)
    write(repo / "b" / "compose.yaml", 'services:\n  b:\n    image: b\n    ports: ["9000:9000"]\n')
    write(repo / "ops" / "ports.env", "WEB_PORT=8081\n")
    expected = {("a/compose.yaml",), ("b/compose.yaml",)}
    assert stacks(workspace("ops/ports.env", env_files=("ops/ports.env",)), repo) == expected
    ws = workspace("ops/ports.env", env={"COMPOSE_ENV_FILES": "ops/ports.env"})
    assert stacks(ws, repo) == expected
    # Named or not, a `*.env` no stack reads selects nothing.
    assert workspace("ops/ports.env").projects == ()


def test_the_stacks_sharing_a_host_come_along(repo: Path) -> None:
    write(repo / "a" / "compose.yaml", WEB_AND_API.replace("8081:8000", "8070:8000"))
    write(repo / "a" / ".env", "WEB_PORT=9000\n")
    write(repo / "b" / "compose.yaml", 'services:\n  b:\n    image: b\n    ports: ["9000:9000"]\n')
    write(repo / "c" / "compose.yaml", 'services:\n  c:\n    image: c\n    ports: ["9100:9000"]\n')
    write(
        repo / ".compose-ports.yaml",
        "stacks:\n  a: [a/compose.yaml]\n  b: [b/compose.yaml]\n  c: [c/compose.yaml]\n"
        "hosts:\n  server: [a, b]\n",
    )
    ws = workspace("a/.env")
    assert {p.stack for p in ws.projects} == {"a", "b"}
    result = run("lint", "a/.env", "--select", "CP101", "--format", "json")
    assert result.exit_code == 1, result.output
    assert {f["host"] for f in json.loads(result.output)["findings"]} == {"server"}


def test_a_changed_env_and_a_compose_file_together(repo: Path) -> None:
    write(repo / "compose.yaml", WEB_AND_API)
    write(repo / ".env", "WEB_PORT=8081\n")
    write(repo / "b" / "compose.yaml", 'services:\n  b:\n    image: b\n    ports: ["9000:9000"]\n')
    ws = workspace(".env", "b/compose.yaml")
    assert stacks(ws, repo) == {("compose.yaml",), ("b/compose.yaml",)}
    given = [
        p.relative_to(repo).as_posix()
        for p in trigger_files(ws, [".env", "b/compose.yaml"], str(repo))
    ]
    assert given == ["compose.yaml", "b/compose.yaml"]
