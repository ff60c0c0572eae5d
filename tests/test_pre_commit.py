"""The pre-commit hooks, run by the real `pre-commit try-repo` on a temporary git repository.

`try-repo` installs the hooks from a git repository and sees only what git tracks there, so the
hooks are installed from a snapshot of this working tree (everything git would commit: new
modules included) committed to a repository of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
# What `pip install` of the hook repository needs.
PACKAGE = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "src")


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
            ".compose-ports.yml",
            # The env files a stack may interpolate from.
            ".env",
            "deploy/.env",
            ".env.production",
            "prod.env",
            "ops/ports.env",
        ):
            assert pattern.search(name), name
        for name in (
            "composer.json",
            "compose.json",
            "my-compose.yaml",
            "values.yaml",
            ".envrc",
            "environment.yaml",
            "src/env.py",
            "prod.env.bak",
        ):
            assert not pattern.search(name), name


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def _new_repository(path: Path) -> Path:
    path.mkdir()
    _git(path, "init", "-q")
    _git(path, "config", "user.email", "ci@example.com")
    _git(path, "config", "user.name", "ci")
    _git(path, "config", "commit.gpgsign", "false")
    return path


class Hooks(NamedTuple):
    repo: Path  # the hook repository, made once for the module
    cache: Path  # PRE_COMMIT_HOME


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Hooks:
    """This working tree's package, as git would commit it, in a repository of its own."""
    if shutil.which("git") is None:
        pytest.skip("git is part of every CI machine")
    base = tmp_path_factory.mktemp("hooks")
    listed = _git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard", *PACKAGE)
    repo = _new_repository(base / "repo")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not part of it
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "snapshot")
    return Hooks(repo, base / "cache")


def _try_repo(repo: Path, hooks: Hooks, *args: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo HOOKS [HOOK] [OPTIONS]` in repo (without a hook: all of them)."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(hooks.cache), "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks.repo), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_try_repo_reports_a_conflict_in_the_changed_file(tmp_path: Path, hooks: Hooks) -> None:
    repo = _new_repository(tmp_path / "repo")
    (repo / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
        '  api:\n    image: api\n    ports: ["8080:8000"]\n'
    )
    (repo / "README.md").write_text("not a compose file\n")
    _git(repo, "add", ".")
    result = _try_repo(repo, hooks, "compose-ports", "--all-files")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "compose.yaml:7:13: CP101" in output, output
    assert "README.md" not in output.split("compose-ports lint")[-1]


COMPOSE = (
    "services:\n"
    "  web:\n"
    "    image: nginx\n"
    '    ports: ["${WEB_PORT:-8080}:80"]\n'
    "  api:\n"
    "    image: api\n"
    '    ports: ["8081:8000"]\n'
)


def _by_hook(output: str) -> dict[str, str]:
    """pre-commit's output, cut at each hook's status line (`compose-ports lint....Failed`)."""
    parts = re.split(r"^(compose-ports (?:lint|fix))\.+", output, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_a_commit_that_changes_only_env_is_checked(tmp_path: Path, hooks: Hooks) -> None:
    """`.env` moves web's port onto api's: the lint hook catches the conflict; the fix hook
    fixes the compose file of the stack that reads it, and leaves `.env` as it was."""
    repo = _new_repository(tmp_path / "repo")
    (repo / "compose.yaml").write_text(COMPOSE)
    (repo / ".env").write_text("WEB_PORT=8080\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "ports")
    (repo / ".env").write_text("WEB_PORT=8081\n")
    _git(repo, "add", ".env")
    assert _git(repo, "diff", "--cached", "--name-only") == ".env\n"

    result = _try_repo(repo, hooks)  # both hooks, on the staged files: `.env` alone
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    hook = _by_hook(output)
    assert set(hook) == {"compose-ports lint", "compose-ports fix"}, output
    lint, fix = hook["compose-ports lint"], hook["compose-ports fix"]
    assert lint.startswith("Failed") and "no files to check" not in lint, output
    assert "compose.yaml:7:13: CP101" in lint and "host port 8081/tcp" in lint, output
    assert fix.startswith("Failed") and "files were modified by this hook" in fix, output
    assert "fixed compose.yaml" in fix, output
    assert '"${API_PORT:-8081}:8000"' in (repo / "compose.yaml").read_text()
    assert (repo / ".env").read_text() == "WEB_PORT=8081\n"


def test_an_env_file_no_stack_reads_passes(tmp_path: Path, hooks: Hooks) -> None:
    """A `.env` of something else (a web app beside the stacks) selects no stack: nothing to
    report, nothing to fix, exit 0."""
    repo = _new_repository(tmp_path / "repo")
    (repo / "compose.yaml").write_text(COMPOSE.replace("8081:8000", "8082:8000"))
    (repo / "frontend").mkdir()
    (repo / "frontend" / ".env").write_text("WEB_PORT=8082\n")
    _git(repo, "add", ".")
    result = _try_repo(repo, hooks, "--files", "frontend/.env")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert set(_by_hook(output)) == {"compose-ports lint", "compose-ports fix"}, output
    assert "8082:8000" in (repo / "compose.yaml").read_text()
