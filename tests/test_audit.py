"""`audit`: declared bindings against the engine's.

Without an engine: the comparison (live/audit.py) on the engine's answer made up here, each
kind of drift and what must not be one; the three formats; the JSON against its schema; the
command line with no engine (exit 2) and with a made-up one (exit 0 and 1). With the engine
(marked `engine`): every kind of drift on real containers, and a clean run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import engine
import jsonschema
import pytest
from click.testing import CliRunner

from compose_ports.commands import main
from compose_ports.compose.loading import LoadOptions, load_project
from compose_ports.live import audit as live
from compose_ports.live import engine as live_engine
from compose_ports.live.engine import Container, Engine, Published, Unreachable
from compose_ports.model import Project
from compose_ports.reporters import audit as reporter

TESTS = Path(__file__).parent
SCHEMA = json.loads((TESTS.parent / "schemas" / "audit.schema.json").read_text())
BOTH = ("0.0.0.0", "::")


def project(directory: Path, services: dict[str, list[str]], name: str = "shop") -> Project:
    """A one-file project whose services publish these short-syntax ports."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"name: {name}", "services:"]
    for service, ports in services.items():
        lines += [f"  {service}:", "    image: busybox", f"    ports: {json.dumps(ports)}"]
    (directory / "compose.yaml").write_text("\n".join(lines) + "\n")
    return load_project(LoadOptions(files=("compose.yaml",), environ={}, cwd=str(directory)))


def container(
    name: str,
    ports: list[tuple[str | tuple[str, ...], int, int]],
    project: str | None = "shop",
    service: str | None = None,
    protocol: str = "tcp",
) -> Container:
    """A running container as the engine lists it; a host IP tuple is one binding on several."""
    published = []
    for ips, host_port, target in ports:
        for ip in (ips,) if isinstance(ips, str) else ips:
            published.append(Published(ip, host_port, target, protocol))
    service = service if service is not None or project is None else name
    return Container(f"id-{name}", name, project, service, tuple(published))


def kinds(result: live.Audit) -> list[tuple[str, str | None, int | None]]:
    """(kind, service, host port) of each entry: the declared port, else the published one."""
    found = []
    for entry in result.entries:
        if entry.declared is not None:
            rng = entry.declared.spec.host_range()
            found.append((entry.kind, entry.declared.service, rng[0] if rng else None))
        else:
            assert entry.published is not None
            found.append((entry.kind, entry.published.container.service, entry.published.host_port))
    return found


# -- the comparison ------------------------------------------------------------------------------


def test_a_binding_on_every_interface_is_one_binding(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8080:80"]})
    result = live.audit([shop], [container("web", [(BOTH, 8080, 80)])])
    assert kinds(result) == [("agree", "web", 8080)]
    assert not result.drift
    # Without IPv6 on the host (or with the userland proxy off) the engine binds 0.0.0.0 alone.
    assert not live.audit([shop], [container("web", [("0.0.0.0", 8080, 80)])]).drift


def test_a_service_without_a_container_is_not_running(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8080:80"], "db": ["5432:5432"]})
    result = live.audit([shop], [container("web", [(BOTH, 8080, 80)])])
    assert sorted(kinds(result)) == [("agree", "web", 8080), ("not-running", "db", 5432)]
    assert result.drift


def test_a_container_that_publishes_nothing_for_the_port_runs_but_does_not_publish(
    tmp_path: Path,
) -> None:
    shop = project(tmp_path, {"web": ["8080:80"]})
    result = live.audit([shop], [container("web", [])])
    assert kinds(result) == [("not-published", "web", 8080)]


def test_another_host_port_for_the_container_port_is_a_move(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8080:80"]})
    result = live.audit([shop], [container("web", [(BOTH, 8081, 80)])])
    assert kinds(result) == [("moved", "web", 8080)]
    entry = result.entries[0]
    assert entry.published is not None and entry.published.host_port == 8081
    text = reporter.render_text(result, _engine())
    assert "compose.yaml:5:13: 8080->80/tcp of web (project shop): moved: container web " in text
    assert "publishes 0.0.0.0:8081->80/tcp, [::]:8081->80/tcp instead" in text


def test_the_same_port_on_another_host_ip(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["127.0.0.1:8080:80"], "api": ["0.0.0.0:9000:80"]})
    found = [container("web", [(BOTH, 8080, 80)]), container("api", [(BOTH, 9000, 80)])]
    result = live.audit([shop], found)
    # 0.0.0.0 alone is a binding of its own: the engine adds :: only for no host IP at all.
    assert sorted(kinds(result)) == [("other-ip", "api", 9000), ("other-ip", "web", 8080)]


def test_an_ipv4_mapped_host_ip_is_its_ipv4_address(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["[::ffff:127.0.0.1]:8080:80"]})
    assert not live.audit([shop], [container("web", [("127.0.0.1", 8080, 80)])]).drift


def test_exact_matches_come_before_moves(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8080:80", "8081:80"]})
    # Listed in the other order: matching first come, first served would call both moved.
    found = container("web", [(BOTH, 8081, 80), (BOTH, 8080, 80)])
    assert kinds(live.audit([shop], [found])) == [("agree", "web", 8080), ("agree", "web", 8081)]


def test_pools_ephemeral_ports_and_runs(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8000-8010:80", "81", "9000-9001:90-91"]})
    found = container(
        "web", [(BOTH, 8004, 80), (BOTH, 49153, 81), (BOTH, 9000, 90), (BOTH, 9001, 91)]
    )
    result = live.audit([shop], [found])
    assert not result.drift, kinds(result)
    assert len(result.entries) == 4  # the run is two entries, as Compose prints it
    outside = container("web", [(BOTH, 8011, 80), (BOTH, 49153, 81), (BOTH, 9000, 90)])
    assert set(kinds(live.audit([shop], [outside]))) == {
        ("agree", "web", 9000),
        ("agree", "web", None),
        ("moved", "web", 8000),
        ("not-published", "web", 9001),
    }


def test_every_replica_is_compared(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8000-8001:80"]})
    found = [
        container("shop-web-1", [(BOTH, 8000, 80)], service="web"),
        container("shop-web-2", [(BOTH, 8001, 80)], service="web"),
    ]
    assert kinds(live.audit([shop], found)) == [("agree", "web", 8000), ("agree", "web", 8000)]


def test_what_no_stack_declares(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8080:80"]})
    found = [
        container("web", [(BOTH, 8080, 80), (BOTH, 8443, 443)]),
        container("by-hand", [(BOTH, 7000, 80)], project=None),
        container("other-web-1", [("127.0.0.1", 6000, 80)], project="other", service="web"),
        container("shop-old-1", [(BOTH, 5000, 80)], service="old"),
    ]
    result = live.audit([shop], found)
    reasons = {
        e.published.host_port: e.reason
        for e in result.entries
        if e.published and e.kind == "undeclared"
    }
    assert reasons == {
        5000: "its service old publishes nothing in project shop",
        6000: "its project other is not among the stacks read",
        7000: "started by hand (no compose project label)",
        8443: "not declared for its service web of project shop",
    }
    # In host-port order, after the declared entries, each binding once.
    assert [k for k in kinds(result)] == [
        ("agree", "web", 8080),
        ("undeclared", "old", 5000),
        ("undeclared", "web", 6000),
        ("undeclared", None, 7000),
        ("undeclared", "web", 8443),
    ]


def test_stacks_that_are_one_compose_project_meet_the_same_containers(tmp_path: Path) -> None:
    prod = project(tmp_path / "a", {"web": ["8080:80"]}, name="shop")
    dev = project(tmp_path / "b", {"web": ["9080:80"]}, name="shop")
    result = live.audit([prod, dev], [container("web", [(BOTH, 8080, 80)])])
    assert kinds(result) == [("agree", "web", 8080), ("moved", "web", 9080)]
    assert len(result.notes) == 1 and "compose project shop" in result.notes[0]


def test_services_that_publish_nothing_are_not_declared(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  web: {image: busybox, ports: ['8080:80'], network_mode: host}\n"
        "  off: {image: busybox, ports: ['8081:80'], profiles: [never]}\n"
        "  none: {image: busybox, ports: ['8082:80'], scale: 0}\n"
    )
    shop = load_project(
        LoadOptions(files=("compose.yaml",), project_name="shop", environ={}, cwd=str(tmp_path))
    )
    assert live.audit([shop], []).entries == []


# -- the formats ---------------------------------------------------------------------------------


def _engine(containers: tuple[Container, ...] = ()) -> Engine:
    return Engine("unix:///var/run/docker.sock", "20.10.24", containers)


def _drifting(tmp_path: Path) -> tuple[Project, list[Container]]:
    shop = project(
        tmp_path, {"web": ["8080:80"], "api": ["127.0.0.1:9000:80"], "db": ["5432:5432"]}
    )
    found = [
        container("web", [(BOTH, 8081, 80)]),
        container("api", [(BOTH, 9000, 80)]),
        container("by-hand", [(BOTH, 7000, 80)], project=None),
    ]
    return shop, found


def test_json_follows_its_schema(tmp_path: Path) -> None:
    shop, found = _drifting(tmp_path)
    result = live.audit([shop], found)
    document = json.loads(reporter.render_json(result, _engine(), [shop], cwd=str(tmp_path)))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert document["summary"] == {
        "declared": 3,
        "not_running": 1,
        "not_published": 0,
        "moved": 1,
        "other_ip": 1,
        "undeclared": 1,
        "agree": 0,
    }
    statuses = {(b["status"], b["service"]) for b in document["bindings"]}
    assert statuses == {
        ("moved", "web"),
        ("other-ip", "api"),
        ("not-running", "db"),
        ("undeclared", None),
    }
    hand = next(b for b in document["bindings"] if b["status"] == "undeclared")
    assert hand["published"]["host_ips"] == ["0.0.0.0", "::"]
    assert hand["declared"] is None
    assert document["stacks"] == [
        {"name": "shop", "stack": None, "directory": ".", "files": ["compose.yaml"]}
    ]


def test_text_says_each_drift_on_one_line_and_sums_up(tmp_path: Path) -> None:
    shop, found = _drifting(tmp_path)
    text = reporter.render_text(live.audit([shop], found), _engine(), cwd=str(tmp_path))
    lines = text.splitlines()
    assert len(lines) == 5
    assert (
        "5432->5432/tcp of db (project shop): declared, not published: the service is not running"
        in text
    )
    assert "127.0.0.1:9000->80/tcp of api (project shop): published on another host IP: " in text
    assert (
        "0.0.0.0:7000->80/tcp, [::]:7000->80/tcp: published by container by-hand, declared by no "
        "stack read: started by hand (no compose project label)"
    ) in text
    assert lines[-1] == (
        "Drift: 3 of 3 declared bindings differ (1 not running, 1 moved, 1 on another host IP); "
        "1 published binding declared by no stack read. "
        "Engine: dockerd 20.10.24 at unix:///var/run/docker.sock."
    )


def test_markdown_lists_every_binding_drift_first(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8080:80"], "db": ["5432:5432"]})
    result = live.audit([shop], [container("web", [(BOTH, 8080, 80)])])
    page = reporter.render_markdown(result, _engine(), cwd=str(tmp_path))
    rows = [line for line in page.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| Status | Service |")
    assert rows[1].startswith("| not running | db | project shop |")
    assert rows[2].startswith("| agree | web | project shop |")


def test_a_clean_audit_says_so(tmp_path: Path) -> None:
    shop = project(tmp_path, {"web": ["8080:80"]})
    result = live.audit([shop], [container("web", [(BOTH, 8080, 80)])])
    assert reporter.render_text(result, _engine()) == (
        "Agree: 1 declared binding published as declared, and nothing else published. "
        "Engine: dockerd 20.10.24 at unix:///var/run/docker.sock.\n"
    )


# -- the command line, with a made-up engine -----------------------------------------------------


def run(directory: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["audit", "-f", str(directory / "compose.yaml"), *args])


def test_without_an_engine_audit_says_why_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, {"web": ["8080:80"]})
    gone = Unreachable("unix:///var/run/docker.sock", "Connection refused")
    monkeypatch.setattr(live_engine, "connect", lambda: gone)
    result = run(tmp_path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "audit: no Docker engine answers at unix:///var/run/docker.sock: Connection refused\n"
    )


def test_audit_exits_0_when_they_agree_and_1_on_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, {"web": ["8080:80"]}, name="shop")
    running = [container("shop-web-1", [(BOTH, 8080, 80)], service="web")]
    monkeypatch.setattr(live_engine, "connect", lambda: _engine(tuple(running)))
    clean = run(tmp_path)
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.startswith("Agree: 1 declared binding")
    moved = [container("shop-web-1", [(BOTH, 8081, 80)], service="web")]
    monkeypatch.setattr(live_engine, "connect", lambda: _engine(tuple(moved)))
    drift = run(tmp_path, "--format", "json")
    assert drift.exit_code == 1
    document = json.loads(drift.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert [b["status"] for b in document["bindings"]] == ["moved"]


def test_an_unknown_host_is_a_usage_error(tmp_path: Path) -> None:
    project(tmp_path, {"web": ["8080:80"]})
    result = CliRunner().invoke(main, ["audit", str(tmp_path), "--host", "nowhere"])
    assert result.exit_code == 2


# -- on the engine -------------------------------------------------------------------------------

PORTS = range(24320, 24331)


@pytest.fixture
def dockerd() -> Iterator[str]:
    yield from engine.session(PORTS)


def audit_json(directory: Path, name: str) -> tuple[int, dict[str, Any]]:
    """`audit -p NAME -f FILE`, as the stack was started."""
    result = CliRunner().invoke(
        main, ["audit", "-p", name, "-f", str(directory / "compose.yaml"), "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return result.exit_code, document


def _foreign(document: dict[str, Any], mine: set[str]) -> list[dict[str, Any]]:
    """Bindings of containers this test did not start (another user of the same engine)."""
    return [
        b
        for b in document["bindings"]
        if b["status"] == "undeclared" and b["published"]["container"] not in mine
    ]


@pytest.mark.engine
def test_every_kind_of_drift_on_the_engine(tmp_path: Path, dockerd: str) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    # What runs: started from these files...
    (shop / "compose.yaml").write_text(
        engine.compose_file(
            {"web": ["24320:80"], "moved": ["24322:80"], "ip": ["24323:80"]}, flow=True
        )
    )
    (other / "compose.yaml").write_text(engine.compose_file({"api": ["24326:80"]}, flow=True))
    try:
        engine.up_all(shop, "cpt-audit")
        engine.up_all(other, "cpt-audit-other")
        engine.run_by_hand("cpt-audit-hand", ["24325:80"])
        # ...and what the files say now.
        (shop / "compose.yaml").write_text(
            engine.compose_file(
                {
                    "web": ["24320:80"],
                    "moved": ["24321:80"],
                    "ip": ["127.0.0.1:24323:80"],
                    "off": ["24324:80"],
                },
                flow=True,
            )
        )
        (shop / ".git").mkdir()
        code, document = audit_json(shop, "cpt-audit")
    finally:
        engine.remove("cpt-audit-hand")
        engine.down_all([(shop, "cpt-audit"), (other, "cpt-audit-other")])
    assert code == 1, dockerd
    mine = {"cpt-audit-web-1", "cpt-audit-moved-1", "cpt-audit-ip-1", "cpt-audit-other-api-1"}
    mine.add("cpt-audit-hand")
    ours = [b for b in document["bindings"] if b not in _foreign(document, mine)]
    seen = {
        (
            b["status"],
            b["service"],
            b["declared"] and b["declared"]["published"],
            b["published"] and (b["published"]["host_port"], tuple(b["published"]["host_ips"])),
        )
        for b in ours
    }
    # A binding on every interface: 0.0.0.0 and ::, or 0.0.0.0 alone on a host without IPv6.
    web = next(b for b in ours if b["service"] == "web")
    both = tuple(web["published"]["host_ips"])
    assert both in (("0.0.0.0", "::"), ("0.0.0.0",))
    assert len(ours) == 6, ours
    assert seen == {
        ("agree", "web", "24320", (24320, both)),
        ("moved", "moved", "24321", (24322, both)),
        ("other-ip", "ip", "24323", (24323, both)),
        ("not-running", "off", "24324", None),
        ("undeclared", None, None, (24325, both)),
        ("undeclared", "api", None, (24326, both)),
    }, dockerd
    reasons = {
        b["published"]["host_port"]: b["message"] for b in ours if b["status"] == "undeclared"
    }
    assert reasons[24325].endswith("started by hand (no compose project label)")
    assert reasons[24326].endswith("its project cpt-audit-other is not among the stacks read")
    assert document["engine"]["version"] == engine.status().version


@pytest.mark.engine
def test_a_running_stack_as_declared_is_clean(tmp_path: Path, dockerd: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(
        engine.compose_file(
            {"web": ["24327:80", "127.0.0.1:24328:81"], "pool": ["24329-24330:80"]}, flow=True
        )
    )
    try:
        engine.up_all(tmp_path, "cpt-audit-clean")
        code, document = audit_json(tmp_path, "cpt-audit-clean")
        text = CliRunner().invoke(
            main, ["audit", "-p", "cpt-audit-clean", "-f", str(tmp_path / "compose.yaml")]
        )
    finally:
        engine.down(tmp_path, "cpt-audit-clean")
    foreign = _foreign(document, set())
    statuses = [b["status"] for b in document["bindings"] if b not in foreign]
    assert statuses == ["agree", "agree", "agree"], (dockerd, document)
    # Only a container that another user of this engine left running can make it drift.
    assert code == (1 if foreign else 0), foreign
    if not foreign:
        assert text.exit_code == 0
        assert text.stdout.startswith("Agree: 3 declared bindings published as declared, ")
