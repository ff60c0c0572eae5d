"""Which stacks a run reads: the tree scan, variants, declared stacks, triggers, ignores."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose_ports.compose.discovery import default_files, scan, stacks_for, stacks_of_trigger

# Built in a temporary directory: .gitignore'd files could not live in this repository.
TREE = {
    ".gitignore": "generated/\n*.local.yml\n",
    "shop/compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n',
    "shop/compose.override.yaml": 'services:\n  web:\n    ports: ["8081:80"]\n',
    "shop/compose.prod.yaml": 'services:\n  web:\n    ports: ["9443:443"]\n',
    "shop/docker-compose-tools.yml": 'services:\n  db:\n    image: pg\n    ports: ["5432:5432"]\n',
    "shop/compose.local.yml": 'services:\n  x:\n    image: x\n    ports: ["3:3"]\n',
    "billing/docker-compose.yml": 'services:\n  api:\n    image: b\n    ports: ["7000:7000"]\n',
    "billing/deploy/docker-compose.staging.yml": 'services:\n  api:\n    ports: ["7001:7000"]\n',
    "node_modules/pkg/compose.yaml": 'services:\n  x:\n    image: x\n    ports: ["1:1"]\n',
    "generated/compose.yaml": 'services:\n  x:\n    image: x\n    ports: ["2:2"]\n',
    "tools/.compose-ports.yaml": (
        "stacks:\n  tools-a: [compose.a.yml]\n  tools-ab: [compose.a.yml, compose.b.yml]\n"
        "  other: [../billing/docker-compose.yml]\n"
        "hosts:\n  box: [tools-ab, other]\n"
    ),
    "tools/compose.a.yml": 'services:\n  a:\n    image: a\n    ports: ["6000:6000"]\n',
    "tools/compose.b.yml": 'services:\n  a:\n    ports: ["6001:6000"]\n',
    "tools/notes.txt": "not a compose file\n",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    for name, text in TREE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def names(root: Path, stacks: list) -> set[tuple[str | None, tuple[str, ...]]]:
    return {(s.name, tuple(p.relative_to(root).as_posix() for p in s.files)) for s in stacks}


def test_scan_skips_dependencies_and_ignored_files(tree: Path) -> None:
    found = {p.relative_to(tree).as_posix() for p in scan(tree)}
    assert found == {
        "shop/compose.yaml",
        "shop/compose.override.yaml",
        "shop/compose.prod.yaml",
        "shop/docker-compose-tools.yml",
        "billing/docker-compose.yml",
        "billing/deploy/docker-compose.staging.yml",
        "tools/compose.a.yml",
        "tools/compose.b.yml",
    }


def test_stacks_of_a_tree(tree: Path) -> None:
    stacks = stacks_for(scan(tree))
    assert names(tree, stacks) == {
        # Declared in tools/.compose-ports.yaml: they claim their files, billing's main file too.
        ("tools-a", ("tools/compose.a.yml",)),
        ("tools-ab", ("tools/compose.a.yml", "tools/compose.b.yml")),
        ("other", ("billing/docker-compose.yml",)),
        # A main file with its override, as Compose discovers them.
        (None, ("shop/compose.yaml", "shop/compose.override.yaml")),
        # A variant beside a main file: main + variant.
        ("prod", ("shop/compose.yaml", "shop/compose.prod.yaml")),
        # Compose files that no stack claims are read alone.
        (None, ("shop/docker-compose-tools.yml",)),
        (None, ("billing/deploy/docker-compose.staging.yml",)),
    }


def test_a_changed_file_brings_its_stacks_and_their_host_partners(tree: Path) -> None:
    stacks = stacks_of_trigger(tree / "tools" / "compose.b.yml")
    assert names(tree, stacks) == {
        ("tools-ab", ("tools/compose.a.yml", "tools/compose.b.yml")),
        ("other", ("billing/docker-compose.yml",)),
    }


def test_a_changed_main_file_brings_every_stack_it_is_in(tree: Path) -> None:
    stacks = stacks_of_trigger(tree / "shop" / "compose.yaml")
    assert names(tree, stacks) == {
        (None, ("shop/compose.yaml", "shop/compose.override.yaml")),
        ("prod", ("shop/compose.yaml", "shop/compose.prod.yaml")),
    }


def test_a_changed_config_brings_every_stack_it_declares(tree: Path) -> None:
    stacks = stacks_of_trigger(tree / "tools" / ".compose-ports.yaml")
    assert {s.name for s in stacks} == {"tools-a", "tools-ab", "other"}


def test_default_files_follow_compose_precedence(tmp_path: Path) -> None:
    for name in (
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.override.yml",
        "compose.override.yaml",
        "docker-compose.override.yml",
        "docker-compose.override.yaml",
    ):
        (tmp_path / name).write_text("services: {}\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "compose.override.yaml").write_text("services: {}\n")
    # Compose walks up to the main file and takes the override beside it, not the one in cwd.
    assert default_files(sub) == [tmp_path / "compose.yaml", tmp_path / "compose.override.yml"]
    (tmp_path / "compose.yaml").unlink()
    (tmp_path / "compose.override.yml").unlink()
    assert default_files(sub) == [
        tmp_path / "compose.yml",
        tmp_path / "compose.override.yaml",
    ]


def test_symlink_loops_and_broken_links_do_not_trap_the_scan(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "a" / "compose.override.yml").symlink_to(tmp_path / "missing.yml")
    errors: list = []
    assert scan(tmp_path, errors) == [tmp_path / "a" / "compose.yaml"]
    assert [e.message for e in errors] == ["broken symbolic link"]
