"""Differential tests: every corpus case agrees with Docker Compose, entry for entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from compose_view import ours as compose_ours
from corpus_cases import Case, cases
from oracle import compose_config, compose_ports

from compose_ports.compose.loading import LoadOptions, load_project
from compose_ports.model import Project

CASES = cases()
LOADED = [c for c in CASES if c.ok]
REJECTED = [c for c in CASES if not c.ok]


def ours(project: Project) -> list[dict]:
    return compose_ours(project)


def load(case: Case, tmp_path: Path) -> Project:
    """The case read in place; where its expectations were made with stub env files (empty
    files standing for `.env` files its authors did not publish), from a copy that has them,
    since Compose refuses a project whose required `env_file` is missing, and so do we."""
    if not case.stubs:
        return load_project(LoadOptions(**case.options()))
    copy = _scratch(case, tmp_path)
    return load_project(LoadOptions(**{**case.options(), "cwd": str(copy)}))


def test_the_corpus_is_there() -> None:
    assert len(CASES) == 128
    assert len(LOADED) == 119


@pytest.mark.parametrize("case", LOADED, ids=lambda c: c.name)
def test_ports_match_compose(case: Case, tmp_path: Path) -> None:
    project = load(case, tmp_path)
    assert [d for d in project.diagnostics] == []
    assert ours(project) == case.expected
    assert project.rejection is None


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.name)
def test_rejected_cases_say_why(case: Case, tmp_path: Path) -> None:
    project = load(case, tmp_path)
    variants = case.expected.get("error_variants") or [case.expected["error"]]
    said = [d.message for d in project.diagnostics] + [project.rejection or ""]
    read_from = tmp_path / case.name if case.stubs else case.directory
    normalized = [v.replace("<case>", str(read_from)) for v in variants]
    assert any(v in s or s in v for v in normalized for s in said if s), said


def _scratch(case: Case, tmp_path: Path) -> Path:
    copy = tmp_path / case.name
    shutil.copytree(case.directory, copy)
    for stub in case.stubs:
        (copy / stub).parent.mkdir(parents=True, exist_ok=True)
        (copy / stub).touch()
    return copy


@pytest.mark.parametrize("case", LOADED, ids=lambda c: c.name)
def test_expected_still_comes_from_the_binary(case: Case, tmp_path: Path) -> None:
    """The corpus's expectations are what the installed binary says today."""
    result = compose_config(_scratch(case, tmp_path), case.argv, case.env)
    assert result.ok, result.error
    theirs = [
        {
            "service": p["service"],
            "host_ip": p.get("host_ip", ""),
            "published": p.get("published", ""),
            "target": p["target"],
            "protocol": p["protocol"],
        }
        for p in compose_ports(result.config)
    ]
    assert theirs == case.expected
