"""A port whose value comes from an env file: the finding also points at the env file's line.

`WEAVIATE_PORT=8001` in `.env` makes the conflict; the compose line only says
`${WEAVIATE_PORT:-8080}`, so the line to change is the `.env` one: text, JSON and SARIF name it
as a related location (`WEAVIATE_PORT=8001 is set here`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports.commands import main
from compose_ports.compose.dotenv import parse_dotenv
from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.workspace import load_workspace
from compose_ports.findings import Related
from compose_ports.lint import lint
from compose_ports.model import EnvSetting, Origin


def run(*args: str) -> str:
    return CliRunner().invoke(main, list(args), catch_exceptions=False).output


def project(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def set_here(file: Path, line: int, column: int, text: str) -> Related:
    return Related(str(file), line, column, message=f"{text} is set here")


# --- where the .env parser finds each key --------------------------------------------------------


def test_the_parser_records_where_each_key_is_set() -> None:
    places: dict[str, tuple[int, int]] = {}
    text = "\ufeff# ports\nA=1\n\n  export B=2\r\nA=3\nC\nD='x\ny'\nE=5\n"
    values = parse_dotenv(text, {"C": "inherited"}.get, ".env", places)
    assert values == {"A": "3", "B": "2", "C": "inherited", "D": "x\ny", "E": "5"}
    # 1-based; the BOM takes no column; a key set twice is where it is set last; a multi-line
    # value moves the lines after it.
    assert places == {"A": (5, 1), "B": (4, 3), "C": (6, 1), "D": (7, 1), "E": (9, 1)}
    # Without `places`, the parser is what it was.
    assert parse_dotenv(text, {"C": "inherited"}.get) == values


# --- the model -----------------------------------------------------------------------------------


def test_a_binding_knows_the_env_file_line_of_its_value(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n"
                "  web:\n    image: nginx\n    ports: ['${WEB_PORT:-8080}:80']\n"
                "  api:\n    image: api\n    ports: ['${API_PORT:-9000}:9000']\n"
                "  db:\n    image: postgres\n    ports: ['${DB_PORT:-5432}:5432']\n"
                "  cache:\n    image: redis\n    ports: ['6379:6379']\n"
            ),
            ".env": "# local ports\nWEB_PORT=8081\n  export API_PORT=9001\n",
        },
    )
    options = LoadOptions(environ={"DB_PORT": "5433"}, cwd=str(root))
    (project_,) = load_workspace([], options).projects
    by_service = {b.service: b for b in project_.bindings}
    web, api = by_service["web"], by_service["api"]
    assert (web.origin, web.setting) == (
        Origin.ENVIRONMENT,
        EnvSetting("WEB_PORT", "8081", str(root / ".env"), 2, 1),
    )
    assert api.setting == EnvSetting("API_PORT", "9001", str(root / ".env"), 3, 3)
    # The process environment has no line to point at; a default or a literal has no variable.
    assert (by_service["db"].origin, by_service["db"].setting) == (Origin.ENVIRONMENT, None)
    assert by_service["cache"].setting is None


def test_a_named_env_file_is_the_place(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "compose.yaml": "services:\n  web:\n    image: x\n    ports: ['${WEB_PORT:-1}:80']\n",
            ".env": "WEB_PORT=8081\n",
            "env/dev.env": "OTHER=1\nWEB_PORT=8082\n",
        },
    )
    options = LoadOptions(environ={}, cwd=str(root), env_files=("env/dev.env",))
    (binding,) = load_workspace([], options).projects[0].bindings
    assert binding.setting == EnvSetting("WEB_PORT", "8082", str(root / "env/dev.env"), 2, 1)


# --- the rules -----------------------------------------------------------------------------------


CONFIG = (
    "ranges:\n  api: {ports: 8000-8999, services: [api, bridge]}\n"
    "  edge: {ports: 8080-8099, services: [low]}\n"
    "registry:\n  ports: {api: 8000, bridge: 8001}\n"
    "rules:\n  hardcoded-host-port: off\n  all-interfaces: off\n"
)


def test_each_port_rule_points_at_the_env_file_line(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            ".compose-ports.yaml": CONFIG,
            "compose.yaml": (
                "services:\n"
                "  api:\n    image: api\n    ports: ['${API_PORT:-8000}:8000']\n"
                "  bridge:\n    image: bridge\n    ports: ['8001:8001']\n"
                "  low:\n    image: low\n    ports: ['${LOW_PORT:-8080}:80']\n"
                "  high:\n    image: high\n    ports: ['${HIGH_PORT:-8081}:80']\n"
            ),
            ".env": "API_PORT=8001\nLOW_PORT=81\nHIGH_PORT=40000\n",
        },
    )
    env = root / ".env"
    result = lint(load_workspace([], LoadOptions(environ={}, cwd=str(root))))
    related = {(f.code, f.service): f.related for f in result.findings}
    api = set_here(env, 1, 1, "API_PORT=8001")
    # CP101 on bridge's literal 8001: the earlier side's value is set in .env.
    assert related["CP101", "bridge"][1:] == (api,)
    assert related["CP101", "bridge"][0].service == "api"
    # CP201, CP202, CP203 and CP204 on the ports the .env sets.
    assert related["CP201", "low"] == (set_here(env, 2, 1, "LOW_PORT=81"),)
    assert related["CP202", "low"] == (set_here(env, 2, 1, "LOW_PORT=81"),)
    assert related["CP203", "high"] == (set_here(env, 3, 1, "HIGH_PORT=40000"),)
    drift = [f for f in result.findings if f.code == "CP204" and f.service == "api"]
    assert [f.related for f in drift] == [(api,), (api,)]  # not its 8000, and bridge's 8001
    # A literal port has nothing to point at.
    assert not [f for f in result.findings if f.service == "bridge" and f.code != "CP101"]


def test_a_conflict_of_two_env_ports_names_both_lines(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n"
                "  a:\n    image: a\n    ports: ['${A_PORT:-7000}:80']\n"
                "  b:\n    image: b\n    ports: ['${B_PORT:-7001}:80']\n"
            ),
            ".env": "A_PORT=7005\nB_PORT=7005\n",
        },
    )
    result = lint(load_workspace([], LoadOptions(environ={}, cwd=str(root))))
    (conflict,) = [f for f in result.findings if f.code == "CP101"]
    env = root / ".env"
    assert conflict.related[1:] == (
        set_here(env, 2, 1, "B_PORT=7005"),  # the reported binding's own value first
        set_here(env, 1, 1, "A_PORT=7005"),
    )


# --- the user story: WEAVIATE_PORT=8001 in .env ---------------------------------------------------


@pytest.fixture
def weaviate_on_8001(orchestra: Path) -> Path:
    # fix gives weaviate `${WEAVIATE_PORT:-8080}`; the .env then moves it onto the bridge's port.
    assert CliRunner().invoke(main, ["fix"]).exit_code == 1
    (orchestra / ".env").write_text("# moved for the demo\nWEAVIATE_PORT=8001\n")
    return orchestra


def test_the_conflict_points_at_the_env_line_in_every_format(weaviate_on_8001: Path) -> None:
    report = json.loads(
        run("lint", "--format", "json", "--select", "CP101", "--host", "prod-server")
    )
    (conflict,) = [f for f in report["findings"] if f["service"] == "weaviate-bridge"]
    assert conflict["file"] == "mcp/docker-compose.yml"
    assert conflict["related"] == [
        {
            "file": "docker-compose.production.yml",
            "line": 28,
            "column": 9,
            "service": "weaviate",
            "project": "orchestra",
            "stack": "production",
            "message": None,
        },
        {
            "file": ".env",
            "line": 2,
            "column": 1,
            "service": None,
            "project": None,
            "stack": None,
            "message": "WEAVIATE_PORT=8001 is set here",
        },
    ]
    text = run("lint", "--format", "text", "--select", "CP101", "--host", "prod-server")
    assert "    also: .env:2:1 WEAVIATE_PORT=8001 is set here\n" in text
    sarif = json.loads(
        run("lint", "--format", "sarif", "--select", "CP101", "--host", "prod-server")
    )
    (result,) = [
        r for r in sarif["runs"][0]["results"] if r["properties"]["service"] == "weaviate-bridge"
    ]
    assert result["relatedLocations"][1] == {
        "id": 2,
        "physicalLocation": {
            "artifactLocation": {"uri": ".env", "uriBaseId": "SRCROOT"},
            "region": {"startLine": 2, "startColumn": 1},
        },
        "message": {"text": "WEAVIATE_PORT=8001 is set here"},
    }


def test_the_registry_drift_points_at_the_env_line_too(weaviate_on_8001: Path) -> None:
    report = json.loads(run("lint", "--format", "json", "--select", "CP204"))
    drift = [f for f in report["findings"] if f["service"] == "weaviate"]
    # Both of CP204's problems at one place are findings: not its port, and another's.
    assert {f["message"].split(", but ")[1] for f in drift} == {
        "the registry assigns it 8080",
        "the registry assigns 8001 to weaviate-bridge",
    }
    for finding in drift:
        assert [(r["file"], r["line"], r["message"]) for r in finding["related"]] == [
            (".env", 2, "WEAVIATE_PORT=8001 is set here")
        ]
