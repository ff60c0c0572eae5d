"""The pre-commit hooks, run by the real `pre-commit try-repo` on a temporary git repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_hooks_declare_what_the_readme_says() -> None:
    assert [h["id"] for h in HOOKS] == ["compose-ports", "compose-ports-fix"]
    for hook in HOOKS:
        assert hook["require_serial"] is True
        pattern = re.compile(hook["files"])
        for name in (
            "compose.yaml",
            "deploy/docker-compose.yml",
            "a/b/compose.override.yaml",
            "docker-compose.prod.yml",
            "docker-compose-tools.yaml",
            ".compose-ports.yaml",
            "ops/.compose-ports.yaml",
        ):
            assert pattern.search(name), name
        for name in ("composer.json", "compose.json", "my-compose.yaml", "values.yaml"):
            assert not pattern.search(name), name


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is part of every CI machine")
def test_try_repo_reports_a_conflict_in_the_changed_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "ci@example.com")
    _git(repo, "config", "user.name", "ci")
    (repo / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
        '  api:\n    image: api\n    ports: ["8080:8000"]\n'
    )
    (repo / "README.md").write_text("not a compose file\n")
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "compose-ports", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "compose.yaml:7:13: CP101" in output, output
    assert "README.md" not in output.split("compose-ports lint")[-1]
