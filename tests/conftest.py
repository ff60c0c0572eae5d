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


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> None:
    # Configs are cached per directory for speed; tests write new ones into fresh tmp dirs,
    # but a cached verdict from another test must never leak.
    from compose_ports import config

    config._cache.clear()
    config._loaded.clear()
