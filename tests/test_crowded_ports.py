"""One host port taken many times is one story (CP101 and the map views, at scale).

N bindings that collide give N - 1 findings, each naming the first binding and listing a few
others; the registry marks the port once with the count. What the engine decides stays as it
was: pools, replicas, addresses and protocols (compose-facts.md §6).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.workspace import Workspace, load_workspace
from compose_ports.findings import Finding, Severity
from compose_ports.lint import chosen_rules, lint
from compose_ports.reporters import map_html, map_markdown, registry_view
from compose_ports.rules import host_port_conflict
from compose_ports.rules.base import LintContext, Problem

RELATED = host_port_conflict.RELATED


def write(root: Path, files: dict[str, str]) -> None:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def crowd(count: int, port: str = "8080:80", prefix: str = "web") -> str:
    lines = ["services:"]
    for i in range(count):
        lines += [f"  {prefix}-{i:02d}:", "    image: nginx", f'    ports: ["{port}"]']
    return "\n".join(lines) + "\n"


def workspace(root: Path) -> Workspace:
    return load_workspace(["."], LoadOptions(environ={}, cwd=str(root)))


def findings(root: Path) -> list[Finding]:
    result = lint(workspace(root), chosen_rules(["CP101"]))
    assert result.errors == ()
    return list(result.findings)


def problems(root: Path) -> list[Problem]:
    context = LintContext(workspace(root), host_port_conflict)
    return list(host_port_conflict.check(context))


def where(finding: Finding, root: Path) -> tuple[str, int]:
    assert finding.file is not None
    return Path(finding.file).relative_to(root).as_posix(), finding.line


# --- lint -----------------------------------------------------------------------------------


def test_n_bindings_give_n_minus_1_findings_each_naming_the_first(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": crowd(30)})
    found = findings(tmp_path)
    assert len(found) == 29
    # One per binding after the first, at its own line (web-NN is on line 4 + 3 * NN).
    assert [where(f, tmp_path) for f in found] == [
        ("compose.yaml", 4 + 3 * i) for i in range(1, 30)
    ]
    for finding in found:
        assert f"of {finding.service} is already bound by web-00 (project " in finding.message
        assert (finding.related[0].service, finding.related[0].line) == ("web-00", 4)
    # fix --remap builds on `others`: the first binding, the one named.
    for problem in problems(tmp_path):
        assert problem.binding is not None and problem.binding.service != "web-00"
        assert [b.service for _, b in problem.others] == ["web-00"]
        assert not problem.fixable  # a base file: only override files are moved


def test_at_most_a_few_related_and_the_count_of_the_others(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": crowd(30)})
    found = {f.service: f for f in findings(tmp_path)}
    last = found["web-29"]
    assert [r.service for r in last.related] == ["web-00", "web-01", "web-02"][:RELATED]
    assert last.message.endswith(f" and {29 - RELATED:,} other bindings")
    # The second binding lists the first, then the next ones after it.
    second = found["web-01"]
    assert [r.service for r in second.related] == ["web-00", "web-02", "web-03"][:RELATED]
    assert second.message.endswith(f" and {29 - RELATED:,} other bindings")
    assert all(len(f.related) <= RELATED for f in found.values())


def test_few_bindings_are_all_listed_and_two_read_as_before(tmp_path: Path) -> None:
    write(tmp_path / "three", {"compose.yaml": crowd(RELATED)})
    found = findings(tmp_path / "three")
    assert [len(f.related) for f in found] == [RELATED - 1] * (RELATED - 1)
    assert all("other binding" not in f.message for f in found)
    write(tmp_path / "two", {"compose.yaml": crowd(2)})
    [finding] = findings(tmp_path / "two")
    assert finding.message == (
        "host port 8080/tcp of web-01 is already bound by web-00 (project two)"
    )
    assert [r.service for r in finding.related] == ["web-00"]


def test_the_order_is_the_hosts_stacks_then_files_then_lines(tmp_path: Path) -> None:
    # Alphabetical and file order both say "alpha" first; hosts: says zulu first.
    write(
        tmp_path,
        {
            "alpha/compose.yaml": crowd(2, prefix="alpha"),
            "zulu/compose.yaml": crowd(1, prefix="zulu"),
            "zulu/compose.override.yaml": 'services:\n  extra:\n    ports: ["8080:81"]\n',
            ".compose-ports.yaml": (
                "stacks:\n"
                "  zulu: [zulu/compose.yaml, zulu/compose.override.yaml]\n"
                "  alpha: [alpha/compose.yaml]\n"
                "hosts:\n"
                "  box: [zulu, alpha]\n"
            ),
        },
    )
    found = findings(tmp_path)
    summary = sorted((f.service, f.host, f.related[0].service) for f in found)
    # 4 bindings on 8080 on one machine: 3 findings. Within zulu, the override's binding comes
    # after the base file's; within alpha, line order. alpha's first binding is reported on the
    # host, naming zulu's first; alpha's second is alpha's own conflict, named within alpha.
    assert summary == [
        ("alpha-00", "box", "zulu-00"),
        ("alpha-01", None, "alpha-00"),
        ("extra", None, "zulu-00"),
    ]
    on_host = next(f for f in found if f.host == "box")
    assert on_host.message.endswith(
        " on host box; it also collides with extra (stack zulu), alpha-01 (stack alpha)"
    )
    extra = next(f for f in problems(tmp_path) if f.service == "extra")
    assert extra.fixable  # an override file's port: `fix --remap` moves it


def test_pools_replicas_addresses_and_protocols(tmp_path: Path) -> None:
    files = {
        "compose.yaml": (
            "services:\n"
            "  pool:\n"
            "    image: relay\n"
            '    ports: ["8000-8002:80"]\n'
            "  a:\n"
            "    image: a\n"
            '    ports: ["8000:80", "8001:81"]\n'
            "  worker:\n"
            "    image: worker\n"
            "    deploy:\n"
            "      replicas: 3\n"
            '    ports: ["9000:9000"]\n'
            "  lo:\n"
            "    image: lo\n"
            '    ports: ["127.0.0.1:7000:80", "7000:80/udp", "[::1]:7000:80"]\n'
            "  lo2:\n"
            "    image: lo2\n"
            '    ports: ["127.0.0.2:7000:80"]\n'
        )
    }
    write(tmp_path / "free", files)
    found = sorted(findings(tmp_path / "free"), key=lambda f: (f.line, f.column))
    # The pool keeps 8002 free: a warning each for a's two ports; replicas collide with
    # themselves; other addresses, families and protocols do not collide.
    assert [(f.service, f.severity, f.line) for f in found] == [
        ("a", Severity.WARNING, 7),
        ("a", Severity.WARNING, 7),
        ("worker", Severity.ERROR, 12),
    ]
    assert "the pool still has free ports" in found[0].message
    assert "has 3 replicas" in found[2].message
    # Now a, before the pool, takes every port of it: the engine refuses the pool.
    text = files["compose.yaml"].replace('"8001:81"', '"8001-8002:81-82"')
    pool = '  pool:\n    image: relay\n    ports: ["8000-8002:80"]\n'
    files["compose.yaml"] = text.replace(pool, "") + pool
    write(tmp_path / "full", files)
    found = sorted(findings(tmp_path / "full"), key=lambda f: (f.line, f.column))
    assert [(f.service, f.severity) for f in found] == [
        ("worker", Severity.ERROR),
        ("pool", Severity.ERROR),
    ]
    assert "no free port left in the pool" in found[1].message


# --- the map views ----------------------------------------------------------------------------


def test_the_registry_marks_a_crowded_port_once_with_the_count(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": crowd(12)})
    view = registry_view.build(workspace(tmp_path))
    [group] = view.groups
    assert len(group.rows) == 12 and group.conflicts == 12
    for row in group.rows:
        assert len(row.peers) == registry_view.PEERS
        assert row.others == 11 - registry_view.PEERS
    markdown = map_markdown.render(view, str(tmp_path))
    first = next(line for line in markdown.splitlines() if "`compose.yaml:4`" in line)
    assert first.endswith(
        "| ⚠ conflict with web-01 (x); conflict with web-02 (x); conflict with web-03 (x) "
        f"and {11 - registry_view.PEERS} other bindings |".replace("(x)", f"({tmp_path.name})")
    )
    page = map_html.render(view, str(tmp_path))
    # One flag on the picture for the port, with the count; every row stays in the table.
    assert page.count('<g class="flag conflict">') == 1
    assert (
        "web-00, web-01, \u2026 8080 \u00d712".encode("ascii", "xmlcharrefreplace").decode() in page
    )
    assert "8080/tcp: 12 bindings in conflict" in page
    assert page.count('<tr id="g0-r') == 12
    assert page.count(f"and {11 - registry_view.PEERS} other bindings") == 12


def test_the_registry_of_a_crowd_is_linear(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": crowd(2000)})
    view = registry_view.build(workspace(tmp_path))
    markdown = map_markdown.render(view, str(tmp_path))
    page = map_html.render(view, str(tmp_path))
    # A row's size does not grow with the crowd (it was 2,000 names a row).
    assert len(markdown) < 2000 * 400
    assert len(page) < 2000 * 1200
    assert page.count('<g class="flag') == 1


# --- 5,000 services on one port ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_five_thousand_services_on_one_port_stay_small(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"compose.yaml": crowd(5000)})
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    args = ["lint", "--select", "CP101", "--format", fmt, "--exit-zero"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0
    assert len(result.output.encode()) < 5_000_000  # was 4,999 x 5,000 / 2 findings
    if fmt == "json":
        document = json.loads(result.output)
        assert document["summary"]["findings"] == 4999
        assert max(len(f["related"]) for f in document["findings"]) == RELATED
