"""The benchmark works: its generator, and `bench/run.py --quick` end to end (not its timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

from generate import (  # noqa: E402
    generate,
    generate_flat,
    generate_many_ports,
    generate_one_port,
    generate_single,
)

ROWS = (
    "libyaml `compose()` floor, 1x",
    "ruamel.yaml C `compose()`, 1x",
    "`lint . --format json --exit-zero`, 1x",
    "`map . --format json`, 1x",
    "`fix . --check`, 1x",
    "one file: `lint compose.yaml`, no config",
    "one file: `lint compose.yaml`, `.compose-ports.yaml` beside it",
    "one file: compose-lint",
    "libyaml `compose()` floor, 10x",
    "scaling: `lint`, 10x vs 1x",
    "memory: `lint`, 10x",
    "ranges: `lint`, 20 services x 200-port range",
    "ranges: `lint`, the same 20 services x single ports",
    "one port: `lint` (all rules), text",
    "one port: `lint` (all rules), JSON",
    "one port: `lint` (all rules), SARIF",
    "one port: `map`, Markdown",
    "one port: `map`, HTML",
    "one port: `lint --select CP101`, text output",
    "one port: `lint --select CP101`, JSON output",
    "one port: `lint --select CP101`, SARIF output",
    "flat monorepo: libyaml `compose()` floor, whole process",
    "flat monorepo: `lint . --format json --exit-zero`",
    "one file of 400 one-port services: `lint . --format json --exit-zero`",
    "one file of 400 one-port services: `fix . --check`",
)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _ports(path: Path) -> int:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_TaggedLoader)
    return sum(len(s.get("ports") or []) for s in (document.get("services") or {}).values())


class _TaggedLoader(yaml.SafeLoader):
    """Compose's `!override` and `!reset` tags, read as their plain values."""


def _untag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)


_TaggedLoader.add_multi_constructor("!", _untag)


def test_generate_is_deterministic_and_shaped(tmp_path: Path) -> None:
    stats = generate(tmp_path / "a", 24)
    again = generate(tmp_path / "b", 24)
    generate(tmp_path / "c", 24, seed=1)

    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")
    assert (stats.bytes, stats.ports, len(stats.files)) == (
        again.bytes,
        again.ports,
        len(again.files),
    )
    # One stack in four has an override, one in twelve a production variant.
    names = [p.name for p in stats.files]
    assert names.count("compose.yaml") == 24
    assert names.count("compose.override.yaml") == 6
    assert names.count("compose.prod.yaml") == 2
    assert stats.stacks == 24
    assert stats.bytes == sum(p.stat().st_size for p in stats.files)
    assert stats.ports == sum(_ports(p) for p in stats.files)
    assert stats.ports > 24 * 20
    root = tmp_path / "a"
    assert (root / ".git").is_dir()
    config = yaml.safe_load((root / ".compose-ports.yaml").read_text(encoding="utf-8"))
    assert set(config["stacks"]) == {"billing-0000"}
    assert config["hosts"] == {"edge-01": ["billing-0000"]}
    assert {"web", "data", "apps", "metrics"} <= set(config["ranges"])
    text = "".join(p.read_text(encoding="utf-8") for p in stats.files)
    for form in ("${", "127.0.0.1:", "/udp", "target:", "!override", "# ", "healthcheck:"):
        assert form in text


def test_generate_prefix_stable(tmp_path: Path) -> None:
    # The 10x monorepo contains the 1x one's stacks, byte for byte.
    generate(tmp_path / "small", 5)
    generate(tmp_path / "large", 12)
    small = {k: v for k, v in _tree(tmp_path / "small").items() if k.startswith("services/")}
    large = _tree(tmp_path / "large")
    assert small and all(large[k] == v for k, v in small.items())


def test_generate_full_size_matches_the_issue(tmp_path: Path) -> None:
    stats = generate(tmp_path, 400)
    assert len(stats.files) == 534
    assert 3.5e6 <= stats.bytes <= 3.9e6
    assert 11_500 <= stats.ports <= 12_500


def test_range_stack(tmp_path: Path) -> None:
    stats = generate(tmp_path / "r", 0, range_stack=True, config=False)
    assert len(stats.files) == 1 and stats.ports == 200 and stats.stacks == 1
    assert not (tmp_path / "r" / ".compose-ports.yaml").exists()
    document = yaml.safe_load(stats.files[0].read_text(encoding="utf-8"))
    ports = [s["ports"] for s in document["services"].values()]
    assert len(ports) == 200
    assert all(len(p) == 1 and ":10000-29999:10000-29999/udp" in p[0] for p in ports)
    assert len({p[0].split(":")[0] for p in ports}) == 200  # each on its own address

    flat = generate(tmp_path / "s", 0, range_stack=True, range_width=1, config=False)
    document = yaml.safe_load(flat.files[0].read_text(encoding="utf-8"))
    assert all(s["ports"][0].endswith(":10000:10000/udp") for s in document["services"].values())


def test_generate_single(tmp_path: Path) -> None:
    bare = generate_single(tmp_path / "bare", config=False)
    configured = generate_single(tmp_path / "configured", config=True)
    assert bare.read_bytes() == configured.read_bytes()
    assert not (bare.parent / ".compose-ports.yaml").exists()
    config = yaml.safe_load((configured.parent / ".compose-ports.yaml").read_text())
    assert "stacks" not in config and "ranges" in config
    assert (bare.parent / ".git").is_dir()


def test_generate_flat_matches_the_issue(tmp_path: Path) -> None:
    stats = generate_flat(tmp_path, 400)
    assert (stats.stacks, stats.services, len(stats.files)) == (400, 4000, 534)
    assert 3.5e6 <= stats.bytes <= 3.9e6
    assert 11_500 <= stats.ports <= 12_500
    assert stats.ports == sum(_ports(p) for p in stats.files)
    text = stats.files[0].read_text(encoding="utf-8")
    for form in ("  # port 0", ":-8", '"127.0.0.1:', "/udp", "target:", "restart:", "- JAVA"):
        assert form in text, form
    overrides = [p for p in stats.files if p.name == "compose.override.yaml"]
    assert len(overrides) == 134 and all(_ports(p) == 1 for p in overrides)


def test_generate_one_file_crowds(tmp_path: Path) -> None:
    crowded = generate_one_port(tmp_path / "one", 50)
    document = yaml.safe_load(crowded.files[0].read_text(encoding="utf-8"))
    assert len(document["services"]) == 50
    assert {p for s in document["services"].values() for p in s["ports"]} == {"8080:80"}
    many = generate_many_ports(tmp_path / "many", 50)
    document = yaml.safe_load(many.files[0].read_text(encoding="utf-8"))
    ports = [s["ports"][0] for s in document["services"].values()]
    assert len(set(ports)) == 50 and all(p.endswith(":80") for p in ports)
    assert (tmp_path / "one" / ".git").is_dir() and (tmp_path / "many" / ".git").is_dir()


def test_generated_monorepo_is_read_without_errors(tmp_path: Path) -> None:
    generate(tmp_path, 12)
    result = subprocess.run(
        [sys.executable, "-m", "compose_ports", "map", ".", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_run_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "CPU:" in out and "Python:" in out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| Row | Median wall |")
    labels = [line.split(" | ")[0].removeprefix("| ") for line in table[1:]]
    for row in ROWS:
        assert any(label.startswith(row) for label in labels), (row, labels)
    for line in table[1:]:
        result_cell = line.rstrip(" |").rsplit(" | ", 1)[1]
        assert result_cell in {"PASS", "**FAIL**", "SKIP", "—"}, line
