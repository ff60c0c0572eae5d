"""`lint --fix`: fix what the selection keeps, then report what is left, as ruff does.

The fix is `compose-ports fix` itself (`--remap` too when given), told which rules the selection
keeps; the report on stdout stays in its format, and fix's own lines go to stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions
from compose_ports.fix.pipeline import FixRequest, run

COMPOSE = (
    "services:\n"
    "  web:\n"
    "    image: nginx\n"
    "    ports:\n"
    '      - "8080:80"\n'
    "  ssh:\n"
    "    image: sshd\n"
    "    ports:\n"
    "      - 2222:22\n"
)
OVERRIDE = 'services:\n  web:\n    ports: ["8081:80"]\n'


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("COMPOSE_", "DOCKER_")) or "PORT" in name.upper():
            monkeypatch.delenv(name)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def codes(result: Result) -> list[str]:
    return sorted(f["code"] for f in json.loads(result.stdout)["findings"])


def test_fix_then_report_what_is_left(repo: Path) -> None:
    before = cli("lint", "--format", "json")
    assert codes(before) == ["CP301", "CP301", "CP302"]
    result = cli("lint", "--fix", "--format", "json")
    # The report is what is left, in its format on stdout; what fix did is said on stderr.
    assert json.loads(result.stdout)["findings"] == []
    assert result.stderr == "fixed compose.yaml\n"
    assert result.exit_code == 0
    text = (repo / "compose.yaml").read_text()
    assert '"${WEB_PORT:-8080}:80"' in text and '"${SSH_PORT:-2222}:22"' in text
    # A second run has nothing to fix.
    again = cli("lint", "--fix")
    assert again.stderr == "" and again.exit_code == 0


def test_only_the_selected_rules_are_fixed(repo: Path) -> None:
    result = cli("lint", "--fix", "--select", "unquoted-port", "--format", "json")
    assert codes(result) == []
    text = (repo / "compose.yaml").read_text()
    assert '- "2222:22"' in text and '- "8080:80"' in text  # quoted; not made variables
    assert codes(cli("lint", "--format", "json", "--select", "CP3")) == ["CP301", "CP301"]
    # --ignore keeps its findings out of the fix too.
    cli("lint", "--fix", "--ignore", "CP301")
    assert '"8080:80"' in (repo / "compose.yaml").read_text()


def test_the_exit_code_is_lint_s_on_what_is_left(repo: Path) -> None:
    (repo / "compose.override.yaml").write_text(OVERRIDE)
    # CP103 (a warning) is fixed by --remap only: plain --fix leaves it, and exits 1 for it.
    plain = cli("lint", "--fix", "--format", "json")
    assert codes(plain) == ["CP103"]
    assert plain.exit_code == 1
    remapped = cli("lint", "--fix", "--remap", "--format", "json")
    assert codes(remapped) == []
    assert remapped.exit_code == 0
    assert (
        (repo / "compose.override.yaml")
        .read_text()
        .startswith("services:\n  web:\n    ports: !override")
    )


def test_remap_goes_with_fix(repo: Path) -> None:
    result = cli("lint", "--remap")
    assert result.exit_code == 2
    assert "--remap goes with --fix" in result.output
    assert (repo / "compose.yaml").read_text() == COMPOSE


def test_what_fix_cannot_do_is_exit_2_and_the_rest_is_still_reported(repo: Path) -> None:
    (repo / "compose.yaml").chmod(0o444)
    result = cli("lint", "--fix", "--format", "json")
    assert result.exit_code == 2
    assert "compose.yaml: " in result.stderr and "read-only" in result.stderr
    assert codes(result) == ["CP301", "CP301", "CP302"]
    assert (repo / "compose.yaml").read_text() == COMPOSE


def test_the_pipeline_fixes_only_the_rules_it_is_given(repo: Path) -> None:
    options = LoadOptions(environ={}, cwd=str(repo))
    request = FixRequest(paths=(), options=options, write=False, rules=frozenset({"CP301"}))
    outcome = run(request)
    (original, new) = outcome.planned[str(repo / "compose.yaml")]
    assert original == COMPOSE
    assert '"${WEB_PORT:-8080}:80"' in new and "${SSH_PORT:-2222}:22" in new
    # CP301 alone: what it rewrites is quoted as a whole, but nothing else is touched.
    nothing = run(request._replace(rules=frozenset({"CP101"})))
    assert nothing.planned == {} and nothing.errors == []


def test_fix_with_a_host_fixes_only_that_hosts_stacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found while writing the README: `lint --fix --host one` rewrote b, which is on host two.
    (tmp_path / ".git").mkdir()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text(
            f'services:\n  {name}:\n    image: nginx\n    ports: ["{9000 + ord(name)}:80"]\n'
        )
    (tmp_path / ".compose-ports.yaml").write_text(
        "stacks:\n  a: [a/compose.yaml]\n  b: [b/compose.yaml]\nhosts:\n  one: [a]\n  two: [b]\n"
    )
    before = (tmp_path / "b" / "compose.yaml").read_bytes()
    monkeypatch.chdir(tmp_path)
    result = cli("lint", "--fix", "--host", "one", "--format", "concise")
    assert "fixed a/compose.yaml" in result.stderr, result.stderr
    assert "b/compose.yaml" not in result.stderr
    assert (tmp_path / "b" / "compose.yaml").read_bytes() == before
    assert "${A_PORT:-9097}:80" in (tmp_path / "a" / "compose.yaml").read_text()
