"""Writing a new config (`init`): where one may go, and creating it whole, never over anything.

The file is created as `fix` creates a missing env file (newfile.create_new).
"""

from __future__ import annotations

import os
from pathlib import Path

from compose_ports.errors import ComposePortsError
from compose_ports.newfile import create_new
from compose_ports.policy.config import CONFIG_NAMES, _pyproject_table


def place_problem(target: Path, repository: Path, default: bool) -> str | None:
    """Why no config may be written at target, or None: it is never written over anything,
    nor outside the repository (symbolic links resolved). `default`: target is the place the
    tools look for a config in its directory, where no other one may be."""
    if os.path.lexists(target):
        return "already exists: init never overwrites a config"
    if default:
        # Another config in the same place would be the one the tools find, or clash with it.
        for name in CONFIG_NAMES:
            if os.path.lexists(target.parent / name):
                return f"{name} already exists: init never overwrites a config"
        if _pyproject_has_config(target.parent / "pyproject.toml"):
            return "pyproject.toml already has a [tool.compose-ports] config"
    directory = Path(os.path.realpath(target.parent))
    if not directory.is_dir():
        return "its directory does not exist"
    if not directory.is_relative_to(os.path.realpath(repository)):
        return f"outside the repository ({repository})"
    return None


def _pyproject_has_config(path: Path) -> bool:
    try:
        return path.is_file() and _pyproject_table(path) is not None
    except ComposePortsError:
        return False  # not a config lint could read either: this one takes its place


def create(target: Path, data: bytes) -> bool:
    """Create target holding data, whole or not at all; False when a file is already there,
    even one that someone else put there a moment ago. Raises OSError when it cannot write."""
    return create_new(target, data)
