"""`--host NAME` means one machine on every command, and a name typed wrong gets its near miss.

On the orchestra example: prod-server runs production, mcp and monitoring; dev-laptop runs
development, mcp and monitoring; the registry speaks for prod-server alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compose_ports.commands import main


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def findings(*args: str) -> set[tuple[str, str | None, str | None, str | None]]:
    result = run("lint", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return {
        (f["code"], f["service"], f["stack"], f["host"])
        for f in json.loads(result.output)["findings"]
    }


def places(*args: str) -> set[tuple[str, str, int, str | None]]:
    """(code, file, line, host) of each finding: a file that two stacks read reports its
    problems once, under the first stack that reads it."""
    output = run("lint", "--format", "json", *args).output
    return {(f["code"], f["file"], f["line"], f["host"]) for f in json.loads(output)["findings"]}


# --- lint --host ---------------------------------------------------------------------------------


def test_lint_host_reports_the_stacks_of_that_machine_only(orchestra: Path) -> None:
    everything = findings()
    dev = findings("--host", "dev-laptop")
    assert {stack for _, _, stack, _ in dev} == {"development", "mcp", "monitoring"}
    # Exactly what the whole run says (every file is read by a stack of dev-laptop), but for
    # another machine's conflicts and the registry, which speaks for prod-server only.
    expected = {f for f in places() if f[3] in (None, "dev-laptop") and f[0] != "CP204"}
    assert places("--host", "dev-laptop") == expected
    assert len(everything) > len(dev)
    assert ("CP101", "docker-api", "mcp", "dev-laptop") in dev
    assert not any(code == "CP101" and host == "prod-server" for code, _, _, host in dev)
    assert not any(code == "CP204" for code, *_ in dev)


def test_lint_host_keeps_the_registry_on_its_own_host(orchestra: Path) -> None:
    prod = findings("--host", "prod-server")
    assert {stack for _, _, stack, _ in prod} == {"production", "mcp", "monitoring"}
    assert ("CP204", "personas", "mcp", None) in prod
    assert ("CP101", "personas", "mcp", "prod-server") in prod
    assert not any(host == "dev-laptop" for *_, host in prod)


def test_lint_host_counts_the_files_of_that_machine(orchestra: Path) -> None:
    summary = json.loads(run("lint", "--format", "json", "--host", "prod-server").output)
    # production, mcp and monitoring: the override file is development's alone.
    assert summary["summary"]["files_read"] == 3


# --- map --host ----------------------------------------------------------------------------------


def test_map_host_shows_that_machine_in_every_format(orchestra: Path) -> None:
    document = json.loads(run("map", "--format", "json", "--host", "dev-laptop").output)
    assert [p["stack"] for p in document["projects"]] == ["development", "mcp", "monitoring"]
    assert [h["name"] for h in document["hosts"]] == ["dev-laptop"]
    table = run("map", "--host", "prod-server").output
    assert "(stack production)" in table and "(stack development)" not in table
    # The conflicts shown are that machine's alone.
    assert "on dev-laptop" not in table and "personas (mcp) on prod-server" in table
    markdown = run("map", "--format", "markdown", "--host", "dev-laptop").output
    assert "## dev-laptop" in markdown and "## prod-server" not in markdown
    assert "Stacks on no host" not in markdown
    page = run("map", "--format", "html", "--host", "prod-server").output
    assert page.count('<section class="group"') == 1 and "prod-server" in page


# --- did you mean --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("lint", "--host", "dev-lapto"),
        ("map", "--host", "dev-lapto"),
        ("check", "--host", "dev-lapto"),
        ("suggest", "x", "--host", "dev-lapto"),
        ("env", "--host", "dev-lapto", "--environment", "development"),
        ("fix", "--remap", "--host", "dev-lapto", "--check"),
        ("lint", "--fix", "--remap", "--host", "dev-lapto"),
    ],
    ids=lambda a: " ".join(a),
)
def test_an_unknown_host_names_its_near_miss_and_changes_nothing(
    orchestra: Path, args: tuple[str, ...]
) -> None:
    before = {p: p.read_bytes() for p in orchestra.rglob("*.yml")}
    result = run(*args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if "no hosts: group" in line]
    assert len(lines) == 1
    assert lines[0].endswith(
        "no hosts: group named 'dev-lapto' in the config (did you mean 'dev-laptop'?)"
    )
    assert {p: p.read_bytes() for p in orchestra.rglob("*.yml")} == before
    assert not (orchestra / ".env.development").exists()


def test_a_stack_given_as_a_host_says_where_it_runs(orchestra: Path) -> None:
    result = run("lint", "--host", "mcp")
    assert result.exit_code == 2
    assert (
        "no hosts: group named 'mcp' in the config ('mcp' is a stack: it runs on prod-server, "
        "dev-laptop)"
    ) in result.output
    far = run("map", "--host", "laptop-of-bob")
    assert "(known: prod-server, dev-laptop)" in far.output


def test_a_config_without_hosts_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text('services:\n  a:\n    image: x\n    ports: ["80:80"]\n')
    monkeypatch.chdir(tmp_path)
    result = run("lint", "--host", "prod")
    assert result.exit_code == 2
    assert "no hosts: group named 'prod' in the config (the config declares no hosts:" in (
        result.output
    )


def test_rules_environments_and_ranges_name_their_near_miss(orchestra: Path) -> None:
    select = run("lint", "--select", "host-port-confict")
    assert select.exit_code == 2
    assert "unknown rule 'host-port-confict' (did you mean 'host-port-conflict'?)" in (
        select.output
    )
    ignore = run("lint", "--ignore", "CP2O1")
    assert ignore.exit_code == 2
    assert "unknown rule 'CP2O1' (did you mean 'CP201'?)" in ignore.output
    environment = run("env", "--host", "dev-laptop", "--environment", "develop")
    assert environment.exit_code == 2
    assert "no environment named 'develop' (did you mean 'development'?) in env.environments" in (
        environment.output
    )
    category = run("suggest", "x", "--category", "databse")
    assert category.exit_code == 2
    assert "no range named 'databse' in the config (did you mean 'database'?)" in category.output


# --- the proof on the user story ----------------------------------------------------------------

POLICY = ("CP101", "CP201", "CP204")  # conflict, range, registry


def test_the_laptop_env_file_adds_no_policy_finding_on_the_laptop(orchestra: Path) -> None:
    assert run("fix").exit_code == 1
    assert run("env", "--host", "dev-laptop", "--environment", "development").exit_code == 0

    def policy(*args: str) -> set[tuple[str, str, int, str | None, str | None]]:
        output = run("lint", "--format", "json", "--host", "dev-laptop", *args).output
        return {
            (f["code"], f["file"], f["line"], f["service"], f["host"])
            for f in json.loads(output)["findings"]
            if f["code"] in POLICY
        }

    without = policy()
    with_env = policy("--env-file", ".env.development")
    assert with_env <= without, with_env - without
    # What the file is for: the laptop's conflicts and the range it breaks are gone, and the
    # registry, which speaks for prod-server, says nothing on the laptop either way.
    assert {code for code, *_ in without} == {"CP101", "CP201"}
    assert with_env == set()
