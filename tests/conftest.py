"""Shared test set-up: the oracle module on the path, and where the shared material lives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

SHARED = (TESTS.parent.parent / "shared").resolve()
CORPUS = SHARED / "corpus" / "cases"
ORCHESTRA = SHARED / "examples" / "orchestra"
FIXTURES = TESTS / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _private_cache_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Config verdicts are remembered in the user's cache directory: never in the real one.
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> None:
    # Configs are cached per directory for speed; tests write new ones into fresh tmp dirs,
    # but a cached verdict from another test must never leak.
    from compose_ports.policy import config

    config._cache.clear()
    config._loaded.clear()


@pytest.fixture
def orchestra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the user story, as the current directory (a repository root)."""
    import shutil
    import stat

    copy = tmp_path / "orchestra"
    shutil.copytree(ORCHESTRA, copy)
    for path in (copy, *copy.rglob("*")):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    (copy / ".git").mkdir()
    monkeypatch.chdir(copy)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return copy


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Tests marked `engine` start containers on a real Docker engine (tests/engine.py). CI must
    # run them, so there a missing engine fails them; elsewhere they are skipped, saying why.
    if item.get_closest_marker("engine") is None:
        return
    import engine

    found = engine.status()
    if found.up:
        return
    if engine.in_ci():
        pytest.fail(f"CI=true but no Docker engine can be reached: {found.reason}", pytrace=False)
    pytest.skip(f"needs a Docker engine: {found.reason}")
