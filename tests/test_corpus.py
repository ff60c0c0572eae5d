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


def load(case: Case) -> Project:
    return load_project(LoadOptions(**case.options()))


def test_the_corpus_is_there() -> None:
    assert len(CASES) == 128
    assert len(LOADED) == 119


@pytest.mark.parametrize("case", LOADED, ids=lambda c: c.name)
def test_ports_match_compose(case: Case) -> None:
    project = load(case)
    assert [d for d in project.diagnostics] == []
    assert ours(project) == case.expected
    assert project.rejection is None


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.name)
def test_rejected_cases_say_why(case: Case) -> None:
    project = load(case)
    variants = case.expected.get("error_variants") or [case.expected["error"]]
    said = [d.message for d in project.diagnostics] + [project.rejection or ""]
    normalized = [v.replace("<case>", str(case.directory)) for v in variants]
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
