"""`compose-ports lint`: the user story, the corpus, the interface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ORCHESTRA, SHARED, TESTS
from corpus_cases import Case, cases

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.workspace import load_workspace
from compose_ports.hostmap import same_address_collides
from compose_ports.lint import lint
from compose_ports.model import parse_host_range


def run(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, **env: str):
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return CliRunner().invoke(main, args, catch_exceptions=False)


def summary(output: str) -> set[tuple]:
    findings = json.loads(output)["findings"]
    return {(f["code"], f["service"], f["stack"], f["host"]) for f in findings}


ORCHESTRA_EXPECTED = {
    # 8000: api and personas, on prod-server, and on dev-laptop where the development api still
    # publishes 8000 besides 8010.
    ("CP101", "personas", "mcp", "prod-server"),
    ("CP101", "personas", "mcp", "dev-laptop"),
    # 8010: the development api and docker-api on dev-laptop.
    ("CP101", "docker-api", "mcp", "dev-laptop"),
    ("CP103", "postgres", "development", None),
    ("CP103", "redis", "development", None),
    ("CP103", "api", "development", None),
    ("CP201", "loki", "monitoring", None),
    ("CP204", "personas", "mcp", None),
}


def test_orchestra_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(["lint", "--format", "json"], ORCHESTRA, monkeypatch)
    assert result.exit_code == 1
    found = summary(result.output)
    assert found >= ORCHESTRA_EXPECTED
    warnings = {(c, s) for c, s, _, _ in found if c in ("CP201", "CP202", "CP204", "CP401")}
    # nginx's 80 and 443 are allowed by the config: no privileged-host-port at all.
    assert not any(c == "CP202" for c, _ in warnings)
    assert {s for c, s in warnings if c == "CP401"} == {"postgres", "redis", "weaviate"}
    assert {s for c, s in warnings if c == "CP201"} == {"loki"}
    assert {s for c, s in warnings if c == "CP204"} == {"personas"}


def test_orchestra_from_the_directory_above(monkeypatch: pytest.MonkeyPatch) -> None:
    inside = summary(run(["lint", "--format", "json"], ORCHESTRA, monkeypatch).output)
    above = run(["lint", "--format", "json", "orchestra"], ORCHESTRA.parent, monkeypatch)
    assert summary(above.output) == inside


def test_orchestra_report_snapshot(snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot.snapshot_dir = TESTS / "snapshots" / "lint"
    result = run(["lint", "examples/orchestra", "--format", "text"], SHARED, monkeypatch)
    assert result.exit_code == 1
    snapshot.assert_match(result.output, "orchestra.txt")


def test_select_ignore_fail_on_and_exit_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    only = run(["lint", "--format", "json", "--select", "CP1"], ORCHESTRA, monkeypatch)
    assert {c for c, *_ in summary(only.output)} == {"CP101", "CP103"}
    names = run(
        ["lint", "--format", "json", "--select", "registry-drift,CP201"], ORCHESTRA, monkeypatch
    )
    assert {c for c, *_ in summary(names.output)} == {"CP201", "CP204"}
    infos = run(["lint", "--select", "CP301"], ORCHESTRA, monkeypatch)
    assert infos.exit_code == 0  # info does not reach the default --fail-on warning
    assert (
        run(["lint", "--select", "CP301", "--fail-on", "info"], ORCHESTRA, monkeypatch).exit_code
        == 1
    )
    assert run(["lint", "--exit-zero"], ORCHESTRA, monkeypatch).exit_code == 0
    ignored = run(["lint", "--format", "json", "--ignore", "CP1,CP3"], ORCHESTRA, monkeypatch)
    assert {c for c, *_ in summary(ignored.output)} == {"CP201", "CP204", "CP401"}
    assert run(["lint", "--select", "CP999"], ORCHESTRA, monkeypatch).exit_code == 2


def test_output_file_and_auto_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.sarif"
    result = run(["lint", "--format", "sarif", "--output", str(out)], ORCHESTRA, monkeypatch)
    assert result.exit_code == 1
    assert result.output == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"
    github = run(["lint", "--select", "CP101"], ORCHESTRA, monkeypatch, GITHUB_ACTIONS="true")
    assert github.output.startswith("::error file=")


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_suppression_comments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n"
                "  a:\n"
                "    image: x\n"
                "    ports:\n"
                '      - "80:80"  # compose-ports: ignore[CP202]\n'
                "      # compose-ports: ignore[privileged-host-port, CP301]\n"
                '      - "81:81"\n'
                '      - "82:82"  # compose-ports: ignore\n'
                '      - "83:83"  # compose-ports: ignore[CP101]\n'
            )
        },
    )
    result = run(["lint", "--format", "json", "--select", "CP202,CP301"], root, monkeypatch)
    found = {(f["code"], f["line"]) for f in json.loads(result.output)["findings"]}
    assert found == {("CP301", 5), ("CP202", 9), ("CP301", 9)}
    (root / "compose.yaml").write_text(
        "# compose-ports: ignore-file\n" + (root / "compose.yaml").read_text()
    )
    result = run(["lint", "--format", "json"], root, monkeypatch)
    assert json.loads(result.output)["findings"] == []
    assert result.exit_code == 0


def test_select_by_name_turns_on_a_rule_that_is_off_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n  a:\n    image: x\n"
                '    ports: ["8080:80"]  # compose-ports: ignore[CP101]\n'
            )
        },
    )
    quiet = run(["lint", "--format", "json"], root, monkeypatch)
    assert "CP502" not in {f["code"] for f in json.loads(quiet.output)["findings"]}
    # CP101 runs and finds nothing there: the comment silenced nothing.
    for selector in ("CP101,CP502", "CP1,unused-suppression"):
        result = run(["lint", "--format", "json", "--select", selector], root, monkeypatch)
        assert [(f["code"], f["line"]) for f in json.loads(result.output)["findings"]] == [
            ("CP502", 4)
        ]
    # A prefix is not a name: `CP5` keeps the rule off, as the README says.
    prefix = run(["lint", "--format", "json", "--select", "CP1,CP5"], root, monkeypatch)
    assert json.loads(prefix.output)["findings"] == []


def test_bad_config_exits_2_with_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(
        tmp_path,
        {
            "compose.yaml": 'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n',
            ".compose-ports.yaml": "ranges:\n  web:\n    ports: 9000-8000\n",
        },
    )
    result = run(["lint"], root, monkeypatch)
    assert result.exit_code == 2
    assert ".compose-ports.yaml:3:12: ranges.web: bad port range" in result.output
    (root / ".compose-ports.yaml").write_text("rules:\n  no-such-rule: error\n")
    result = run(["lint"], root, monkeypatch)
    assert result.exit_code == 2
    assert ".compose-ports.yaml:2:3: rules: unknown rule 'no-such-rule'" in result.output
    (root / ".compose-ports.yaml").write_text("stacks: {}\nportz: 1\n")
    result = run(["lint"], root, monkeypatch)
    assert result.exit_code == 2
    assert ".compose-ports.yaml:2:1: (top level): unknown key 'portz'" in result.output


def test_a_config_verdict_is_remembered_only_for_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compose_ports.errors import ComposePortsError
    from compose_ports.policy.schema import validate
    from compose_ports.yamlread import YMap

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    text = b"rules:\n  CP202: error\n"
    root = _project(
        tmp_path,
        {
            "compose.yaml": 'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n',
            ".compose-ports.yaml": text.decode(),
        },
    )
    assert run(["lint"], root, monkeypatch).exit_code == 0
    (kept,) = (tmp_path / "cache" / "compose-ports" / "valid-configs").iterdir()
    assert kept.read_bytes().startswith(text + b"\0")
    config = root / ".compose-ports.yaml"
    invalid = YMap()
    invalid["portz"] = 1

    # The same bytes are not validated again (an invalid structure passes, to prove it)...
    validate(invalid, config, text)
    # ...but a record that differs, as a checksum collision would, is not trusted,
    kept.write_bytes(b"something else")
    with pytest.raises(ComposePortsError, match="unknown key 'portz'"):
        validate(invalid, config, text)
    # and what fails is never remembered.
    with pytest.raises(ComposePortsError):
        validate(invalid, config, b"portz: 1\n")
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]


def test_config_severity_and_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(
        tmp_path,
        {
            "compose.yaml": 'services:\n  a:\n    image: x\n    ports: ["80:80"]\n',
            ".compose-ports.yaml": ("rules:\n  CP202: error\n  hardcoded-host-port: off\n"),
        },
    )
    findings = json.loads(run(["lint", "--format", "json"], root, monkeypatch).output)["findings"]
    assert [(f["code"], f["severity"]) for f in findings] == [("CP202", "error")]


def test_pre_commit_triggers_report_what_involves_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(
        tmp_path,
        {
            ".compose-ports.yaml": (
                "stacks:\n  a: [a/compose.yaml]\n  b: [b/compose.yaml]\n  c: [c/compose.yaml]\n"
                "hosts:\n  box: [a, b, c]\n"
            ),
            "a/compose.yaml": 'services:\n  one:\n    image: x\n    ports: ["8000:80"]\n',
            "b/compose.yaml": 'services:\n  two:\n    image: x\n    ports: ["8000:80"]\n',
            "c/compose.yaml": 'services:\n  three:\n    image: x\n    ports: ["80:80"]\n',
        },
    )
    only_c = run(["lint", "--format", "json", "c/compose.yaml"], root, monkeypatch)
    assert {f["code"] for f in json.loads(only_c.output)["findings"]} == {"CP202", "CP301"}
    only_a = run(
        ["lint", "--format", "json", "--select", "CP101", "a/compose.yaml"], root, monkeypatch
    )
    (conflict,) = json.loads(only_a.output)["findings"]
    assert conflict["file"] == "b/compose.yaml"  # the other side of a conflict involves a
    assert conflict["related"][0]["file"] == "a/compose.yaml"
    everything = run(["lint", "--format", "json", ".compose-ports.yaml"], root, monkeypatch)
    assert {f["stack"] for f in json.loads(everything.output)["findings"]} == {"a", "b", "c"}


CORPUS = [c for c in cases() if c.ok]


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_corpus_conflicts_are_real(case: Case) -> None:
    options = LoadOptions(**case.options())
    result = lint(load_workspace([], options))
    assert result.errors == ()
    for finding in result.findings:
        if finding.code != "CP101" or finding.severity.value != "error":
            continue
        ports = case.expected
        sides = [(finding.file, finding.line), *((r.file, r.line) for r in finding.related)]
        bindings = [
            b
            for p in load_workspace([], options).projects
            for b in p.bindings
            if (b.source.file, b.source.line) in sides
        ]
        assert len(bindings) >= 1
        for b in bindings:
            assert {
                "service": b.service,
                "host_ip": b.spec.host_ip or "",
                "published": b.spec.published or "",
                "target": b.spec.target,
                "protocol": b.spec.protocol,
            } in ports
        if len(bindings) == 2:
            a, b = bindings
            ra, rb = parse_host_range(a.spec.published), parse_host_range(b.spec.published)
            assert ra and rb and ra[0] <= rb[1] and rb[0] <= ra[1]
            assert a.spec.protocol.lower() == b.spec.protocol.lower()
            assert same_address_collides(a.spec.host_ip, b.spec.host_ip)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_lint_runs_on_every_corpus_case(case: Case) -> None:
    """No internal error on any case, Compose-rejected ones included (they only say why)."""
    options = LoadOptions(**case.options())
    result = lint(load_workspace([], options))
    if not case.ok:
        project = load_workspace([], options).projects[0]
        assert project.rejection or project.diagnostics
    for finding in result.findings:
        assert finding.file and finding.line >= 1, finding
