"""The policy file checks everything it says: rule options, severities, names, with near misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports.commands import main
from compose_ports.rules import RULES
from compose_ports.rules.options_schema import SCHEMA, generated, text

COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n'


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def lint(root: Path, config: str) -> tuple[int, str]:
    (root / ".git").mkdir(exist_ok=True)
    (root / "compose.yaml").write_text(COMPOSE)
    (root / ".compose-ports.yaml").write_text(config)
    result = CliRunner().invoke(main, ["lint"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("config", "line"),
    [
        (
            "rules:\n  privileged-host-port: {allow-servces: [nginx]}\n",
            ".compose-ports.yaml:2:26: rules.privileged-host-port: unknown option "
            "'allow-servces' (did you mean 'allow-services'?); it takes severity, "
            "allow-services, allow-images",
        ),
        (
            "rules:\n  CP101: {sevrity: error}\n",
            ".compose-ports.yaml:2:11: rules.CP101: unknown option 'sevrity' "
            "(did you mean 'severity'?); it takes severity",
        ),
        (
            "rules:\n  all-interfaces: {imagez: [postgres]}\n",
            ".compose-ports.yaml:2:20: rules.all-interfaces: unknown option 'imagez' "
            "(did you mean 'images'?); it takes severity, images, allow-services",
        ),
        (
            'rules:\n  ephemeral-host-port: {range: "abc"}\n',
            ".compose-ports.yaml:2:32: rules.ephemeral-host-port.range: 'abc' is not a port "
            "range such as 32768-60999",
        ),
        (
            'rules:\n  ephemeral-host-port: {range: "9000-8000"}\n',
            ".compose-ports.yaml:2:32: rules.ephemeral-host-port.range: '9000-8000' is not a "
            "port range such as 32768-60999",
        ),
        (
            "rules:\n  CP101: eror\n",
            ".compose-ports.yaml:2:10: rules.CP101: 'eror' is not a severity: use error, "
            "warning, info, off (did you mean 'error'?)",
        ),
        (
            "rules:\n  CP101: {severity: fatal}\n",
            ".compose-ports.yaml:2:21: rules.CP101.severity: 'fatal' is not a severity: use "
            "error, warning, info, off",
        ),
        (
            "rules:\n  CP1O1: error\n",
            ".compose-ports.yaml:2:3: rules: unknown rule 'CP1O1' (did you mean 'CP101'?)",
        ),
        (
            "rules:\n  unquoted-port: {quote-all: yes-please}\n",
            ".compose-ports.yaml:2:30: rules.unquoted-port.quote-all: 'yes-please' is not "
            "true or false",
        ),
        (
            "rules:\n  privileged-host-port: {allow-services: nginx}\n",
            ".compose-ports.yaml:2:42: rules.privileged-host-port.allow-services: 'nginx' is "
            "not a list of names or globs",
        ),
        (
            "stacks:\n  shop: [compose.yaml]\nhosts:\n  box: [shpo]\n",
            ".compose-ports.yaml:4:9: host 'box': unknown stack 'shpo' (did you mean 'shop'?)",
        ),
    ],
    ids=lambda value: value.split(":")[0] if isinstance(value, str) and "\n" not in value else None,
)
def test_a_bad_setting_is_one_line_with_its_place(config: str, line: str, tmp_path: Path) -> None:
    code, output = lint(tmp_path, config)
    assert code == 2
    assert line in output.splitlines(), output


def test_every_option_the_rules_declare_is_accepted(tmp_path: Path) -> None:
    settings = {
        rule.NAME: {"severity": "warning", **{k: o.default for k, o in rule.OPTIONS.items()}}
        for rule in RULES
    }
    code, output = lint(tmp_path, f"rules: {json.dumps(settings)}\n")
    assert code in (0, 1), output


def test_an_allowlist_really_allows(tmp_path: Path) -> None:
    _, output = lint(tmp_path, "rules:\n  privileged-host-port: {allow-services: [web]}\n")
    assert "CP202" not in output, output


def test_the_schema_file_is_what_the_rules_declare() -> None:
    """schemas/config.schema.json is generated (python -m compose_ports.rules.options_schema):
    an option a rule gains or loses must show in the file editors use."""
    current = SCHEMA.read_text(encoding="utf-8")
    assert current == text(generated(json.loads(current)))
    rules = json.loads(current)["properties"]["rules"]["properties"]
    assert set(rules) == {r.CODE for r in RULES} | {r.NAME for r in RULES}
